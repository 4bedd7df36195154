/* pcp.c - PCP (RFC 6887): ANNOUNCE and MAP, with the THIRD_PARTY,
 * PREFER_FAILURE, FILTER and DESCRIPTION (RFC 7220) options.
 *
 * pcp_handle() parses the request with a bounds-checked cursor, decides
 * through the store and writes the response; pmp.c does the I/O.  The
 * mapping nonce owns a mapping (§11.2): the store checks it when asked
 * with STORE_F_CHECK_NONCE.
 *
 * IPv4 (NAT): the internal and external addresses are IPv4-mapped IPv6
 * addresses on the wire (§5) and in the store.  IPv6 (no NAT66): a MAP
 * with an IPv6 internal address is a pinhole of the IPv6 firewall, whose
 * assigned external address and port are the internal ones (§11.3).
 * PEER (§12) looks up or makes the outbound flow in conntrack. */
#include <string.h>

#include "ct.h"
#include "ctx.h"
#include "log.h"
#include "maplog.h"
#include "pcp.h"
#include "store.h"
#include "upstream.h"
#include "util.h"
#include "wire.h"

/* What one request asks, once parsed. */
struct pcp_req {
	uint8_t opcode;
	uint32_t lifetime;
	struct in6_addr client;		/* PCP client's IP address field */
	/* MAP and PEER */
	uint8_t nonce[PCP_NONCE_LEN];
	uint8_t proto;
	uint16_t iport, eport;
	struct in6_addr ext_ip;
	/* PEER */
	uint16_t pport;
	struct in6_addr peer;
	/* options */
	const uint8_t *opt_third_party, *opt_prefer_failure, *opt_filter, *opt_desc;
	size_t len_third_party, len_filter, len_desc, len_prefer_failure;
	struct in6_addr third_party;
	struct in6_addr filter_peer;	/* :: = no filter */
	uint8_t filter_prefix;		/* as sent (0 = no filter) */
	uint16_t filter_port;		/* remote peer port, 0 = any */
	char desc[MAPPING_DESC_MAX];
	/* the relay: where a deferred answer goes, or the answer that came,
	 * and whether the answer waits */
	struct upstream_waiter *wt;
	const struct upstream_answer *ans;
	bool deferred;
};

/* What the response carries besides the result. */
struct pcp_answer {
	enum pcp_result result;
	uint32_t lifetime;
	uint16_t eport;
	struct in6_addr ext_ip;
};

uint32_t
pcp_error_lifetime(enum pcp_result r)
{
	switch (r) {
	case PCP_SUCCESS:
		return 0;
	/* §7.4: these may clear up soon; the client should retry. */
	case PCP_NETWORK_FAILURE:
	case PCP_NO_RESOURCES:
	case PCP_USER_EX_QUOTA:
	case PCP_CANNOT_PROVIDE_EXTERNAL:
		return PCP_SHORT_LIFETIME;
	default:
		return PCP_LONG_LIFETIME;
	}
}

/* The 24-byte response header (§7.2): reserved bits zero. */
static void
write_header(const struct igdd_ctx *ctx, struct wr *w, uint8_t opcode,
	     enum pcp_result r, uint32_t lifetime)
{
	wr_u8(w, PCP_VERSION);
	wr_u8(w, (uint8_t)(PCP_R_BIT | (opcode & 0x7f)));
	wr_u8(w, 0);
	wr_u8(w, (uint8_t)r);
	wr_u32(w, lifetime);
	wr_u32(w, ctx_epoch(ctx));
	wr_zero(w, 12);
}

const uint8_t *
pcp_map_nonce(const uint8_t *req, size_t len)
{
	if (len < PCP_HDR_LEN + PCP_MAP_LEN || req[0] != PCP_VERSION ||
	    (req[1] & ~PCP_R_BIT) != PCP_OP_MAP)
		return NULL;
	return req + PCP_HDR_LEN;	/* §11.1: the MAP body starts with it */
}

size_t
pcp_announce(const struct igdd_ctx *ctx, uint8_t *buf, size_t size)
{
	struct wr w;

	wr_init(&w, buf, size);
	write_header(ctx, &w, PCP_OP_ANNOUNCE, PCP_SUCCESS, 0);
	return w.err ? 0 : wr_len(&w);
}

/* An error response (§8.3): the request's opcode-specific data and
 * options copied after the header, so the client can match it (nonce,
 * ports); at most PCP_MAX_LEN bytes and a multiple of 4. */
static size_t
error_response(const struct igdd_ctx *ctx, const uint8_t *req, size_t len,
	       enum pcp_result r, uint8_t *resp)
{
	struct wr w;
	size_t body = 0;

	if (len > PCP_MAX_LEN)
		len = PCP_MAX_LEN;
	if (len > PCP_HDR_LEN)
		body = (len - PCP_HDR_LEN) & ~(size_t)3;
	wr_init(&w, resp, PCP_MAX_LEN);
	write_header(ctx, &w, req[1], r, pcp_error_lifetime(r));
	wr_bytes(&w, req + PCP_HDR_LEN, body);
	return wr_len(&w);
}

static bool
is_v4mapped_any(const struct in6_addr *a)
{
	return addr_is_any(a);
}

