#!/bin/sh
# full-only: make check-full (the quick CI subset covers the same code)
# t_cgn_renew.sh - an upstream that grants short lifetimes (here 4 s, its
# max_lifetime) has the relayed mapping renewed at half of each, for as
# long as the local lease lives (a permanent UPnP one here): traffic goes
# on well past the first upstream lifetime, and stops upstream once the
# mapping is deleted.
. "$(dirname "$0")/lib_cgn.sh"
cgn_up || { fail "the four-namespace lab comes up"; lab_finish; }
check "the CGN runs igdd, granting at most 4 s" cgn_start_igdd <<EOF
min_lifetime=2
max_lifetime=4
EOF
cpe_conf "$LAB_DIR/igdd.conf" pcp </dev/null
: >>"$LAB_DIR/igdd.log"
log_mark
check "the CPE starts with upstream_protocol=pcp" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "the CPE learns the CGN's address" cpe_log_wait 10 "external address $CGN_OUT"
lab_listen c1 tcp 9000 TOKTCP
UPNP_BASE=$(lab_upnp_base)
c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -e renewed -a "$C1" 9000 8020 TCP 0 >"$LAB_DIR/u1.out" 2>&1
check "a permanent UPnP mapping (lease 0) is made through the CGN" reach_cgn tcp 8020 TOKTCP
sleep 9
check "9 s later (past two upstream lifetimes) it still carries traffic" reach_cgn tcp 8020 TOKTCP
check "... the CGN still maps it" cgn_maps tcp 8020
c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -d 8020 TCP >/dev/null 2>&1
check "deleted: the CGN no longer maps it" wait_for 10 cgn_maps_gone tcp 8020
check "the CPE's igdd stops with status 0" lab_stop_igdd
check "... having renewed upstream several times" \
	grep -Eq '[0-9]+ without answer, ([3-9]|[1-9][0-9]+) renewed' "$LAB_DIR/igdd.log"
lab_finish
