#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_cgn_igdd_upnp.sh - behind a CGN running igdd, mappings relayed with upnp
# (lib_cgn.sh, cgn_scenario): LAN client - CPE igdd - CGN - outside host.
. "$(dirname "$0")/lib_cgn.sh"
cgn_scenario igdd upnp 606
