#!/bin/sh
# t_upnp_v1.sh - force_igd_desc_v1: an IGD:1 device (WANIPConnection:1
# without the v2 actions) for old clients; IGD:1 lease semantics (0 is
# permanent); IGD:1 error codes; secure_mode=no lets a client map to
# another host.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
force_igd_desc_v1=yes
secure_mode=no
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "igdd starts with force_igd_desc_v1=yes" lab_start_igdd "$LAB_DIR/igdd.conf" -v
UPNP_BASE=$(lab_upnp_base)
check "discovered ($UPNP_BASE)" test -n "$UPNP_BASE"
check "a search for InternetGatewayDevice:1 is answered" \
	c1 "$SSDPQ" search urn:schemas-upnp-org:device:InternetGatewayDevice:1 1 239.255.255.250 1500
check_not "a search for InternetGatewayDevice:2 is not" \
	c1 "$SSDPQ" search urn:schemas-upnp-org:device:InternetGatewayDevice:2 1 239.255.255.250 1500
c1 "$SOAPC" get "$UPNP_BASE/rootDesc.xml" >"$LAB_DIR/root" 2>&1
check "the root description is IGD:1 with WANIPConnection:1" sh -c \
	"grep -q 'InternetGatewayDevice:1<' '$LAB_DIR/root' && grep -q 'WANIPConnection:1<' '$LAB_DIR/root'"
c1 "$SOAPC" get "$UPNP_BASE/WANIPCn.xml" >"$LAB_DIR/scpd" 2>&1
check "the SCPD has AddPortMapping" grep -q "<name>AddPortMapping</name>" "$LAB_DIR/scpd"
check_not "the SCPD has no AddAnyPortMapping" grep -q "AddAnyPortMapping" "$LAB_DIR/scpd"
sed 1d "$LAB_DIR/scpd" >"$LAB_DIR/scpd.xml"
if command -v xmllint >/dev/null 2>&1; then
	check "the IGD:1 SCPD is well-formed" xmllint --noout "$LAB_DIR/scpd.xml"
fi

lab_listen c1 tcp 9000 tok-v1
check "upnpc -a with lease 0 (permanent in IGD:1)" c1 upnpc -a "$C1" 9000 8000 TCP 0
check "traffic reaches c1 through it" reach tcp 8000 tok-v1
out=$(soap c1 /ctl/IPConn "$URN_IPC1" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=8000 NewProtocol=TCP)
check "its NewLeaseDuration is 0 (permanent)" sh -c "printf '%s' '$out' | grep -q '<NewLeaseDuration>0</NewLeaseDuration>'"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetExternalIPAddress)
check "WANIPConnection:2 in SOAPAction on an IGD:1 device: 401" test "$(upnp_error "$out")" = 401
out=$(soap c1 /ctl/IPConn "$URN_IPC1" AddAnyPortMapping NewRemoteHost= NewExternalPort=8001 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=0)
check "AddAnyPortMapping (v2 only): 401" test "$(upnp_error "$out")" = 401
out=$(soap c1 /ctl/IPConn "$URN_IPC1" AddPortMapping NewRemoteHost= NewExternalPort=80 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=0)
check "a port the permission rules deny: 718 under IGD:1 (as miniupnpd)" test "$(upnp_error "$out")" = 718
lab_listen c2 tcp 9002 tok-c2
out=$(soap c1 /ctl/IPConn "$URN_IPC1" AddPortMapping NewRemoteHost= NewExternalPort=8002 NewProtocol=TCP \
	NewInternalPort=9002 NewInternalClient="$C2" NewEnabled=1 NewPortMappingDescription=for-c2 NewLeaseDuration=120)
check "secure_mode=no: c1 may map a port to c2" sh -c "printf '%s' '$out' | grep -qx 'HTTP 200'"
check "traffic reaches c2 through the mapping c1 made" reach tcp 8002 tok-c2
check "upnpc -d 8000 TCP" c1 upnpc -d 8000 TCP
check_not "then 8000 no longer reaches c1" reach tcp 8000 tok-v1
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
