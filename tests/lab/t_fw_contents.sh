#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_fw_contents.sh - the firewall watchdog checks contents, not only objects
# (issue 14, finding 11; issue 16, consistency with the kernel): an element
# deleted, a map flushed or an element changed behind igdd's back
# (nft delete element / flush map / add element) is noticed from the
# nftables change notifications and repaired within seconds, logged; igdd's
# own changes are not taken for someone else's; in the own table and
# integrated into a drop-policy firewall, where a lost forward element
# alone stops a mapping.  The IPv6 pinhole sets (pin6, pin6_rhost...) are
# watched the same way: an element deleted, a set flushed (notifications),
# an element lost while the notifications were lost too (element counts).
. "$(dirname "$0")/lib.sh"
lab_up
command -v natpmpc >/dev/null 2>&1 || { skip "natpmpc not installed"; exit 0; }
check "IPv6 on every link" lab_ipv6

lab_listen c1 tcp 9000 tok-c1
lab_listen c1 udp 9001 tok-c1u
lab_listen c2 tcp 9000 tok-c2

# pmp PROTO PUBLIC PRIVATE LIFETIME: natpmpc from c1, quietly
pmp() { c1 natpmpc -g "$GW_LAN" -a "$2" "$3" "$1" "$4" >/dev/null 2>&1; }
# pin6 PROTO PORT [PCPC OPTIONS]: a PCP pinhole to c1's IPv6 address
pin6() {
	_p=$1 _port=$2; shift 2
	ip netns exec "$NS_C1" "$PCPC" -n 0102030405060708090a0b$(printf %02x $((_port % 256))) \
		"$GW6_LAN" map "$_p" "$_port" 0 3600 "$@" | grep -qx 'result=0'
}
lab_listen c1 tcp 9400 tok6-a
lab_listen c1 tcp 9401 tok6-b
repaired() { count_log "changed by another process: re-installing" | grep -qv '^0$'; }

# 1. Own table.
lab_conf "$LAB_DIR/own.conf" <<CONF
secure_mode=yes
ipv6_block_inbound=yes
CONF
check "igdd starts (own table)" lab_start_igdd "$LAB_DIR/own.conf" -v
check "natpmpc maps TCP 8000 -> c1:9000" pmp tcp 8000 9000 3600
check "natpmpc maps UDP 8001 -> c1:9001" pmp udp 8001 9001 3600
for p in 8100 8101 8102 8103; do pmp tcp $p $p 3600; pmp tcp $p $p 0; done
check "TCP 8000 reaches c1" reach tcp 8000 tok-c1
check "PCP opens a pinhole to c1's TCP 9400 (pin6)" pin6 tcp 9400
check "... and one to TCP 9401 for the outside host only (pin6_rhost)" pin6 tcp 9401 --filter "[$OUT6]"
check "TCP 9400 reaches c1's IPv6 address" reach6 tcp "$C1_6" 9400 tok6-a
check "TCP 9401 too, from the outside host" reach6 tcp "$C1_6" 9401 tok6-b
sleep 0.5
check "igdd's own changes are not taken for another process's" \
	test "$(count_log 're-installing')" = 0

log_mark
gw nft delete element inet igdd dnat4 '{ tcp . 8000 }'
check "an element deleted behind igdd's back carries traffic again" wait_for 5 reach tcp 8000 tok-c1
check "the log says so" repaired
check "UDP 8001 was not disturbed" reach udp 8001 tok-c1u

log_mark
gw nft flush map inet igdd dnat4
check "after nft flush map, TCP 8000 carries traffic again" wait_for 5 reach tcp 8000 tok-c1
check "after nft flush map, UDP 8001 carries traffic again" reach udp 8001 tok-c1u
check "the log says so (flush)" repaired

log_mark
gw nft -f - <<NFT
delete element inet igdd dnat4 { tcp . 8000 }
add element inet igdd dnat4 { tcp . 8000 : $C2 . 9000 }
NFT
check "an element changed to another target is put back (TCP 8000 reaches c1, not c2)" \
	wait_for 5 reach tcp 8000 tok-c1
check "the log says so (changed)" repaired
UPNP_BASE=$(lab_upnp_base)
check "the daemon, the lease file and the kernel agree after the repairs" lab_agree

