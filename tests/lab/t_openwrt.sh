#!/bin/sh
# t_openwrt.sh - the OpenWrt package (conf/openwrt/) without OpenWrt: the
# init script's own functions run against recorded /etc/config/upnpd
# files (the layout LuCI's UPnP page writes, and the newer "settings"
# one), with stand-ins for OpenWrt's config_load/config_get/procd calls
# (tests/openwrt/).  Each generated igdd.conf passes igdd --check and
# carries every option of the UCI file; the procd instance runs igdd in
# the foreground, logging to syslog, with the file watched and the
# triggers set.  Then igdd runs with the generated configuration in a
# firewall4-like table built with the package's nftables.d snippets: a
# mapping carries traffic through fw4's drop policy, and a port the ACL
# rejects is refused.
. "$(dirname "$0")/lib.sh"
lab_up
OW=$LAB_TOP/tests/openwrt
PKG=${OPENWRT_PKG:-$LAB_TOP/conf/openwrt}	# the package under test
W=$LAB_DIR/ow
mkdir -p "$W/bin"

# fw4 stand-in: its zone lookup, and "reload" loading an fw4-like table
# that takes the package's snippets where fw4 puts them (chain-pre: the
# start of a chain; chain-post: the end of a chain; table-post: the end
# of the table).
cat >"$W/fw4.nft" <<NFT
table inet fw4
flush table inet fw4
table inet fw4 {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" accept
		iifname "wan0" jump forward_wan
		include "$PKG/nftables.d/chain-post/forward/*.nft"
	}
	chain forward_wan {
		oifname "wan0" reject
	}
	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		include "$PKG/nftables.d/chain-post/dstnat/*.nft"
	}
	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		include "$PKG/nftables.d/chain-pre/srcnat/*.nft"
		oifname "wan0" masquerade
	}
	include "$PKG/nftables.d/table-post/*.nft"
}
NFT
cat >"$W/bin/fw4" <<SH
#!/bin/sh
[ "\$1" = -q ] && shift
case "\$1" in
zone) echo wan0 ;;
reload) nft -f "$W/fw4.nft" ;;
*) exit 1 ;;
esac
SH
chmod +x "$W/bin/fw4"

# run_init UCI_FILE NAME: start_service and service_triggers of the init
# script in the gateway namespace; NAME.conf, NAME.procd, NAME.log.
run_init() {
	sed "s|/var/run/igdd/|$W/run/|" "$1" >"$W/upnpd"
	: >"$W/$2.procd"
	: >"$W/$2.log"
	ip netns exec "$NS_GW" env UCI_DIR="$W" PROCD_LOG="$W/$2.procd" LOGGER_LOG="$W/$2.log" \
		NET_LAN_DEV=lan0 NET_WAN_DEV=wan0 NET_LAN_SUBNET="$GW_LAN/24" \
		IPKG_INSTROOT="$OW/root" PATH="$W/bin:$PATH" IGDD="$IGDD" W="$W" N="$2" \
		INIT="$PKG/igdd.init" FUNCS="$OW/functions.sh" sh -c '
		. "$FUNCS"
		. "$INIT"
		PROG=$IGDD IGDD_CONF=$W/$N.conf IGDD_RUN=$W/run
		IGDD_USER=nobody	# no user igdd here
		start_service && service_triggers'
}
# has NAME LINE...: every LINE is a line of NAME.conf
has() {
	_n=$1; shift
	for _l in "$@"; do
		grep -qxF -- "$_l" "$W/$_n.conf" || { echo "missing: $_l"; return 1; }
	done
}
# covers UCI_FILE: every option of the file is read by the init script
covers() {
	for _o in $(awk '$1 == "option" { print $2 }' "$1" | sort -u); do
		grep -E 'config_get|igdd_bool|igdd_ext_device' "$PKG/igdd.init" | grep -qw -- "$_o" ||
			{ echo "option $_o is not read"; return 1; }
	done
}

check "the package Makefile installs every file of the package" sh -c \
	"for f in igdd.init upnpd.config nftables.d; do grep -q \"\\./\$f\" '$PKG/Makefile' || exit 1; done"

# --- the layout LuCI's UPnP page writes ---
check "v1: the init script starts igdd" run_init "$OW/upnpd.v1" v1
check "v1: the generated configuration passes igdd --check" "$IGDD" --check -f "$W/v1.conf"
check "v1: every option of the UCI file is read" covers "$OW/upnpd.v1"
check "v1: ... and lands in igdd.conf" has v1 \
	ext_ifname=wan0 listening_ip=lan0 enable_upnp=yes enable_natpmp=yes secure_mode=yes \
	system_uptime=no force_igd_desc_v1=yes ipv6_disable=yes ext_allow_private_ipv4=yes \
	ext_perform_stun=yes ext_stun_host=stun.example.org ext_stun_port=3478 \
	bitrate_down=8388608 bitrate_up=4194304 "lease_file=$W/run/igdd.leases" user=nobody \
	http_port=5000 serial=SN-42 "model_number=MN 7" presentation_url=http://192.168.77.1/ \
	notify_interval=900 uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
