#!/bin/sh
# t_openwrt_conf.sh - the configuration OpenWrt's miniupnpd.init writes from
# UCI (/etc/config/upnpd), taken as it is: it passes igdd --check and runs
# in an fw4-like firewall.  The file comes from owrt_generate below, written
# for this test after the output of the init script's config generator:
# "# section" comment lines, key=value lines, XML-escaped names
# (friendly_name=...&amp;...), ext_perform_stun=allow-filtered behind a
# CGNAT address, and permission rules that end with "# comment".  Fed a
# recorded "uci show upnpd" list and the network facts the init script
# would look up, through stand-ins for config_get, config_foreach and
# network_get_*.
. "$(dirname "$0")/lib.sh"
lab_up

# --- the recorded UCI settings and network facts ---------------------------
cat >"$LAB_DIR/upnpd.uci" <<UCI
upnpd.settings=upnpd
upnpd.settings.enabled='1'
upnpd.settings.enable_protocols='all'
upnpd.settings.allow_cgnat='allow-filtered'
upnpd.settings.stun_host='stun.example.org:3479'
upnpd.settings.allow_third_party_mapping='0'
upnpd.settings.ipv6_disable='0'
upnpd.settings.system_uptime='1'
upnpd.settings.lease_file='$LAB_DIR/upnp.leases'
upnpd.settings.upnp_igd_compat='igdv1'
upnpd.settings.download_kbps='100000'
upnpd.settings.upload_kbps='20000'
upnpd.settings.friendly_name='OpenWrt UPnP IGD & PCP <lab>'
upnpd.settings.serial_number='R&D-7'
upnpd.settings.uuid='0e1a5a84-6f0e-4ab7-a2b6-2f0b3a0c8c01'
upnpd.settings.http_port='5000'
upnpd.settings.notify_interval='900'
upnpd.@internal_network[0]=internal_network
upnpd.@internal_network[0].interface='lan'
upnpd.@internal_network[0].access_preset='accept-high-ports'
upnpd.@internal_network[0].reject_ports='21 23 135 137-139 445 3389 9100'
upnpd.@acl_entry[0]=acl_entry
upnpd.@acl_entry[0].comment='Games on c1'
upnpd.@acl_entry[0].int_addr='$C1/32'
upnpd.@acl_entry[0].int_port='100-200'
upnpd.@acl_entry[0].ext_port='100-200'
upnpd.@acl_entry[0].descr_filter='^(game|voip)'
upnpd.@acl_entry[0].action='accept'
UCI
NET_LAN_DEVICE=lan0
NET_LAN_SUBNET=$LAB_LAN.0/24
NET_WAN_DEVICE=wan0
NET_WAN_IPV4=100.64.12.34	# behind a CGNAT: what makes the script ask for STUN

# --- stand-ins for OpenWrt's shell library ---------------------------------
# uci_value SECTION OPTION: the recorded value ('' quotes stripped).
uci_value() {
	sed -n "s/^upnpd\.$1\.$2='\(.*\)'\$/\1/p" "$LAB_DIR/upnpd.uci" | head -1
}
# config_get VAR SECTION OPTION [DEFAULT]
config_get() {
	_v=$(uci_value "$(printf '%s' "$2" | sed 's/[][]/\\&/g')" "$3")
	[ -n "$_v" ] || _v=${4:-}
	eval "$1=\$_v"
}
# config_foreach FUNCTION TYPE [ARG...]: FUNCTION for each section of TYPE.
config_foreach() {
	_fn=$1 _type=$2; shift 2
	for _s in $(sed -n "s/^upnpd\.\(@$_type\[[0-9]*\]\)=$_type\$/\1/p" "$LAB_DIR/upnpd.uci"); do
		"$_fn" "$_s" "$@"
	done
}
network_get_device() { [ "$2" = lan ] && eval "$1=$NET_LAN_DEVICE" || eval "$1=$NET_WAN_DEVICE"; }
network_get_subnet() { [ "$2" = lan ] && eval "$1=$NET_LAN_SUBNET" || eval "$1="; }
network_get_ipaddr() { eval "$1=$NET_WAN_IPV4"; }

