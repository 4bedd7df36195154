#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# t_nft_own.sh - the nftables backend in its own table (inet igdd), driven
# by fwctl: mappings carry real TCP and UDP traffic from the outside host,
# stop doing so when deleted, remote-host restrictions admit only that
# host, install_all replaces exactly, init is idempotent, check sees a
# flushed ruleset, shutdown leaves nothing.
. "$(dirname "$0")/lib.sh"
lab_up
[ -x "$FWCTL" ] || { fail "build/tools/fwctl missing (make tools)"; lab_finish; }
F="--ext-if wan0"
OUT2=$LAB_WAN.3
out ip addr add "$OUT2/24" dev eth0


check "init creates table inet igdd" fwctl $F init
check "init twice is idempotent" fwctl $F init
check "exactly 3 rules in prerouting after two inits (dnat, restricted, hairpin)" \
	test "$(gw nft -a list chain inet igdd prerouting | grep -c 'comment "igdd"')" = 3
check "exactly 2 rules in forward after two inits (two lookups)" \
	test "$(gw nft -a list chain inet igdd forward | grep -c 'comment "igdd"')" = 2
check "exactly 5 rules in postrouting after two inits (hairpin LAN check, count and masquerade, tcp and udp SNAT)" \
	test "$(gw nft -a list chain inet igdd postrouting | grep -c 'comment "igdd"')" = 5
gw nft list ruleset >"$LAB_DIR/saved.nft"
check "a saved ruleset loads again (nft -c -f)" gw nft -c -f "$LAB_DIR/saved.nft"
check "check reports the objects present" fwctl $F check

lab_listen c1 tcp 9000 tok-tcp
lab_listen c1 udp 9001 tok-udp
lab_listen c2 tcp 9002 tok-rh
check_not "no mapping: tcp 8000 unreachable" reach tcp 8000 tok-tcp
check "add tcp 8000 -> c1:9000" fwctl $F --lease 600 add tcp 8000 "$C1" 9000
check "add udp 8001 -> c1:9001" fwctl $F add udp 8001 "$C1" 9001
check "tcp 8000 reaches c1 from outside" reach tcp 8000 tok-tcp
check "the set of external addresses holds the WAN address" \
	sh -c "ip netns exec $NS_GW nft list set inet igdd ext4 | grep -q '$GW_WAN'"
out ip route add "$GW_LAN/32" via "$GW_WAN"
check_not "tcp 8000 to the gateway's LAN address is not translated" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_LAN 8000 1000 | grep -q tok-tcp"
check "udp 8001 reaches c1 from outside" reach udp 8001 tok-udp
# tcp8000_timeout ERE: tcp 8000's element has a timeout that matches ERE;
# tcp8000_no_timeout: it is there, with none
tcp8000_timeout() { gw nft list map inet igdd dnat4 | grep -Eq "tcp . 8000 .*timeout $1"; }
tcp8000_no_timeout() { gw nft list map inet igdd dnat4 | grep 'tcp . 8000 ' | grep -vq timeout; }
if lab_timeouts; then
	check "the tcp element carries a timeout (lease + grace)" tcp8000_timeout '(10m5|11m )'
else
	check "before 6.12: the tcp element carries no timeout" tcp8000_no_timeout
fi
pk=$(fwctl $F counters tcp 8000 "$C1" 9000)
check "counters sees packets of the tcp mapping ($pk)" test "${pk:-0}" -gt 0
check "refresh (add again) succeeds" fwctl $F --lease 900 add tcp 8000 "$C1" 9000
pk2=$(fwctl $F counters tcp 8000 "$C1" 9000)
check "refresh keeps the counter ($pk2 >= $pk)" test "${pk2:-0}" -ge "${pk:-1}"
if lab_timeouts; then
	check "refresh renews the timeout" tcp8000_timeout '(15m5|16m )'
else
	check "before 6.12: nor after the refresh" tcp8000_no_timeout
