#!/bin/sh
# t_cgn_reload.sh - a reload that denies a client while its new mapping
# waits for the upstream gateway's answer (the CPE's igdd relays to the
# CGN's igdd with PCP): the reservation is checked against the rules in
# force when the answer comes, and refused as the reload would have
# removed it: the client hears NOT_AUTHORIZED (NAT-PMP result 2), the CPE
# holds nothing, and what the CGN made is deleted there.  The CGN's
# answers are held back (its PCP port dropped) while the reload runs.
. "$(dirname "$0")/lib_cgn.sh"
cgn_up || { fail "the four-namespace lab comes up"; lab_finish; }
command -v natpmpc >/dev/null 2>&1 || { skip "natpmpc not installed"; lab_finish; }
check "the CGN starts igdd as its PCP server" cgn_start_igdd <<EOF2
allow 1024-65535 100.64.7.0/24 1024-65535
EOF2
conf() {	# conf [extra permission lines on stdin]
	cpe_conf "$LAB_DIR/igdd.conf" pcp <<EOF2
$(cat)
allow 1024-65535 $LAB_LAN.0/24 1024-65535
EOF2
}
conf </dev/null
: >>"$LAB_DIR/igdd.log"
log_mark
check "the CPE's igdd starts with upstream_protocol=pcp" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "the CPE learns the CGN's external address $CGN_OUT" cpe_log_wait 15 "external address $CGN_OUT"
UPNP_BASE=$(lab_upnp_base)
lab_listen c1 tcp 9000 TOKTCP
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >"$LAB_DIR/n1.out" 2>&1
P1=$(sed -n 's/.*Mapped public port \([0-9]*\) protocol TCP .*/\1/p' "$LAB_DIR/n1.out" | head -1)
check "natpmpc gets a TCP mapping through the relay (public port ${P1:-none})" test -n "$P1"
# cgn_count: the CGN's TCP mappings (igddctl list --json)
cgn_count() { "$IGDDCTL" -s "$LAB_DIR/cgn.sock" list --json 2>/dev/null | grep -o '"protocol":"tcp"' | wc -l; }
cgn_none() { [ "$(cgn_count)" = 0 ]; }
check "the CGN holds 1 mapping" test "$(cgn_count)" = 1

# The CGN's answers held back; c1 asks for TCP 8200 -> 9200.
cgn nft -f - <<'NFT'
table ip hold {
	chain in {
		type filter hook input priority -10;
		udp dport 5351 counter drop
	}
}
NFT
log_mark
c1 natpmpc -g "$GW_LAN" -a 8200 9200 tcp 3600 >"$LAB_DIR/n2.out" 2>&1 &
N2=$!
LAB_PIDS="$LAB_PIDS $N2"
check "the CPE relays the request (the CGN does not answer yet)" \
	wait_for 5 sh -c "ip netns exec $NS_CGN nft list table ip hold | grep -q 'packets [1-9]'"
conf <<EOF2
deny 0-65535 $C1/32 0-65535
EOF2
ctl reload >"$LAB_DIR/r.out" 2>&1
check "igddctl reload with a deny rule for c1 succeeds while the request waits" \
	grep -q "^allow/deny: applied" "$LAB_DIR/r.out"
cgn nft delete table ip hold
check "the reload removed c1's relayed mapping (TCP 8000)" cpe_lacks 8000
check "the CGN's answer comes, and the CPE refuses the waiting mapping: the rules changed" \
	cpe_log_wait 10 "TCP 8200 refused: the rules changed while the upstream answered"
wait "$N2"
check "natpmpc is refused (no mapping)" sh -c "! grep -q 'Mapped public port' '$LAB_DIR/n2.out'"
check "the CPE holds no TCP 8200" cpe_lacks 8200
check "what the CGN made for it is deleted there, and 8000's too" wait_for 10 cgn_none
check "the CPE's igdd stops with status 0" lab_stop_igdd
lab_finish
