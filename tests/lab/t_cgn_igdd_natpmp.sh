#!/bin/sh
# t_cgn_igdd_natpmp.sh - behind a CGN running igdd, mappings relayed with natpmp
# (lib_cgn.sh, cgn_scenario): LAN client - CPE igdd - CGN - outside host.
. "$(dirname "$0")/lib_cgn.sh"
cgn_scenario igdd natpmp 729