# --- the generator: the init script's output, line for line ----------------
# Port or range N or N-M within 1..65535 (0 allowed in a range with $2).
owrt_port_ok() {
	case $1 in
	*[!0-9-]* | "" | -* | *- | *-*-*) return 1 ;;
	*-*) _lo=${1%-*} _hi=${1#*-}; _min=1; [ "${2:-}" = port0 ] && _min=0
	     [ "$_lo" -ge "$_min" ] && [ "$_hi" -le 65535 ] && [ "$_hi" -ge "$_lo" ] ;;
	*) [ "$1" -ge 1 ] && [ "$1" -le 65535 ] ;;
	esac
}
owrt_xml() { printf '%s\n' "$1" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'; }
owrt_acl() {
	config_get _c "$1" comment unspecified
	config_get _a "$1" int_addr 0.0.0.0/0
	config_get _ip "$1" int_port 1-65535
	config_get _ep "$1" ext_port 1-65535
	config_get _re "$1" descr_filter
	config_get _act "$1" action
	owrt_port_ok "$_ip" port0 || _ip=1-65535
	owrt_port_ok "$_ep" port0 || _ep=1-65535
	[ -n "$_re" ] && _re=" \"$_re\""
	case $_act in accept) _act=allow ;; reject) _act=deny ;; *) return 0 ;; esac
	echo "$_act $_ep $_a $_ip$_re # $_c"
}
owrt_network() {	# SECTION pre-acl|post-acl
	config_get _if "$1" interface
	config_get _preset "$1" access_preset none
	config_get _acc "$1" accept_ports
	config_get _rej "$1" reject_ports "21 23 135 137-139 445 3389"
	config_get _ign "$1" ignore_acl 0
	network_get_device _dev "$_if"
	network_get_subnet _net "$_if"
	if [ "$2" = pre-acl ]; then
		echo "# Enable internal network $_if ($_dev) with preset $_preset and ignore ACL $_ign"
		echo "listening_ip=$_dev"
	fi
	[ -n "$_net" ] || return 0
	if [ "$2" = pre-acl ]; then
		for _p in $_rej; do
			owrt_port_ok "$_p" && echo "deny $_p $_net $_p # Reject port $_p on $_if"
		done
	fi
	if { [ "$2" = post-acl ] && [ "$_ign" = 0 ]; } || { [ "$2" = pre-acl ] && [ "$_ign" = 1 ]; }; then
		case $_preset in
		accept-high-ports) _pp=1024-65535 ;;
		accept-web+high-ports) _pp="80 443 1024-65535" ;;
		accept-web-ports) _pp="80 443" ;;
		accept-all-ports) _pp=1-65535 ;;
		*) _pp= ;;
		esac
		for _p in $_pp $_acc; do
			owrt_port_ok "$_p" && echo "allow $_p $_net $_p # Accept port $_p on $_if"
		done
	fi
	[ "$2" = pre-acl ] && [ "$_ign" = 1 ] && echo "deny 1-65535 $_net 1-65535 # Reject ACL by default on $_if"
	return 0
}
owrt_generate() {
	config_get _prot settings enable_protocols all
	config_get _cgnat settings allow_cgnat 0
	config_get _stun settings stun_host stun.nextcloud.com
	config_get _third settings allow_third_party_mapping 0
	config_get _v6off settings ipv6_disable 0
	config_get _up settings system_uptime 1
	config_get _lease settings lease_file /var/run/miniupnpd.leases
	config_get _compat settings upnp_igd_compat igdv1
	config_get _down settings download_kbps
	config_get _upk settings upload_kbps
	config_get _name settings friendly_name "OpenWrt UPnP IGD & PCP"
	config_get _model settings model_number
	config_get _serial settings serial_number
	config_get _purl settings presentation_url
	config_get _uuid settings uuid
	config_get _port settings http_port 5000
	config_get _notify settings notify_interval
	network_get_ipaddr _wan4 wan
	case $_wan4 in 10.* | 172.1[6-9].* | 172.2[0-9].* | 172.3[01].* | 192.168.* | \
		100.6[4-9].* | 100.[7-9][0-9].* | 100.1[01][0-9].* | 100.12[0-7].*) _priv=1 ;; *) _priv=0 ;; esac
	echo "# Daemon"
	case $_prot in
	all) echo "enable_upnp=yes"; echo "enable_pcp_pmp=yes" ;;
	upnp-igd) echo "enable_upnp=yes"; echo "enable_pcp_pmp=no" ;;
	pcp+nat-pmp) echo "enable_upnp=no"; echo "enable_pcp_pmp=yes" ;;
	esac
	if [ "$_priv" = 1 ] && [ "$_cgnat" != 0 ]; then
		[ "$_cgnat" = 1 ] && echo "ext_perform_stun=yes"
		[ "$_cgnat" = allow-filtered ] && echo "ext_perform_stun=allow-filtered"
		[ "$_cgnat" = allow-private-ext-ipv4 ] && echo "ext_allow_private_ipv4=yes"
		echo "ext_stun_host=${_stun%%:*}"
		[ "${_stun%%:*}" != "${_stun##*:}" ] && echo "ext_stun_port=${_stun##*:}"
	fi
	case $_third in
	0) echo "secure_mode=yes"; echo "pcp_allow_thirdparty=no" ;;
	1) echo "secure_mode=no"; echo "pcp_allow_thirdparty=yes" ;;
	upnp-igd) echo "secure_mode=no"; echo "pcp_allow_thirdparty=no" ;;
	pcp) echo "secure_mode=yes"; echo "pcp_allow_thirdparty=yes" ;;
	esac
	[ "$_v6off" = 0 ] && echo "ipv6_disable=no" || echo "ipv6_disable=yes"
	[ "$_up" = 0 ] && echo "system_uptime=no" || echo "system_uptime=yes"
	touch "$_lease" && echo "lease_file=$_lease"
	[ "$_v6off" = 0 ] && touch "$_lease-ipv6" && echo "lease_file6=$_lease-ipv6"
	if [ "$_prot" = upnp-igd ] || [ "$_prot" = all ]; then
		echo "# UPnP IGD"
		[ "$_compat" = igdv1 ] && echo "force_igd_desc_v1=yes" || echo "force_igd_desc_v1=no"
		[ -n "$_down" ] && echo "bitrate_down=$((_down * 1000))"
		[ -n "$_upk" ] && echo "bitrate_up=$((_upk * 1000))"
		[ -n "$_name" ] && echo "friendly_name=$(owrt_xml "$_name")"
		[ -n "$_model" ] && echo "model_number=$(owrt_xml "$_model")" || echo "model_number="
		[ -n "$_serial" ] && echo "serial=$(owrt_xml "$_serial")" || echo "serial="
		[ -n "$_purl" ] && echo "presentation_url=$_purl"
		echo "uuid=$_uuid"
		echo "http_port=$_port"
		[ -n "$_notify" ] && echo "notify_interval=$_notify"
	fi
	echo "# Firewall backend"
	echo "upnp_table_name=fw4"
	echo "upnp_nat_table_name=fw4"
	echo "upnp_forward_chain=upnp_forward"
	echo "upnp_nat_chain=upnp_prerouting"
	echo "upnp_nat_postrouting_chain=upnp_postrouting"
	echo "# External network interface"
	echo "ext_ifname=$NET_WAN_DEVICE"
	echo "ext_ifname6=$NET_WAN_DEVICE"
	echo "# Enable internal networks / access control"
	config_foreach owrt_network internal_network pre-acl
	config_foreach owrt_acl acl_entry
	config_foreach owrt_network internal_network post-acl
	echo "deny 1-65535 0.0.0.0/0 1-65535 # Reject ACL by default"
}

