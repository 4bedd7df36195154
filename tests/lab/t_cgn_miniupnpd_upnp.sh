#!/bin/sh
# t_cgn_miniupnpd_upnp.sh - behind a CGN running Debian's miniupnpd, mappings
# relayed with upnp (lib_cgn.sh, cgn_scenario): LAN client - CPE igdd - CGN -
# outside host.
. "$(dirname "$0")/lib_cgn.sh"
cgn_scenario miniupnpd upnp 606
