#!/bin/sh
# full-only: make check-full (the quick CI subset covers the same code)
# t_cgn_miniupnpd_natpmp.sh - behind a CGN running Debian's miniupnpd, mappings
# relayed with natpmp (lib_cgn.sh, cgn_scenario): LAN client - CPE igdd - CGN -
# outside host.
. "$(dirname "$0")/lib_cgn.sh"
cgn_scenario miniupnpd natpmp 729
