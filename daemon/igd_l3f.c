/* igd_l3f.c - Layer3Forwarding:1: the one default connection service. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "igd.h"
#include "soap.h"
#include "util.h"
#include "uuid.h"

/* The one connection service, in a device of version ver. */
static int
default_service(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	char u[40];

	if (uuid_embedded(ctx, 2, u, sizeof(u)) < 0)
		return -1;
	return str_printf(buf, size, "uuid:%s:WANConnectionDevice:%u,urn:upnp-org:serviceId:WANIPConn1",
			  u, ver);
}

static int
a_get_default_connection_service(struct igd_call *call)
{
	char s[160];

	if (default_service(call->ctx, call->version, s, sizeof(s)) < 0)
		return 501;
	igd_out_arg(call, "NewDefaultConnectionService", s);
	return 0;
}

static int
a_set_default_connection_service(struct igd_call *call)
{
	const char *v = soap_arg(call->env, "NewDefaultConnectionService");
	char u[40];

	/* There is one connection service; naming it is the only valid choice. */
	if (v == NULL || uuid_embedded(call->ctx, 2, u, sizeof(u)) < 0)
		return 402;
	if (strstr(v, u) == NULL || strstr(v, "urn:upnp-org:serviceId:WANIPConn1") == NULL)
		return 402;
	return 0;
}

/* DefaultConnectionService is evented. */
static const struct igd_var l3f_vars[] = {
	{ "DefaultConnectionService", 1, true, default_service, NULL },
};

static const struct igd_action l3f_actions[] = {
	{ "GetDefaultConnectionService", 1, a_get_default_connection_service, false, NULL },
	{ "SetDefaultConnectionService", 1, a_set_default_connection_service, false, NULL },
};

const struct igd_service igd_svc_l3f = {
	SVC_L3F, l3f_actions, ARRAY_SIZE(l3f_actions), l3f_vars, ARRAY_SIZE(l3f_vars),
};