/* FILTER (§13.3): reserved, prefix length, remote peer port, remote peer
 * address; checked against the internal address by check_filter() once
 * THIRD_PARTY is known. */
static enum pcp_result
parse_filter(struct pcp_req *q, const uint8_t *d)
{
	struct rd r;

	rd_init(&r, d, 20);
	rd_u8(&r);
	q->filter_prefix = rd_u8(&r);
	q->filter_port = rd_u16(&r);
	rd_bytes(&r, &q->filter_peer, 16);
	return q->filter_prefix > 128 ? PCP_MALFORMED_OPTION : PCP_SUCCESS;
}

/* The nftables back end restricts an IPv4 mapping to one remote host, a
 * pinhole to one remote host and/or port: /128 (a host) is honoured and /0
 * means "any host"; other prefixes, or a port on an IPv4 mapping, cannot
 * be expressed and are refused with UNSUPP_OPTION rather than silently
 * widened or narrowed.  §13.3: the filter's family must be the internal
 * address's (a v4-mapped prefix covers at least the 96-bit mapping
 * prefix).  Leaves filter_peer :: for "any host". */
static enum pcp_result
check_filter(struct pcp_req *q, const struct in6_addr *iaddr)
{
	bool v4 = addr_is_v4(iaddr);

	if (q->opt_filter == NULL)
		return PCP_SUCCESS;
	if (q->filter_prefix == 0) {
		/* any host; a pinhole keeps the port, IPv4 ignores it as ever */
		memset(&q->filter_peer, 0, sizeof(q->filter_peer));
		if (v4)
			q->filter_port = 0;
		return PCP_SUCCESS;
	}
	if (addr_is_v4(&q->filter_peer) != v4 || (v4 && q->filter_prefix < 96))
		return PCP_MALFORMED_OPTION;
	if (q->filter_prefix != 128 || (v4 && q->filter_port != 0))
		return PCP_UNSUPP_OPTION;
	if (is_v4mapped_any(&q->filter_peer) || addr_is_any(&q->filter_peer))
		return PCP_MALFORMED_OPTION;
	return PCP_SUCCESS;
}

/* Options (§7.3): code, reserved, length, data padded to 4 bytes.
 * Unknown mandatory options (code < 128) are UNSUPP_OPTION, unknown
 * optional ones are skipped; an overrun, a wrong length, a repeat or an
 * option not valid for the opcode is MALFORMED_OPTION. */
static enum pcp_result
parse_options(struct pcp_req *q, struct rd *r)
{
	unsigned n_filter = 0;

	while (r->left > 0) {
		const uint8_t *start = r->p, *data;
		uint8_t code;
		uint16_t olen;
		size_t padded;
		enum pcp_result res;

		code = rd_u8(r);
		rd_u8(r);
		olen = rd_u16(r);
		if (r->err)
			return PCP_MALFORMED_OPTION;
		padded = ((size_t)olen + 3) & ~(size_t)3;
		data = rd_take(r, padded);
		if (data == NULL)
			return PCP_MALFORMED_OPTION;
		switch (code) {
		case PCP_OPT_THIRD_PARTY:	/* MAP, PEER; once; 16 bytes */
			if ((q->opcode != PCP_OP_MAP && q->opcode != PCP_OP_PEER) ||
			    q->opt_third_party != NULL || olen != 16)
				return PCP_MALFORMED_OPTION;
			q->opt_third_party = start;
			q->len_third_party = 4 + padded;
			memcpy(&q->third_party, data, 16);
			break;
		case PCP_OPT_PREFER_FAILURE:	/* MAP only; once; empty */
			if (q->opcode != PCP_OP_MAP || q->opt_prefer_failure != NULL || olen != 0)
				return PCP_MALFORMED_OPTION;
			q->opt_prefer_failure = start;
			q->len_prefer_failure = 4;
			break;
		case PCP_OPT_FILTER:		/* MAP only; 20 bytes */
			if (q->opcode != PCP_OP_MAP || olen != 20)
				return PCP_MALFORMED_OPTION;
			/* One remote host per mapping is what the back end
			 * can restrict to (§13.3 lets a server limit this). */
			if (++n_filter > 1)
				return PCP_EXCESSIVE_REMOTE_PEERS;
			res = parse_filter(q, data);
			if (res != PCP_SUCCESS)
				return res;
			q->opt_filter = start;
			q->len_filter = 4 + padded;
			break;
		case PCP_OPT_DESCRIPTION:	/* RFC 7220: MAP, PEER; once */
			if ((q->opcode != PCP_OP_MAP && q->opcode != PCP_OP_PEER) || q->opt_desc != NULL)
				return PCP_MALFORMED_OPTION;
			q->opt_desc = start;
			q->len_desc = 4 + padded;
			/* RFC 7220 §3: UTF-8 text, not NUL-terminated;
			 * the store's sanitizer keeps valid printable text. */
			store_sanitize_desc(q->desc, sizeof(q->desc), (const char *)data, olen);
			break;
		default:
			if (code < 128)
				return PCP_UNSUPP_OPTION;
			break;
		}
	}
	return PCP_SUCCESS;
}

