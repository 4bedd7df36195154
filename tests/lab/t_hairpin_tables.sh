#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_hairpin_tables.sh - hairpin integrated into a firewall whose NAT and
# filter chains are in two tables (upnp_table_name != upnp_nat_table_name)
# and whose forward chain accepts DNATed flows and every LAN before it
# jumps to igdd's: igdd starts, a mapping carries traffic from outside,
# a host of the mapping's LAN reaches it through the external address,
# and a host of another served LAN does not (the LAN check is in the nat
# table's postrouting chain, with lan4, whatever the forward chain does);
# the same with both in one table; mappings used only through the
# hairpin, or only from the WAN (the forward chain accepts their flows
# before igdd's), count as used; lan4 flushed by another process comes
# back.
LAB_LAN2=${LAB_LAN2:-192.168.79}
. "$(dirname "$0")/lib.sh"
lab_up
command -v natpmpc >/dev/null 2>&1 || { skip "natpmpc not installed"; exit 0; }

lab_listen c1 tcp 9000 @peer
lab_listen c1 udp 9000 @peer
pmp() { c1 natpmpc -g "$GW_LAN" -a "$2" "$3" "$1" 3600 | grep -q "Mapped public port $2"; }
# packets_of PORT: the packets igddctl lists for TCP mapping PORT
packets_of() {
	ctl list --json | python3 -c 'import json, sys
print(sum(m["packets"] for m in json.load(sys.stdin)
          if m["protocol"] == "tcp" and m["external_port"] == int(sys.argv[1])))' "$1" 2>&1
}

# firewall FILTER NAT: a forward chain (policy drop) that accepts DNATed
# flows and both LANs before it jumps to igdd's chain, in table FILTER;
# the NAT chains in table NAT (the same table when the names are equal).
firewall() {
	gw nft -f - <<NFT
table inet $1 {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat accept
		iifname { "lan0", "lan1" } accept
		iifname "wan0" jump miniupnpd
	}
	chain miniupnpd {
	}
}
table inet $2 {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump prerouting_miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump postrouting_miniupnpd
		oifname "wan0" masquerade
	}
	chain postrouting_miniupnpd {
	}
}
NFT
}
# int_conf FILE FILTER NAT
int_conf() {
	lab_conf "$1" <<CONF
listening_ip=lan1
secure_mode=yes
upnp_table_name=$2
upnp_nat_table_name=$3
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
CONF
}

# The same firewall in one table: the forward chain still accepts
# DNATed flows from any LAN before igdd's; the check holds (postrouting).
gw nft delete table inet igdd 2>/dev/null
firewall fw fw
int_conf "$LAB_DIR/one.conf" fw fw
check "one table: igdd starts integrated" lab_start_igdd "$LAB_DIR/one.conf"
check "one table: natpmpc maps TCP 8000 -> c1:9000" pmp tcp 8000 9000
check "one table: natpmpc maps UDP 8000 -> c1:9000" pmp udp 8000 9000
check "one table: TCP hairpin from c2 reaches c1" hairpin_ok "$NS_C2" tcp "$GW_WAN"
check_not "one table: c3 (the other served LAN) does not reach c1's mapping (TCP)" \
	reaches_c1 "$NS_C3" tcp "$GW_WAN"
check_not "one table: nor by UDP" reaches_c1 "$NS_C3" udp "$GW_WAN"
# Mappings used from the WAN only are in use (idle cleanup, igddctl's
# packets): this forward chain accepts DNATed flows before its jump, so
# igdd's forward chain sees none of their packets; the DNAT elements
# count, a wildcard mapping's and a remote host's.  (Before: 0 packets,
# cleaned as idle.)
lab_listen c1 tcp 9002 @peer
check "one table: natpmpc maps TCP 8002 -> c1:9002 (used from the WAN only)" pmp tcp 8002 9002
check "one table: the outside host reaches it" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8002 1500 | grep -q '^$OUT:'"
pk=$(packets_of 8002)
check "one table: it counts as used ($pk packets)" test "${pk:-0}" -gt 0
UPNP_BASE=$(lab_upnp_base)
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost="$OUT" NewExternalPort=8003 \
	NewProtocol=TCP NewInternalPort=9002 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription=rh NewLeaseDuration=3600)
check "one table: UPnP maps TCP 8003 -> c1:9002 for the outside host only" \
	test -z "$(upnp_error "$out")"
check "one table: the outside host reaches it" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8003 1500 | grep -q '^$OUT:'"
pk=$(packets_of 8003)
check "one table: it counts as used ($pk packets)" test "${pk:-0}" -gt 0
lab_stop_igdd

