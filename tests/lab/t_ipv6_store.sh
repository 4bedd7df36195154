#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# t_ipv6_store.sh - IPv6 pinholes kept like port mappings: the lease
# journal brings them back after kill -9 (same UniqueID, traffic again), a
# firewall flush behind igdd's back is repaired, a short lease expires (in
# the store and the kernel), a clean stop removes them from the kernel but
# not from the journal; an upgrade from the interval set of older
# restricted pinholes (alone, and in a table that does not match
# otherwise either); and the integration layout: igdd's pinhole rules in
# the router's drop-policy forward chain let exactly the pinhole in.
. "$(dirname "$0")/lib.sh"
lab_up
check "IPv6 on every link" lab_ipv6

HP=5000
lab_conf "$LAB_DIR/igdd.conf" <<CONF
ipv6_block_inbound=yes
ext_ip=1.2.3.4
http_port=$HP
min_lifetime=120
CONF
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf" -v
ip netns exec "$NS_C1" "$PROBE" connect -s "$C1_6" udp "$GW6_LAN" 9 300 >/dev/null 2>&1
up() { _o=$1; _ns=$2; shift 2; $_ns timeout 20 upnpc -6 "$@" >"$LAB_DIR/$_o" 2>&1; }
uid_of() { sed -n 's/.*Pinhole ID = \([0-9]*\).*/\1/p' "$LAB_DIR/$1"; }

lab_listen c1 tcp 9300 TOKA
lab_listen c1 udp 9301 TOKB
lab_listen c1 tcp 9302 TOKC
up a1 c1 -A "" 0 "$C1_6" 9300 TCP 3600
UA=$(uid_of a1)
ip netns exec "$NS_C1" "$PCPC" -n 0102030405060708090a0b0c "$GW6_LAN" map udp 9301 0 3600 >"$LAB_DIR/p1"
check "a UPnP pinhole (UniqueID $UA) and a PCP one" sh -c "[ -n '$UA' ] && grep -q '^result=0' '$LAB_DIR/p1'"
check "TCP through the UPnP pinhole" reach6 tcp "$C1_6" 9300 TOKA
check "UDP through the PCP pinhole" reach6 udp "$C1_6" 9301 TOKB
check "the journal holds them (P records)" test "$(grep -c '^P ' "$LAB_DIR/igdd.leases")" -ge 2

# kill -9, then a new start: restored from the journal, in one transaction.
lab_stop_igdd KILL
check "igdd restarts after kill -9" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "it restored the two pinholes" grep -q "(2 of them IPv6 pinholes)" "$LAB_DIR/igdd.log"
check "TCP through the restored UPnP pinhole" reach6 tcp "$C1_6" 9300 TOKA
check "UDP through the restored PCP pinhole" reach6 udp "$C1_6" 9301 TOKB
up k1 c1 -K "$UA"
check "the UniqueID survived the restart (GetPinholePackets on $UA)" grep -q "Pinhole ID = $UA / PinholePackets" "$LAB_DIR/k1"

# An upgrade from an igdd whose pinholes restricted to a remote host or
# port were in one interval set (pin6_rh, flags interval): stopped for a
# restart (the table stays), its table made so, with such a pinhole in
# it.  The start deletes that set alone (the table, and any IPv4
# mapping's elements, stay) and puts the pinhole back from the journal
# in its own set (any host, port 5000: pin6_rport), with its traffic.
up a3 c1 -A "" 5000 "$C1_6" 9302 TCP 3600
UP=$(uid_of a3)
check "a pinhole for port 5000 of any host ($UP)" test -n "$UP"
check "SIGQUIT stops igdd (its table stays)" lab_stop_igdd QUIT
older_pin6_rh() {
	gw nft flush chain inet igdd forward
	for s in pin6_rh pin6_rhost pin6_rport; do gw nft delete set inet igdd $s; done
	gw nft add set inet igdd pin6_rh \
		'{ type ipv6_addr . inet_service . ipv6_addr . inet_proto . inet_service; flags interval,timeout; counter; }'
	gw nft add element inet igdd pin6_rh \
		"{ ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff . 5000 . $C1_6 . tcp . 9302 }"
	gw nft add rule inet igdd forward ip6 saddr . th sport . ip6 daddr . meta l4proto . th dport \
		@pin6_rh accept comment '"igdd"'
}
older_pin6_rh
check "the older layout's interval set is there" sh -c \
	"ip netns exec $NS_GW nft list set inet igdd pin6_rh | grep -q 'flags interval'"
log_mark
check "igdd starts on the older table" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "it deletes the older pinhole set" count_log_ge 1 "an older igdd's pinhole set pin6_rh (intervals) goes"
check "... and keeps its table" test "$(count_log "does not match igdd's layout")" = 0
check "pin6_rh is a set of exact keys now" sh -c \
	"! ip netns exec $NS_GW nft list set inet igdd pin6_rh | grep -q 'flags interval'"
check "the pinhole is in pin6_rport" sh -c \
	"ip netns exec $NS_GW nft list set inet igdd pin6_rport | grep -q '5000 . $C1_6 . tcp . 9302'"
check "TCP from port 5000 crosses it" sh -c \
	"[ \"\$(ip netns exec $NS_OUT $PROBE connect -s [$OUT6]:5000 tcp $C1_6 9302 1500)\" = TOKC ]"
check_not "TCP from another port does not" sh -c \
	"[ \"\$(ip netns exec $NS_OUT $PROBE connect -s [$OUT6]:5001 tcp $C1_6 9302 1500)\" = TOKC ]"
