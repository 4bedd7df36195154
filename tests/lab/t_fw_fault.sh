#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_fw_fault.sh - a netlink transaction that the kernel refuses halfway
# (issue 14, acceptance: the fault test).  Integrated into a firewall that
# made igdd's forward set with room for 3 elements, a mapping's add (DNAT
# element taken, forward element refused: ENFILE) leaves nothing behind,
# in the kernel, the store or the lease file; a start with 5 leases
# installs what fits and drops, logged, what the kernel refuses; the
# watchdog's re-install after a firewall reload with less room does the
# same.  After each fault the
# daemon (GetGenericPortMappingEntry, upnpc -l), the lease file and
# `nft list` hold the same mappings.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }
LAB_KV_TABLE=filter
LAB_KV_PREFIX=igdd_

gw nft -f "$LAB_TOP/conf/nftables-integrate.nft"
# The firewall's own limit: igdd attaches to the set as it finds it.
gw nft add set inet filter igdd_fwd4 '{ type ipv4_addr . inet_proto . inet_service; size 3; counter; }'
for p in 8001 8002 8003 8004 8005; do lease_line TCP $p "$C1" $((p + 1000)) 3600; done >"$LAB_DIR/igdd.leases"
{ echo "ext_ip=1.2.3.4"; echo "secure_mode=no"; lab_integrate_conf; } | lab_conf "$LAB_DIR/igdd.conf"
for p in 9001 9002 9003 9006; do lab_listen c1 tcp $p tok-$p; done

check "igdd starts with 5 leases and room for 3 in the kernel" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "the one transaction was refused and 2 mappings dropped, logged" \
	grep -q "3 of 5 mappings installed, 2 dropped" "$LAB_DIR/igdd.log"
check "store, lease file and kernel agree after the start" lab_agree
check "they hold 3 mappings" test "$(wc -l <"$LAB_DIR/view.kernel")" = 3
check "an installed mapping carries traffic" reach tcp 8001 tok-9001

add() {
	soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort="$1" \
		NewProtocol=TCP NewInternalPort="$2" NewInternalClient="$C1" NewEnabled=1 \
		NewPortMappingDescription=fault NewLeaseDuration=3600
}
r=$(add 8006 9006)
check "a fourth mapping is refused (the kernel refused half of its transaction): $(upnp_error "$r")" \
	test -n "$(upnp_error "$r")"
check "nothing of it stays: store, lease file and kernel agree" lab_agree
check_not "the DNAT element taken first in that transaction is not in the kernel" \
	sh -c "ip netns exec $NS_GW nft list map inet filter igdd_dnat4 | grep -q 8006"
check_not "NAT-PMP is refused too" sh -c \
	"ip netns exec $NS_C1 natpmpc -g $GW_LAN -a 8007 9007 tcp 3600 | grep -q 'Mapped public port'"
check "store, lease file and kernel still agree" lab_agree
c1 upnpc -l >"$LAB_DIR/l1" 2>&1
check "upnpc -l lists the same 3 mappings" test "$(grep -c 'TCP *800[1-5]->' "$LAB_DIR/l1")" = 3

check "after a delete there is room: upnpc -d 8003" c1 upnpc -d 8003 TCP
r=$(add 8006 9006)
check "the fourth mapping now fits" test "$(printf '%s\n' "$r" | head -1)" = "HTTP 200"
check "and carries traffic" reach tcp 8006 tok-9006
check "store, lease file and kernel agree" lab_agree

# The watchdog's repair meets a limit too: the firewall is reloaded (one
# transaction) with room for 2 in igdd's forward set; igdd puts its rules
# back and re-installs what fits.
log_mark
{
	echo "delete table inet filter"
	cat "$LAB_TOP/conf/nftables-integrate.nft"
	echo "add set inet filter igdd_fwd4 { type ipv4_addr . inet_proto . inet_service; size 2; counter; }"
} | gw nft -f -
check "the re-install after the reload drops, logged, what does not fit" \
	wait_for 8 sh -c "tail -n +$LOG_FROM '$LAB_DIR/igdd.log' | grep -q '2 of 3 mappings installed, 1 dropped'"
check "store, lease file and kernel agree after the repair" lab_agree
check "a mapping that fitted carries traffic" reach tcp 8001 tok-9001
lab_finish
