#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# t_store.sh - the store and the nftables backend, through the daemon:
# mappings restored from the lease file carry real TCP and UDP traffic,
# a remote-host restriction admits only that host, a lease expires from
# the store and the kernel, kill -9 + restart keeps every mapping with no
# duplicate kernel element, a clean stop leaves nothing in the kernel,
# and a firewall reload behind igdd's back is repaired within seconds.
. "$(dirname "$0")/lib.sh"
lab_up
OUT2=$LAB_WAN.3
out ip addr add "$OUT2/24" dev eth0
LEASES=$LAB_DIR/igdd.leases
{
	lease_line TCP 8000 "$C1" 9000 3600
	lease_line UDP 8001 "$C1" 9001 3600
	lease_line TCP 8002 "$C1" 9002 3600 "$OUT2"
	lease_line TCP 8003 "$C1" 9003 10	# ends during the test (10 s: the start may be slow)
	lease_line TCP 8004 "$C1" 9004 0
	lease_line TCP 8005 "$C1" 9005 -10	# expired before the start: dropped
} >"$LEASES"
lab_conf "$LAB_DIR/igdd.conf" </dev/null
lab_listen c1 tcp 9000 t9000
lab_listen c1 udp 9001 u9001
lab_listen c1 tcp 9002 t9002
lab_listen c1 tcp 9003 t9003
lab_listen c1 tcp 9004 t9004
lab_listen c1 tcp 9005 t9005

check "igdd starts and restores the lease file" lab_start_igdd "$LAB_DIR/igdd.conf"
check "a restored TCP mapping carries traffic from outside" reach tcp 8000 t9000
check "a restored UDP mapping carries traffic from outside" reach udp 8001 u9001
check "a lease without expiry carries traffic" reach tcp 8004 t9004
check_not "a lease expired before the start is not restored" reach tcp 8005 t9005
check "a remote-host mapping admits its host" reach_from "$OUT2" tcp 8002 t9002
check_not "a remote-host mapping refuses another host" reach_from "$OUT" tcp 8002 t9002
check "a short lease works before it ends" reach tcp 8003 t9003
check "the expired mapping leaves the kernel map" wait_for 20 nmapelems_is dnat4 3
check_not "after its lease the mapping carries nothing" reach tcp 8003 t9003
check "the lease file says it was deleted" wait_for 5 grep -q "^- TCP 8003 " "$LEASES"

# kill -9: the kernel keeps the elements while igdd is dead; the restart
# reconciles them with the lease file in one transaction, no duplicates.
lab_stop_igdd KILL
check "after kill -9 the mapping still works (kernel state kept)" reach tcp 8000 t9000
check "igdd restarts after kill -9" lab_start_igdd "$LAB_DIR/igdd.conf"
check "no duplicate dnat elements after the restart" test "$(nmapelems dnat4)" = 3
check "no duplicate restricted elements" test "$(nmapelems dnat4_rh)" = 1
check "no duplicate forward elements" test "$(nelems fwd4)" = 3
check "TCP works after the restart" reach tcp 8000 t9000
check "UDP works after the restart" reach udp 8001 u9001
check "the restricted mapping works after the restart" reach_from "$OUT2" tcp 8002 t9002

# A firewall reload behind igdd's back.
gw nft flush ruleset
check "igdd restores its table within 5 s" wait_for 5 reach tcp 8000 t9000
check "after the restore the elements are all back, once" test "$(nmapelems dnat4)" = 3
check "the restore was logged" grep -q "vanished" "$LAB_DIR/igdd.log"
gw nft flush chain inet igdd prerouting
check "an emptied chain is refilled within 5 s" wait_for 5 reach tcp 8000 t9000
check "no duplicate rules after the refill (dnat, restricted, hairpin)" \
	test "$(gw nft list chain inet igdd prerouting | grep -c 'comment "igdd"')" = 3
gw nft delete table inet igdd
check "a deleted table is re-created within 5 s" wait_for 5 reach udp 8001 u9001

check "igdd stops cleanly" lab_stop_igdd TERM
check "a clean stop leaves no igdd table in the kernel" sh -c "! ip netns exec $NS_GW nft list tables | grep -q igdd"
check_not "and the mapping no longer carries traffic" reach tcp 8000 t9000
check "the lease file keeps the mappings for the next start" grep -q "^+ TCP 8000 " "$LEASES"
check "igdd starts again from the lease file" lab_start_igdd "$LAB_DIR/igdd.conf"
check "and the mapping works again" reach tcp 8000 t9000
lab_finish
