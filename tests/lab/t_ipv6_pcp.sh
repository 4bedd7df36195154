#!/bin/sh
# t_ipv6_pcp.sh - PCP over IPv6 (RFC 6887) on a lab with IPv6 on every
# link: a MAP of the client's IPv6 address opens a pinhole of the IPv6
# firewall (TCP and UDP from the outside host reach c1's address, refused
# before and after), the assigned external address and port are the
# internal ones, FILTER restricts it to one remote host, another host
# cannot delete it, lifetime 0 deletes it, ANNOUNCE goes to [ff02::1]:5350,
# and nothing is answered on the WAN side over IPv6.
# also-san: run again against igdd-san (policy over IPv6)
. "$(dirname "$0")/lib.sh"
lab_up
check "IPv6 on every link" lab_ipv6

lab_conf "$LAB_DIR/igdd.conf" <<CONF
min_lifetime=120
max_lifetime=86400
ipv6_block_inbound=yes
CONF
# ANNOUNCE at start: listen for it on c1 before igdd starts
c1 socat -u UDP6-RECV:5350,reuseaddr OPEN:"$LAB_DIR/announce",creat,append 2>/dev/null &
LAB_PIDS="$LAB_PIDS $!"
wait_bound c1 udp 5350
check "igdd starts with PCP and IPv6" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "PCP listens on IPv6 on lan0" grep -q "PCP listening on IPv6 port 5351 (lan0)" "$LAB_DIR/igdd.log"

N1=0102030405060708090a0b0c
N2=ffeeddccbbaa998877665544
pcp() { _o=$1; shift; ip netns exec "$NS_C1" "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
pcp2() { _o=$1; shift; ip netns exec "$NS_C2" "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
field() { pcp_field "$LAB_DIR/$1" "$2"; }
is() { [ "$(field "$1" "$2")" = "$3" ]; }

check "ANNOUNCE reached [ff02::1]:5350 (version 2, R bit, opcode 0)" \
	wait_for 10 sh -c "od -An -tx1 -N2 '$LAB_DIR/announce' | grep -q '02 80'"

lab_listen c1 tcp 9100 TOK6TCP
lab_listen c1 udp 9101 TOK6UDP
check_not "before: TCP from outside does not reach c1's IPv6 address" reach6 tcp "$C1_6" 9100 TOK6TCP
check_not "before: UDP does not either" reach6 udp "$C1_6" 9101 TOK6UDP

pcp m1 -n $N1 "$GW6_LAN" map tcp 9100 0 600
check "MAP over IPv6: SUCCESS" is m1 result 0
check "MAP: the external address is c1's own (no NAT66)" is m1 external_ip "$C1_6"
check "MAP: the external port is the internal one" is m1 external_port 9100
check "MAP: the lifetime granted" is m1 lifetime 600
check "the pinhole is in the kernel's pin6 set" sh -c "ip netns exec $NS_GW nft list set inet igdd pin6 | grep -q '$C1_6 . tcp . 9100'"
check "after: TCP from outside reaches c1 through the pinhole" reach6 tcp "$C1_6" 9100 TOK6TCP
pcp m2 -n $N1 "$GW6_LAN" map udp 9101 0 600
check "MAP UDP: SUCCESS" is m2 result 0
check "after: UDP reaches c1 too" reach6 udp "$C1_6" 9101 TOK6UDP
check_not "a port without a pinhole stays closed" reach6 tcp "$C1_6" 9102 TOK6TCP

# Refresh with the same nonce; another nonce or host may not touch it.
pcp m3 -n $N1 "$GW6_LAN" map tcp 9100 0 1200
check "refresh (same nonce): SUCCESS, lifetime 1200" sh -c "[ \"$(field m3 result)/$(field m3 lifetime)\" = 0/1200 ]"
pcp m4 -n $N2 "$GW6_LAN" map tcp 9100 0 0
check "another nonce cannot delete: NOT_AUTHORIZED" is m4 result 2
pcp2 m5 -n $N1 "$GW6_LAN" map tcp 9100 0 0 --third-party "$C1_6"
check "another LAN host cannot delete it: NOT_AUTHORIZED" is m5 result 2
check "the pinhole survived" reach6 tcp "$C1_6" 9100 TOK6TCP

# FILTER: only the named remote host and port.
out ip -6 addr add "$LAB6_WAN::3/64" dev eth0 nodad
lab_listen c1 tcp 9103 TOK6F
pcp f1 -n $N1 "$GW6_LAN" map tcp 9103 0 600 --filter "[$OUT6]/128"
check "MAP with FILTER: SUCCESS" is f1 result 0
check "FILTER: the named peer gets through" sh -c "[ \"\$(ip netns exec $NS_OUT $PROBE connect -s $OUT6 tcp $C1_6 9103 1500)\" = TOK6F ]"
check_not "FILTER: another peer does not" sh -c "[ \"\$(ip netns exec $NS_OUT $PROBE connect -s $LAB6_WAN::3 tcp $C1_6 9103 1500)\" = TOK6F ]"

# Delete.
pcp d1 -n $N1 "$GW6_LAN" map tcp 9100 0 0
check "delete (lifetime 0): SUCCESS" is d1 result 0
check_not "after delete TCP no longer reaches c1" reach6 tcp "$C1_6" 9100 TOK6TCP
check "the UDP pinhole still works" reach6 udp "$C1_6" 9101 TOK6UDP

# Nothing answered on the WAN side over IPv6.
ip netns exec "$NS_OUT" "$PCPC" -t 1500 "$GW6_WAN" announce >"$LAB_DIR/w1" 2>&1
check "no PCP answer to the WAN over IPv6 (gateway's WAN address)" grep -q timeout "$LAB_DIR/w1"
ip netns exec "$NS_OUT" "$PCPC" -t 1500 "$GW6_LAN" announce >"$LAB_DIR/w2" 2>&1
check "no PCP answer to the WAN over IPv6 (gateway's LAN address)" grep -q timeout "$LAB_DIR/w2"

check "igdd stops cleanly" lab_stop_igdd
lab_finish