check "v1: fw4 integration (inet fw4, upnp_forward, upnp_prerouting, upnp_postrouting)" has v1 \
	upnp_table_name=fw4 upnp_nat_table_name=fw4 upnp_forward_chain=upnp_forward \
	upnp_nat_chain=upnp_prerouting upnp_nat_postrouting_chain=upnp_postrouting
check "v1: the perm_rules in order, comments on lines of their own" sh -c \
	"grep -A1 -x '# Allow high ports' '$W/v1.conf' | tail -1 | grep -qx 'allow 1024-65535 0.0.0.0/0 1024-65535' &&
	 grep -A1 -x '# Web server on c1' '$W/v1.conf' | tail -1 | grep -qx 'allow 80 192.168.77.10/32 8080' &&
	 grep -E '^(allow|deny) ' '$W/v1.conf' | tail -1 | grep -qx 'deny 0-65535 0.0.0.0/0 0-65535'"
check "v1: procd: igdd -d --syslog -f the generated file, -v (log_output)" sh -c \
	"grep -qx 'set_param command $IGDD -d --syslog -f $W/v1.conf' '$W/v1.procd' &&
	 grep -qx 'append_param command -v' '$W/v1.procd'"
check "v1: procd watches the generated file" grep -qx "set_param file $W/v1.conf" "$W/v1.procd"
check "v1: triggers: the upnpd and firewall configurations, an interface coming up" sh -c \
	"grep -qx 'reload_trigger upnpd firewall' '$W/v1.procd' && grep -q '^raw_trigger interface.\\*.up ' '$W/v1.procd'"
check "v1: fw4 was asked for its upnp chains (reload)" \
	ip netns exec "$NS_GW" nft list chain inet fw4 upnp_forward

# --- the newer layout ---
check "v2: the init script starts igdd" run_init "$OW/upnpd.v2" v2
check "v2: the generated configuration passes igdd --check" "$IGDD" --check -f "$W/v2.conf"
check "v2: every option of the UCI file is read" covers "$OW/upnpd.v2"
check "v2: ... and lands in igdd.conf" has v2 \
	ext_ifname=wan0 listening_ip=lan0 enable_upnp=yes enable_natpmp=yes secure_mode=yes \
	pcp_allow_thirdparty=yes ext_allow_private_ipv4=yes force_igd_desc_v1=no \
	bitrate_down=100000000 bitrate_up=20000000 "friendly_name=Router & <Co>" \
	"lease_file=$W/run/igdd.leases" user=nobody http_port=5000 serial=SN-42 \
	"model_number=MN 7" notify_interval=900 upnp_table_name=fw4
check "v2: the rules: rejected ports, the ACL, each LAN's accepted ports, deny the rest" sh -c \
	"grep -E '^(allow|deny) ' '$W/v2.conf' | tr '\\n' '|' | grep -qxF 'deny 1-65535 0.0.0.0/0 21|deny 21 0.0.0.0/0 1-65535|deny 1-65535 0.0.0.0/0 23|deny 23 0.0.0.0/0 1-65535|allow 3074 192.168.77.0/24 3074 \"^Xbox\"|deny 1-65535 0.0.0.0/0 445|allow 1024-65535 $GW_LAN/24 1024-65535|allow 5060 $GW_LAN/24 5060|deny 0-65535 0.0.0.0/0 0-65535|'"
check "v2: procd: -vv for log_output=debug" grep -qx 'append_param command -vv' "$W/v2.procd"
cp "$W/v1.conf" "$W/mine.conf"
printf 'config upnpd config\n\toption enabled 1\n\toption config_file %s\n' "$W/mine.conf" >"$W/own"
run_init "$W/own" own
check "config_file: igdd runs on that file as it is" sh -c \
	"grep -qx 'set_param command $IGDD -d --syslog -f $W/mine.conf' '$W/own.procd' && test ! -e '$W/own.conf'"
printf 'config upnpd settings\n\toption enabled 0\n' >"$W/off"
run_init "$W/off" off
check "disabled in UCI: no procd instance" sh -c "! grep -q open_instance '$W/off.procd'"

# --- igdd on the generated configuration, in an fw4-like table ---
sed "s|^lease_file=.*|lease_file=$LAB_DIR/lab.leases|; s|^user=.*|user=root|" "$W/v2.conf" >"$W/lab.conf"
check "igdd starts on the generated configuration" lab_start_igdd "$W/lab.conf"
check "... attached to table inet fw4" sh -c \
	"ip netns exec $NS_GW nft list chain inet fw4 upnp_prerouting | grep -q 'comment \"igdd\"'"
lab_listen c1 tcp 9000 TOK
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >"$LAB_DIR/n.out" 2>&1
check "a NAT-PMP mapping carries traffic through fw4's drop policy" reach tcp 8000 TOK
UPNP_BASE=$(lab_upnp_base)
c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -e test -a "$C1" 445 8445 TCP >"$LAB_DIR/u.out" 2>&1
check "UPnP: the port the ACL rejects (445) is refused" sh -c \
	"! grep -q 'is redirected to internal' '$LAB_DIR/u.out' && ! ip netns exec $NS_GW nft list table inet fw4 | grep -q 8445"
check "igdd stops (status 0)" lab_stop_igdd TERM
check "... its rules left fw4's table" sh -c \
	"! ip netns exec $NS_GW nft list table inet fw4 | grep -q 'comment \"igdd\"'"
lab_finish
