#!/bin/sh
# t_upnp_discovery.sh - SSDP and the HTTP server, as LAN clients and the
# outside host see them: announcements at start and byebye at stop, an
# answer to each search target from the LAN interface with its LOCATION,
# descriptions that are well-formed XML, SOAP answers and errors, HTTP
# limits, and nothing answered on the WAN side.
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=203.0.113.7
notify_interval=30
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
http_idle_timeout=2
http_max_connections=64
friendly_name=Lab <gateway> & co
CONF
UUID=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
# get_status_from NS_FN STATUS URL: a GET from that namespace answers STATUS
get_status_from() { $1 "$SOAPC" get "$3" 2>&1 | grep -qx "HTTP $2"; }
get_status() { get_status_from c1 "$@"; }

# --- announcements at start ---
c1 "$SSDPQ" listen 4 >"$LAB_DIR/alive" 2>&1 &
LISTENER=$!
wait_listening "$LAB_DIR/alive" $LISTENER
check "igdd starts with UPnP enabled" lab_start_igdd "$LAB_DIR/igdd.conf" -v
wait $LISTENER
check "ssdp:alive NOTIFYs reach c1 at start" grep -q "NTS: ssdp:alive" "$LAB_DIR/alive"
n=$(tr -d '\r' <"$LAB_DIR/alive" | grep '^NT: ' | sort -u | wc -l)
check "10 distinct NTs announced (3 + 2*2 devices + 3 services), got $n" test "$n" = 10
check "announcements carry LOCATION on the LAN address" grep -q "LOCATION: http://$GW_LAN:" "$LAB_DIR/alive"
check "announcements carry CACHE-CONTROL, SERVER, BOOTID.UPNP.ORG, CONFIGID.UPNP.ORG" \
	sh -c "grep -q 'CACHE-CONTROL: max-age=' '$LAB_DIR/alive' && grep -q 'SERVER: Linux/.* UPnP/1.1 igdd/' '$LAB_DIR/alive' && grep -q 'BOOTID.UPNP.ORG: ' '$LAB_DIR/alive' && grep -q 'CONFIGID.UPNP.ORG: ' '$LAB_DIR/alive'"

UPNP_BASE=$(lab_upnp_base)
check "an M-SEARCH answer names the gateway's LAN address ($UPNP_BASE)" \
	sh -c "echo '$UPNP_BASE' | grep -q '^http://$GW_LAN:[0-9]*$'"

# --- every search target ---
for st in ssdp:all upnp:rootdevice "uuid:$UUID" \
	urn:schemas-upnp-org:device:InternetGatewayDevice:1 \
	urn:schemas-upnp-org:device:InternetGatewayDevice:2 \
	urn:schemas-upnp-org:device:WANDevice:1 urn:schemas-upnp-org:device:WANDevice:2 \
	urn:schemas-upnp-org:device:WANConnectionDevice:2 \
	"$URN_IPC1" "$URN_IPC2" "$URN_CFG" "$URN_L3F"; do
	c1 "$SSDPQ" search "$st" 1 239.255.255.250 1600 >"$LAB_DIR/ans" 2>&1
	tr -d '\r' <"$LAB_DIR/ans" >"$LAB_DIR/ans2"
	if [ "$st" = ssdp:all ]; then
		n=$(grep -c '^--- answer' "$LAB_DIR/ans2")
		check "ssdp:all: 10 answers (got $n)" test "$n" = 10
	else
		check "ST $st: answered with the same ST" grep -qx "ST: $st" "$LAB_DIR/ans2"
		check "ST $st: USN, EXT, LOCATION, BOOTID present" sh -c \
			"grep -q '^USN: uuid:' '$LAB_DIR/ans2' && grep -qx 'EXT:' '$LAB_DIR/ans2' && grep -q '^LOCATION: http://$GW_LAN:.*/rootDesc.xml' '$LAB_DIR/ans2' && grep -q '^BOOTID.UPNP.ORG: ' '$LAB_DIR/ans2'"
	fi
done
c1 "$SSDPQ" search urn:schemas-upnp-org:service:WANIPConnection:3 1 239.255.255.250 1500 >/dev/null 2>&1
check_not "a search for WANIPConnection:3 (newer than ours) is not answered" test $? = 0
check_not "a search for a MediaServer is not answered" \
	c1 "$SSDPQ" search urn:schemas-upnp-org:device:MediaServer:1 1 239.255.255.250 1500
check "MX: 0 is answered (no divide by zero)" c1 "$SSDPQ" search ssdp:all 0 239.255.255.250 1500
check "MX: garbage is answered" c1 "$SSDPQ" search ssdp:all xyz 239.255.255.250 1500
c1 "$SSDPQ" search upnp:rootdevice 5 "$GW_LAN" 1000 >"$LAB_DIR/uni" 2>&1
ms=$(sed -n 's/^--- answer .* after \([0-9]*\) ms/\1/p' "$LAB_DIR/uni" | head -1)
check "a unicast M-SEARCH is answered at once (${ms:-no answer} ms)" test -n "$ms" -a "${ms:-9999}" -lt 500
{ printf 'M-SEARCH * HTTP/1.1\r\nST: '; head -c 1400 /dev/zero | tr '\0' ':'; printf '\r\nMX: 1\r\n\r\n'; } |
	c1 "$SSDPQ" raw "$GW_LAN" 500 >/dev/null 2>&1