static enum pcp_result
result_from_store(enum store_result r, bool prefer_failure)
{
	switch (r) {
	case ST_OK:
		return PCP_SUCCESS;
	case ST_E_PERMISSION:
	case ST_E_SECURE:
	case ST_E_NOT_OWNER:
	case ST_E_NONCE:	/* §11.3: another nonce owns this mapping */
	case ST_E_NOT_LAN:
		return PCP_NOT_AUTHORIZED;
	case ST_E_INVAL:
		return PCP_MALFORMED_REQUEST;
	case ST_E_QUOTA_CLIENT:
		return PCP_USER_EX_QUOTA;
	case ST_E_CONFLICT:
	case ST_E_PORT_IN_USE:
	case ST_E_NO_PORT:
		/* §13.2: with PREFER_FAILURE, "this port or nothing". */
		return prefer_failure ? PCP_CANNOT_PROVIDE_EXTERNAL : PCP_NO_RESOURCES;
	case ST_E_NOT_FOUND:
	case ST_E_QUOTA_TOTAL:
	case ST_E_FIREWALL:
	case ST_E_NOMEM:
		return PCP_NO_RESOURCES;
	}
	return PCP_NO_RESOURCES;
}

/* A request refused here, before the store (which logs its own). */
static void
log_refused(struct igdd_ctx *ctx, const struct pcp_req *q, const struct in6_addr *iaddr,
	    const struct in6_addr *from, const char *why)
{
	struct mapping_owner me = { .addr = *from, .proto = OWNER_PCP };
	struct mapping m = { .rhost = &q->filter_peer, .iaddr = iaddr, .owner = &me,
			     .desc = q->desc[0] != '\0' ? q->desc : NULL, .eport = q->eport,
			     .iport = q->iport, .proto = q->proto };

	maplog_refused(ctx, &m, from, q->lifetime, q->lifetime == 0, why);
}

/* Lifetime 0 (§11.3, §15): delete.  Protocol 0 or internal port 0 means
 * every mapping of this internal address made with this nonce (§11.1:
 * port 0 and protocol 0 are "all" and legal in a delete). */
static void
map_delete(struct igdd_ctx *ctx, const struct pcp_req *q, const struct in6_addr *iaddr,
	   const struct in6_addr *requester, struct pcp_answer *a)
{
	struct mapping_owner me = { .addr = *requester, .proto = OWNER_PCP };
	struct mapping *m;

	memcpy(me.nonce, q->nonce, PCP_NONCE_LEN);
	a->lifetime = 0;
	a->eport = q->eport;
	a->ext_ip = q->ext_ip;
	if (q->proto == 0 || q->iport == 0) {
		/* The nonce's owner is the address that asked (for THIRD_PARTY
		 * too), so its own list holds every candidate. */
		store_del_owner(ctx->store, OWNER_PCP, requester, q->proto, iaddr, q->nonce);
		a->result = PCP_SUCCESS;
		return;
	}
	/* The mapping this sender and nonce hold, not the first of the
	 * internal port: the host may hold a UPnP or NAT-PMP one as well. */
	m = store_find_owned(ctx->store, q->proto, iaddr, q->iport, &me);
	if (m == NULL) {
		/* Only the nonce that made a PCP mapping may delete it; mappings
		 * made by UPnP, NAT-PMP or the administrator are not PCP's to
		 * remove.  None at all: already gone, success (§15). */
		m = store_find_internal(ctx->store, q->proto, iaddr, q->iport);
		a->result = m != NULL ? PCP_NOT_AUTHORIZED : PCP_SUCCESS;
		if (m != NULL) {
			a->lifetime = pcp_error_lifetime(a->result);
			log_refused(ctx, q, iaddr, requester, "not this nonce's mapping");
		}
		return;
	}
	a->eport = mapping_is_pinhole(m) ? m->iport : m->eport;
	a->result = result_from_store(store_del_as(ctx->store, m, &me), false);
	if (a->result == PCP_SUCCESS && !addr_is_v4(iaddr))
		a->ext_ip = *iaddr;	/* a pinhole: no translation */
	else if (a->result == PCP_SUCCESS && ctx->ext_addr.s_addr != 0)
		addr_from_v4(&a->ext_ip, ctx->ext_addr);
}

/* What refuses a MAP before the store is asked (§11.1, §11.3); *why says
 * it for the log. */
static enum pcp_result
map_precheck(const struct igdd_ctx *ctx, const struct pcp_req *q, bool prefer_failure,
	     const char **why)
{
	struct in6_addr ours;

	/* Includes protocol 0 ("all protocols"), legal only in a delete
	 * here: the back end maps TCP and UDP ports. */
	*why = "protocol not supported (TCP and UDP only)";
	if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP)
		return PCP_UNSUPP_PROTOCOL;
	/* "All ports" (§11.1) would expose the whole host: refused by
	 * policy. */
	*why = "internal port 0 (all ports)";
	if (q->iport == 0)
		return PCP_NOT_AUTHORIZED;
	*why = "no external address";
	if (ctx->ext_addr.s_addr == 0)
		return PCP_NETWORK_FAILURE;
	addr_from_v4(&ours, ctx->ext_addr);
	/* §11.3: the suggested external address is a hint, unless
	 * PREFER_FAILURE says it is a requirement.  All-zero (either
	 * family) = no preference. */
	*why = "PREFER_FAILURE for another external address";
	if (!addr_is_any(&q->ext_ip) && memcmp(&q->ext_ip, &ours, sizeof(ours)) != 0 &&
	    prefer_failure)
		return PCP_CANNOT_PROVIDE_EXTERNAL;
	return PCP_SUCCESS;
}

