/* natpmp.c - NAT-PMP (RFC 6886): external address and port mappings.
 *
 * natpmp_handle() decides and writes the answer; pmp.c does the I/O.  A
 * NAT-PMP client maps only for itself: the internal address and the owner
 * are the request's source.  Policy (permissions, quotas, conflicts, free
 * port search) is the store's. */
#include <string.h>

#include "ctx.h"
#include "log.h"
#include "maplog.h"
#include "natpmp.h"
#include "store.h"
#include "upstream.h"
#include "util.h"
#include "wire.h"

size_t
natpmp_external_response(const struct igdd_ctx *ctx, uint8_t *buf, size_t size)
{
	struct wr w;

	wr_init(&w, buf, size);
	wr_u8(&w, NATPMP_VERSION);
	wr_u8(&w, NATPMP_OP_RESPONSE + NATPMP_OP_EXTERNAL);
	/* §3.2: no external address yet is a network failure (result 3),
	 * with the address field 0. */
	/* ... and so is an address from which mappings cannot be reached
	 * (behind a CGN that no upstream protocol controls). */
	wr_u16(&w, ctx->ext_addr.s_addr != 0 && upstream_reachable(ctx) ? NATPMP_SUCCESS
								       : NATPMP_NETWORK_FAILURE);
	wr_u32(&w, ctx_epoch(ctx));
	wr_bytes(&w, &ctx->ext_addr.s_addr, 4);	/* already network order */
	return w.err ? 0 : wr_len(&w);
}

static enum natpmp_result
result_from_store(enum store_result r)
{
	switch (r) {
	case ST_OK:
		return NATPMP_SUCCESS;
	case ST_E_PERMISSION:
	case ST_E_SECURE:
	case ST_E_NOT_OWNER:
	case ST_E_NONCE:
	case ST_E_INVAL:
	case ST_E_NOT_FOUND:
	case ST_E_NOT_LAN:
		return NATPMP_REFUSED;
	case ST_E_CONFLICT:	/* only without STORE_F_ANY_PORT: a refresh lost its port */
	case ST_E_PORT_IN_USE:
	case ST_E_QUOTA_CLIENT:
	case ST_E_QUOTA_TOTAL:
	case ST_E_NO_PORT:
	case ST_E_FIREWALL:
	case ST_E_NOMEM:
		return NATPMP_NO_RESOURCES;
	}
	return NATPMP_NO_RESOURCES;
}

/* A request refused here, before the store (which logs its own). */
static void
log_refused(struct igdd_ctx *ctx, const struct in6_addr *from, uint8_t proto, uint16_t iport,
	    uint16_t eport, uint32_t lifetime, const char *why)
{
	struct mapping_owner me = { .addr = *from, .proto = OWNER_NATPMP };
	struct mapping m = { .iaddr = from, .owner = &me, .eport = eport, .iport = iport,
			     .proto = proto };

	maplog_refused(ctx, &m, from, lifetime, lifetime == 0, why);
}

/* Delete one mapping (lifetime 0, §3.4).  A mapping that does not exist is
 * already deleted: success.  Mappings made by other means (UPnP, static)
 * are not NAT-PMP's to remove: refused. */
static enum natpmp_result
map_delete(struct igdd_ctx *ctx, const struct in6_addr *from, uint8_t proto, uint16_t iport)
{
	struct mapping_owner me = { .addr = *from, .proto = OWNER_NATPMP };
	struct mapping *m;

	if (iport == 0) {
		/* §3.4: internal port 0 and lifetime 0 = delete all of this
		 * client's mappings (for this protocol). */
		size_t n = store_del_owner(ctx->store, OWNER_NATPMP, from, proto, NULL, NULL);
		log_debug("NAT-PMP: deleted all %zu %s mapping(s) of a client", n,
			  proto_name(proto));
		return NATPMP_SUCCESS;
	}
	/* This client's own NAT-PMP mapping of the port, not the first of
	 * the port (the host may hold a UPnP one of it as well). */
	m = store_find_owned(ctx->store, proto, from, iport, &me);
	if (m != NULL)
		return result_from_store(store_del_as(ctx->store, m, &me));
	if (store_find_internal(ctx->store, proto, from, iport) == NULL)
		return NATPMP_SUCCESS;
	log_refused(ctx, from, proto, iport, 0, 0, "held by another protocol or client");
	return NATPMP_REFUSED;
}

/* The relay's answer (or the store's, through it) as a NAT-PMP result. */
static enum natpmp_result
result_from_answer(const struct upstream_answer *a)
{
	if (a->local != ST_OK)
		return result_from_store(a->local);
	switch (a->err) {
	case UPE_OK: return NATPMP_SUCCESS;
	case UPE_AUTH: return NATPMP_REFUSED;
	case UPE_PORT:
	case UPE_QUOTA:
	case UPE_RESOURCES: return NATPMP_NO_RESOURCES;
	case UPE_NETWORK:
	case UPE_OTHER: break;
	}
	return NATPMP_NETWORK_FAILURE;
}

