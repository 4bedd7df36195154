/* unit.h - a tiny unit-test framework: TEST() registers a function,
 * CHECK() records a failure with file:line and goes on. */
#ifndef IGDD_UNIT_H
#define IGDD_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *expr);
extern int unit_failures;	/* failures in the running test */

#define TEST(name)							\
	static void test_##name(void);					\
	static struct unit_test unit_##name = { #name, test_##name, NULL }; \
	__attribute__((constructor)) static void reg_##name(void)	\
	{ unit_register(&unit_##name); }				\
	static void test_##name(void)

#define CHECK(cond) do {						\
	if (!(cond)) unit_fail(__FILE__, __LINE__, #cond);		\
} while (0)
#define CHECK_EQ(a, b) do {						\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	if (a_ != b_) {							\
		char m_[256];						\
		snprintf(m_, sizeof(m_), "%s == %s (%lld != %lld)", #a, #b, a_, b_); \
		unit_fail(__FILE__, __LINE__, m_);			\
	}								\
} while (0)
#define CHECK_STR(a, b) do {						\
	const char *a_ = (a), *b_ = (b);				\
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {		\
		char m_[512];						\
		snprintf(m_, sizeof(m_), "%s == %s (\"%s\" != \"%s\")", #a, #b, \
			 a_ ? a_ : "(null)", b_ ? b_ : "(null)");	\
		unit_fail(__FILE__, __LINE__, m_);			\
	}								\
} while (0)

#endif