# Two tables.
gw nft delete table inet fw
firewall filter nat
int_conf "$LAB_DIR/int.conf" filter nat
check "igdd starts integrated (nat and filter tables differ, hairpin on)" \
	lab_start_igdd "$LAB_DIR/int.conf"
check "natpmpc maps (again) TCP 8000 -> c1:9000" pmp tcp 8000 9000
check "natpmpc maps (again) UDP 8000 -> c1:9000" pmp udp 8000 9000
check "from outside, c1 sees the outside host" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8000 1500 | grep -q '^$OUT:'"
check "TCP hairpin from c2 (c1's LAN) reaches c1, c1 sees the gateway" \
	hairpin_ok "$NS_C2" tcp "$GW_WAN"
check "UDP hairpin too" hairpin_ok "$NS_C2" udp "$GW_WAN"
# A mapping used through the hairpin only is in use (idle cleanup, the
# packets igddctl lists): this forward chain accepts LAN flows before
# igdd's and the nat chains cannot count in the forward sets, so its DNAT
# element counts.  (Before: 0 packets, cleaned as idle.)
lab_listen c1 tcp 9001 @peer
check "natpmpc maps TCP 8001 -> c1:9001 (used from the LAN only)" pmp tcp 8001 9001
hp=$(peer_from "$NS_C2" tcp "$GW_WAN" 8001)
check "c2 reaches it through the hairpin (c1 sees $hp)" test "${hp%:*}" = "$GW_LAN"
pk=$(packets_of 8001)
check "it counts as used ($pk packets)" test "${pk:-0}" -gt 0
# An older igdd's igdd_dnat4 (no counter) in this layout: the start
# finds it does not match, makes igdd's sets again and installs every
# mapping again from the lease file.
check "SIGQUIT stops igdd (its table stays)" lab_stop_igdd QUIT
gw nft flush chain inet nat prerouting_miniupnpd
gw nft delete map inet nat igdd_dnat4
gw nft add map inet nat igdd_dnat4 "{ type inet_proto . inet_service : ipv4_addr . inet_service; flags timeout; elements = { tcp . 8000 : $C1 . 9000, udp . 8000 : $C1 . 9000, tcp . 8001 : $C1 . 9001 } }"
log_mark
check "igdd starts with an older igdd_dnat4 (no counter)" lab_start_igdd "$LAB_DIR/int.conf"
check "it did not match: igdd's sets were made again" count_log_is 1 "do not match"
check "igdd_dnat4 counts now" sh -c \
	"ip netns exec $NS_GW nft list map inet nat igdd_dnat4 | grep -q 'tcp \. 8000 .*counter'"
kernel_is_leases() { [ "$(LAB_KV_TABLE=nat LAB_KV_PREFIX=igdd_ lab_kernel_view)" = "$(lab_lease_view)" ]; }
check "the kernel holds the lease file's 3 mappings" wait_for 10 kernel_is_leases
check "from outside, TCP 8000 reaches c1 again" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8000 1500 | grep -q '^$OUT:'"
check "TCP hairpin from c2 reaches c1 again" hairpin_ok "$NS_C2" tcp "$GW_WAN"
check_not "c3 (the other served LAN) does not reach c1's mapping (TCP)" \
	reaches_c1 "$NS_C3" tcp "$GW_WAN"
check_not "nor by UDP" reaches_c1 "$NS_C3" udp "$GW_WAN"
lan4() { gw nft list set inet nat igdd_lan4 | tr -d ' \t\n' | sed 's/.*elements=//'; }
check "lan4 is in the nat table, each served LAN's subnet once" \
	test "$(lan4)" = "{$LAB_LAN.0/24.\"lan0\",$LAB_LAN2.0/24.\"lan1\"}}}"
check "the ruleset as nft lists it loads again" \
	sh -c "ip netns exec $NS_GW nft list ruleset | ip netns exec $NS_GW nft -c -f -"
check "the LAN check is in the nat table's postrouting chain" sh -c \
	"ip netns exec $NS_GW nft list chain inet nat postrouting_miniupnpd | grep -q 'igdd_lan4 drop'"
check_not "igdd's forward chain has no hairpin rule" sh -c \
	"ip netns exec $NS_GW nft list chain inet filter miniupnpd | grep -q lan4"
# lan4 emptied behind igdd's back: the re-install puts the LANs back
# (else the hairpin stays broken and the contents check re-installs in
# vain every 30 s).
gw nft flush set inet nat igdd_lan4
check "lan4 flushed by another process is put back: c2's hairpin works again" \
	wait_for 5 hairpin_ok "$NS_C2" tcp "$GW_WAN"
