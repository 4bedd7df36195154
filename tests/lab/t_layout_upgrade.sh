#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# t_layout_upgrade.sh - an upgrade that finds the table of an older igdd.
# igdd is stopped for a restart (SIGQUIT: the table stays) and the table
# is then made what igdd before issue 21's counter change left: the same
# sets, each with a counter (the DNAT, SNAT and external-address sets
# have none now).  The new start must see that the table is not its
# layout, replace it, and install the leases' mappings again: traffic
# through them, hairpin and the kernel's elements as the store holds them.
# Then the table of an igdd before lan4 (a hairpin map of its own, an
# element per mapping): kept, but for the hairpin map, which goes; and in
# a table that does not match otherwise either, made again.  Last,
# a restart whose journal mark was written with the sets in another table.
. "$(dirname "$0")/lib.sh"
lab_up
command -v natpmpc >/dev/null 2>&1 || { skip "natpmpc not installed"; exit 0; }
echo "secure_mode=no" | lab_conf "$LAB_DIR/igdd.conf"
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf"
for p in 8001 8002; do
	c1 natpmpc -g "$GW_LAN" -a "$p" $((p + 1000)) tcp 3600 >/dev/null 2>&1
	lab_listen c1 tcp $((p + 1000)) "tok-$p"
done
check "8001 carries traffic" reach tcp 8001 tok-8001
check "the DNAT map has no per-element counter" sh -c \
	"! ip netns exec $NS_GW nft list map inet igdd dnat4 | grep -q counter"
check "the forward set has them (igddctl list's traffic)" sh -c \
	"ip netns exec $NS_GW nft list set inet igdd fwd4 | grep -q counter"

kill -QUIT "$IGDD_PID"; wait "$IGDD_PID"; IGDD_PID=
# The older layout: igdd's table as it was, every set with a counter
# (the forward and hairpin sets have theirs still).
gw nft list table inet igdd >"$LAB_DIR/table.nft"
sed '/^\t\(set\|map\) \(dnat4\|dnat4_rh\|snat4\|ext4\) {$/a\		counter' \
	"$LAB_DIR/table.nft" >"$LAB_DIR/old.nft"
gw nft delete table inet igdd
check "the older layout loads" gw nft -f "$LAB_DIR/old.nft"
check "... with a counter in its DNAT map" sh -c \
	"ip netns exec $NS_GW nft list map inet igdd dnat4 | grep -q counter"

log_mark
check "igdd starts on the older table" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "it says the table is not its layout and replaces it" \
	test "$(count_log "does not match igdd's layout")" = 1
check "the DNAT map is the new one (no counter)" sh -c \
	"! ip netns exec $NS_GW nft list map inet igdd dnat4 | grep -q counter"
check "8001 carries traffic" reach tcp 8001 tok-8001
check "8002 carries traffic" reach tcp 8002 tok-8002
check "daemon, lease file and kernel agree" lab_agree

# The table of igdd before lan4: the same sets plus a hairpin map (hair4,
# an element per mapping naming its client's LAN) and the rule that looks
# it up.  A start keeps the sets' elements, and the hairpin map goes.
kill -QUIT "$IGDD_PID"; wait "$IGDD_PID"; IGDD_PID=
for c in prerouting forward postrouting; do gw nft flush chain inet igdd $c; done
gw nft delete set inet igdd lan4
gw nft add map inet igdd hair4 \
	'{ type ifname . inet_proto . inet_service : ipv4_addr . inet_service; flags timeout; counter; }'
gw nft add element inet igdd hair4 "{ \"lan0\" . tcp . 8001 : $C1 . 9001 }"
gw nft add rule inet igdd prerouting ip daddr @ext4 \
	dnat ip to iifname . meta l4proto . th dport map @hair4 comment '"igdd"'
