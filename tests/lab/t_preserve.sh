#!/bin/sh
# t_preserve.sh - port-preserving SNAT for mapped ports (issue 20): UDP and
# TCP from a mapping's internal port leave with the mapping's external
# port, seen on the outside host's socket and in conntrack, for mappings
# whose external port differs from the internal one; two LAN hosts with
# the same internal port keep their own external ports; a second mapping
# of the same internal port takes the preservation over when the first
# goes; deleting the mapping ends it; preserve_mapped_ports=no turns it
# off; the same integrated into a firewall with its own masquerade.
. "$(dirname "$0")/lib.sh"
lab_up
command -v natpmpc >/dev/null 2>&1 || { skip "natpmpc not installed"; exit 0; }

# The outside host answers whoever writes (a route back to the LAN, so that
# a flow that is not translated is answered too and its source seen).
out ip route add "$LAB_LAN.0/24" via "$GW_WAN"
for p in 7000 7001 7002 7003 7004 7005 7006 7007 7008; do lab_listen out udp $p @peer; done
lab_listen out tcp 7100 @peer
lab_listen c1 udp 5000 tok-c1
# pmp NS PROTO PUBLIC PRIVATE LIFETIME: natpmpc, quietly (lifetime 0: a delete)
pmp() {
	ip netns exec "$1" natpmpc -g "$GW_LAN" -a "$3" "$4" "$2" "$5" 2>&1 |
		grep -q "Mapped public port $([ "$5" = 0 ] && echo 0 || echo "$3") "
}
# seen NS PROTO SRC:SPORT OUTPORT WANT: the outside host's socket saw WANT
seen() {
	_got=$(peer_from "$1" "$2" "$OUT" "$4" "$3")
	[ "$_got" = "$5" ] && return 0
	echo "the outside host saw '$_got', not '$5'"
	return 1
}
not_port() {
	_got=$(peer_from "$1" "$2" "$OUT" "$4" "$3")
	case $_got in "" | *":$5") echo "the outside host saw '$_got'"; return 1 ;; esac
	return 0
}

lab_conf "$LAB_DIR/own.conf" <<CONF
secure_mode=yes
CONF
check "igdd starts (own table, preservation by default)" lab_start_igdd "$LAB_DIR/own.conf"
check "c1 maps UDP 6000 -> c1:5000 (natpmpc)" pmp "$NS_C1" udp 6000 5000 3600
check "c2 maps UDP 6001 -> c2:5000 (natpmpc, same internal port)" pmp "$NS_C2" udp 6001 5000 3600
check "c1 maps TCP 6002 -> c1:5002 (natpmpc)" pmp "$NS_C1" tcp 6002 5002 3600
check "UDP from c1:5000 arrives from WAN:6000" seen "$NS_C1" udp "$C1:5000" 7000 "$GW_WAN:6000"
check "conntrack: c1:5000 -> out:7000 leaves as WAN:6000" lab_conntrack udp \
	"src=$C1 sport=5000 dst=$OUT dport=7000" "src=$OUT sport=7000 dst=$GW_WAN dport=6000"
check "UDP from c2:5000 arrives from WAN:6001 (its own port)" seen "$NS_C2" udp "$C2:5000" 7000 "$GW_WAN:6001"
check "TCP from c1:5002 arrives from WAN:6002" seen "$NS_C1" tcp "$C1:5002" 7100 "$GW_WAN:6002"
check "conntrack: c1:5002 -> out:7100 leaves as WAN:6002" lab_conntrack tcp \
	"src=$C1 sport=5002 dst=$OUT dport=7100" "src=$OUT dst=$GW_WAN dport=6002"
check "inbound still works: outside -> WAN:6000 reaches c1:5000" reach udp 6000 tok-c1
check "UDP from another port of c1 is not translated to a mapped port" \
	not_port "$NS_C1" udp "$C1:5099" 7001 6000

# Two mappings of one internal side: the second takes over when the first goes.
UPNP_BASE=$(lab_upnp_base)
r=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=6010 \
	NewProtocol=UDP NewInternalPort=5000 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription=second NewLeaseDuration=3600)
check "c1 also maps UDP 6010 -> c1:5000 (UPnP)" test "$(printf '%s\n' "$r" | head -1)" = "HTTP 200"
check "the first mapping still gives the port: WAN:6000" seen "$NS_C1" udp "$C1:5000" 7002 "$GW_WAN:6000"
check "natpmpc deletes UDP 6000" pmp "$NS_C1" udp 6000 5000 0
check "now c1:5000 leaves from the remaining mapping's port, WAN:6010" \
	seen "$NS_C1" udp "$C1:5000" 7003 "$GW_WAN:6010"
r=$(soap c1 /ctl/IPConn "$URN_IPC2" DeletePortMapping NewRemoteHost= NewExternalPort=6010 NewProtocol=UDP)
check "UPnP deletes UDP 6010" test "$(printf '%s\n' "$r" | head -1)" = "HTTP 200"
check "with no mapping left, c1:5000 leaves untranslated (the lab has no masquerade)" \
	seen "$NS_C1" udp "$C1:5000" 7004 "$C1:5000"
check "c2's preservation is untouched" seen "$NS_C2" udp "$C2:5000" 7004 "$GW_WAN:6001"
lab_stop_igdd

lab_conf "$LAB_DIR/off.conf" <<CONF
secure_mode=yes
preserve_mapped_ports=no
CONF
check "igdd starts with preserve_mapped_ports=no (c2's mapping restored)" lab_start_igdd "$LAB_DIR/off.conf"
check "preserve_mapped_ports=no: c2:5000 leaves untranslated" \
	seen "$NS_C2" udp "$C2:5000" 7005 "$C2:5000"
lab_stop_igdd

# Integrated: the firewall masquerades LAN traffic itself; igdd's SNAT comes first.
gw nft delete table inet igdd 2>/dev/null
gw nft -f "$LAB_TOP/conf/nftables-integrate.nft"
{ echo "secure_mode=yes"; lab_integrate_conf; } | lab_conf "$LAB_DIR/int.conf"
check "igdd starts integrated (c2's mapping restored)" lab_start_igdd "$LAB_DIR/int.conf"
check "integrated: c2:5000 leaves from WAN:6001" seen "$NS_C2" udp "$C2:5000" 7006 "$GW_WAN:6001"
check "integrated: c1 maps UDP 6000 -> c1:5000" pmp "$NS_C1" udp 6000 5000 3600
check "integrated: c1:5000 leaves from WAN:6000" seen "$NS_C1" udp "$C1:5000" 7006 "$GW_WAN:6000"
check "integrated: natpmpc deletes it" pmp "$NS_C1" udp 6000 5000 0
# (new flows from c1:5000 may still leave from 6000 while the old ones
# live: Linux's masquerade reuses a source's existing translation)
check_not "integrated: and its SNAT element is gone with it" \
	sh -c "ip netns exec $NS_GW nft list map inet filter igdd_snat4 | grep -q '$C1 . udp . 5000'"
check "integrated: c2's stays" \
	sh -c "ip netns exec $NS_GW nft list map inet filter igdd_snat4 | grep -q '$C2 . udp . 5000 .*: 6001'"
lab_stop_igdd
lab_finish
