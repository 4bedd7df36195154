# network.sh - a stand-in for OpenWrt's /lib/functions/network.sh (its
# answers for the lab gateway): logical interfaces lan and wan on the
# lab's devices, from $NET_LAN_DEV, $NET_WAN_DEV, $NET_LAN_SUBNET.

network_get_device() {
	case "$2" in
	lan) eval "$1=\$NET_LAN_DEV" ;;
	wan|wan6) eval "$1=\$NET_WAN_DEV" ;;
	*) eval "$1="; return 1 ;;
	esac
}
network_find_wan() { eval "$1=wan"; }
network_find_wan6() { eval "$1=wan6"; }
network_get_subnet() {
	case "$2" in
	lan) eval "$1=\$NET_LAN_SUBNET" ;;
	*) eval "$1="; return 1 ;;
	esac
}
