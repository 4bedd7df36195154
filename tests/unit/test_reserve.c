/* test_reserve.c - the store's reserve / confirm / roll back (the relay's
 * local half of a mapping that waits for an upstream gateway). */
#include <arpa/inet.h>
#include <string.h>

#include "fake_fw.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define TCP IPPROTO_TCP

static void
count_changes(void *arg, const struct store_change *ch)
{
	if (STORE_EV_IS_CHANGE(ch->ev))
		*(unsigned *)arg += ch->ev == STORE_EV_ADDED || ch->ev == STORE_EV_CHANGED ||
				    ch->ev == STORE_EV_RENEWED ? 1 : 100;
}

static struct fake_env *
env(bool lease)
{
	struct fake_env *e = fake_env_new(lease);

	fake_env_start(e);
	return e;
}

/* A reservation takes the key and the kernel element, tells nobody and
 * writes nothing; confirm makes it an ordinary mapping. */
TEST(reserve_then_confirm)
{
	struct fake_env *e = env(true);
	struct mapping r = fake_req(TCP, 7001, "192.168.1.10", 7001, "game", OWNER_UPNP);
	struct mapping other = fake_req(TCP, 7001, "192.168.1.11", 7001, "x", OWNER_UPNP);
	struct mapping *m = NULL;
	unsigned told = 0;
	char buf[4096];

	CHECK_EQ(store_add_listener(e->s, count_changes, &told), 0);
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	CHECK(m != NULL && store_pending(m));
	CHECK(fake_fw_has(&e->fw, TCP, 7001, 7001));
	CHECK_EQ(told, 0);
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) >= 0 && strstr(buf, "7001") == NULL);
	/* The key is taken: another client conflicts, the owner refreshes
	 * it and it stays pending. */
	CHECK_EQ(store_add(e->s, &other, 3600, 0, NULL), ST_E_CONFLICT);
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	CHECK(store_pending(m));
	CHECK_EQ(told, 0);
	/* Nobody else deletes a reservation. */
	CHECK_EQ(store_del(e->s, TCP, 7001, NULL, NULL), ST_E_NOT_FOUND);
	CHECK(store_find(e->s, TCP, 7001, NULL) == m);
	store_confirm(e->s, m);
	CHECK(!store_pending(m));
	CHECK_EQ(told, 1);
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) > 0 && strstr(buf, "7001") != NULL);
	CHECK_EQ(store_del(e->s, TCP, 7001, NULL, NULL), ST_OK);
	CHECK_EQ(told, 101);
	fake_env_free(e);
}

/* A roll back leaves no trace: kernel, store, lease file, listeners. */
TEST(reserve_then_rollback)
{
	struct fake_env *e = env(true);
	struct mapping r = fake_req(TCP, 7002, "192.168.1.10", 7002, "game", OWNER_NATPMP);
	struct mapping *m = NULL;
	unsigned told = 0;
	char buf[4096];

	CHECK_EQ(store_add_listener(e->s, count_changes, &told), 0);
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	store_rollback(e->s, m);
	CHECK(store_find(e->s, TCP, 7002, NULL) == NULL);
	CHECK(!fake_fw_has(&e->fw, TCP, 7002, 7002));
	CHECK_EQ(store_count(e->s), 0);
	CHECK_EQ(told, 0);
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) >= 0 && strstr(buf, "7002") == NULL);
	/* The port is free again. */
	CHECK_EQ(store_add(e->s, &r, 3600, 0, &m), ST_OK);
	CHECK(!store_pending(m));
	fake_env_free(e);
}

/* A lease that ends while the reservation waits is put off, not ended
 * behind its reserver's back; the idle pass leaves it alone too. */
TEST(reserve_outlives_its_lease_while_pending)
{
	struct fake_env *e = env(false);
	struct mapping r = fake_req(TCP, 7003, "192.168.1.10", 7003, "", OWNER_UPNP);
	struct mapping *m = NULL;

	CHECK_EQ(store_add(e->s, &r, 1, STORE_F_RESERVE, &m), ST_OK);
	store_expire_now(e->s, time_mono_ms() + 2000);
	CHECK(store_find(e->s, TCP, 7003, NULL) == m);
	store_confirm(e->s, m);
	store_expire_now(e->s, time_mono_ms() + 2000 + STORE_PENDING_GRACE_MS);
	CHECK(store_find(e->s, TCP, 7003, NULL) == NULL);
	fake_env_free(e);
}