CONF=$LAB_DIR/miniupnpd.conf
owrt_generate >"$CONF"
check "the generated file has the init script's features" sh -c "
	grep -qx 'friendly_name=OpenWrt UPnP IGD &amp; PCP &lt;lab&gt;' '$CONF' &&
	grep -qx 'ext_perform_stun=allow-filtered' '$CONF' &&
	grep -qx 'model_number=' '$CONF' &&
	grep -qx 'deny 3389 $LAB_LAN.0/24 3389 # Reject port 3389 on lan' '$CONF' &&
	grep -qx 'allow 100-200 $C1/32 100-200 \"^(game|voip)\" # Games on c1' '$CONF' &&
	grep -qx 'allow 1024-65535 $LAB_LAN.0/24 1024-65535 # Accept port 1024-65535 on lan' '$CONF'"
"$IGDD" --check -f "$CONF" >"$LAB_DIR/verify.out" 2>&1
check "igdd --check accepts it" grep -q "configuration OK" "$LAB_DIR/verify.out"
check_not "... and has nothing to say about its STUN keys (igdd does STUN)" \
	grep -q "ext_perform_stun\|ext_stun" "$LAB_DIR/verify.out"
check_not "... with no catch-all warning (the file ends with one)" grep -q "catch-all" "$LAB_DIR/verify.out"