log_mark
gw nft delete element inet igdd pin6 "{ $C1_6 . tcp . 9400 }"
check "a pinhole element deleted behind igdd's back lets traffic in again" \
	wait_for 5 reach6 tcp "$C1_6" 9400 tok6-a
check "the log says so (pin6)" repaired
log_mark
gw nft flush set inet igdd pin6
gw nft flush set inet igdd pin6_rhost
check "after nft flush set pin6, TCP 9400 reaches c1 again" wait_for 5 reach6 tcp "$C1_6" 9400 tok6-a
check "after nft flush set pin6_rhost, the restricted pinhole too" reach6 tcp "$C1_6" 9401 tok6-b
check "the log says so (pin6 flushed)" repaired

# Notifications lost: igdd is stopped while another process's burst of
# changes overflows its notification socket, then an element is deleted
# (that notification is lost too); the element counts find it.
log_mark
kill -STOP "$IGDD_PID"
gw nft add set inet igdd junk '{ type ipv4_addr; }'
awk 'BEGIN { printf "add element inet igdd junk { "
	for (i = 0; i < 300000; i++) printf "%s10.%d.%d.%d", i ? ", " : "", i / 65536, i / 256 % 256, i % 256
	print " }" }' >"$LAB_DIR/junk.nft"
gw nft -f "$LAB_DIR/junk.nft"
gw nft delete element inet igdd dnat4 '{ udp . 8001 }'
kill -CONT "$IGDD_PID"
check "with the notifications lost, the element counts find the deleted element" \
	wait_for 5 reach udp 8001 tok-c1u
check "the log says so (counts)" sh -c "test \$(tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -c 'do not hold its mappings: re-installing') -ge 1"
gw nft delete set inet igdd junk
# The same with only a pinhole element lost: pin6 is counted too.
log_mark
kill -STOP "$IGDD_PID"
gw nft add set inet igdd junk '{ type ipv4_addr; }'
gw nft -f "$LAB_DIR/junk.nft"
gw nft delete element inet igdd pin6 "{ $C1_6 . tcp . 9400 }"
kill -CONT "$IGDD_PID"
check "with the notifications lost, the counts find the lost pinhole element" \
	wait_for 5 reach6 tcp "$C1_6" 9400 tok6-a
check "the log says so (pin6 counts)" sh -c "tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q 'pin6 holds 0 elements, igdd expects 1'"
gw nft delete set inet igdd junk
lab_stop_igdd

# 2. Integrated into a drop-policy firewall: a forward element deleted
# behind igdd's back stops the mapping on its own.
gw nft -f "$LAB_TOP/conf/nftables-integrate.nft"
{ echo "secure_mode=yes"; lab_integrate_conf; } | lab_conf "$LAB_DIR/int.conf"
check "igdd starts (integrated)" lab_start_igdd "$LAB_DIR/int.conf" -v
check "natpmpc maps TCP 8000 -> c1:9000 (integrated)" pmp tcp 8000 9000 3600
check "TCP 8000 crosses the drop policy" reach tcp 8000 tok-c1
check "PCP opens a pinhole to c1's TCP 9400 (integrated)" pin6 tcp 9400
check "it crosses the drop policy" reach6 tcp "$C1_6" 9400 tok6-a
log_mark
gw nft delete element inet filter igdd_fwd4 "{ $C1 . tcp . 9000 }"
check "a forward element deleted behind igdd's back is put back" wait_for 5 reach tcp 8000 tok-c1
check "the log says so (integrated)" repaired
log_mark
gw nft flush set inet filter igdd_fwd4
check "after nft flush set, TCP 8000 crosses the drop policy again" wait_for 5 reach tcp 8000 tok-c1
check "the log says so (flush set)" repaired
log_mark
gw nft flush set inet filter igdd_pin6
check "after nft flush set igdd_pin6, the pinhole crosses the drop policy again" \
	wait_for 5 reach6 tcp "$C1_6" 9400 tok6-a
check "the log says so (igdd_pin6)" repaired
log_mark
gw nft add rule inet filter miniupnpd counter comment '"the firewall adds a rule of its own"'
sleep 2.5
check "a rule of the firewall's own in the chain is no reason to re-install" \
	test "$(count_log 're-installing')" = 0
lab_stop_igdd
lab_finish
