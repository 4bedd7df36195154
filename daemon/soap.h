/* soap.h - SOAP 1.1 as UPnP control uses it: the envelope parser (pure,
 * fuzzed) and the writer of responses and faults.  It knows no action;
 * igd.c owns the control URLs. */
#ifndef IGDD_SOAP_H
#define IGDD_SOAP_H

#include <stdbool.h>
#include <stddef.h>

struct desc_buf;

#define SOAP_NAME_MAX	64
#define SOAP_VALUE_MAX	512
#define SOAP_MAX_ARGS	24
#define SOAP_MAX_DEPTH	16	/* element nesting, whole document */

struct soap_arg {
	char name[SOAP_NAME_MAX];
	char value[SOAP_VALUE_MAX];	/* entities and CDATA decoded, NUL-terminated */
	bool truncated;			/* longer than value: cut (at a UTF-8 boundary) */
};

struct soap_envelope {
	char action[SOAP_NAME_MAX];	/* local name of the Body's first element */
	char ns[256];			/* its namespace URI, if declared */
	struct soap_arg args[SOAP_MAX_ARGS];
	unsigned n_args;
};

#define SOAP_E_ACTION	(-1)	/* no action element found: 401 */
#define SOAP_E_ARGS	(-2)	/* malformed arguments: 402 */
/* Parse a SOAP envelope: any namespace prefix, any case of Envelope/Body,
 * comments, PIs, CDATA, the five XML entities and &#NN; / &#xNN;.  No DTD;
 * end tags must match their start tags.  A value longer than
 * SOAP_VALUE_MAX - 1 bytes is cut and marked truncated.
 * Returns 0, SOAP_E_ACTION or SOAP_E_ARGS. */
int soap_parse_envelope(const char *buf, size_t len, struct soap_envelope *env);
/* Value of argument name, or NULL when absent. */
const char *soap_arg(const struct soap_envelope *env, const char *name);

struct soap_action_hdr {
	char type[SOAP_NAME_MAX];	/* "WANIPConnection" */
	unsigned version;
	char action[SOAP_NAME_MAX];	/* may be empty (no '#') */
	bool control;			/* UDA 1.0's "urn:schemas-upnp-org:control-1-0#Act"
					 * (QueryStateVariable): no type, no version */
};
#define SOAP_CONTROL_NS	"urn:schemas-upnp-org:control-1-0"
/* Parse a SOAPACTION header value: "urn:schemas-upnp-org:service:T:V#Act"
 * or "urn:schemas-upnp-org:control-1-0#Act", quoted with " or ', or not.
 * 0 / -1. */
int soap_parse_action(const char *v, size_t len, struct soap_action_hdr *out);

/* A response envelope in two halves, the arguments (XML) appended between
 * them: up to <u:ACTIONResponse> in the namespace of service type:ver,
 * then from </u:ACTIONResponse>.  Or a whole UPnPError fault. */
void soap_write_response_head(struct desc_buf *b, const char *action, const char *type,
			      unsigned ver);
void soap_write_response_tail(struct desc_buf *b, const char *action);
/* The head in namespace ns (SOAP_CONTROL_NS for QueryStateVariable). */
void soap_write_response_head_ns(struct desc_buf *b, const char *action, const char *ns);
void soap_write_fault(struct desc_buf *b, int code, const char *desc);

#endif
