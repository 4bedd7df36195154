#!/bin/sh
# t_store_integrate.sh - the daemon attached to an existing firewall: the
# layout of conf/nftables-integrate.nft (miniupnpd-nftables' chains, a
# forward chain with policy drop).  Mappings restored through the store
# carry traffic across the drop policy, two mappings sharing one internal
# side survive each other's removal, and a clean stop leaves the
# firewall's own rules exactly as they were.
. "$(dirname "$0")/lib.sh"
lab_up
gw nft -f "$LAB_TOP/conf/nftables-integrate.nft"
gw nft list ruleset >"$LAB_DIR/before.nft"
LEASES=$LAB_DIR/igdd.leases
{
	lease_line TCP 8000 "$C1" 9000 3600
	lease_line UDP 8001 "$C1" 9001 3600
	lease_line TCP 8010 "$C1" 9010 3600
	lease_line TCP 8011 "$C1" 9010 10	# same internal side as 8010, short lease
} >"$LEASES"
lab_integrate_conf | lab_conf "$LAB_DIR/igdd.conf"
lab_listen c1 tcp 9000 t9000
lab_listen c1 udp 9001 u9001
lab_listen c1 tcp 9010 t9010
# A route to the LAN, so that only the firewall stands between the two.
out ip route add "$LAB_LAN.0/24" via "$GW_WAN"
check "the outside host cannot reach the LAN directly (policy drop)" sh -c "! ip netns exec $NS_OUT $PROBE connect tcp $C1 9000 800"
check "igdd starts attached to table inet filter" lab_start_igdd "$LAB_DIR/igdd.conf"
check "its rules are in the firewall's chains, tagged" \
	sh -c "ip netns exec $NS_GW nft list chain inet filter miniupnpd | grep -q 'comment \"igdd\"'"
check "TCP crosses the drop-policy forward chain" reach tcp 8000 t9000
check "UDP crosses it too" reach udp 8001 u9001
check "two mappings to one internal side: the first works" reach tcp 8010 t9010
check "two mappings to one internal side: the second works" reach tcp 8011 t9010
check "the second one's lease ends (its element leaves the kernel)" \
	wait_for 20 not sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8011"
check "after the second one's lease ends, the first still crosses the drop policy" reach tcp 8010 t9010
check_not "and the expired one carries nothing" reach tcp 8011 t9010
check "igdd stops cleanly" lab_stop_igdd TERM
gw nft list ruleset >"$LAB_DIR/after.nft"
check "the firewall is exactly as before igdd" diff -u "$LAB_DIR/before.nft" "$LAB_DIR/after.nft"
check_not "no mapping survives the stop" reach tcp 8000 t9000
lab_finish
