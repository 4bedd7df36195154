#!/bin/sh
# t_upnp_compat.sh - what real control points need: those that fail on
# IGD:2 (Windows, the Xbox, by their User-Agent, as miniupnpd 2.2.3 and
# OpenWrt's patch recognise them) get an IGD:1 device from their SSDP
# answers to their descriptions and SOAP control, while upnpc gets IGD:2;
# igd_v1_by_user_agent=no turns that off; QueryStateVariable (UDA 1.0)
# answers the variables that have a value, 404 Invalid Var the others.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }
command -v curl >/dev/null 2>&1 || { skip "curl not installed"; exit 0; }

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "igdd starts (IGD:2 by default)" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "discovered ($UPNP_BASE)" test -n "$UPNP_BASE"
WIN10='Microsoft-Windows/10.0 UPnP/1.0'
XP='Mozilla/4.0 (compatible; UPnP/1.0; Windows 9x)'
XBOX='Xbox/2.0.17559.0 UPnP/1.0 Xbox/2.0.17559.0'

# get UA PATH: a document as that User-Agent sees it
get() { c1 curl -s -m 5 -A "$1" "$UPNP_BASE$2"; }
# ua_soap UA PATH URN ACTION [NAME=VALUE...]: a SOAP call with that
# User-Agent; prints the HTTP status, then the body
ua_soap() {
	_ua=$1 _path=$2 _urn=$3 _act=$4; shift 4
	_args=
	for _a in "$@"; do _args="$_args<${_a%%=*}>${_a#*=}</${_a%%=*}>"; done
	c1 curl -s -m 5 -A "$_ua" -o "$LAB_DIR/soap.body" -w '%{http_code}\n' \
		-H 'Content-Type: text/xml; charset="utf-8"' -H "SOAPAction: \"$_urn#$_act\"" \
		--data-binary "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:$_act xmlns:u=\"$_urn\">$_args</u:$_act></s:Body></s:Envelope>" \
		"$UPNP_BASE$_path"
	cat "$LAB_DIR/soap.body"
}
# msearch_ua UA: answers to an ssdp:all M-SEARCH with that USER-AGENT
msearch_ua() {
	printf 'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n%s\r\n' \
		"${1:+USER-AGENT: $1
}" | sed 's/$/\r/; s/\r\r$/\r/' >"$LAB_DIR/msearch"
	c1 "$SSDPQ" raw 239.255.255.250 2500 <"$LAB_DIR/msearch" 2>/dev/null | tr -d '\r' | sed -n 's/^ST: *//p'
}

get "$WIN10" /rootDesc.xml >"$LAB_DIR/root.win"
check "Windows 10's User-Agent gets an IGD:1 description" sh -c \
	"grep -q 'InternetGatewayDevice:1<' '$LAB_DIR/root.win' && grep -q 'WANIPConnection:1<' '$LAB_DIR/root.win'"
check_not "... with no :2 device or service type" grep -q ':2<' "$LAB_DIR/root.win"
get "curl/8" /rootDesc.xml >"$LAB_DIR/root.other"
check "another User-Agent gets IGD:2" grep -q "InternetGatewayDevice:2<" "$LAB_DIR/root.other"
get FDSSDP /WANIPCn.xml >"$LAB_DIR/scpd.win"
check "FDSSDP (Windows' GET) gets WANIPConnection:1's SCPD, without AddAnyPortMapping" sh -c \
	"grep -q '<name>AddPortMapping</name>' '$LAB_DIR/scpd.win' && ! grep -q AddAnyPortMapping '$LAB_DIR/scpd.win'"
get "curl/8" /WANIPCn.xml >"$LAB_DIR/scpd.other"
check "... another gets the IGD:2 SCPD" grep -q AddAnyPortMapping "$LAB_DIR/scpd.other"

msearch_ua "$XBOX" >"$LAB_DIR/st.xbox"
check "the Xbox's M-SEARCH (USER-AGENT) is answered as IGD:1" \
	grep -q "^urn:schemas-upnp-org:device:InternetGatewayDevice:1$" "$LAB_DIR/st.xbox"
check_not "... with no :2 type, as its description will say" grep -q ":2$" "$LAB_DIR/st.xbox"
msearch_ua "" >"$LAB_DIR/st.plain"
check "an M-SEARCH without USER-AGENT is answered as IGD:2" \
	grep -q "^urn:schemas-upnp-org:device:InternetGatewayDevice:2$" "$LAB_DIR/st.plain"

out=$(ua_soap "$XP" /ctl/IPConn "$URN_IPC2" GetExternalIPAddress)
check "Windows XP's User-Agent: WANIPConnection:2 in SOAPAction is 401 (IGD:1 control)" \
	sh -c "printf '%s' '$out' | grep -q '<errorCode>401</errorCode>'"