/* The store request of a MAP: *req points at iaddr, owner, the filter
 * peer and the description (q's, or one written into desc[size]); the
 * store flags go to *flags. */
static void
map_store_request(const struct pcp_req *q, const struct in6_addr *iaddr,
		  const struct mapping_owner *owner, struct mapping *req, unsigned *flags,
		  char *desc, size_t size)
{
	memset(req, 0, sizeof(*req));
	req->proto = q->proto;
	req->iaddr = iaddr;
	req->iport = q->iport;
	req->rhost = &q->filter_peer;
	req->rport = q->filter_port;	/* pinholes only: 0 for IPv4 (check_filter) */
	req->enabled = true;
	req->owner = owner;
	if (q->desc[0] != '\0')
		req->desc = q->desc;
	else if (size >= MAPPING_DESC_GEN_MAX &&
		 mapping_desc_make(desc, MAPPING_DESC_PCP, q->proto, q->iport) == 0)
		req->desc = desc;
	/* §13.2: PREFER_FAILURE = the suggested port or nothing; with no
	 * suggestion (0) any port will do. */
	req->eport = q->eport != 0 ? q->eport : q->iport;
	*flags = STORE_F_CHECK_NONCE;
	if (q->opt_prefer_failure == NULL || q->eport == 0)
		*flags |= STORE_F_ANY_PORT;
	/* An allowed THIRD_PARTY request maps for another host: the store
	 * then skips secure mode's "internal client = requester" check
	 * (permission rules still apply). */
	if (q->opt_third_party != NULL)
		*flags |= STORE_F_THIRD_PARTY;
}

/* §11.3: a mapping for this internal address, port and protocol already
 * exists: same nonce = refresh it (its external port stays, unless a new
 * FILTER moves it); other nonce = NOT_AUTHORIZED. */
static enum pcp_result
map_existing(struct igdd_ctx *ctx, const struct in6_addr *requester,
	     const struct mapping_owner *owner, struct mapping *req, unsigned *flags,
	     uint32_t lifetime)
{
	struct mapping *existing;

	existing = store_find_owned(ctx->store, req->proto, req->iaddr, req->iport, owner);
	if (existing == NULL && store_find_internal_other(ctx->store, req->proto, req->iaddr,
							  req->iport, owner) != NULL) {
		maplog_refused(ctx, req, requester, lifetime, false, "held with another nonce");
		return PCP_NOT_AUTHORIZED;
	}
	if (existing == NULL)
		return PCP_SUCCESS;
	req->eport = existing->eport;
	*flags &= ~(unsigned)STORE_F_ANY_PORT;
	if (addr_is_any(existing->rhost) ? !addr_is_any(req->rhost) :
	    !addr_eq(existing->rhost, req->rhost)) {
		/* A new FILTER replaces the old one (§13.3); the remote
		 * host is part of the store's key. */
		if (store_del(ctx->store, existing->proto, existing->eport, existing->rhost,
			      requester) != ST_OK)
			return PCP_NO_RESOURCES;
		*flags |= STORE_F_ANY_PORT;
	}
	return PCP_SUCCESS;
}

/* RFC 7648: a proxy passes its server's verdict on; the codes about its
 * own exchange with the server (version, format, address) say only that
 * the network failed. */
static enum pcp_result
result_from_answer(const struct upstream_answer *u, bool prefer_failure)
{
	if (u->local != ST_OK)
		return result_from_store(u->local, prefer_failure);
	if (u->err == UPE_OK)
		return PCP_SUCCESS;
	switch (u->pcp_result) {
	case PCP_NOT_AUTHORIZED:
	case PCP_UNSUPP_OPTION:
	case PCP_NO_RESOURCES:
	case PCP_UNSUPP_PROTOCOL:
	case PCP_USER_EX_QUOTA:
	case PCP_CANNOT_PROVIDE_EXTERNAL:
	case PCP_EXCESSIVE_REMOTE_PEERS:
		return (enum pcp_result)u->pcp_result;
	default:
		break;
	}
	switch (u->err) {
	case UPE_PORT: return prefer_failure ? PCP_CANNOT_PROVIDE_EXTERNAL : PCP_NO_RESOURCES;
	case UPE_AUTH: return PCP_NOT_AUTHORIZED;
	case UPE_QUOTA: return PCP_USER_EX_QUOTA;
	case UPE_RESOURCES: return PCP_NO_RESOURCES;
	default: return PCP_NETWORK_FAILURE;
	}
}

/* The answer of a MAP from the relay's (a plain store add included). */
static void
map_granted(const struct pcp_req *q, const struct upstream_answer *u, uint32_t lifetime,
	    struct pcp_answer *a)
{
	a->result = result_from_answer(u, q->opt_prefer_failure != NULL);
	if (a->result != PCP_SUCCESS)
		return;
	a->eport = u->eport;
	addr_from_v4(&a->ext_ip, u->ext);
	a->lifetime = u->lifetime;
	if (a->lifetime == 0 || a->lifetime > lifetime)
		a->lifetime = lifetime;
}