head -c 65000 /dev/urandom | c1 "$SSDPQ" raw "$GW_LAN" 300 >/dev/null 2>&1
check "hostile datagrams (1,400 ':' ST, 64 KB noise) do not kill igdd" kill -0 "$IGDD_PID"
# rate limit: 30 searches at once from one source get at most ~10 answers
PIDS=
for i in $(seq 1 30); do
	c1 "$SSDPQ" search upnp:rootdevice 1 "$GW_LAN" 300 >>"$LAB_DIR/flood" 2>&1 &
	PIDS="$PIDS $!"
done
wait $PIDS
n=$(grep -c '^--- answer' "$LAB_DIR/flood")
check "30 M-SEARCHes in a burst from one host: at most 20 answered (got $n)" test "$n" -le 20 -a "$n" -ge 1

# --- descriptions ---
for d in rootDesc.xml WANIPCn.xml WANCfg.xml L3F.xml; do
	c1 "$SOAPC" get "$UPNP_BASE/$d" >"$LAB_DIR/$d.out" 2>&1
	check "GET /$d: 200" grep -qx "HTTP 200" "$LAB_DIR/$d.out"
	sed 1d "$LAB_DIR/$d.out" >"$LAB_DIR/$d"
	if command -v xmllint >/dev/null 2>&1; then
		check "/$d is well-formed XML (xmllint --noout)" xmllint --noout "$LAB_DIR/$d"
	else
		skip "xmllint not installed: /$d not checked"
	fi
done
check "the friendly name is XML-escaped" grep -q "Lab &lt;gateway&gt; &amp; co" "$LAB_DIR/rootDesc.xml"
check "the root description is IGD:2" grep -q "InternetGatewayDevice:2" "$LAB_DIR/rootDesc.xml"
check "GET of an unknown path: 404" get_status 404 "$UPNP_BASE/nope.xml"
printf 'DELETE /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n' "${UPNP_BASE#http://}" |
	c1 "$SOAPC" raw "$GW_LAN" "${UPNP_BASE##*:}" >"$LAB_DIR/r" 2>&1
check "DELETE on a description: 405" grep -qx "HTTP 405" "$LAB_DIR/r"
printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: evil.example:%s\r\n\r\n' "${UPNP_BASE##*:}" |
	c1 "$SOAPC" raw "$GW_LAN" "${UPNP_BASE##*:}" >"$LAB_DIR/r" 2>&1
check "a Host naming another host (DNS rebinding): 400" grep -qx "HTTP 400" "$LAB_DIR/r"

