#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# t_natpmp.sh - NAT-PMP (RFC 6886) on the lab gateway with the real natpmpc:
# the external address, TCP and UDP mappings that carry traffic from the
# outside host, deletion, expiry on time (store and kernel), announcements
# at start, raw malformed/unsupported datagrams, nothing answered to the WAN
# side, and the shared store with UPnP.
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" <<CONF
min_lifetime=2
max_lifetime=86400
secure_mode=yes
CONF

# Announcements (RFC 6886 §3.2.1): listen in c1 before igdd starts.
c1 "$PMPQ" listen "$C1" 5 >"$LAB_DIR/announce.out" 2>&1 &
ANN_PID=$!
LAB_PIDS="$LAB_PIDS $ANN_PID"
wait_listening "$LAB_DIR/announce.out" $ANN_PID
check "igdd starts with NAT-PMP enabled" lab_start_igdd "$LAB_DIR/igdd.conf" -v
wait "$ANN_PID"
# 198.51.100.1 = c6336401; 0080 0000 = version 0, op 128, result 0.
check "NAT-PMP external-address announcement seen on 224.0.0.1:5350 in the LAN" \
	grep -Eq "^$GW_LAN 00800000[0-9a-f]{8}c6336401$" "$LAB_DIR/announce.out"
check "PCP unsolicited ANNOUNCE seen on 224.0.0.1:5350 in the LAN" \
	grep -Eq "^$GW_LAN 0280000000000000[0-9a-f]{8}0{24}$" "$LAB_DIR/announce.out"
check "announcements repeat (several within 3 s)" \
	test "$(grep -c "^$GW_LAN 0080" "$LAB_DIR/announce.out")" -ge 3

# natpmpc: the external address.
c1 natpmpc -g "$GW_LAN" >"$LAB_DIR/n0.out" 2>&1
check "natpmpc -g shows the external address" grep -q "Public IP address : $GW_WAN" "$LAB_DIR/n0.out"

# A TCP mapping carries traffic; so does a UDP one.
lab_listen c1 tcp 9000 TOKTCP
lab_listen c1 udp 9001 TOKUDP
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >"$LAB_DIR/n1.out" 2>&1
check "natpmpc maps TCP 8000 -> 9000" grep -q "Mapped public port 8000 protocol TCP to local port 9000" "$LAB_DIR/n1.out"
check "TCP traffic from outside reaches c1 through 8000" reach tcp 8000 TOKTCP
c1 natpmpc -g "$GW_LAN" -a 8001 9001 udp 3600 >"$LAB_DIR/n2.out" 2>&1
check "natpmpc maps UDP 8001 -> 9001" grep -q "Mapped public port 8001 protocol UDP to local port 9001" "$LAB_DIR/n2.out"
check "UDP traffic from outside reaches c1 through 8001" reach udp 8001 TOKUDP
check "the kernel holds the mapping (nft ruleset names 8000)" sh -c "ip netns exec $NS_GW nft list ruleset | grep -q 8000"

# A refresh with another suggestion keeps the port.
c1 natpmpc -g "$GW_LAN" -a 8500 9000 tcp 3600 >"$LAB_DIR/n3.out" 2>&1
check "a refresh of the same internal port keeps external port 8000" \
	grep -q "Mapped public port 8000 protocol TCP to local port 9000" "$LAB_DIR/n3.out"

# Lifetime 0 deletes: traffic stops.
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 0 >"$LAB_DIR/n4.out" 2>&1
check "natpmpc lifetime 0 is answered" grep -qi "lifetime 0\|liftime 0" "$LAB_DIR/n4.out"
check_not "after deletion TCP 8000 no longer reaches c1" reach tcp 8000 TOKTCP
check_not "after deletion the ruleset no longer names 8000" sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8000"