static void
map_add(struct igdd_ctx *ctx, struct pcp_req *q, const struct in6_addr *iaddr,
	const struct in6_addr *requester, struct pcp_answer *a)
{
	bool prefer_failure = q->opt_prefer_failure != NULL;
	struct mapping_owner owner = { .addr = *requester, .proto = OWNER_PCP };
	struct upstream_answer ua;
	struct mapping req;
	const char *why;
	unsigned flags;
	uint32_t lifetime;
	char desc[32];

	a->result = map_precheck(ctx, q, prefer_failure, &why);
	if (a->result != PCP_SUCCESS) {
		log_refused(ctx, q, iaddr, requester, why);
		return;
	}
	memcpy(owner.nonce, q->nonce, PCP_NONCE_LEN);
	map_store_request(q, iaddr, &owner, &req, &flags, desc, sizeof(desc));
	a->result = map_existing(ctx, requester, &owner, &req, &flags, q->lifetime);
	if (a->result != PCP_SUCCESS)
		return;
	lifetime = store_clamp_lifetime(ctx->store, q->lifetime);
	/* With a relay the upstream is asked too (RFC 7648: the client's
	 * nonce, its PREFER_FAILURE); the answer may wait for it. */
	if (upstream_add(ctx, &req, lifetime, flags, prefer_failure ? UPSTREAM_EXACT : 0, q->wt,
			 &ua, NULL) == 1) {
		q->deferred = true;
		return;
	}
	map_granted(q, &ua, lifetime, a);
}

/* MAP of an IPv6 internal address: a pinhole (§11.3 for a firewall: the
 * assigned external address and port are the internal ones; a different
 * suggestion is a hint, a requirement with PREFER_FAILURE).  The nonce
 * owns it as an IPv4 mapping; a new FILTER replaces the old one. */
static void
map_pin(struct igdd_ctx *ctx, const struct pcp_req *q, const struct in6_addr *iaddr,
	const struct in6_addr *requester, struct pcp_answer *a)
{
	bool prefer_failure = q->opt_prefer_failure != NULL;
	struct mapping_owner owner = { .addr = *requester, .proto = OWNER_PCP };
	struct mapping req, *existing, *m = NULL;
	unsigned flags;
	char desc[32];
	uint32_t lifetime;

	a->result = PCP_UNSUPP_PROTOCOL;
	if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP) {
		log_refused(ctx, q, iaddr, requester, "protocol not supported (TCP and UDP only)");
		return;
	}
	a->result = PCP_NOT_AUTHORIZED;	/* "all ports": refused by policy */
	if (q->iport == 0) {
		log_refused(ctx, q, iaddr, requester, "internal port 0 (all ports)");
		return;
	}
	a->result = PCP_CANNOT_PROVIDE_EXTERNAL;
	if (prefer_failure && ((q->eport != 0 && q->eport != q->iport) ||
			       (!addr_is_any(&q->ext_ip) && !addr_eq(&q->ext_ip, iaddr)))) {
		log_refused(ctx, q, iaddr, requester, "PREFER_FAILURE for another external side");
		return;
	}
	memcpy(owner.nonce, q->nonce, PCP_NONCE_LEN);
	map_store_request(q, iaddr, &owner, &req, &flags, desc, sizeof(desc));
	existing = store_find_owned(ctx->store, q->proto, iaddr, q->iport, &owner);
	if (existing == NULL &&
	    store_find_internal_other(ctx->store, q->proto, iaddr, q->iport, &owner) != NULL) {
		a->result = PCP_NOT_AUTHORIZED;	/* §11.3: another nonce's */
		log_refused(ctx, q, iaddr, requester, "held with another nonce");
		return;
	}
	if (existing != NULL && (!addr_eq(existing->rhost, req.rhost) || existing->rport != req.rport) &&
	    store_del_as(ctx->store, existing, &owner) != ST_OK) {
		a->result = PCP_NO_RESOURCES;
		return;
	}
	lifetime = store_clamp_lifetime(ctx->store, q->lifetime);
	a->result = result_from_store(store_pin_add(ctx->store, &req, lifetime, flags, &m),
				      prefer_failure);
	if (a->result != PCP_SUCCESS)
		return;
	a->eport = m->iport;
	a->ext_ip = *iaddr;
	a->lifetime = store_lease_left(ctx->store, m);
	if (a->lifetime == 0 || a->lifetime > lifetime)
		a->lifetime = lifetime;
}

/* The internal address of a MAP or PEER: the client's, or THIRD_PARTY's. */
static enum pcp_result
internal_address(struct igdd_ctx *ctx, const struct pcp_req *q, const struct in6_addr *from,
		 const struct in6_addr **iaddr)
{
	*iaddr = &q->client;
	if (q->opt_third_party == NULL)
		return PCP_SUCCESS;
	/* §13.1: a THIRD_PARTY naming the sender itself is malformed. */
	if (addr_eq(&q->third_party, from)) {
		log_refused(ctx, q, &q->third_party, from, "THIRD_PARTY names the sender");
		return PCP_MALFORMED_REQUEST;
	}
	/* §13.1: acting for another host is a privilege; igdd grants it only
	 * with pcp_allow_thirdparty=yes, and only for hosts on our LANs (the
	 * permission rules and secure mode are then the store's to apply). */
	if (!ctx->cfg.pcp_allow_thirdparty) {
		log_refused(ctx, q, &q->third_party, from,
			    "THIRD_PARTY not allowed (pcp_allow_thirdparty=no)");
		return PCP_NOT_AUTHORIZED;
	}
	*iaddr = &q->third_party;
	return PCP_SUCCESS;
}