lab_listen c1 tcp 9000 tok-win
out=$(ua_soap "$WIN10" /ctl/IPConn "$URN_IPC1" AddPortMapping NewRemoteHost= NewExternalPort=8000 \
	NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription=win NewLeaseDuration=0)
check "Windows 10 maps port 8000 with lease 0" sh -c "printf '%s' '$out' | head -1 | grep -qx 200"
check "... traffic reaches c1 through it" reach tcp 8000 tok-win
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=8000 NewProtocol=TCP)
check "... lease 0 was IGD:1's permanent, not IGD:2's 604800" \
	sh -c "printf '%s' '$out' | grep -q '<NewLeaseDuration>0</NewLeaseDuration>'"
out=$(ua_soap "$WIN10" /ctl/IPConn "$URN_IPC1" AddPortMapping NewRemoteHost= NewExternalPort=80 \
	NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription=win NewLeaseDuration=0)
check "... a port the rules deny: IGD:1's 718" sh -c "printf '%s' '$out' | grep -q '<errorCode>718</errorCode>'"

c1 upnpc -l >"$LAB_DIR/l" 2>&1
check "upnpc finds the IGD (it gets IGD:2)" grep -q "Found valid IGD" "$LAB_DIR/l"
lab_listen c1 tcp 9001 tok-upnpc
check "upnpc -a maps 8001" c1 upnpc -e x -a "$C1" 9001 8001 TCP 600
check "... traffic reaches c1" reach tcp 8001 tok-upnpc

# QueryStateVariable, as Windows XP asks it.
URN_CTL=urn:schemas-upnp-org:control-1-0
out=$(soap c1 /ctl/IPConn "$URN_CTL" QueryStateVariable varName=ConnectionStatus)
check "QueryStateVariable ConnectionStatus: Connected" \
	sh -c "printf '%s' '$out' | grep -q '<return>Connected</return>'"
check "... in the control namespace" \
	sh -c "printf '%s' '$out' | grep -q 'QueryStateVariableResponse xmlns:u=\"$URN_CTL\"'"
out=$(soap c1 /ctl/IPConn "$URN_CTL" QueryStateVariable varName=ExternalIPAddress)
check "QueryStateVariable ExternalIPAddress: 1.2.3.4" sh -c "printf '%s' '$out' | grep -q '<return>1.2.3.4</return>'"
out=$(soap c1 /ctl/IPConn "$URN_CTL" QueryStateVariable varName=PortMappingNumberOfEntries)
check "QueryStateVariable PortMappingNumberOfEntries: 2" sh -c "printf '%s' '$out' | grep -q '<return>2</return>'"
out=$(soap c1 /ctl/CmnIfCfg "$URN_CTL" QueryStateVariable varName=PhysicalLinkStatus)
check "QueryStateVariable PhysicalLinkStatus (WANCommonInterfaceConfig): Up" \
	sh -c "printf '%s' '$out' | grep -q '<return>Up</return>'"
out=$(soap c1 /ctl/IPConn "$URN_CTL" QueryStateVariable varName=NoSuchVariable)
check "an unknown variable: 404 Invalid Var" test "$(upnp_error "$out")" = 404
out=$(soap c1 /ctl/IPConn "$URN_CTL" QueryStateVariable varName=PortMappingDescription)
check "a variable with no value of its own: 404" test "$(upnp_error "$out")" = 404
out=$(soap c1 /ctl/IPConn "$URN_CTL" QueryStateVariable)
check "no varName: 402" test "$(upnp_error "$out")" = 402
out=$(ua_soap "$XP" /ctl/IPConn "$URN_CTL" QueryStateVariable varName=SystemUpdateID)
check "SystemUpdateID (IGD:2 only) to an IGD:1 control point: 404" \
	sh -c "printf '%s' '$out' | grep -q '<errorCode>404</errorCode>'"
check "igdd stops" lab_stop_igdd TERM

# The key off: IGD:2 for everyone.
echo "igd_v1_by_user_agent=no" >>"$LAB_DIR/igdd.conf"
check "igdd starts with igd_v1_by_user_agent=no" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
get "$WIN10" /rootDesc.xml >"$LAB_DIR/root.off"
check "Windows 10 then gets IGD:2" grep -q "InternetGatewayDevice:2<" "$LAB_DIR/root.off"
msearch_ua "$XBOX" >"$LAB_DIR/st.off"
check "... and so do the Xbox's searches" \
	grep -q "^urn:schemas-upnp-org:device:InternetGatewayDevice:2$" "$LAB_DIR/st.off"
check "igdd stops" lab_stop_igdd TERM
lab_finish
