#!/bin/sh
# t_old_kernel.sh - igdd the way it runs on kernels before 6.3 (no
# DESTROY: the delete of a missing element refuses its whole transaction)
# and before 6.12 (no element timeouts), as on Debian 12's 6.1, on this
# kernel (IGDD_KERNEL_RELEASE=6.1.0; the kernel takes the old messages
# too).  Two mappings share their internal side (8001 and 8002 to
# c1:9000: one forward element, one SNAT element).  A stop for restart
# (SIGQUIT) and a start whose rules refuse both: the kernel is as the
# journal says, so only their elements go, in one transaction, which
# holds the shared elements twice: the kernel refuses it (ENOENT), and
# each lease's elements go alone then, the ones a lookup finds, in one
# transaction.  Both DNAT elements go (the second one
# used to stay, its transaction refused for the shared element the first
# had taken), traffic stops, and the lease file gets its mark.
. "$(dirname "$0")/lib.sh"
export IGDD_KERNEL_RELEASE=6.1.0
lab_up
printf 'secure_mode=no\n' | lab_conf "$LAB_DIR/igdd.conf"
check "igdd starts as on a 6.1 kernel" lab_start_igdd "$LAB_DIR/igdd.conf"
check "... without element timeouts" grep -q "element timeouts off" "$LAB_DIR/igdd.log"
UPNP_BASE=$(lab_upnp_base)

add() {
	soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort="$1" \
		NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
		NewPortMappingDescription=old NewLeaseDuration=3600 | head -1
}
dnat_has() { gw nft list map inet igdd dnat4 | grep -q "tcp \. $1 :"; }
lab_listen c1 tcp 9000 tok
for p in 8001 8002 8003; do
	check "AddPortMapping $p -> c1:9000" test "$(add $p)" = "HTTP 200"
done
check "8001 carries traffic" reach tcp 8001 tok
check "8002 too" reach tcp 8002 tok
check_not "no element has a timeout" sh -c "ip netns exec $NS_GW nft list table inet igdd | grep -q expires"
check "DeletePortMapping 8003 (DELSETELEM)" test "$(soap c1 /ctl/IPConn "$URN_IPC2" \
	DeletePortMapping NewRemoteHost= NewExternalPort=8003 NewProtocol=TCP | head -1)" = "HTTP 200"
check_not "8003's element is gone" dnat_has 8003
check "8001 still carries traffic (the shared elements stay)" reach tcp 8001 tok

kill -QUIT "$IGDD_PID"
check "SIGQUIT stops igdd for a restart" wait_for 30 not kill -0 "$IGDD_PID"
wait "$IGDD_PID" 2>/dev/null; IGDD_PID=
check "its table stays, with 8001's element" dnat_has 8001
check "... 8002" dnat_has 8002
cp "$LAB_DIR/igdd.conf" "$LAB_DIR/deny.conf"
printf 'deny 8001-8002 0.0.0.0/0 9000\nallow 1-65535 0.0.0.0/0 1-65535\n' >>"$LAB_DIR/deny.conf"
log_mark
check "igdd starts with rules that refuse both" lab_start_igdd "$LAB_DIR/deny.conf"
check "the kernel is trusted, and both leases' elements removed" \
	count_log_ge 1 "kernel holds the restored mappings already .*: 2 ended or refused"
check "the transaction of both was refused, and each went alone" \
	count_log_ge 1 "a transaction of .* changes refused"
check_not "8001's DNAT element is gone" dnat_has 8001
check_not "8002's DNAT element is gone" dnat_has 8002
check_not "8001 carries nothing" reach tcp 8001 tok
check_not "8002 carries nothing" reach tcp 8002 tok
check "the lease file ends with its mark (nothing left in doubt)" \
	wait_for 5 sh -c "tail -n 1 '$LAB_DIR/igdd.leases' | grep -q '^# gen '"
check "SIGTERM stops igdd" lab_stop_igdd TERM
lab_finish
