#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_cgn_igdd_pcp.sh - behind a CGN running igdd, mappings relayed with pcp
# (lib_cgn.sh, cgn_scenario): LAN client - CPE igdd - CGN - outside host.
. "$(dirname "$0")/lib_cgn.sh"
cgn_scenario igdd pcp 606