check "the table before lan4 has its hairpin map" gw nft list map inet igdd hair4
log_mark
check "igdd starts on the table before lan4" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "it keeps the table (its sets fit)" test "$(count_log "does not match igdd's layout")" = 0
check_not "the hairpin map is gone" gw nft list map inet igdd hair4
check "lan4 holds the LAN" sh -c \
	"ip netns exec $NS_GW nft list set inet igdd lan4 | grep -q '$LAB_LAN.0/24 . \"lan0\"'"
check "8001 carries traffic" reach tcp 8001 tok-8001
check "c2 reaches 8002 through the hairpin (dnat4)" sh -c \
	"ip netns exec $NS_C2 $PROBE connect tcp $GW_WAN 8002 1500 | grep -q tok-8002"
check "daemon, lease file and kernel agree" lab_agree

# The hairpin map again, in a table that does not match otherwise either
# (ext4 with a counter): the init's first attempt is refused, the second
# makes the table again and must not delete the hairpin map a second time
# (before 6.3 a DELSET, refused in the new table with the whole batch:
# igdd did not start).
kill -QUIT "$IGDD_PID"; wait "$IGDD_PID"; IGDD_PID=
for c in prerouting forward postrouting; do gw nft flush chain inet igdd $c; done
gw nft add map inet igdd hair4 \
	'{ type ifname . inet_proto . inet_service : ipv4_addr . inet_service; flags timeout; counter; }'
gw nft delete set inet igdd ext4
gw nft add set inet igdd ext4 '{ type ipv4_addr; counter; }'
log_mark
check "igdd starts on a table with the hairpin map that does not match" \
	lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "it makes the table again" test "$(count_log "does not match igdd's layout")" = 1
check_not "the hairpin map is gone" gw nft list map inet igdd hair4
check "8001 carries traffic" reach tcp 8001 tok-8001
check "daemon, lease file and kernel agree" lab_agree

# The sets elsewhere than the journal's mark says.  igdd is stopped for a
# restart in its own table, runs integrated into a firewall (other sets:
# 8002 goes, 8003 comes) and is stopped for a restart there, then starts
# in its own table again with nothing changed in the ruleset since: the
# kernel's generation is the mark's, but the own table holds the first
# run's elements, not the journal's.  The mark names where the sets are,
# so this start reads them.
check "SIGQUIT stops igdd (its table stays)" lab_stop_igdd QUIT
gw nft -f "$LAB_TOP/conf/nftables-integrate.nft"
{ echo "secure_mode=no"; lab_integrate_conf; } | lab_conf "$LAB_DIR/igdd-int.conf"
check "igdd starts integrated into table inet filter" lab_start_igdd "$LAB_DIR/igdd-int.conf"
check "natpmpc deletes 8002" sh -c \
	"ip netns exec $NS_C1 natpmpc -g $GW_LAN -a 8002 9002 tcp 0 | grep -qiE 'lifetime 0|liftime 0'"
check "natpmpc maps 8003 -> c1:9003" sh -c \
	"ip netns exec $NS_C1 natpmpc -g $GW_LAN -a 8003 9003 tcp 3600 | grep -q 'Mapped public port 8003'"
lab_listen c1 tcp 9003 tok-8003
check "8003 carries traffic (the firewall's table)" reach tcp 8003 tok-8003
check "SIGQUIT stops igdd (the firewall's sets stay)" lab_stop_igdd QUIT
check "the own table still holds the first run's 8002" sh -c \
	"ip netns exec $NS_GW nft list map inet igdd dnat4 | grep -q 'tcp . 8002 '"
log_mark
check "igdd starts in its own table again" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "it reads the own table's elements (the mark is another table's)" \
	wait_for 10 count_log_is 1 "kernel reconciled"
check_not "... and does not take them as the journal's" count_log_ge 1 "kernel holds the restored"
check "daemon, lease file and own table agree (8002 gone, 8003 in)" lab_agree
check "8003 carries traffic" reach tcp 8003 tok-8003
lab_stop_igdd
lab_finish
