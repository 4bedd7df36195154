#!/bin/sh
# t_upnp_mapping.sh - port mappings through UPnP with the real upnpc and a
# raw SOAP client: traffic from the outside host reaches LAN listeners
# through mapped ports; each mapping is in the store, the lease file and
# the kernel, and gone from all three after delete; conflicts, secure
# mode, argument errors, IGD:2 lease rules and v2 actions; change events.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }

# ext_ip is only reported (upnpc dislikes reserved addresses); traffic
# goes to the WAN address of the lab.
lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
secure_mode=yes
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf" -v
UPNP_BASE=$(lab_upnp_base)
check "the gateway is discovered ($UPNP_BASE)" test -n "$UPNP_BASE"

c1 upnpc -l >"$LAB_DIR/l0" 2>&1
check "upnpc -l finds the IGD" grep -q "Found valid IGD" "$LAB_DIR/l0"
check "upnpc -l shows the external address" grep -q "ExternalIPAddress = 1.2.3.4" "$LAB_DIR/l0"

# --- TCP and UDP mappings with upnpc, proven by traffic ---
lab_listen c1 tcp 9000 tok-tcp
lab_listen c1 udp 9001 tok-udp
check_not "before mapping, TCP 8000 from outside does not reach c1" reach tcp 8000 tok-tcp
check "upnpc -a $C1 9000 8000 TCP" c1 upnpc -a "$C1" 9000 8000 TCP
check "upnpc -a $C1 9001 8001 UDP" c1 upnpc -a "$C1" 9001 8001 UDP
check "TCP from outside to WAN:8000 reaches c1:9000" reach tcp 8000 tok-tcp
check "UDP from outside to WAN:8001 reaches c1:9001" reach udp 8001 tok-udp
c1 upnpc -l >"$LAB_DIR/l1" 2>&1
check "upnpc -l lists the TCP mapping" grep -q "TCP *8000->$C1:9000" "$LAB_DIR/l1"
check "upnpc -l lists the UDP mapping" grep -q "UDP *8001->$C1:9001" "$LAB_DIR/l1"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=8000 NewProtocol=TCP)
check "GetSpecificPortMappingEntry finds it in the store" sh -c \
	"printf '%s' '$out' | grep -q '<NewInternalClient>$C1</NewInternalClient>' && printf '%s' '$out' | grep -q '<NewInternalPort>9000</NewInternalPort>'"
lease=$(printf '%s' "$out" | sed -n 's/.*<NewLeaseDuration>\([0-9]*\)<.*/\1/p')
check "upnpc's lease 0 became 604800 s under IGD:2 (NewLeaseDuration $lease)" test "${lease:-0}" -gt 604000 -a "${lease:-0}" -le 604800
check "the lease file holds the mapping" grep -q " 8000 .*$C1 9000" "$LAB_DIR/igdd.leases"
check "the kernel holds the mapping" sh -c "ip netns exec $NS_GW nft list ruleset | grep -q '8000'"

check "upnpc -d 8000 TCP" c1 upnpc -d 8000 TCP
check "upnpc -d 8001 UDP" c1 upnpc -d 8001 UDP
check_not "after delete, TCP 8000 no longer reaches c1" reach tcp 8000 tok-tcp
check_not "after delete, UDP 8001 no longer reaches c1" reach udp 8001 tok-udp
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=8000 NewProtocol=TCP)
check "after delete, the store has no entry (714)" test "$(upnp_error "$out")" = 714
# (the lease file is a journal: the last record for the key must be a '-')
check "after delete, the lease file's last record for 8000/TCP is a deletion" wait_for 5 sh -c \
	"grep -i '^[-+] tcp 8000 ' '$LAB_DIR/igdd.leases' | tail -1 | grep -q '^-'"
check_not "after delete, the kernel has no element for port 8000" sh -c \
	"ip netns exec $NS_GW nft list ruleset | grep -q ' 8000 '"

# --- conflicts, secure mode, arguments ---
check "c1 maps 8002" c1 upnpc -a "$C1" 9000 8002 TCP
out=$(soap c2 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8002 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C2" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "c2 asking for the port c1 holds: 718 ConflictInMappingEntry" test "$(upnp_error "$out")" = 718
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8003 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C2" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "secure mode: c1 mapping to c2: 606 Action not authorized" test "$(upnp_error "$out")" = 606
out=$(soap c2 /ctl/IPConn "$URN_IPC2" DeletePortMapping NewRemoteHost= NewExternalPort=8002 NewProtocol=TCP)
check "secure mode: c2 deleting c1's mapping: 606" test "$(upnp_error "$out")" = 606
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=80 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "a port the permission rules deny: 606 (IGD:2, as miniupnpd)" test "$(upnp_error "$out")" = 606
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "missing NewExternalPort: 402" test "$(upnp_error "$out")" = 402
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8004 NewProtocol=TCP \
	NewInternalPort=abc NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "non-numeric NewInternalPort: 402" test "$(upnp_error "$out")" = 402
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=70000 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "NewExternalPort out of range: 402" test "$(upnp_error "$out")" = 402
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8004 NewProtocol=ICMP \
	NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "NewProtocol ICMP: 402" test "$(upnp_error "$out")" = 402
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=0 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "NewExternalPort 0: 716 WildCardNotPermittedInExtPort" test "$(upnp_error "$out")" = 716
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8005 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=big NewLeaseDuration=9999999)
check "AddPortMapping with a lease over the maximum succeeds" sh -c "printf '%s' '$out' | grep -qx 'HTTP 200'"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=8005 NewProtocol=TCP)
lease=$(printf '%s' "$out" | sed -n 's/.*<NewLeaseDuration>\([0-9]*\)<.*/\1/p')
check "... and its lease is clamped to 604800 ($lease)" test "${lease:-0}" -gt 604000 -a "${lease:-0}" -le 604800