# --- SOAP without mappings ---
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetExternalIPAddress)
check "GetExternalIPAddress reports ext_ip" sh -c "printf '%s' '$out' | grep -q '<NewExternalIPAddress>203.0.113.7</NewExternalIPAddress>'"
out=$(soap c1 /ctl/IPConn "$URN_IPC1" GetStatusInfo)
check "GetStatusInfo through the v1 namespace: Connected" sh -c "printf '%s' '$out' | grep -q 'Connected'"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" NoSuchAction)
check "an unknown action: 401" test "$(upnp_error "$out")" = 401
out=$(soap c1 /ctl/L3F "$URN_IPC2" GetExternalIPAddress)
check "a WANIPConnection action on the L3F control URL: 401" test "$(upnp_error "$out")" = 401
port=${UPNP_BASE##*:}
printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s:%s\r\nSOAPAction: \r\nContent-Length: 2\r\n\r\nab' "$GW_LAN" "$port" |
	c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/r" 2>&1
check "an empty SOAPAction: 401, not a crash" grep -qx "UPnPError 401" "$LAB_DIR/r"
printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s:%s\r\nSOAPAction: "\r\nContent-Length: 0\r\n\r\n' "$GW_LAN" "$port" |
	c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/r" 2>&1
check "a one-character SOAPAction: 401" grep -qx "UPnPError 401" "$LAB_DIR/r"
out=$(soap c1 /ctl/CmnIfCfg "$URN_CFG" GetCommonLinkProperties)
check "GetCommonLinkProperties answers" sh -c "printf '%s' '$out' | grep -q '<NewPhysicalLinkStatus>Up</NewPhysicalLinkStatus>'"
out=$(soap c1 /ctl/CmnIfCfg "$URN_CFG" GetTotalBytesReceived)
check "GetTotalBytesReceived answers" sh -c "printf '%s' '$out' | grep -q '<NewTotalBytesReceived>[0-9]*</NewTotalBytesReceived>'"
out=$(soap c1 /ctl/L3F "$URN_L3F" GetDefaultConnectionService)
check "GetDefaultConnectionService names WANIPConn1" sh -c "printf '%s' '$out' | grep -q 'urn:upnp-org:serviceId:WANIPConn1'"

# --- HTTP limits ---
for req in "POST /ctl/IPConn HTTP/1.1\r\nHost: $GW_LAN:$port\r\n\r\n=411" \
	   "POST /ctl/IPConn HTTP/1.1\r\nHost: $GW_LAN:$port\r\nContent-Length: -5\r\n\r\n=400" \
	   "POST /ctl/IPConn HTTP/1.1\r\nHost: $GW_LAN:$port\r\nContent-Length: 99999999\r\n\r\n=413" \
	   "POST /ctl/IPConn HTTP/1.1\r\nHost: $GW_LAN:$port\r\nTransfer-Encoding: gzip, chunked\r\n\r\n=501"; do
	want=${req##*=}
	printf "${req%=*}" | c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/r" 2>&1
	check "HTTP limit answer $want" grep -qx "HTTP $want" "$LAB_DIR/r"
done
{ printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nX-Slow: ' "$GW_LAN"; head -c 9000 /dev/zero | tr '\0' a; } |
	c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/r" 2>&1
check "a header over 8 KiB: 431" grep -qx "HTTP 431" "$LAB_DIR/r"
printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: x' | c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/r" 2>&1
check "a stalled request is closed after the idle timeout (408)" grep -qx "HTTP 408" "$LAB_DIR/r"
c1 sh -c "ulimit -n 4096; '$SOAPC' flood $GW_LAN $port 1100 3" >"$LAB_DIR/flood" 2>&1 &
FLOOD=$!
sleep 1.5
check "with 1,100 idle connections open, a real client still gets the description" \
	get_status 200 "$UPNP_BASE/rootDesc.xml"
wait $FLOOD
check "the idle connections were accepted then evicted ($(cat "$LAB_DIR/flood"))" \
	grep -q "opened 1100 " "$LAB_DIR/flood"
check "igdd survived the HTTP abuse" kill -0 "$IGDD_PID"

# --- GENA ---
c1 "$SOAPC" catch 5555 10 >"$LAB_DIR/notify" 2>&1 &
CATCH=$!
wait_listening "$LAB_DIR/notify" $CATCH
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s:%s\r\nCALLBACK: <http://%s:5555/evt>\r\nNT: upnp:event\r\nTIMEOUT: Second-300\r\n\r\n' \
	"$GW_LAN" "$port" "$C1" | c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/sub" 2>&1
check "SUBSCRIBE: 200 with a SID" sh -c "grep -qx 'HTTP 200' '$LAB_DIR/sub'"
wait $CATCH
check "the initial event reaches the subscriber (NOTIFY, SEQ: 0)" sh -c \
	"grep -q '^NOTIFY /evt HTTP/1.1' '$LAB_DIR/notify' && grep -q 'SEQ: 0' '$LAB_DIR/notify' && grep -q '<ExternalIPAddress>203.0.113.7</ExternalIPAddress>' '$LAB_DIR/notify'"
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s:%s\r\nCALLBACK: <http://%s:5555/evt>\r\nNT: upnp:event\r\n\r\n' \
	"$GW_LAN" "$port" "$C2" | c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/r" 2>&1
check "a CALLBACK naming another host is refused: 412 (CallStranger)" grep -qx "HTTP 412" "$LAB_DIR/r"
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s:%s\r\nSID: uuid:00000000-0000-0000-0000-000000000000\r\n\r\n' \
	"$GW_LAN" "$port" | c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/r" 2>&1
check "renewing an unknown SID: 412" grep -qx "HTTP 412" "$LAB_DIR/r"
printf 'UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s:%s\r\nSID: uuid:00000000-0000-0000-0000-000000000000\r\nNT: upnp:event\r\n\r\n' \
	"$GW_LAN" "$port" | c1 "$SOAPC" raw "$GW_LAN" "$port" >"$LAB_DIR/r" 2>&1
check "SID with NT: 400 (UDA 1.1 incompatible header fields)" grep -qx "HTTP 400" "$LAB_DIR/r"

# --- nothing for the WAN side ---
check_not "an M-SEARCH from outside to the WAN address gets no answer" \
	out "$SSDPQ" search ssdp:all 1 "$GW_WAN" 1500
check_not "the HTTP port is closed on the WAN address" \
	get_status_from out 200 "http://$GW_WAN:$port/rootDesc.xml"
out ip route add "$LAB_LAN.0/24" via "$GW_WAN"
check_not "an M-SEARCH from outside routed to the LAN address gets no answer" \
	out "$SSDPQ" search ssdp:all 1 "$GW_LAN" 1500
check_not "HTTP from outside routed to the LAN address is refused" \
	get_status_from out 200 "http://$GW_LAN:$port/rootDesc.xml"

# --- byebye at stop ---
c1 "$SSDPQ" listen 3 >"$LAB_DIR/bye" 2>&1 &
LISTENER=$!
wait_listening "$LAB_DIR/bye" $LISTENER
check "igdd stops with status 0 on SIGTERM" lab_stop_igdd TERM
wait $LISTENER
n=$(grep -c "NTS: ssdp:byebye" "$LAB_DIR/bye")
check "ssdp:byebye for all 10 NTs at SIGTERM (got $n)" test "$n" = 10
lab_finish
