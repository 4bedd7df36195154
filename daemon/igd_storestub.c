/* igd_storestub.c - TEMPORARY: weak stand-ins for the store API until
 * daemon/store.c lands (then this file is deleted). */
#include <stddef.h>
#include "store.h"

#define WEAK __attribute__((weak))
WEAK enum store_result store_add(struct store *s, const struct mapping *req, uint32_t lifetime,
				 unsigned flags, struct mapping **out)
{ (void)s; (void)req; (void)lifetime; (void)flags; (void)out; return ST_E_NOMEM; }
WEAK enum store_result store_del(struct store *s, uint8_t proto, uint16_t eport,
				 const struct in6_addr *rhost, const struct in6_addr *requester)
{ (void)s; (void)proto; (void)eport; (void)rhost; (void)requester; return ST_E_NOT_FOUND; }
WEAK struct mapping *store_find(struct store *s, uint8_t proto, uint16_t eport,
				const struct in6_addr *rhost)
{ (void)s; (void)proto; (void)eport; (void)rhost; return NULL; }
WEAK struct mapping *store_nth(struct store *s, size_t n) { (void)s; (void)n; return NULL; }
WEAK size_t store_count(const struct store *s) { (void)s; return 0; }
WEAK size_t store_range(struct store *s, uint8_t proto, uint16_t lo, uint16_t hi,
			store_visit_cb cb, void *arg)
{ (void)s; (void)proto; (void)lo; (void)hi; (void)cb; (void)arg; return 0; }
WEAK uint32_t store_lease_left(const struct store *s, const struct mapping *m) { (void)s; (void)m; return 0; }
WEAK void store_set_change_cb(struct store *s, store_change_cb cb) { (void)s; (void)cb; }
