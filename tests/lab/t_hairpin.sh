#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_hairpin.sh - hairpin NAT (issue 20): c2 connects to the external
# address and port of c1's mapping (TCP and UDP) and reaches c1, the reply
# right (c1 sees the gateway, so it answers through it: conntrack shows
# the tuples); the external address reported with ext_ip works too; the
# hairpin opens nothing to the WAN (an outside host is not masqueraded, an
# unmapped port or a restricted mapping stays closed) and nothing to
# another LAN (c3 on lan1 does not reach c1's mapping: issue 14's two
# LANs); hairpin=no turns it off; the same integrated into a firewall's
# chains (conf/nftables-integrate.nft).
LAB_LAN2=${LAB_LAN2:-192.168.78}
. "$(dirname "$0")/lib.sh"
lab_up
command -v natpmpc >/dev/null 2>&1 || { skip "natpmpc not installed"; exit 0; }

lab_listen c1 tcp 9000 @peer
lab_listen c1 udp 9000 @peer
lab_listen c1 tcp 9010 tok-rh
# pmp PROTO PUBLIC PRIVATE: natpmpc from c1 (one hour)
pmp() { c1 natpmpc -g "$GW_LAN" -a "$2" "$3" "$1" 3600 | grep -q "Mapped public port $2"; }

lab_conf "$LAB_DIR/own.conf" <<CONF
listening_ip=lan1
secure_mode=yes
CONF
check "igdd starts (own table, hairpin by default)" lab_start_igdd "$LAB_DIR/own.conf"
check "natpmpc maps TCP 8000 -> c1:9000" pmp tcp 8000 9000
check "natpmpc maps UDP 8000 -> c1:9000" pmp udp 8000 9000
check "TCP: c2 reaches c1 through the external address, c1 sees the gateway" \
	hairpin_ok "$NS_C2" tcp "$GW_WAN"
check "TCP: conntrack: c2 -> WAN:8000 became gateway -> c1:9000" lab_conntrack tcp \
	"src=$C2 dst=$GW_WAN dport=8000" "src=$C1 dst=$GW_LAN sport=9000"
check "UDP: c2 reaches c1 through the external address, the reply comes back" \
	hairpin_ok "$NS_C2" udp "$GW_WAN"
check "UDP: conntrack: c2 -> WAN:8000 became gateway -> c1:9000" lab_conntrack udp \
	"src=$C2 dst=$GW_WAN dport=8000" "src=$C1 dst=$GW_LAN sport=9000"
pk=$(gw "$FWCTL" --ext-if wan0 --lan "lan0:$GW_LAN/24" counters tcp 8000 "$C1" 9000 2>/dev/null)
check "a mapping used through the hairpin only counts as used (idle cleanup: $pk packets)" \
	test "${pk:-0}" -gt 0

# Nothing more is open to the WAN.
out ip route add "$GW_LAN/32" via "$GW_WAN"
check "from outside, c1 sees the outside host itself (no masquerade)" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8000 1500 | grep -q '^$OUT:'"
check "conntrack: outside -> WAN:8000 -> c1:9000, replies to the outside host" lab_conntrack tcp \
	"src=$OUT dst=$GW_WAN dport=8000" "src=$C1 dst=$OUT sport=9000"
check_not "from outside, the gateway's LAN address:8000 does not lead to c1" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_LAN 8000 1000 | grep -q ."
check_not "from outside, an unmapped port stays closed" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8001 1000 | grep -q ."
UPNP_BASE=$(lab_upnp_base)
r=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost=203.0.113.9 \
	NewExternalPort=8010 NewProtocol=TCP NewInternalPort=9010 NewInternalClient="$C1" \
	NewEnabled=1 NewPortMappingDescription=rh NewLeaseDuration=3600)
check "a mapping restricted to one remote host (UPnP)" test "$(printf '%s\n' "$r" | head -1)" = "HTTP 200"
check_not "the outside host (not that remote host) does not reach it" reach tcp 8010 tok-rh
check_not "nor does c2 through the hairpin (a restricted mapping admits no LAN host)" \
	sh -c "ip netns exec $NS_C2 $PROBE connect tcp $GW_WAN 8010 1000 | grep -q tok-rh"

# Nor to another LAN.
check_not "c3 (lan1) does not reach c1's mapping through the external address" \
	reaches_c1 "$NS_C3" tcp "$GW_WAN"
check_not "nor by UDP" reaches_c1 "$NS_C3" udp "$GW_WAN"
# No hairpin element per mapping: dnat4 serves the hairpin, lan4 names
# the served LANs (the elements a restart installs: issue 21).
check "lan4 holds the served LAN" sh -c \
	"ip netns exec $NS_GW nft list set inet igdd lan4 | grep -q '$LAB_LAN.0/24 . \"lan0\"'"
check_not "no hairpin map of its own" gw nft list map inet igdd hair4
lab_stop_igdd

# The reported external address (ext_ip, on no interface) hairpins too.
lab_conf "$LAB_DIR/extip.conf" <<CONF
listening_ip=lan1
secure_mode=yes
ext_ip=1.2.3.4
CONF
check "igdd starts with ext_ip 1.2.3.4 (the mappings restored)" lab_start_igdd "$LAB_DIR/extip.conf"
check "c2 reaches c1 through ext_ip:8000" hairpin_ok "$NS_C2" tcp 1.2.3.4
check "and through the WAN interface's address" hairpin_ok "$NS_C2" tcp "$GW_WAN"
lab_stop_igdd

lab_conf "$LAB_DIR/off.conf" <<CONF
listening_ip=lan1
secure_mode=yes
hairpin=no
CONF
check "igdd starts with hairpin=no" lab_start_igdd "$LAB_DIR/off.conf"
check_not "hairpin=no: c2 does not reach c1 through the external address (TCP)" \
	reaches_c1 "$NS_C2" tcp "$GW_WAN"
check_not "hairpin=no: nor by UDP" reaches_c1 "$NS_C2" udp "$GW_WAN"
check "hairpin=no: the mapping still works from outside" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8000 1500 | grep -q '^$OUT:'"
check_not "hairpin=no: no LAN in lan4" sh -c \
	"ip netns exec $NS_GW nft list set inet igdd lan4 | grep -q elements"
lab_stop_igdd

# Integrated into a firewall (conf/nftables-integrate.nft: policy drop,
# LAN to LAN accepted).
gw nft delete table inet igdd 2>/dev/null
gw nft -f "$LAB_TOP/conf/nftables-integrate.nft"
{ echo "listening_ip=lan1"; echo "secure_mode=yes"; lab_integrate_conf; } | lab_conf "$LAB_DIR/int.conf"
check "igdd starts integrated" lab_start_igdd "$LAB_DIR/int.conf"
check "integrated: TCP hairpin reaches c1, c1 sees the gateway" hairpin_ok "$NS_C2" tcp "$GW_WAN"
check "integrated: UDP hairpin too" hairpin_ok "$NS_C2" udp "$GW_WAN"
check "integrated: conntrack tuples as in the own table" lab_conntrack tcp \
	"src=$C2 dst=$GW_WAN dport=8000" "src=$C1 dst=$GW_LAN sport=9000"
check "integrated: from outside, c1 sees the outside host" \
	sh -c "ip netns exec $NS_OUT $PROBE connect tcp $GW_WAN 8000 1500 | grep -q '^$OUT:'"
check_not "integrated: c3 (lan1) does not reach c1's mapping" reaches_c1 "$NS_C3" tcp "$GW_WAN"
lab_stop_igdd
lab_finish
