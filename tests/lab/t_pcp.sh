#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# t_pcp.sh - PCP (RFC 6887) on the lab gateway with tests/tools/pcpc: MAP
# create/refresh/delete with traffic, nonce ownership, PREFER_FAILURE,
# FILTER (only the named peer gets through), THIRD_PARTY refused by
# default, ANNOUNCE, ADDRESS_MISMATCH, PEER, and nothing answered to the WAN.
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" <<CONF
min_lifetime=120
max_lifetime=86400
CONF
check "igdd starts with PCP enabled" lab_start_igdd "$LAB_DIR/igdd.conf" -v

N1=0102030405060708090a0b0c
N2=ffeeddccbbaa998877665544
pcp() { _o=$1; shift; ip netns exec "$NS_C1" "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
pcp2() { _o=$1; shift; ip netns exec "$NS_C2" "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
field() { pcp_field "$LAB_DIR/$1" "$2"; }
is() { [ "$(field "$1" "$2")" = "$3" ]; }

# ANNOUNCE (§14.1).
pcp a0 "$GW_LAN" announce
check "ANNOUNCE: SUCCESS" is a0 result 0
check "ANNOUNCE: lifetime 0" is a0 lifetime 0
check "ANNOUNCE: an epoch of a few seconds" test "$(field a0 epoch)" -lt 60

# MAP create: traffic flows.
lab_listen c1 tcp 9000 TOKMAP
pcp m1 -n $N1 "$GW_LAN" map tcp 9000 8100 3600
check "MAP: SUCCESS" is m1 result 0
check "MAP: the suggested external port 8100" is m1 external_port 8100
check "MAP: the external address, v4-mapped on the wire" is m1 external_ip "$GW_WAN"
check "MAP: the lifetime granted" is m1 lifetime 3600
check "MAP: our nonce echoed" is m1 nonce $N1
check "MAP: TCP from outside reaches c1 through 8100" reach tcp 8100 TOKMAP

# Refresh with the same nonce keeps the port.
pcp m2 -n $N1 "$GW_LAN" map tcp 9000 8199 7200
check "refresh (same nonce): SUCCESS on the same port 8100" sh -c "[ \"$(field m2 result)/$(field m2 external_port)\" = 0/8100 ]"
# Another nonce: NOT_AUTHORIZED, for a refresh and for a delete.
pcp m3 -n $N2 "$GW_LAN" map tcp 9000 8100 3600
check "another nonce: NOT_AUTHORIZED" is m3 result 2
pcp m4 -n $N2 "$GW_LAN" map tcp 9000 8100 0
check "another nonce cannot delete: NOT_AUTHORIZED" is m4 result 2
check "the mapping survived the wrong nonce" reach tcp 8100 TOKMAP

# Delete.
pcp m5 -n $N1 "$GW_LAN" map tcp 9000 8100 0
check "delete (lifetime 0): SUCCESS" is m5 result 0
check "delete: lifetime 0" is m5 lifetime 0
check_not "after delete TCP 8100 no longer reaches c1" reach tcp 8100 TOKMAP
check_not "after delete the kernel no longer holds 8100" sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8100"

# PREFER_FAILURE: c2 holds UDP 8200; c1 wants exactly 8200.
pcp2 p0 -n $N2 "$GW_LAN" map udp 9200 8200 3600
check "c2 maps UDP 8200" sh -c "[ \"$(field p0 result)/$(field p0 external_port)\" = 0/8200 ]"
pcp p1 -n $N1 "$GW_LAN" map udp 9200 8200 3600 --prefer-failure
check "PREFER_FAILURE on a taken port: CANNOT_PROVIDE_EXTERNAL" is p1 result 11
pcp p2 -n $N1 "$GW_LAN" map udp 9200 8200 3600
check "without PREFER_FAILURE: SUCCESS on another port" \
	sh -c "[ \"$(field p2 result)\" = 0 ] && [ \"$(field p2 external_port)\" != 8200 ]"
lab_listen c1 udp 9200 TOKALT
check "the alternative port carries UDP to c1" reach udp "$(field p2 external_port)" TOKALT

# FILTER: only the named remote peer gets through.
out ip addr add "$LAB_WAN.3/24" dev eth0
lab_listen c1 tcp 9300 TOKFLT
pcp f1 -n $N1 "$GW_LAN" map tcp 9300 8300 3600 --filter "$LAB_WAN.3"
check "MAP with FILTER $LAB_WAN.3/128: SUCCESS" is f1 result 0
check "FILTER echoed in the response" grep -q "^option=3 " "$LAB_DIR/f1"
if command -v reach_from >/dev/null 2>&1; then
	check "FILTER: $LAB_WAN.3 reaches c1 through 8300" reach_from "$LAB_WAN.3" tcp 8300 TOKFLT
	check_not "FILTER: $OUT does not" reach_from "$OUT" tcp 8300 TOKFLT
else
	skip "FILTER traffic check: lib.sh has no reach_from (probe -s) in this build"
fi
pcp f2 -n $N1 "$GW_LAN" map tcp 9301 8301 3600 --filter "$LAB_WAN.0/120"
check "FILTER with a /120 prefix: UNSUPP_OPTION (one host per mapping here)" is f2 result 5

# THIRD_PARTY is refused by default.
pcp t1 -n $N1 "$GW_LAN" map tcp 9400 8400 3600 --third-party "$C2"
check "THIRD_PARTY by default: NOT_AUTHORIZED" is t1 result 2

# DESCRIPTION (RFC 7220) becomes the mapping's description.
pcp d1 -n $N1 "$GW_LAN" map udp 9500 8500 3600 --desc "pcp lab game"
check "DESCRIPTION: SUCCESS" is d1 result 0
check "DESCRIPTION stored in the lease file" grep -q "pcp lab game" "$LAB_DIR/igdd.leases"

# Header checks and opcodes.
pcp e1 -c 192.168.77.99 "$GW_LAN" map tcp 9600 8600 3600
check "a client address that is not the source: ADDRESS_MISMATCH" is e1 result 12
pcp e2 -V 1 "$GW_LAN" announce
check "version 1: UNSUPP_VERSION" is e2 result 1
check "UNSUPP_VERSION carries version 2" is e2 version 2
pcp e3 -n $N1 "$GW_LAN" peer tcp 9700 8700 3600 "$OUT" 80
check "PEER: SUCCESS, the flow made in conntrack (t_pcp_peer has the details)" is e3 result 0
check "PEER: the suggested external port" is e3 external_port 8700
pcp e4 -n $N1 "$GW_LAN" map tcp 9800 8800 3600 --opt 99
check "an unknown mandatory option: UNSUPP_OPTION" is e4 result 5
pcp e5 -n $N1 "$GW_LAN" map tcp 9800 8800 3600 --opt 200:abcd
check "an unknown optional option is ignored: SUCCESS" is e5 result 0

# Nothing is answered to the WAN side.
check_not "PCP from outside to the WAN address: no answer" \
	out "$PCPC" -t 1000 "$GW_WAN" announce
out ip route add "$LAB_LAN.0/24" via "$GW_WAN"
check_not "PCP from outside to the LAN address (routed via WAN): no answer" \
	out "$PCPC" -t 1000 "$GW_LAN" announce
out ip route del "$LAB_LAN.0/24" via "$GW_WAN"

check "igdd stops with status 0" lab_stop_igdd TERM

# With pcp_allow_thirdparty=yes (and secure mode on), c1 maps for c2.
lab_conf "$LAB_DIR/igdd3.conf" <<CONF
pcp_allow_thirdparty=yes
secure_mode=yes
CONF
check "igdd restarts with pcp_allow_thirdparty=yes" lab_start_igdd "$LAB_DIR/igdd3.conf" -v
lab_listen c2 tcp 9400 TOK3RD
pcp t2 -n $N1 "$GW_LAN" map tcp 9400 8400 3600 --third-party "$C2"
check "THIRD_PARTY allowed: SUCCESS" is t2 result 0
check "THIRD_PARTY: traffic through 8400 reaches c2" reach tcp 8400 TOK3RD
pcp t3 -n $N1 "$GW_LAN" map tcp 9401 8401 3600 --third-party "$OUT"
check "THIRD_PARTY for a host outside the LANs: NOT_AUTHORIZED" is t3 result 2
check "igdd stops with status 0 (second run)" lab_stop_igdd TERM
lab_finish