/* MAP (§11): the internal address is the client's, or THIRD_PARTY's. */
static enum pcp_result
do_map(struct igdd_ctx *ctx, struct pcp_req *q, const struct in6_addr *from,
       struct pcp_answer *a)
{
	const struct in6_addr *iaddr;

	if ((a->result = internal_address(ctx, q, from, &iaddr)) != PCP_SUCCESS)
		return a->result;
	if (q->ans != NULL) {
		/* The relay's answer to this request, which waited: it passed
		 * every check below when it came. */
		map_granted(q, q->ans, store_clamp_lifetime(ctx->store, q->lifetime), a);
		if (a->result != PCP_SUCCESS && q->ans->local == ST_OK)
			log_refused(ctx, q, iaddr, from,
				    "the upstream gateway refused or did not answer");
		return a->result;
	}
	if ((a->result = check_filter(q, iaddr)) != PCP_SUCCESS)
		return a->result;
	/* An internal address on no LAN (or IPv6 with ipv6_disable: no LAN
	 * prefix is known then) is refused as an operation that is not
	 * allowed (NOT_AUTHORIZED, a long-lifetime error) rather than a
	 * transient failure the client would retry. */
	if (addr_is_v4(iaddr) ? is_v4mapped_any(iaddr) ||
				ctx_lan_for_addr(ctx, addr_to_v4(iaddr)) == NULL
			      : ctx_lan_for_addr6(ctx, iaddr, 0) == NULL) {
		log_refused(ctx, q, iaddr, from, "internal address is not a host of a LAN");
		return PCP_NOT_AUTHORIZED;
	}
	if (q->lifetime == 0)
		map_delete(ctx, q, iaddr, from, a);
	else if (!addr_is_v4(iaddr))
		map_pin(ctx, q, iaddr, from, a);
	else
		map_add(ctx, q, iaddr, from, a);
	return a->result;
}

/* The MAP opcode body of a response (§11.2): nonce, protocol, internal
 * port, assigned external port and address. */
static void
write_map_body(struct wr *w, const uint8_t *nonce, uint8_t proto, uint16_t iport,
	       uint16_t eport, const struct in6_addr *ext)
{
	wr_bytes(w, nonce, PCP_NONCE_LEN);
	wr_u8(w, proto);
	wr_zero(w, 3);
	wr_u16(w, iport);
	wr_u16(w, eport);
	wr_bytes(w, ext, 16);
}

/* The MAP or PEER success response: header, body (PEER's with the
 * remote peer), then the options we acted on (§7.3: processed options are
 * included in responses; FILTER and PREFER_FAILURE are MAP's only). */
static size_t
map_response(const struct igdd_ctx *ctx, const struct pcp_req *q,
	     const struct pcp_answer *a, uint8_t *resp)
{
	struct wr w;

	wr_init(&w, resp, PCP_MAX_LEN);
	write_header(ctx, &w, q->opcode, PCP_SUCCESS, a->lifetime);
	write_map_body(&w, q->nonce, q->proto, q->iport, a->eport, &a->ext_ip);
	if (q->opcode == PCP_OP_PEER) {
		wr_u16(&w, q->pport);
		wr_zero(&w, 2);
		wr_bytes(&w, &q->peer, 16);
	}
	if (q->opt_third_party != NULL)
		wr_bytes(&w, q->opt_third_party, q->len_third_party);
	if (q->opt_prefer_failure != NULL)
		wr_bytes(&w, q->opt_prefer_failure, q->len_prefer_failure);
	if (q->opt_filter != NULL)
		wr_bytes(&w, q->opt_filter, q->len_filter);
	if (q->opt_desc != NULL)
		wr_bytes(&w, q->opt_desc, q->len_desc);
	return w.err ? 0 : wr_len(&w);
}

/* §9: UNSUPP_VERSION carries the version we speak (2) so the client can
 * retry with it.  Version 0 (NAT-PMP) never gets here: pmp_handle() gives
 * it to natpmp.c, as RFC 6887 §9 wants from a server that supports both.
 * Version 1 (the pre-RFC drafts) and versions > 2 get this answer: the
 * common header only, since their layout is unknown. */
static size_t
unsupp_version_response(const struct igdd_ctx *ctx, uint8_t op, uint8_t *resp)
{
	struct wr w;

	wr_init(&w, resp, PCP_MAX_LEN);
	write_header(ctx, &w, op, PCP_UNSUPP_VERSION, pcp_error_lifetime(PCP_UNSUPP_VERSION));
	return wr_len(&w);
}