/* What a listener heard last. */
struct heard {
	enum store_event ev;
	enum store_result why;
	unsigned n;
};

static void
hear(void *arg, const struct store_change *ch)
{
	struct heard *h = arg;

	h->ev = ch->ev;
	h->why = ch->why;
	h->n++;
}

/* A reload while a reservation waits: store_recheck() leaves it to its
 * reserver, and the confirm asks the new rules: refused as an add would
 * be (told with the reason), rolled back, nothing journaled. */
TEST(reserve_confirm_refused_after_a_reload)
{
	struct fake_env *e = env(true);
	struct mapping r = fake_req(TCP, 7101, "192.168.1.10", 7101, "game", OWNER_NATPMP);
	struct mapping *m = NULL;
	struct perm_rule deny;
	struct heard h = { 0 };
	char buf[4096];

	CHECK_EQ(store_add_listener(e->s, hear, &h), 0);
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	CHECK_EQ(store_policy_verdict(e->s, m), ST_OK);
	memset(&deny, 0, sizeof(deny));		/* deny 0-65535 0.0.0.0/0 0-65535 */
	deny.eport_max = deny.iport_max = 65535;
	e->ctx.cfg.perms = &deny;
	e->ctx.cfg.n_perms = 1;
	CHECK_EQ(store_recheck(e->s), 0);
	CHECK(store_find(e->s, TCP, 7101, NULL) == m && store_pending(m));
	CHECK_EQ(store_policy_verdict(e->s, m), ST_E_PERMISSION);
	CHECK_EQ(h.n, 0);
	store_hold(e->s);
	CHECK_EQ(store_confirm(e->s, m), ST_E_PERMISSION);
	store_commit(e->s);
	CHECK(store_find(e->s, TCP, 7101, NULL) == NULL);
	CHECK(!fake_fw_has(&e->fw, TCP, 7101, 7101));
	CHECK_EQ(store_count(e->s), 0);
	CHECK(h.n == 1 && h.ev == STORE_EV_REFUSED && h.why == ST_E_PERMISSION);
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) >= 0 && strstr(buf, "7101") == NULL);
	e->ctx.cfg.perms = NULL;
	e->ctx.cfg.n_perms = 0;
	fake_env_free(e);
}

/* A re-install that must drop mappings (one by one after the kernel
 * refused the whole) cannot drop a reservation behind its reserver's
 * back: it stays, and its confirm is refused (firewall error), rolled
 * back, unless a later re-install put its elements back; the other
 * mappings are dropped or kept as before. */