/* The port and lifetime granted, from the answer (§3.3: never more than
 * asked). */
static enum natpmp_result
map_granted(const struct upstream_answer *a, uint32_t lifetime, uint16_t *got_eport,
	    uint32_t *got_lifetime)
{
	enum natpmp_result r = result_from_answer(a);

	if (r != NATPMP_SUCCESS)
		return r;
	*got_eport = a->eport;
	*got_lifetime = a->lifetime;
	if (*got_lifetime == 0 || *got_lifetime > lifetime)
		*got_lifetime = lifetime;
	return NATPMP_SUCCESS;
}

/* The relay's part of a request: where a deferred answer goes (wt), or
 * the answer that came (ans); deferred is set when the answer waits. */
struct natpmp_relay {
	struct upstream_waiter *wt;
	const struct upstream_answer *ans;
	bool deferred;
};

static enum natpmp_result
map_add(struct igdd_ctx *ctx, const struct in6_addr *from, uint8_t proto, uint16_t iport,
	uint16_t eport, uint32_t lifetime, uint16_t *got_eport, uint32_t *got_lifetime,
	struct natpmp_relay *rl)
{
	struct mapping req, *existing;
	struct mapping_owner owner = { .addr = *from, .proto = OWNER_NATPMP };
	struct upstream_answer a;
	unsigned flags = STORE_F_ANY_PORT;
	char desc[MAPPING_DESC_GEN_MAX];

	if (iport == 0) {	/* "all ports" exists only for deletion (§3.4) */
		log_refused(ctx, from, proto, iport, eport, lifetime, "internal port 0");
		return NATPMP_REFUSED;
	}
	memset(&req, 0, sizeof(req));
	req.proto = proto;
	req.iaddr = from;
	req.iport = iport;
	req.enabled = true;
	req.owner = &owner;
	/* §3.3: the suggested port is only a hint; 0 = no preference, and
	 * the internal port is the natural one to try. */
	req.eport = eport != 0 ? eport : iport;
	/* §3.3: a request for an internal port that this client has mapped
	 * already returns the existing mapping, refreshed. */
	existing = store_find_owned(ctx->store, proto, from, iport, &owner);
	if (existing != NULL && addr_is_any(existing->rhost)) {
		req.eport = existing->eport;
		flags = 0;
	}
	if (mapping_desc_make(desc, MAPPING_DESC_NATPMP, proto, iport) < 0)
		return NATPMP_NO_RESOURCES;
	req.desc = desc;
	lifetime = store_clamp_lifetime(ctx->store, lifetime);
	if (upstream_add(ctx, &req, lifetime, flags, 0, rl->wt, &a, NULL) == 1) {
		rl->deferred = true;
		return NATPMP_SUCCESS;
	}
	return map_granted(&a, lifetime, got_eport, got_lifetime);
}

/* §3.5 "Unsupported Version": version 0, the opcode + 128, result 1,
 * epoch.  (pmp_handle() sends versions other than 0 to PCP per RFC 6887
 * §9; this path serves direct callers.) */
static void
answer_unsupp_version(const struct igdd_ctx *ctx, struct wr *w, uint8_t op)
{
	wr_u8(w, NATPMP_VERSION);
	wr_u8(w, (uint8_t)(op + NATPMP_OP_RESPONSE));
	wr_u16(w, NATPMP_UNSUPP_VERSION);
	wr_u32(w, ctx_epoch(ctx));
}

/* §3.5: the entire request comes back with the top bit of the opcode set
 * and result 5 in the (reserved) bytes 2-3.  Bytes 4-7 hold the epoch
 * when the request was too short to have them, so a client sees the usual
 * 8-byte error. */
static void
answer_unsupp_opcode(const struct igdd_ctx *ctx, struct wr *w, const uint8_t *req, size_t len,
		     uint8_t *resp)
{
	uint8_t op = req[1];

	if (len < 8) {
		wr_u8(w, req[0]);
		wr_u8(w, (uint8_t)(op + NATPMP_OP_RESPONSE));
		wr_u16(w, NATPMP_UNSUPP_OPCODE);
		wr_u32(w, ctx_epoch(ctx));
	} else {
		wr_bytes(w, req, len < NATPMP_RESP_MAX ? len : NATPMP_RESP_MAX);
		resp[1] = (uint8_t)(op + NATPMP_OP_RESPONSE);
		resp[2] = 0;
		resp[3] = NATPMP_UNSUPP_OPCODE;
	}
}

/* A map request (§3.3) after its opcode: decide through the store and
 * write the answer.  -1 when it is too short (12 bytes). */
