/* fuzz_soap.c - libFuzzer harness for the SOAP envelope parser and the
 * SOAPACTION header parser; the first line of the input is the header. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soap_envelope env;
	struct soap_action_hdr ah;
	const char *buf = (const char *)data;
	const char *nl = memchr(buf, '\n', size);
	size_t hl = nl ? (size_t)(nl - buf) : 0;
	unsigned i;

	soap_parse_action(buf, hl, &ah);
	if (soap_parse_envelope(nl ? nl + 1 : buf, nl ? size - hl - 1 : size, &env) == 0) {
		/* every output is a NUL-terminated string */
		if (strlen(env.action) >= sizeof(env.action))
			__builtin_trap();
		for (i = 0; i < env.n_args; i++)
			if (strlen(env.args[i].value) >= sizeof(env.args[i].value))
				__builtin_trap();
		soap_arg(&env, "NewExternalPort");
	}
	return 0;
}