# fw4's table and upnp chains, as fw4 sets them up.
gw nft -f - <<NFT
table inet fw4 {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" jump forward_lan
		iifname "wan0" jump forward_wan
	}
	chain forward_lan {
		accept
	}
	chain forward_wan {
		jump upnp_forward
		drop
	}
	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		jump upnp_prerouting
	}
	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		jump upnp_postrouting
	}
	chain upnp_forward {
	}
	chain upnp_prerouting {
	}
	chain upnp_postrouting {
	}
}
NFT
# the lab instance's own control socket (the default path is one per machine)
echo "control_socket=$LAB_DIR/igdd.sock" >>"$CONF"
check "igdd runs with it" lab_start_igdd "$CONF"
BASE=http://$GW_LAN:5000
c1 "$SOAPC" get "$BASE/rootDesc.xml" >"$LAB_DIR/root" 2>&1
check "rootDesc.xml is served" grep -q "^HTTP 200" "$LAB_DIR/root"
check "the pre-escaped friendly name is served escaped once" \
	grep -q "<friendlyName>OpenWrt UPnP IGD &amp; PCP &lt;lab&gt;</friendlyName>" "$LAB_DIR/root"
check_not "... never twice (&amp;amp;)" grep -q "&amp;amp;\|&amp;lt;" "$LAB_DIR/root"
check "the serial is served escaped once" grep -q "<serialNumber>R&amp;D-7</serialNumber>" "$LAB_DIR/root"
check "upnp_igd_compat=igdv1 (force_igd_desc_v1=yes): an IGD:1 device" \
	grep -q "InternetGatewayDevice:1<" "$LAB_DIR/root"
check "presentationURL is http://<LAN address>/ by default" \
	grep -q "<presentationURL>http://$GW_LAN/</presentationURL>" "$LAB_DIR/root"
check_not "no manufacturerURL or modelURL (none configured: nothing that 404s)" \
	grep -q "manufacturerURL\|modelURL" "$LAB_DIR/root"
for doc in rootDesc.xml WANIPCn.xml WANCfg.xml L3F.xml; do
	c1 "$SOAPC" get "$BASE/$doc" >"$LAB_DIR/doc" 2>&1
	check_not "no comment in the served $doc" grep -q "<!--" "$LAB_DIR/doc"
done
for url in $(sed -n 's,.*<\(SCPDURL\|controlURL\|eventSubURL\)>\([^<]*\)<.*,\2,p' "$LAB_DIR/root" | sort -u); do
	c1 "$SOAPC" get "$BASE$url" >"$LAB_DIR/u" 2>&1
	check_not "$url (named in the description) is not a 404" grep -q "^HTTP 404" "$LAB_DIR/u"
done

# The rules: the preset's high ports, the reject list, the ACL entry.
lab_listen c1 tcp 9000 tok-high
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 600 >"$LAB_DIR/n1.out" 2>&1
check "NAT-PMP maps a high port (accept-high-ports)" \
	grep -q "Mapped public port 8000 protocol TCP to local port 9000" "$LAB_DIR/n1.out"
check "traffic reaches c1 through fw4's upnp chains" reach tcp 8000 tok-high
lab_listen c1 tcp 9100 tok-9100
c1 natpmpc -g "$GW_LAN" -a 9100 9100 tcp 600 >"$LAB_DIR/n2.out" 2>&1
check_not "a port of reject_ports (9100) is refused" \
	grep -q "Mapped public port 9100" "$LAB_DIR/n2.out"
check_not "... and does not reach c1" reach tcp 9100 tok-9100
out=$(c1 "$SOAPC" "$BASE/ctl/IPConn" "$URN_IPC1" AddPortMapping NewRemoteHost= NewExternalPort=150 \
	NewProtocol=TCP NewInternalPort=150 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription="Game server" NewLeaseDuration=600 2>&1)
check "the ACL entry's regex lets 'Game server' map port 150" sh -c "printf '%s' '$out' | grep -qx 'HTTP 200'"
out=$(c1 "$SOAPC" "$BASE/ctl/IPConn" "$URN_IPC1" AddPortMapping NewRemoteHost= NewExternalPort=151 \
	NewProtocol=TCP NewInternalPort=151 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription="file share" NewLeaseDuration=600 2>&1)
check "... and the final catch-all refuses 'file share' on 151 (718)" test "$(upnp_error "$out")" = 718
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