# --- index access and v2 actions ---
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetGenericPortMappingEntry NewPortMappingIndex=0)
check "GetGenericPortMappingEntry 0 answers an entry" sh -c "printf '%s' '$out' | grep -q '<NewExternalPort>800[25]</NewExternalPort>'"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetGenericPortMappingEntry NewPortMappingIndex=99)
check "GetGenericPortMappingEntry 99: 713" test "$(upnp_error "$out")" = 713
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetGenericPortMappingEntry NewPortMappingIndex=x)
check "GetGenericPortMappingEntry x: 402" test "$(upnp_error "$out")" = 402
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddAnyPortMapping NewRemoteHost= NewExternalPort=8002 NewProtocol=UDP \
	NewInternalPort=9001 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=any NewLeaseDuration=3600)
check "AddAnyPortMapping on a free port gives it" sh -c "printf '%s' '$out' | grep -q '<NewReservedPort>8002</NewReservedPort>'"
out=$(soap c2 /ctl/IPConn "$URN_IPC2" AddAnyPortMapping NewRemoteHost= NewExternalPort=8002 NewProtocol=TCP \
	NewInternalPort=9000 NewInternalClient="$C2" NewEnabled=1 NewPortMappingDescription=any NewLeaseDuration=3600)
rp=$(printf '%s' "$out" | sed -n 's/.*<NewReservedPort>\([0-9]*\)<.*/\1/p')
check "AddAnyPortMapping on a taken port gives another one ($rp)" test -n "$rp" -a "$rp" != 8002
lab_listen c2 tcp 9000 tok-c2
check "traffic reaches c2 on the port AddAnyPortMapping chose" reach tcp "$rp" tok-c2
out=$(soap c2 /ctl/IPConn "$URN_IPC2" GetListOfPortMappings NewStartPort=1 NewEndPort=65535 NewProtocol=TCP NewManage=0 NewNumberOfPorts=0)
check "GetListOfPortMappings without Manage: c2 sees its own mapping" sh -c \
	"printf '%s' '$out' | grep -q '&lt;p:NewInternalClient&gt;$C2&lt;/p:NewInternalClient&gt;'"
check_not "... and not c1's" sh -c "printf '%s' '$out' | grep -q '$C1'"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetListOfPortMappings NewStartPort=1 NewEndPort=65535 NewProtocol=TCP NewManage=1 NewNumberOfPorts=1)
n=$(printf '%s' "$out" | grep -o 'p:PortMappingEntry&gt;' | wc -l)
check "GetListOfPortMappings with NewNumberOfPorts=1: one entry ($((n / 2)))" test "$n" = 2
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetListOfPortMappings NewStartPort=9 NewEndPort=1 NewProtocol=TCP NewManage=1 NewNumberOfPorts=0)
check "GetListOfPortMappings with start > end: 733" test "$(upnp_error "$out")" = 733
out=$(soap c1 /ctl/IPConn "$URN_IPC2" DeletePortMappingRange NewStartPort=30000 NewEndPort=30010 NewProtocol=TCP NewManage=1)
check "DeletePortMappingRange over nothing: 730" test "$(upnp_error "$out")" = 730
out=$(soap c1 /ctl/IPConn "$URN_IPC2" DeletePortMappingRange NewStartPort=8000 NewEndPort=8010 NewProtocol=TCP NewManage=0)
check "DeletePortMappingRange of c1's own TCP mappings" sh -c "printf '%s' '$out' | grep -qx 'HTTP 200'"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=8002 NewProtocol=TCP)
check "... removed c1's 8002/TCP" test "$(upnp_error "$out")" = 714
out=$(soap c2 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort="$rp" NewProtocol=TCP)
check "... and left c2's mapping alone" sh -c "printf '%s' '$out' | grep -qx 'HTTP 200'"

# --- change events ---
port=${UPNP_BASE##*:}
c1 "$SOAPC" catch 5555 10 >"$LAB_DIR/ev0" 2>&1 &
CATCH=$!
wait_listening "$LAB_DIR/ev0" $CATCH
# 8002 and 8005 were deleted just before: the event of that change (sent
# after 200 ms of moderation) must not reach a subscriber that came after
# it, whose initial event already has the values; SEQ 1 below is the next
# change's.
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s:%s\r\nCALLBACK: <http://%s:5555/e>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n' \
	"$GW_LAN" "$port" "$C1" | c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/sub" 2>&1
wait $CATCH
check "subscribed, initial event received" grep -q "SEQ: 0" "$LAB_DIR/ev0"
# catch returns on the first request; the window only bounds a failure.
# upnpc goes straight to the description (no 2 s discovery in the window).
c1 "$SOAPC" catch 5555 10 >"$LAB_DIR/ev1" 2>&1 &
CATCH=$!
wait_listening "$LAB_DIR/ev1" $CATCH
c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -a "$C1" 9000 8100 TCP >/dev/null 2>&1
wait $CATCH
check "a new mapping sends an event with SEQ 1" grep -q "SEQ: 1" "$LAB_DIR/ev1"
check "... carrying PortMappingNumberOfEntries and SystemUpdateID" sh -c \
	"grep -q '<PortMappingNumberOfEntries>[0-9]*</PortMappingNumberOfEntries>' '$LAB_DIR/ev1' && grep -q '<SystemUpdateID>' '$LAB_DIR/ev1'"

check "igdd still runs" kill -0 "$IGDD_PID"
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