# The same older pinhole set in a table that does not match otherwise
# either (ext4 with a counter, as before issue 21): the init's first
# attempt is refused, the second makes the table again (its delete of the
# older set would be refused there: the table it names is new).
check "SIGQUIT stops igdd again" lab_stop_igdd QUIT
older_pin6_rh
gw nft flush chain inet igdd prerouting
gw nft flush chain inet igdd postrouting
gw nft delete set inet igdd ext4
gw nft add set inet igdd ext4 '{ type ipv4_addr; counter; }'
log_mark
check "igdd starts on a table that does not match" lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "it makes the table again" test "$(count_log "does not match igdd's layout")" = 1
check "TCP from port 5000 crosses the pinhole again" sh -c \
	"[ \"\$(ip netns exec $NS_OUT $PROBE connect -s [$OUT6]:5000 tcp $C1_6 9302 1500)\" = TOKC ]"
up d3 c1 -D "$UP"
check "the pinhole is deleted" grep -q "returned : 0" "$LAB_DIR/d3"

# kill -9, another program's transaction (the kernel is no longer as the
# journal's last mark says: the start reads igdd's sets, the reconcile),
# and a start whose rules refuse the UPnP pinhole.  Its lease is dropped
# and its element goes: the reconcile reads the IPv4 sets only, and
# deletes the dropped pinholes' elements by name (they used to stay open
# until the contents check re-installed everything, 30 s later).
lab_stop_igdd KILL
gw nft add table inet t_ipv6_store_other
cp "$LAB_DIR/igdd.conf" "$LAB_DIR/deny.conf"
printf 'deny 9300 ::/0 9300\nallow 1-65535 ::/0 1-65535\nallow 1-65535 0.0.0.0/0 1-65535\n' \
	>>"$LAB_DIR/deny.conf"
log_mark
check "igdd restarts with a rule that refuses the UPnP pinhole" lab_start_igdd "$LAB_DIR/deny.conf" -v
check "its lease is dropped at the restore" wait_for 5 count_log_ge 1 "lease TCP $UA -> .*:9300: .*dropped"
check_reconciled "the kernel is reconciled (not trusted), a stale element removed" \
	"kernel reconciled with .* [1-9][0-9]* stale elements removed" 10
check_not "the refused pinhole lets nothing in" reach6 tcp "$C1_6" 9300 TOKA
check "the PCP pinhole still does" reach6 udp "$C1_6" 9301 TOKB
check_not "no element of port 9300 in pin6" sh -c "ip netns exec $NS_GW nft list set inet igdd pin6 | grep -q '9300'"
gw nft delete table inet t_ipv6_store_other
lab_stop_igdd KILL
check "igdd starts with the first rules" lab_start_igdd "$LAB_DIR/igdd.conf" -v
up a2 c1 -A "" 0 "$C1_6" 9300 TCP 3600
UA=$(uid_of a2)
check "the UPnP pinhole again (UniqueID $UA)" reach6 tcp "$C1_6" 9300 TOKA

# A firewall flush behind igdd's back is repaired by the watchdog.
gw nft flush ruleset
check_not "nft flush ruleset removed igdd's table (and its drop)" gw nft list table inet igdd
check "within seconds the watchdog puts the table back" wait_for 8 gw nft list set inet igdd pin6
check "with the pinholes: TCP through the UPnP one" wait_for 3 reach6 tcp "$C1_6" 9300 TOKA
check "... UDP through the PCP one" reach6 udp "$C1_6" 9301 TOKB
check_not "... and the drop: a port without a pinhole is closed again" reach6 tcp "$C1_6" 9302 TOKC

# A short lease ends: gone from the store and the kernel.
up s1 c1 -A "" 0 "$C1_6" 9302 TCP 2
US=$(uid_of s1)
check "a pinhole of 2 s (UniqueID $US) works" reach6 tcp "$C1_6" 9302 TOKC
check "after its lease it carries nothing" wait_for 15 not reach6 tcp "$C1_6" 9302 TOKC
up s2 c1 -K "$US"
check "and it is no longer known (704)" grep -q "failed with code 704" "$LAB_DIR/s2"

# A clean stop: nothing in the kernel, everything in the journal.
check "igdd stops cleanly" lab_stop_igdd
check_not "no igdd table left" gw nft list table inet igdd
check "the journal still names the UPnP pinhole" grep -q "^P $UA " "$LAB_DIR/igdd.leases"

# Integration: the router's inet filter table (policy drop), igdd's rules
# in its chain; the same pinholes come back from the journal.
gw nft -f "$LAB_TOP/conf/nftables-integrate.nft"
check_not "the router's drop policy stops unsolicited IPv6" reach6 tcp "$C1_6" 9300 TOKA
lab_conf "$LAB_DIR/igdd2.conf" <<CONF
ext_ip=1.2.3.4
http_port=$HP
lease_file=$LAB_DIR/igdd.leases
upnp_table_name=filter
upnp_nat_table_name=filter
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
CONF
check "igdd starts integrated" lab_start_igdd "$LAB_DIR/igdd2.conf" -v
check "its pinhole rules are in the router's chain" \
	sh -c "ip netns exec $NS_GW nft list chain inet filter miniupnpd | grep -q 'ip6 daddr . meta l4proto . th dport @igdd_pin6'"
check "TCP crosses the drop policy through the pinhole" reach6 tcp "$C1_6" 9300 TOKA
check_not "a port without a pinhole does not" reach6 tcp "$C1_6" 9302 TOKC
up f1 c1 -S
check "GetFirewallStatus: enabled (the router's chain)" grep -q "Firewall Enabled: Yes" "$LAB_DIR/f1"
check "igdd stops cleanly (integrated)" lab_stop_igdd
check "its sets are gone from the router's table" sh -c "! ip netns exec $NS_GW nft list ruleset | grep -q igdd_pin6"
lab_finish