check "lan4 holds both LANs again" \
	test "$(lan4)" = "{$LAB_LAN.0/24.\"lan0\",$LAB_LAN2.0/24.\"lan1\"}}}"

# A stop for restart, and another program's element in igdd's DNAT map
# after the next start looked up its tagged rules and before its
# transaction (strace holds it at its first sendmsg()): the transaction
# carries the generation read before the lookup, the kernel refuses it,
# igdd looks its rules up again and, the kernel no longer as the
# journal's mark says, reads its elements: the foreign one goes.  (Before:
# the mark was trusted and the foreign element stayed.)
if lab_can_hold; then
	int_foreign() { gw nft add element inet nat igdd_dnat4 "{ tcp . 8070 : $LAB_LAN.99 . 8070 }"; }
	# a restart first: after the lan4 repair above, the next start does
	# not trust the journal's mark (it reads its elements: safe, only
	# slower); after a restart it does
	check "SIGQUIT stops the integrated igdd" lab_stop_igdd QUIT
	check "it starts again" lab_start_igdd "$LAB_DIR/int.conf"
	check "SIGQUIT stops it again" lab_stop_igdd QUIT
	log_mark
	check "integrated: igdd starts, held before its transaction" \
		lab_start_held "$LAB_DIR/int.conf" int_foreign
	check "(a foreign DNAT element came while it was held)" test -e "$LAB_DIR/held.ok"
	check "the kernel refused its transaction; it looked its rules up again" \
		count_log_is 1 "the ruleset changed while igdd's rules were looked up; again"
	check_reconciled "its elements were read and reconciled, not trusted: 1 stale" \
		'mappings in [0-9]* ms: .* 1 stale'
	check "the foreign element is gone" sh -c \
		"ip netns exec $NS_GW nft list map inet nat igdd_dnat4 >'$LAB_DIR/dnat4' &&
		 ! grep -q 'tcp \. 8070 ' '$LAB_DIR/dnat4'"
	check "TCP 8000 still reaches c1 from outside" \
		sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8000 1500 | grep -q '^$OUT:'"
	check "TCP hairpin from c2 still reaches c1" hairpin_ok "$NS_C2" tcp "$GW_WAN"

	# Twice (a firewall that reloads again while igdd starts): the second
	# transaction carries the generation of its second lookup too, so a
	# rule deleted meanwhile (its handle in that transaction) makes the
	# kernel refuse it again, and igdd looks a third time.  (Before: the
	# second went without one and failed on the stale handle, ENOENT:
	# igdd did not start.)
	int_twice() {
		case $HELD_N in
		1) int_foreign ;;
		*) h=$(gw nft -a list chain inet filter miniupnpd |
			sed -n 's/.*comment "igdd" # handle \([0-9]*\)$/\1/p' | head -1)
		   [ -n "$h" ] && gw nft delete rule inet filter miniupnpd handle "$h" ;;
		esac
	}
	nrules() { gw nft list chain inet filter miniupnpd | grep -c 'comment "igdd"'; }
	n0=$(nrules)
	# kill -9 (its rules stay, as at a SIGQUIT): strace is still attached,
	# and an ASan build's leak check at a clean exit cannot run under it
	kill -9 "$IGDD_PID"; wait "$IGDD_PID" 2>/dev/null; IGDD_PID=
	log_mark
	LAB_HOLDS=2
	check "integrated: igdd starts, held before its first two transactions" \
		lab_start_held "$LAB_DIR/int.conf" int_twice
	LAB_HOLDS=1
	check "(a foreign DNAT element came in the first hold, one of igdd's rules went in the second)" \
		test -e "$LAB_DIR/held.ok"
	check "the kernel refused both; it looked its rules up three times" \
		count_log_is 2 "the ruleset changed while igdd's rules were looked up; again\$"
	check "its forward rules are all back ($n0)" test "$(nrules)" = "$n0"
	check "the foreign element is gone" wait_for 15 sh -c \
		"ip netns exec $NS_GW nft list map inet nat igdd_dnat4 >'$LAB_DIR/dnat4' &&
		 ! grep -q 'tcp \. 8070 ' '$LAB_DIR/dnat4'"
	check "TCP 8000 reaches c1 from outside" \
		sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8000 1500 | grep -q '^$OUT:'"
	kill -9 "$IGDD_PID"; wait "$IGDD_PID" 2>/dev/null; IGDD_PID=	# strace: as above
else
	skip "no strace that can hold a system call here (delay injection, ptrace), or no cpp: no start held between its rules' lookup and its transaction"
fi
lab_stop_igdd
lab_finish