# A short lifetime (min_lifetime=2) expires on time, in the store and the kernel.
lab_listen c1 tcp 9002 TOKEXP
c1 natpmpc -g "$GW_LAN" -a 8002 9002 tcp 3 >"$LAB_DIR/n5.out" 2>&1
check "a 3 s mapping is granted 3 s" grep -q "Mapped public port 8002 protocol TCP to local port 9002 lifetime 3\|liftime 3" "$LAB_DIR/n5.out"
check "the 3 s mapping carries traffic at first" reach tcp 8002 TOKEXP
check "after its 3 s the kernel no longer holds 8002" \
	wait_for 15 not sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8002"
check_not "... and the expired mapping carries no traffic" reach tcp 8002 TOKEXP
# Gone from the store too: another client now gets 8002 itself.
c2 natpmpc -g "$GW_LAN" -a 8002 9002 tcp 60 >"$LAB_DIR/n5b.out" 2>&1
check "after expiry the store gives 8002 to another client" \
	grep -q "Mapped public port 8002 protocol TCP to local port 9002" "$LAB_DIR/n5b.out"

# Delete-all: internal port 0, lifetime 0.
c1 natpmpc -g "$GW_LAN" -a 8003 9003 udp 3600 >/dev/null 2>&1
c1 natpmpc -g "$GW_LAN" -a 0 0 udp 0 >"$LAB_DIR/n6.out" 2>&1
check_not "private port 0 lifetime 0 removes all of c1's UDP mappings" \
	sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8003"
check_not "... including UDP 8001" reach udp 8001 TOKUDP

# Raw datagrams.
q() { c1 "$PMPQ" send "$GW_LAN" "$@"; }
check "unsupported opcode 3: the request back, op 131, result 5" \
	sh -c "ip netns exec $NS_C1 $PMPQ send $GW_LAN 0003000011112222000000ff | grep -Eq '^00830005111122220000'"
check "version 1 is answered as PCP UNSUPP_VERSION carrying version 2" \
	sh -c "ip netns exec $NS_C1 $PMPQ send $GW_LAN 0100 | grep -Eq '^02800001'"
check_not "a 1-byte datagram is dropped" q 00 800
check_not "a short map request (8 bytes) is dropped" q 0002000023282328 800
check_not "a response (opcode 128) is ignored" q 0080 800
check "the server still answers after the malformed ones" q 0000

# Nothing is answered to the WAN side, on either address.
check_not "NAT-PMP from outside to the WAN address: no answer" out "$PMPQ" send "$GW_WAN" 0000 1000
out ip route add "$LAB_LAN.0/24" via "$GW_WAN"
check_not "NAT-PMP from outside to the LAN address (routed via WAN): no answer" \
	out "$PMPQ" send "$GW_LAN" 0000 1000
out ip route del "$LAB_LAN.0/24" via "$GW_WAN"

# The same store as UPnP.  upnpc is pointed at the description URL: by
# discovery, miniupnpc refuses an IGD whose external address is reserved,
# as the lab's TEST-NET is (the UPnP tests set ext_ip instead; here the
# announcements above check the real WAN address).
UPNP_BASE=$(lab_upnp_base)
UPNPC="upnpc -u $UPNP_BASE/rootDesc.xml"
c1 natpmpc -g "$GW_LAN" -a 8010 9010 tcp 3600 >/dev/null 2>&1
c1 timeout 8 $UPNPC -l >"$LAB_DIR/u1.out" 2>&1
check "a NAT-PMP mapping shows up in upnpc -l" grep -q "8010->$C1:9010" "$LAB_DIR/u1.out"
c2 timeout 8 $UPNPC -e "upnp7000" -a "$C2" 9100 7000 TCP >"$LAB_DIR/u2.out" 2>&1
check "c2 maps TCP 7000 through UPnP" grep -q "7000 TCP is redirected to internal $C2:9100" "$LAB_DIR/u2.out"
c1 natpmpc -g "$GW_LAN" -a 7000 9101 tcp 3600 >"$LAB_DIR/u3.out" 2>&1
check "c2's UPnP mapping on 7000 pushes c1's NAT-PMP request to another port" \
	sh -c "grep -q 'Mapped public port' $LAB_DIR/u3.out && ! grep -q 'Mapped public port 7000 ' $LAB_DIR/u3.out"

check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
