#!/bin/sh
# t_pcp_peer.sh - PCP PEER (RFC 6887 section 12) for IPv4 and IPv6: the
# outbound flow of an internal endpoint to a remote peer is made in
# conntrack (IPv4 with its source NAT to the external address and the
# suggested port) or found there; the peer sees the reported external
# address and port, its answers come back; over IPv6 (no NAT) the peer's
# answers get through the firewall once the flow exists, not before; a
# second PEER finds the same flow; secure mode keeps a host to its own
# flows; nothing is answered on the WAN side.
# also-san: run again against igdd-san (policy over IPv6)
. "$(dirname "$0")/lib.sh"
lab_up
check "IPv6 on every link" lab_ipv6
lab_conf "$LAB_DIR/igdd.conf" <<CONF
ipv6_block_inbound=yes
min_lifetime=120
CONF
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf" -v
field() { pcp_field "$LAB_DIR/$1" "$2"; }
is() { [ "$(field "$1" "$2")" = "$3" ]; }
pcp() { _o=$1; _ns=$2; shift 2; ip netns exec "$_ns" "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }

# IPv4: the outside host prints the source it sees.
printf '#!/bin/sh\necho "$SOCAT_PEERADDR $SOCAT_PEERPORT"\n' >"$LAB_DIR/seen.sh"
chmod +x "$LAB_DIR/seen.sh"
out timeout 30 socat UDP4-RECVFROM:80,fork "EXEC:$LAB_DIR/seen.sh" >/dev/null 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
wait_bound out udp 80
pcp p1 "$NS_C1" -n 0102030405060708090a0b0c "$GW_LAN" peer udp 9700 8700 600 "$OUT" 80
check "PEER (IPv4, UDP): SUCCESS" is p1 result 0
check "PEER: the external address" is p1 external_ip "$GW_WAN"
check "PEER: the suggested external port 8700" is p1 external_port 8700
check "PEER: the lifetime granted" is p1 lifetime 600
check "PEER: the remote peer echoed" sh -c "[ \"$(field p1 peer_ip)/$(field p1 peer_port)\" = $OUT/80 ]"
seen() {
	echo x | ip netns exec "$NS_C1" timeout 3 socat -t1 - "UDP4:$OUT:80,sourceport=9700" \
		>"$LAB_DIR/seen" 2>/dev/null
	[ "$(cat "$LAB_DIR/seen")" = "$GW_WAN 8700" ]
}
check "the peer sees the reported address and port, and its answer comes back" wait_for 6 seen
pcp p2 "$NS_C1" -n 0102030405060708090a0b0c "$GW_LAN" peer udp 9700 9999 1200 "$OUT" 80
check "a second PEER finds the same flow (port 8700, not the new suggestion)" \
	sh -c "[ \"$(field p2 result)/$(field p2 external_port)/$(field p2 lifetime)\" = 0/8700/1200 ]"
pcp p3 "$NS_C2" "$GW_LAN" peer udp 9700 0 600 "$OUT" 80 --third-party "$C1"
check "another host cannot ask for c1's flow: NOT_AUTHORIZED" is p3 result 2
pcp p4 "$NS_C1" "$GW_LAN" peer udp 0 0 600 "$OUT" 80
check "internal port 0: MALFORMED_REQUEST" is p4 result 3

# IPv6: no translation; the flow lets the peer's answers in.
c1 sh -c "timeout 20 socat -u UDP6-RECVFROM:9701,reuseaddr,fork OPEN:$LAB_DIR/got6,creat,append" >/dev/null 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
wait_bound c1 udp 9701
echo before | out timeout 2 socat -t1 - "UDP6:[$C1_6]:9701,sourceport=81" >/dev/null 2>&1
sleep 0.5
check_not "before: the peer's datagram is dropped (ipv6_block_inbound)" grep -q before "$LAB_DIR/got6"
pcp q1 "$NS_C1" "$GW6_LAN" peer udp 9701 0 600 "$OUT6" 81
check "PEER over IPv6: SUCCESS" is q1 result 0
check "PEER over IPv6: the external side is c1's own address and port" \
	sh -c "[ \"$(field q1 external_ip)/$(field q1 external_port)\" = $C1_6/9701 ]"
echo after | out timeout 2 socat -t1 - "UDP6:[$C1_6]:9701,sourceport=81" >/dev/null 2>&1
check "after: the peer's datagram reaches c1" wait_for 10 grep -q after "$LAB_DIR/got6"
pcp q2 "$NS_C1" "$GW6_LAN" peer udp 9701 0 600 "$OUT" 81
check "a peer of the other family: MALFORMED_REQUEST" is q2 result 3

# Nothing answered on the WAN side.
ip netns exec "$NS_OUT" "$PCPC" -t 1500 "$GW_WAN" peer udp 9700 0 600 "$OUT" 80 >"$LAB_DIR/w1" 2>&1
check "no PEER answer to the WAN" grep -q timeout "$LAB_DIR/w1"
check "igdd stops cleanly" lab_stop_igdd
lab_finish