fi
check "add tcp 8000 again with a new target replaces it" fwctl $F add tcp 8000 "$C2" 9002
check "tcp 8000 now reaches c2" reach tcp 8000 tok-rh
check "one dnat4 element for tcp 8000" test "$(gw nft list map inet igdd dnat4 | grep -c 'tcp . 8000')" = 1
check "old forward element removed" sh -c "! ip netns exec $NS_GW nft list set inet igdd fwd4 | grep -q '$C1 . tcp . 9000'"
check "delete tcp 8000" fwctl $F del tcp 8000 "$C2" 9002
check_not "tcp 8000 unreachable after delete" reach tcp 8000 tok-rh
check "udp 8001 still reaches c1" reach udp 8001 tok-udp
check "delete udp 8001" fwctl $F del udp 8001 "$C1" 9001
check_not "udp 8001 unreachable after delete" reach udp 8001 tok-udp
check "deleting a missing mapping is not an error" fwctl $F del udp 8001 "$C1" 9001

check "remote-host-restricted tcp 8002 -> c2:9002 for $OUT2" \
	fwctl $F add tcp 8002 "$C2" 9002 "$OUT2"
check "restricted mapping admits $OUT2" reach_from "$OUT2" tcp 8002 tok-rh
check_not "restricted mapping refuses $OUT" reach_from "$OUT" tcp 8002 tok-rh
check "restricted and unrestricted on the same port coexist" fwctl $F add tcp 8002 "$C1" 9000
check "$OUT gets the unrestricted target" reach_from "$OUT" tcp 8002 tok-tcp
check "$OUT2 still gets its restricted target" reach_from "$OUT2" tcp 8002 tok-rh

# install_all: replaces exactly (10,000 mappings in one transaction, then 3).
seq 10000 19999 | awk -v c="$C1" '{ print "tcp", $1, c, $1 }' >"$LAB_DIR/big"
check "install_all of 10000 mappings in the gateway" sh -c "ip netns exec $NS_GW '$FWCTL' $F install <'$LAB_DIR/big'"
check "dnat4 holds exactly 10000 elements" test "$(nmapelems dnat4)" = 10000
check "dnat4_rh flushed by install_all" test "$(nmapelems dnat4_rh)" = 0
printf 'tcp 8000 %s 9000\nudp 8001 %s 9001\ntcp 8002 %s 9002 %s\n' "$C1" "$C1" "$C2" "$OUT2" >"$LAB_DIR/small"
check "install_all of 3 mappings" sh -c "ip netns exec $NS_GW '$FWCTL' $F install <'$LAB_DIR/small'"
check "dnat4 holds exactly 2 elements" test "$(nmapelems dnat4)" = 2
check "dnat4_rh holds exactly 1 element" test "$(nmapelems dnat4_rh)" = 1
check "fwd4 holds exactly 2 elements" test "$(nelems fwd4)" = 2
check "installed tcp 8000 carries traffic" reach tcp 8000 tok-tcp
check "installed udp 8001 carries traffic" reach udp 8001 tok-udp
check "installed restricted tcp 8002 carries traffic from $OUT2" reach_from "$OUT2" tcp 8002 tok-rh
check "verify: the sets hold what the 3 mappings make" \
	sh -c "ip netns exec $NS_GW '$FWCTL' $F verify <'$LAB_DIR/small'"
gw nft delete element inet igdd fwd4 "{ $C1 . udp . 9001 }"
check_not "verify: a forward element deleted behind the backend's back is seen" \
	sh -c "ip netns exec $NS_GW '$FWCTL' $F verify <'$LAB_DIR/small'"
check "install_all puts it back" sh -c "ip netns exec $NS_GW '$FWCTL' $F install <'$LAB_DIR/small'"
check "verify agrees again" sh -c "ip netns exec $NS_GW '$FWCTL' $F verify <'$LAB_DIR/small'"

gw nft flush ruleset
check_not "check reports 0 after nft flush ruleset" fwctl $F check
check "init restores the table" fwctl $F init
check "check reports 1 again" fwctl $F check

check "shutdown" fwctl $F shutdown
check_not "no table inet igdd left" gw nft list table inet igdd
check "ruleset empty after shutdown" test -z "$(gw nft list ruleset)"
lab_finish