static int
answer_map(struct igdd_ctx *ctx, const struct in6_addr *from, struct rd *r, uint8_t op,
	   struct wr *w, struct natpmp_relay *rl)
{
	uint8_t proto = op == NATPMP_OP_MAP_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	uint16_t iport, eport, got_eport = 0;
	uint32_t lifetime, got_lifetime = 0;
	enum natpmp_result res;

	rd_u16(r);			/* reserved */
	iport = rd_u16(r);
	eport = rd_u16(r);
	lifetime = rd_u32(r);
	if (r->err)
		return -1;
	if (rl->ans != NULL) {
		/* the relay's answer to this request, which waited */
		res = map_granted(rl->ans, store_clamp_lifetime(ctx->store, lifetime), &got_eport,
				  &got_lifetime);
		if (res != NATPMP_SUCCESS && rl->ans->local == ST_OK)
			log_refused(ctx, from, proto, iport, eport, lifetime,
				    "the upstream gateway refused or did not answer");
	} else if (ctx->ext_addr.s_addr == 0) {
		res = NATPMP_NETWORK_FAILURE;
		log_refused(ctx, from, proto, iport, eport, lifetime, "no external address");
	} else if (lifetime == 0)
		res = map_delete(ctx, from, proto, iport);
	else
		res = map_add(ctx, from, proto, iport, eport, lifetime, &got_eport,
			      &got_lifetime, rl);
	if (rl->deferred)
		return NATPMP_DEFERRED;
	if (log_debug_on()) {
		char a[64];
		log_debug("NAT-PMP %s from %s: %s %u -> %u, %us: result %d", lifetime ? "map" : "unmap",
			  addr_str(from, a, sizeof(a)), proto_name(proto), iport, eport, lifetime,
			  (int)res);
	}
	/* §3.3 response: the internal port echoed, the mapped external port
	 * and the lifetime granted.  §3.4: a deletion answers external port
	 * 0 and lifetime 0.  Errors echo the request's ports, lifetime 0. */
	wr_u8(w, NATPMP_VERSION);
	wr_u8(w, (uint8_t)(op + NATPMP_OP_RESPONSE));
	wr_u16(w, res);
	wr_u32(w, ctx_epoch(ctx));
	wr_u16(w, iport);
	if (res == NATPMP_SUCCESS) {
		wr_u16(w, lifetime != 0 ? got_eport : 0);
		wr_u32(w, lifetime != 0 ? got_lifetime : 0);
	} else {
		wr_u16(w, eport);
		wr_u32(w, 0);
	}
	return 1;
}

/* The common part of natpmp_handle(), natpmp_handle_w(), natpmp_answer(). */
static int
handle(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req, size_t len,
       uint8_t *resp, size_t *resplen, struct natpmp_relay *rl)
{
	struct rd r;
	struct wr w;
	uint8_t version, op;
	int rc = 1;

	*resplen = 0;
	rd_init(&r, req, len);
	version = rd_u8(&r);
	op = rd_u8(&r);
	if (r.err)
		return -1;	/* shorter than 2 bytes: nothing to answer */
	/* §3.5: an opcode with the top bit set is a response (ours,
	 * looped back, or another server's): ignore it silently. */
	if (op >= NATPMP_OP_RESPONSE)
		return 0;
	if (version == NATPMP_VERSION && op == NATPMP_OP_EXTERNAL) {
		/* §3.2: the request is 2 bytes; trailing bytes are ignored. */
		*resplen = natpmp_external_response(ctx, resp, NATPMP_EXT_RESP_LEN);
		return 1;
	}
	wr_init(&w, resp, NATPMP_RESP_MAX);
	if (version != NATPMP_VERSION)
		answer_unsupp_version(ctx, &w, op);
	else if (op == NATPMP_OP_MAP_UDP || op == NATPMP_OP_MAP_TCP)
		rc = answer_map(ctx, from, &r, op, &w, rl);
	else
		answer_unsupp_opcode(ctx, &w, req, len, resp);
	if (rc == NATPMP_DEFERRED)
		return rc;
	if (rc < 0 || w.err)
		return -1;
	*resplen = wr_len(&w);
	return 1;
}

int
natpmp_handle(struct igdd_ctx *ctx, const struct in6_addr *from,
	      const uint8_t *req, size_t len, uint8_t *resp, size_t *resplen)
{
	struct natpmp_relay rl = { NULL, NULL, false };

	return handle(ctx, from, req, len, resp, resplen, &rl);
}

int
natpmp_handle_w(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req,
		size_t len, uint8_t *resp, size_t *resplen, struct upstream_waiter *w)
{
	struct natpmp_relay rl = { w, NULL, false };

	return handle(ctx, from, req, len, resp, resplen, &rl);
}

int
natpmp_answer(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req,
	      size_t len, const struct upstream_answer *a, uint8_t *resp, size_t *resplen)
{
	struct natpmp_relay rl = { NULL, a, false };

	return handle(ctx, from, req, len, resp, resplen, &rl);
}
