/* test_loop.c - timers fire in deadline order; cancel works. */
#include <unistd.h>

#include "loop.h"
#include "unit.h"
#include "util.h"

struct tt {
	struct loop_timer t;
	int id;
	int *order;
	int *n;
};

static void
fired(struct loop_timer *t)
{
	struct tt *x = container_of(t, struct tt, t);

	x->order[(*x->n)++] = x->id;
}

TEST(loop_timer_order_and_cancel)
{
	struct loop l;
	struct tt ts[20];
	int order[20], n = 0, i;
	uint64_t now;

	CHECK(loop_init(&l) == 0);
	now = time_mono_ms();
	for (i = 0; i < 20; i++) {
		ts[i].t.cb = fired;
		ts[i].t.heap_idx = 0;
		ts[i].id = i;
		ts[i].order = order;
		ts[i].n = &n;
		/* deadlines out of order, all in the past so they fire at once */
		loop_timer_set_at(&l, &ts[i].t, now - 1000 + (uint64_t)((i * 7) % 20));
	}
	loop_timer_cancel(&l, &ts[3].t);
	loop_timer_cancel(&l, &ts[17].t);
	CHECK(!loop_timer_pending(&ts[3].t));
	CHECK(loop_once(&l, 0) >= 0);
	CHECK_EQ(n, 18);
	for (i = 1; i < n; i++)
		CHECK((order[i - 1] * 7) % 20 < (order[i] * 7) % 20);
	for (i = 0; i < n; i++)
		CHECK(order[i] != 3 && order[i] != 17);
	loop_free(&l);
}
