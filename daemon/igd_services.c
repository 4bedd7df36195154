/* igd_services.c - the IGD services, by desc_svc: each brings its own
 * action table and evented variables from its own file. */
#include "igd.h"

const struct igd_service *const igd_services[SVC_COUNT] = {
	[SVC_L3F] = &igd_svc_l3f,
	[SVC_WANCFG] = &igd_svc_wancfg,
	[SVC_WANIPC] = &igd_svc_wanipc,
	[SVC_WANIP6FC] = &igd_svc_wanip6fc,
};
