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
# cgn_count: the CGN's mappings (igddctl list --json), TCP unless $1
cgn_count() { "$IGDDCTL" -s "$LAB_DIR/cgn.sock" list --json 2>/dev/null | grep -o "\"protocol\":\"${1:-tcp}\"" | wc -l; }
cgn_none() { [ "$(cgn_count)" = 0 ]; }
check "the CGN holds 1 mapping" test "$(cgn_count)" = 1
# A second local mapping of the same port (UPnP, for one remote host) would
# share the upstream's one: refused as a conflict, nothing left pending.
_r=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost="$OUT" NewExternalPort=8000 \
	NewProtocol=TCP NewInternalPort=9001 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription=second NewLeaseDuration=3600)
check "UPnP AddPortMapping of TCP 8000 for one remote host, beside the relayed one: 718" \
	test "$(upnp_error "$_r")" = 718
check "... the CPE holds one TCP 8000" \
	test "$(ctl list --json | grep -o '"protocol":"tcp","external_port":8000,' | wc -l)" = 1

# A PCP client on c1 that keeps listening on its port (socat): MAP UDP
# 9300 -> 8300 through the relay (header: version 2, MAP, lifetime 3600,
# client ::ffff:C1; nonce, UDP, internal 9300 = 2454, suggested external
# 8300 = 206c).  The CGN's UDP 8300 is taken (a manual forward there), so
# the upstream's port is another than the CPE's.  The reload below removes
# it: the notice (NOT_AUTHORIZED, RFC 6887 8.3) names what its SUCCESS
# named, the upstream's port, not the CPE's own.
NONCE=1a1b1c1d1e1f202122232425
PCPCL=
if pcp_listener_can; then
	check "the CGN's UDP 8300 is taken (igddctl add there)" \
		"$IGDDCTL" -s "$LAB_DIR/cgn.sock" add udp 8300 100.64.7.99 8300 taken
	pcp_listener c1 "$C1" "$NONCE" 2454 206c "$LAB_DIR/pcp1.bin"
fi
# pcp_tails R: the external port and address of each MAP response with
# result R for UDP 9300 (36 hex digits)
pcp_tails() { pcp_hex "$LAB_DIR/pcp1.bin" | sed -n "s/^0281000$1.\{40\}${NONCE}110000002454//p"; }
pcp_ge() { [ "$(pcp_tails "$1" | wc -l)" -ge "$2" ]; }
cgn_hex=$(printf '%02x%02x%02x%02x' $(echo "$CGN_OUT" | tr . ' '))
if [ -n "$PCPCL" ]; then
	check "c1 maps UDP 8300 through the relay (PCP, from port 41000)" wait_for 8 pcp_ge 0 1
	SUCC=$(pcp_tails 0 | head -1)
	succ_upstream() {
		[ "${SUCC#????}" = "00000000000000000000ffff$cgn_hex" ] && [ "${SUCC%"${SUCC#????}"}" != 206c ]
	}
	check "... its SUCCESS names the CGN's address $CGN_OUT and another port than 8300" succ_upstream
	check "... the CPE's own mapping is UDP 8300" ctl_has udp 8300
	"$IGDDCTL" -s "$LAB_DIR/cgn.sock" del udp 8300 >/dev/null 2>&1
fi

# The CGN's answers held back; c1 asks for TCP 8200 -> 9200.
cgn nft -f - <<'NFT'
table ip hold {
	chain in {
		type filter hook input priority -10;
		udp dport 5351 @th,72,8 1 counter drop
		udp dport 5351 drop
	}
}
NFT
log_mark
# one NAT-PMP request (no retry), TCP 9200 -> 8200, its answer awaited 8 s
_t0=$(ms_now)
c1 "$PMPQ" send "$GW_LAN" 0002000023f0200800000e10 8000 >"$LAB_DIR/n2.out" 2>&1 &
N2=$!
LAB_PIDS="$LAB_PIDS $N2"
check "the CPE relays the request as a PCP MAP (the CGN does not answer yet)" \
	wait_for 5 sh -c "ip netns exec $NS_CGN nft list table ip hold | grep -q 'packets [1-9]'"
conf <<EOF2
deny 0-65535 $C1/32 0-65535
EOF2
ctl reload >"$LAB_DIR/r.out" 2>&1
check "igddctl reload with a deny rule for c1 succeeds while the request waits" \
	grep -q "^allow/deny: applied" "$LAB_DIR/r.out"
cgn nft delete table ip hold
_held=$(( $(ms_now) - _t0 ))
check "the reload removed c1's relayed mapping (TCP 8000)" cpe_lacks 8000
# the CPE's first retransmission comes 3 s after its request, and it
# waits 4 s in all: a hold longer than 2.5 s could end in no answer
if [ "$_held" -le 2500 ]; then
	check "the CGN's answer comes, and the CPE refuses the waiting mapping: the rules changed" \
		cpe_log_wait 10 "TCP 8200 refused at the upstream.s answer: denied by permission rules"
	wait "$N2"
	check "the client hears NAT-PMP result 2 (not authorized) for it" grep -q '^00820002' "$LAB_DIR/n2.out"
	check "the mapping log says the rules refused it" \
		grep -q "mapping refused: NAT-PMP TCP [0-9.]*:8200 -> $C1:9200, .*denied by permission rules" \
		"$LAB_DIR/igdd.log"
	ctl stats >"$LAB_DIR/stats.out" 2>&1
	check "igddctl stats counts it as denied here, not as refused by the upstream" \
		sh -c "grep -qx 'upstream.denied: 1' '$LAB_DIR/stats.out' && grep -qx 'upstream.refused: 0' '$LAB_DIR/stats.out'"
else
	skip "the CGN's answers were held $_held ms (more than 2.5 s): the relay may have given up"
	wait "$N2"
fi
check "the CPE holds no TCP 8200" cpe_lacks 8200
if [ -n "$PCPCL" ]; then
	check "PCP: c1's client hears NOT_AUTHORIZED for UDP 8300, 3 times" wait_for 5 pcp_ge 2 3
	check "... each naming the upstream's port and address, as its SUCCESS did" \
		test "$(pcp_tails 2 | sort -u)" = "$SUCC"
	kill "$PCPCL" 2>/dev/null
else
	skip "PCP removal notices through the relay: needs socat and xxd"
fi
check "what the CGN made for it is deleted there, and 8000's too" wait_for 10 cgn_none
cgn_udp_none() { [ "$(cgn_count udp)" = 0 ]; }
[ -z "$PCPCL" ] || check "... and UDP 8300's" wait_for 10 cgn_udp_none
check "the CPE's igdd stops with status 0" lab_stop_igdd
lab_finish
