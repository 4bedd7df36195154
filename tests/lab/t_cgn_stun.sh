#!/bin/sh
# t_cgn_stun.sh - STUN (ext_perform_stun) behind a plain NAT44: a real
# STUN server (Debian's coturn, in the outside namespace only, with two
# addresses for RFC 5780's filtering test) tells the CPE the CGN's outside
# address, which igdd reports to its LAN; the NAT's filtering is found and,
# with ext_perform_stun=yes, said plainly (mappings refused, UPnP
# Disconnected); an unreachable STUN server is retried as RFC 8489 says
# while UPnP and NAT-PMP answers go on without waiting for it.
. "$(dirname "$0")/lib_cgn.sh"
cgn_up || { fail "the four-namespace lab comes up"; lab_finish; }
STUN2=5.6.7.3
out ip addr add "$STUN2/24" dev eth0
stun_server "$OUT" "$STUN2"

# cpe_stun MODE HOST: (re)start the CPE with STUN on.
cpe_stun() {
	lab_stop_igdd
	cpe_conf "$LAB_DIR/igdd.conf" none <<EOF
ext_perform_stun=$1
ext_stun_host=$2
ext_stun_interval=0
EOF
	: >>"$LAB_DIR/igdd.log"
	log_mark
	lab_start_igdd "$LAB_DIR/igdd.conf" -v
}

check "the CPE starts with ext_perform_stun=allow-filtered" cpe_stun allow-filtered "$OUT"
check "STUN learns the CGN's outside address $CGN_OUT" cpe_log_wait 10 "STUN: external address $CGN_OUT"
check "... and that the NAT44 above filters by address and port (RFC 5780, OTHER-ADDRESS)" \
	cpe_log_wait 10 "address and port dependent filtering"
check "igddctl status: STUN's address, its server and the attribute it came in" \
	eval 'status_is stun.external_address $CGN_OUT && status_is stun.server $OUT &&
		status_is stun.learnt_from XOR-MAPPED-ADDRESS && status_is external.source stun'

# RFC 5780's other verdicts: the CGN is made to let in what the STUN
# server sends from its other address and port (endpoint-independent
# filtering), then only from its other port (address-dependent).
cgn nft -f - <<EOF
table ip labeif {
	chain pre { type nat hook prerouting priority -100;
		ip saddr { $OUT, $STUN2 } ip daddr $CGN_OUT udp sport { 3478, 3479 } dnat to $CPE_WAN; }
}
EOF
log_mark
kill -USR1 "$IGDD_PID"
check "a NAT that lets the other address and port in: endpoint-independent filtering" \
	cpe_log_wait 10 "endpoint-independent filtering above"
cgn nft flush chain ip labeif pre
cgn nft add rule ip labeif pre ip saddr "$OUT" ip daddr "$CGN_OUT" udp sport 3479 dnat to "$CPE_WAN"
log_mark
kill -USR1 "$IGDD_PID"
check "one that lets only the other port in: address-dependent filtering" \
	cpe_log_wait 12 "address-dependent filtering above"
check "... as igddctl status says" status_is stun.filtering "address-dependent filtering"
cgn nft delete table ip labeif
c1 natpmpc -g "$GW_LAN" >"$LAB_DIR/n0.out" 2>&1
check "NAT-PMP reports the address STUN saw" grep -q "Public IP address : $CGN_OUT" "$LAB_DIR/n0.out"
UPNP_BASE=$(lab_upnp_base)
check "UPnP GetExternalIPAddress reports it too" sh -c "$(printf '%s' "ip netns exec $NS_C1 $SOAPC $UPNP_BASE/ctl/IPConn $URN_IPC2 GetExternalIPAddress") | grep -q '<NewExternalIPAddress>$CGN_OUT<'"
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >"$LAB_DIR/n1.out" 2>&1
check "allow-filtered: mappings are made anyway" grep -q "Mapped public port 8000" "$LAB_DIR/n1.out"
log_mark
kill -USR1 "$IGDD_PID"
check "SIGUSR1 runs STUN again" cpe_log_wait 15 "STUN: external address $CGN_OUT"

check "the CPE restarts with ext_perform_stun=yes" cpe_stun yes "$OUT"
check "filtering NAT, yes: the log says mappings cannot be reached from outside" \
	cpe_log_wait 15 "mappings cannot be reached from outside"
UPNP_BASE=$(lab_upnp_base)
c1 natpmpc -g "$GW_LAN" -a 8001 9000 tcp 3600 >"$LAB_DIR/n2.out" 2>&1
check "NAT-PMP answers network failure (result 3) instead of a mapping" \
	sh -c "! grep -q 'Mapped public port' '$LAB_DIR/n2.out' && grep -qi 'network failure\|returned -53\|NETWORKFAILURE\|NETWORK_FAILURE' '$LAB_DIR/n2.out'"
_r=$(soap c1 /ctl/IPConn "$URN_IPC2" GetStatusInfo)
check "UPnP GetStatusInfo says Disconnected" sh -c "printf '%s' '$_r' | grep -q '<NewConnectionStatus>Disconnected<'"
_r=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8002 \
	NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription=x NewLeaseDuration=0)
check "UPnP AddPortMapping is refused (501)" test "$(upnp_error "$_r")" = 501

# A STUN server that never answers: RFC 8489's retransmissions (0, 0.5,
# 1.5, 3.5 s, ...) while every LAN answer comes at once.
cgn nft -f - <<EOF
table ip labcount {
	chain count { type filter hook forward priority -10; ip daddr 5.6.7.9 udp dport 3478 counter; }
}
EOF
check "the CPE restarts with an unreachable STUN server" cpe_stun yes 5.6.7.9
UPNP_BASE=$(lab_upnp_base)
_slow=0
for i in 1 2 3 4 5 6; do
	_t0=$(ms_now)
	c1 natpmpc -g "$GW_LAN" >"$LAB_DIR/n3.out" 2>&1
	_pmp=$(( $(ms_now) - _t0 ))
	_soap=$(soap_us c1 "$UPNP_BASE/ctl/IPConn" "$URN_IPC2" GetExternalIPAddress | cut -d' ' -f1)
	echo "TIMING lab/$LAB_TEST: during STUN retries: natpmpc -g ${_pmp} ms (with process start), GetExternalIPAddress ${_soap:-?} us"
	[ "$_pmp" -lt 1000 ] && [ "${_soap:-9999999}" -lt 1000000 ] || _slow=1
	sleep 0.5
done
check "UPnP and NAT-PMP answers during the STUN retries each take < 1 s" test "$_slow" = 0
check "NAT-PMP still answers with an address meanwhile" grep -q "Public IP address" "$LAB_DIR/n3.out"
_n=$(cgn nft list table ip labcount | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "the STUN request is retransmitted (${_n:-0} sent in about 4.5 s, RFC 8489: 4 by 3.5 s)" \
	test "${_n:-0}" -ge 4
check "igdd still runs" kill -0 "$IGDD_PID"
check "igdd stops with status 0" lab_stop_igdd
lab_finish