/* The rest of the common request header (§7.1) after version and opcode. */
static enum pcp_result
parse_header(struct pcp_req *q, struct rd *r, uint8_t op, size_t len,
	     const struct in6_addr *from)
{
	/* §8.3, §7: 24..1100 bytes, a multiple of 4. */
	if (len < PCP_HDR_LEN || len > PCP_MAX_LEN || len % 4 != 0)
		return PCP_MALFORMED_REQUEST;
	q->opcode = op;
	rd_u16(r);			/* reserved */
	q->lifetime = rd_u32(r);
	rd_bytes(r, &q->client, 16);
	/* §8.3: the client address field must be the packet's source; a
	 * difference means a NAT between client and server (§8.1). */
	if (memcmp(&q->client, from, sizeof(q->client)) != 0)
		return PCP_ADDRESS_MISMATCH;
	return PCP_SUCCESS;
}

/* §14.1: ANNOUNCE is answered with SUCCESS, lifetime 0 and the epoch: a
 * client learns whether we restarted. */
static enum pcp_result
announce_request(const struct igdd_ctx *ctx, struct pcp_req *q, struct rd *r, uint8_t *resp,
		 size_t *resplen)
{
	enum pcp_result res = parse_options(q, r);

	if (res == PCP_SUCCESS)
		*resplen = pcp_announce(ctx, resp, PCP_MAX_LEN);
	return res;
}

/* The fields MAP and PEER begin with (§11.1, §12.1): nonce, protocol, 3
 * reserved bytes, internal and suggested external port, suggested
 * external address.  r->err says when the datagram ended first. */
static void
read_map_fields(struct pcp_req *q, struct rd *r)
{
	rd_bytes(r, q->nonce, PCP_NONCE_LEN);
	q->proto = rd_u8(r);
	rd_skip(r, 3);
	q->iport = rd_u16(r);
	q->eport = rd_u16(r);
	rd_bytes(r, &q->ext_ip, 16);
}

/* MAP (§11.1): the opcode body, the options, the decision, the answer
 * (written on success only). */
static enum pcp_result
map_request(struct igdd_ctx *ctx, struct pcp_req *q, struct rd *r,
	    const struct in6_addr *from, uint8_t *resp, size_t *resplen)
{
	struct pcp_answer a;
	enum pcp_result res;

	memset(&a, 0, sizeof(a));
	read_map_fields(q, r);
	if (r->err)
		return PCP_MALFORMED_REQUEST;
	/* §11.1: with protocol 0 the internal port is ignored. */
	if (q->proto == 0)
		q->iport = 0;
	res = parse_options(q, r);
	if (res != PCP_SUCCESS)
		return res;
	res = do_map(ctx, q, from, &a);
	if (q->deferred)
		return PCP_SUCCESS;	/* pcp_answer() writes it */
	if (log_debug_on()) {
		char s[64];
		log_debug("PCP MAP from %s: %s %u -> %u, %us: result %d",
			  addr_str(from, s, sizeof(s)), proto_name(q->proto),
			  q->iport, q->eport, q->lifetime, (int)res);
	}
	if (res == PCP_SUCCESS)
		*resplen = map_response(ctx, q, &a, resp);
	return res;
}

/* PEER (§12): the outbound flow of (protocol, internal endpoint) to the
 * remote peer, looked up or created in conntrack through the store (the
 * policy of a new mapping); its external address and port are reported.
 * Lifetime 0 lets an existing flow end soon (§15). */
static enum pcp_result
do_peer(struct igdd_ctx *ctx, struct pcp_req *q, const struct in6_addr *from,
	struct pcp_answer *a)
{
	struct mapping_owner who = { .addr = *from, .proto = OWNER_PCP };
	const struct in6_addr *iaddr;
	enum pcp_result r;
	struct ct_peer p;
	unsigned flags = 0;

	/* §12.1: all ports and all protocols make no sense for a flow */
	if (q->proto == 0 || q->iport == 0 || q->pport == 0 || addr_is_any(&q->peer))
		return PCP_MALFORMED_REQUEST;
	if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP)
		return PCP_UNSUPP_PROTOCOL;
	if ((r = internal_address(ctx, q, from, &iaddr)) != PCP_SUCCESS)
		return r;
	if (q->opt_third_party != NULL)
		flags |= STORE_F_THIRD_PARTY;
	if (addr_is_v4(&q->peer) != addr_is_v4(iaddr))
		return PCP_MALFORMED_REQUEST;	/* §12.1: one family */
	if (addr_is_v4(iaddr) && ctx->ext_addr.s_addr == 0)
		return PCP_NETWORK_FAILURE;
	memset(&p, 0, sizeof(p));
	memcpy(who.nonce, q->nonce, PCP_NONCE_LEN);
	p.proto = q->proto;
	p.iaddr = *iaddr;
	p.iport = q->iport;
	p.peer = q->peer;
	p.pport = q->pport;
	p.want_eport = q->eport;
	p.lifetime = q->lifetime != 0 ? store_clamp_lifetime(ctx->store, q->lifetime) : 0;
	a->result = result_from_store(store_peer(ctx->store, &p, &who, flags), false);
	if (a->result != PCP_SUCCESS)
		return a->result;
	a->lifetime = p.lifetime;
	a->eport = p.eport;
	a->ext_ip = p.ext;
	return PCP_SUCCESS;
}

/* PEER (§12.1): the MAP fields, the remote peer's port, 2 reserved bytes
 * and address, the options, the decision, the answer (on success only). */
