#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_dnat_daddr.sh - inbound DNAT applies only to traffic addressed to the
# gateway's external addresses (issue 14, finding 8): with a mapping of
# TCP and UDP 8000 to c1, traffic from the outside host to a prefix routed
# through the gateway (10.99.0.0/24, a host of it on the LAN) or to the
# gateway's LAN address on port 8000 is not translated, while traffic to
# the WAN address is; in the own table and integrated into a firewall's
# chains; with ext_ip reported (a CGN test host: the address is on no
# interface) and with a second address added to the WAN interface while
# igdd runs.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }

ROUTED=10.99.0.5
WAN2=$LAB_WAN.9
# c2 also holds an address of a prefix routed through the gateway; the
# outside host routes that prefix and the LAN address to the gateway.
c2 ip addr add "$ROUTED/32" dev eth0
gw ip route add "$ROUTED/32" dev lan0
out ip route add 10.99.0.0/24 via "$GW_WAN"
out ip route add "$GW_LAN/32" via "$GW_WAN"

lab_listen c1 tcp 9000 tok-c1
lab_listen c1 udp 9000 tok-c1u
lab_listen c2 tcp 8000 tok-routed
lab_listen c2 udp 8000 tok-routedu

# to ADDR PROTO PORT TOKEN: from the outside host to ADDR, TOKEN comes back
to() { [ "$(out "$PROBE" connect "$2" "$1" "$3" 1500 2>/dev/null)" = "$4" ]; }

# map CLIENT PROTO: TCP or UDP 8000 -> c1:9000 with upnpc or natpmpc
map() {
	case $1 in
	upnpc) c1 upnpc -a "$C1" 9000 8000 "$2" ;;
	natpmpc) c1 natpmpc -g "$GW_LAN" -a 8000 9000 "$2" 3600 | grep -q "Mapped public port 8000" ;;
	esac
}
unmap() {
	case $1 in
	upnpc) c1 upnpc -d 8000 "$2" ;;
	natpmpc) c1 natpmpc -g "$GW_LAN" -a 8000 9000 "$2" 0 ;;
	esac >/dev/null 2>&1
}

# dnat_case NAME CLIENT: the checks, on a running igdd
dnat_case() {
	check "$1: $2 maps TCP 8000 -> c1:9000" map "$2" tcp
	check "$1: $2 maps UDP 8000 -> c1:9000" map "$2" udp
	check "$1: TCP to the WAN address:8000 reaches c1" to "$GW_WAN" tcp 8000 tok-c1
	check "$1: UDP to the WAN address:8000 reaches c1" to "$GW_WAN" udp 8000 tok-c1u
	check "$1: TCP to routed $ROUTED:8000 reaches that host, not c1" to "$ROUTED" tcp 8000 tok-routed
	check "$1: UDP to routed $ROUTED:8000 reaches that host, not c1" to "$ROUTED" udp 8000 tok-routedu
	check_not "$1: TCP to the gateway's LAN address:8000 does not reach c1" to "$GW_LAN" tcp 8000 tok-c1
	check_not "$1: UDP to the gateway's LAN address:8000 does not reach c1" to "$GW_LAN" udp 8000 tok-c1u
	gw ip addr add "$WAN2/24" dev wan0
	out ip addr add "$LAB_WAN.10/24" dev eth0 2>/dev/null
	check "$1: a second WAN address added while running is followed" \
		wait_for 5 to "$WAN2" tcp 8000 tok-c1
	gw ip addr del "$WAN2/24" dev wan0
	check "$1: ... and dropped when removed (no longer the gateway's)" \
		wait_for 10 not to "$WAN2" tcp 8000 tok-c1
	unmap "$2" tcp
	unmap "$2" udp
}

# 1. Own table, ext_ip reported (on no interface, as on a CGN test host;
# upnpc wants a public-looking one).
lab_conf "$LAB_DIR/own.conf" <<CONF
ext_ip=1.2.3.4
secure_mode=yes
CONF
check "igdd starts (own table, ext_ip 1.2.3.4)" lab_start_igdd "$LAB_DIR/own.conf"
check "the set of external addresses holds ext_ip and the WAN address" sh -c \
	"ip netns exec $NS_GW nft list set inet igdd ext4 | grep -q '1.2.3.4' &&
	 ip netns exec $NS_GW nft list set inet igdd ext4 | grep -q '$GW_WAN'"
dnat_case own upnpc
lab_stop_igdd

# 2. Integrated into a firewall's chains (conf/nftables-integrate.nft:
# miniupnpd-nftables' layout), the WAN interface's address reported.
gw nft -f "$LAB_TOP/conf/nftables-integrate.nft"
# the firewall forwards to the routed prefix, as a router would
gw nft insert rule inet filter forward ip daddr "$ROUTED" accept
{ echo "enable_natpmp=yes"; lab_integrate_conf; } | lab_conf "$LAB_DIR/int.conf"
check "igdd starts (integrated into table inet filter)" lab_start_igdd "$LAB_DIR/int.conf"
check "the set of external addresses is igdd_ext4 in the firewall's table" \
	sh -c "ip netns exec $NS_GW nft list set inet filter igdd_ext4 | grep -q '$GW_WAN'"
dnat_case integrated natpmpc
lab_stop_igdd
lab_finish