TEST(reserve_confirm_refused_after_its_elements_were_lost)
{
	struct fake_env *e = env(true);
	struct mapping r = fake_req(TCP, 7201, "192.168.1.10", 7201, "game", OWNER_NATPMP);
	struct mapping ok = fake_req(TCP, 7202, "192.168.1.10", 7202, "ok", OWNER_UPNP);
	struct mapping bad = fake_req(TCP, 7203, "192.168.1.10", 7203, "bad", OWNER_UPNP);
	struct mapping *m = NULL;
	struct heard h = { 0 };
	char buf[4096];

	CHECK_EQ(store_add(e->s, &ok, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &bad, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	CHECK_EQ(store_add_listener(e->s, hear, &h), 0);
	/* the kernel refuses 7203 and the reservation's 7201 */
	e->fw.fail_install = 1;
	e->fw.refuse_eport = 7203;
	e->fw.fail_add = 1;	/* the first add, in key order: 7201 */
	CHECK_EQ(store_reinstall(e->s), 0);
	CHECK(store_find(e->s, TCP, 7203, NULL) == NULL);
	CHECK(store_find(e->s, TCP, 7202, NULL) != NULL && fake_fw_has(&e->fw, TCP, 7202, 7202));
	CHECK(store_find(e->s, TCP, 7201, NULL) == m && store_pending(m));
	CHECK(!fake_fw_has(&e->fw, TCP, 7201, 7201));
	e->fw.refuse_eport = 0;
	/* a re-install that puts it back clears the mark: confirmed */
	CHECK_EQ(store_reinstall(e->s), 0);
	CHECK(fake_fw_has(&e->fw, TCP, 7201, 7201));
	CHECK_EQ(store_confirm(e->s, m), ST_OK);
	CHECK(!store_pending(m));
	/* lost again, a new reservation: refused when confirmed */
	r.eport = r.iport = 7204;
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	e->fw.fail_install = 1;
	e->fw.refuse_eport = 7204;
	CHECK_EQ(store_reinstall(e->s), 0);
	CHECK(store_find(e->s, TCP, 7204, NULL) == m && store_pending(m));
	CHECK(!fake_fw_has(&e->fw, TCP, 7204, 7204));
	e->fw.refuse_eport = 0;
	h.n = 0;
	store_hold(e->s);
	CHECK_EQ(store_confirm(e->s, m), ST_E_FIREWALL);
	store_commit(e->s);
	CHECK(store_find(e->s, TCP, 7204, NULL) == NULL);
	CHECK(h.n == 1 && h.ev == STORE_EV_REFUSED && h.why == ST_E_FIREWALL);
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) > 0 && strstr(buf, "7204") == NULL &&
	      strstr(buf, "7201") != NULL && strstr(buf, "7202") != NULL);
	/* a new reservation of the port is confirmed as usual */
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	CHECK_EQ(store_confirm(e->s, m), ST_OK);
	CHECK(fake_fw_has(&e->fw, TCP, 7204, 7204));
	fake_env_free(e);
}

/* A lost reservation's elements: a refresh (its client asking again
 * while the upstream's answer is awaited) puts them back, and then it is
 * confirmed; while they are lost, it holds no SNAT element for another
 * mapping of its internal side. */
TEST(reserve_lost_elements_refresh_and_share)
{
	struct fake_env *e = env(true);
	struct mapping r = fake_req(TCP, 7301, "192.168.1.10", 7301, "r", OWNER_NATPMP);
	struct mapping q = fake_req(TCP, 7302, "192.168.1.10", 7301, "q", OWNER_UPNP);
	struct mapping *m = NULL;

	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	e->fw.fail_install = 1;
	e->fw.refuse_eport = 7301;
	CHECK_EQ(store_reinstall(e->s), 0);
	e->fw.refuse_eport = 0;
	CHECK(store_pending(m) && !fake_fw_has(&e->fw, TCP, 7301, 7301));
	/* another mapping of 192.168.1.10:7301 adds the side's SNAT element */
	e->fw.last_add_snat_shared = true;
	CHECK_EQ(store_add(e->s, &q, 3600, 0, NULL), ST_OK);
	CHECK(!e->fw.last_add_snat_shared);
	CHECK_EQ(store_del(e->s, TCP, 7302, NULL, NULL), ST_OK);
	/* the client asks again: its elements are back, and it is confirmed */
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	CHECK(store_pending(m) && fake_fw_has(&e->fw, TCP, 7301, 7301));
	CHECK_EQ(store_confirm(e->s, m), ST_OK);
	CHECK(!store_pending(m));
	fake_env_free(e);
}

static void
order_first(void *arg, const struct store_change *ch)
{
	(void)ch;
	strcat(arg, "a");
}

static void
order_last(void *arg, const struct store_change *ch)
{
	(void)ch;
	strcat(arg, "z");
}

static void
order_next(void *arg, const struct store_change *ch)
{
	(void)ch;
	strcat(arg, "b");
}

/* The relay's listener comes after every other, whenever added: the
 * others may still ask it for a removed mapping's upstream view. */
TEST(listener_last_stays_last)
{
	struct fake_env *e = env(false);
	struct mapping r = fake_req(TCP, 7102, "192.168.1.10", 7102, "", OWNER_NATPMP);
	char seen[16] = "";

	CHECK_EQ(store_add_listener(e->s, order_first, seen), 0);
	CHECK_EQ(store_add_listener_last(e->s, order_last, seen), 0);
	CHECK_EQ(store_add_listener(e->s, order_next, seen), 0);
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	CHECK_STR(seen, "abz");
	fake_env_free(e);
}