static enum pcp_result
peer_request(struct igdd_ctx *ctx, struct pcp_req *q, struct rd *r,
	     const struct in6_addr *from, uint8_t *resp, size_t *resplen)
{
	struct pcp_answer a;
	enum pcp_result res;

	memset(&a, 0, sizeof(a));
	read_map_fields(q, r);
	q->pport = rd_u16(r);
	rd_skip(r, 2);
	rd_bytes(r, &q->peer, 16);
	if (r->err)
		return PCP_MALFORMED_REQUEST;
	res = parse_options(q, r);
	if (res == PCP_SUCCESS)
		res = do_peer(ctx, q, from, &a);
	if (res == PCP_SUCCESS)
		*resplen = map_response(ctx, q, &a, resp);
	return res;
}

/* pcp_handle(), pcp_handle_w(), pcp_answer(): wt is where an answer that
 * waits for the relay goes, ans the relay's answer to this request. */
static int
handle(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req, size_t len,
       uint8_t *resp, size_t *resplen, struct upstream_waiter *wt,
       const struct upstream_answer *ans)
{
	struct pcp_req q;
	enum pcp_result res;
	struct rd r;
	uint8_t version, op;

	*resplen = 0;
	memset(&q, 0, sizeof(q));
	q.wt = wt;
	q.ans = ans;
	rd_init(&r, req, len);
	version = rd_u8(&r);
	op = rd_u8(&r);
	/* §8.3: shorter than 2 bytes, or the R bit set (a response, maybe
	 * our own announcement): silently dropped. */
	if (r.err)
		return -1;
	if (op & PCP_R_BIT)
		return 0;
	if (version != PCP_VERSION) {
		*resplen = unsupp_version_response(ctx, op, resp);
		return 1;
	}
	res = parse_header(&q, &r, op, len, from);
	if (res == PCP_SUCCESS) {
		switch (op) {
		case PCP_OP_ANNOUNCE:
			res = announce_request(ctx, &q, &r, resp, resplen);
			break;
		case PCP_OP_MAP:
			res = map_request(ctx, &q, &r, from, resp, resplen);
			if (q.deferred)
				return PCP_DEFERRED;
			if (res == PCP_SUCCESS)
				return *resplen != 0 ? 1 : -1;
			break;
		case PCP_OP_PEER:
			res = peer_request(ctx, &q, &r, from, resp, resplen);
			if (res == PCP_SUCCESS)
				return *resplen != 0 ? 1 : -1;
			break;
		default:
			res = PCP_UNSUPP_OPCODE;
			break;
		}
		if (res == PCP_SUCCESS)
			return 1;
	}
	*resplen = error_response(ctx, req, len, res, resp);
	return 1;
}

int
pcp_handle(struct igdd_ctx *ctx, const struct in6_addr *from,
	   const uint8_t *req, size_t len, uint8_t *resp, size_t *resplen)
{
	return handle(ctx, from, req, len, resp, resplen, NULL, NULL);
}

int
pcp_handle_w(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req, size_t len,
	     uint8_t *resp, size_t *resplen, struct upstream_waiter *w)
{
	return handle(ctx, from, req, len, resp, resplen, w, NULL);
}

int
pcp_answer(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req, size_t len,
	   const struct upstream_answer *a, uint8_t *resp, size_t *resplen)
{
	return handle(ctx, from, req, len, resp, resplen, NULL, a);
}

/* --- unsolicited MAP responses (§14.2) --------------------------------- */

size_t
pcp_map_unsolicited(const struct igdd_ctx *ctx, const struct mapping *m, enum pcp_result r,
		    uint8_t *buf, size_t size)
{
	struct in6_addr ext;
	struct in_addr ext4;
	uint16_t eport;
	struct wr w;

	if (m->owner->proto != OWNER_PCP || ctx->ext_addr.s_addr == 0)
		return 0;
	upstream_view(ctx, m, &ext4, &eport);	/* relayed: the upstream's */
	addr_from_v4(&ext, ext4);
	wr_init(&w, buf, size);
	write_header(ctx, &w, PCP_OP_MAP, r, r == PCP_SUCCESS ? store_lease_left(ctx->store, m) :
		     pcp_error_lifetime(r));
	write_map_body(&w, m->owner->nonce, m->proto, m->iport, eport, &ext);
	/* The options the mapping was made with, as its responses carried
	 * them: a mapping for another host names it (THIRD_PARTY), a
	 * restricted one its peer (FILTER, the whole address, any port). */
	if (!addr_eq(m->iaddr, &m->owner->addr)) {
		pcp_wr_option(&w, PCP_OPT_THIRD_PARTY, 16);
		wr_bytes(&w, m->iaddr, 16);
	}
	if (!addr_is_any(m->rhost)) {
		pcp_wr_option(&w, PCP_OPT_FILTER, 20);
		wr_u8(&w, 0);
		wr_u8(&w, 128);
		wr_u16(&w, 0);
		wr_bytes(&w, m->rhost, 16);
	}
	return w.err ? 0 : wr_len(&w);
}

size_t
pcp_map_update(const struct igdd_ctx *ctx, const struct mapping *m, uint8_t *buf, size_t size)
{
	return pcp_map_unsolicited(ctx, m, PCP_SUCCESS, buf, size);
}
