#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_http_keepalive.sh - HTTP/1.1 persistent connections (UDA 1.1 allows
# them; some control points use them): descriptions, SOAP control and GENA
# on one reused connection, a mapping made on it proven by traffic;
# pipelined requests answered in order; "Connection: close" and HTTP/1.0
# without keep-alive close after their answer; the limits: requests per
# connection, the idle timeout between requests.
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=203.0.113.7
secure_mode=yes
http_idle_timeout=2
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "the gateway is discovered ($UPNP_BASE)" test -n "$UPNP_BASE"
[ -n "$UPNP_BASE" ] || lab_finish
port=${UPNP_BASE##*:}
HP="$GW_LAN:$port"

has() { printf '%s\n' "$1" | grep -qF -- "$2" || { printf '%s\n' "$1" | head -5; return 1; }; }
# session FILE|+MS...: the requests on one connection from c1, each after
# the answer to the one before (+MS: wait MS ms first).
session() { c1 "$SOAPC" session "$GW_LAN" "$port" "$@" 2>&1; }
# answers OUTPUT: "S C" per answer (status, Connection header or -).
answers() { printf '%s\n' "$1" | sed -n 's/^answer [0-9]*: HTTP \([0-9]*\) connection \(.*\)/\1 \2/p' | tr '\n' ' '; }
# req NAME: write a request file $LAB_DIR/NAME from stdin.
req() { cat >"$LAB_DIR/$1"; }
# soapreq NAME ACTION ARGS [EXTRA HEADER LINES]: a WANIPConnection:2 POST.
soapreq() {
	__b=$(printf '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:%s xmlns:u="%s">%s</u:%s></s:Body></s:Envelope>' \
		"$2" "$URN_IPC2" "$3" "$2")
	printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml; charset="utf-8"\r\nSOAPAction: "%s#%s"\r\n%sContent-Length: %s\r\n\r\n%s' \
		"$HP" "$URN_IPC2" "$2" "${4:-}" "${#__b}" "$__b" | req "$1"
}
printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" | req desc
printf 'GET /WANIPCn.xml HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" | req scpd
soapreq gea GetExternalIPAddress ""
soapreq add AddPortMapping "<NewRemoteHost></NewRemoteHost><NewExternalPort>20500</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>20500</NewInternalPort><NewInternalClient>$C1</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>kept alive</NewPortMappingDescription><NewLeaseDuration>3600</NewLeaseDuration>"
soapreq get GetSpecificPortMappingEntry "<NewRemoteHost></NewRemoteHost><NewExternalPort>20500</NewExternalPort><NewProtocol>TCP</NewProtocol>"
soapreq del DeletePortMapping "<NewRemoteHost></NewRemoteHost><NewExternalPort>20500</NewExternalPort><NewProtocol>TCP</NewProtocol>"
soapreq bad NoSuchAction ""
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nCALLBACK: <http://%s:5570/evt>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n' \
	"$HP" "$C1" | req sub

# ------------------------------------------------------------------ one connection, every kind of request
c1 "$SOAPC" catch 5570 5 >"$LAB_DIR/notify" 2>&1 &
CATCH=$!
wait_listening "$LAB_DIR/notify" $CATCH
lab_listen c1 tcp 20500 tok-keep
out=$(session "$LAB_DIR/desc" "$LAB_DIR/gea" "$LAB_DIR/add" "$LAB_DIR/get" "$LAB_DIR/bad" \
	"$LAB_DIR/sub" "$LAB_DIR/scpd")
check "seven requests on one connection: 200 200 200 200 500 200 200, none closing ($(answers "$out"))" \
	test "$(answers "$out")" = "200 - 200 - 200 - 200 - 500 - 200 - 200 - "
check "... the description" has "$out" "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
check "... GetExternalIPAddress" has "$out" "<NewExternalIPAddress>203.0.113.7</NewExternalIPAddress>"
check "... the mapping made on it is found on it" has "$out" "<NewPortMappingDescription>kept alive</NewPortMappingDescription>"
check "... an unknown action: a 401 fault, and the connection stays" has "$out" "<errorCode>401</errorCode>"
check "... the SCPD after all that" has "$out" "<name>GetListOfPortMappings</name>"
check "... and the connection is still open" has "$out" "closed-by-server no"
check "TCP from outside to WAN:20500 reaches c1 (mapped on a kept-alive connection)" reach tcp 20500 tok-keep
wait $CATCH
check "the subscription made on it gets its initial NOTIFY" grep -q "NOTIFY /evt HTTP/1.1" "$LAB_DIR/notify"
sid=$(sed -n 's/^SID: *\(uuid:[-0-9a-f]*\).*/\1/p' "$LAB_DIR/notify" | tr -d '\r' | head -1)
check "... with a SID ($sid)" test -n "$sid"
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: %s\r\nTIMEOUT: Second-600\r\n\r\n' "$HP" "$sid" | req renew
printf 'UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: %s\r\n\r\n' "$HP" "$sid" | req unsub
out=$(session "$LAB_DIR/renew" "$LAB_DIR/unsub" "$LAB_DIR/unsub" "$LAB_DIR/del" "$LAB_DIR/gea")
check "GENA renewal, UNSUBSCRIBE twice, DeletePortMapping, a SOAP call on one connection: 200 200 412 200 200 ($(answers "$out"))" \
	test "$(answers "$out")" = "200 - 200 - 412 - 200 - 200 - "
check_not "... TCP 20500 no longer reaches c1" reach tcp 20500 tok-keep

# ------------------------------------------------------------------ closing
printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$HP" | req close
out=$(session "$LAB_DIR/close" "$LAB_DIR/desc")
check "Connection: close is honoured: one answer saying so, then the close ($(answers "$out"))" \
	test "$(answers "$out")" = "200 close "
check "... closed by the server" has "$out" "closed-by-server yes"
printf 'GET /rootDesc.xml HTTP/1.0\r\n\r\n' | req v10
out=$(session "$LAB_DIR/v10" "$LAB_DIR/desc")
check "HTTP/1.0 without keep-alive: one answer, Connection: close ($(answers "$out"))" \
	test "$(answers "$out")" = "200 close "
printf 'GET /rootDesc.xml HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n' | req v10ka
out=$(session "$LAB_DIR/v10ka" "$LAB_DIR/v10ka" "$LAB_DIR/v10")
check "HTTP/1.0 with Connection: keep-alive: kept, said so; then a plain HTTP/1.0 one closes ($(answers "$out"))" \
	test "$(answers "$out")" = "200 keep-alive 200 keep-alive 200 close "
printf 'GET /nowhere HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" | req nowhere
printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nBadLine\r\n\r\n' "$HP" | req malformed
out=$(session "$LAB_DIR/nowhere" "$LAB_DIR/malformed" "$LAB_DIR/desc")
check "a 404 keeps the connection; a malformed request is answered 400 and closes it ($(answers "$out"))" \
	test "$(answers "$out")" = "404 - 400 close "

# ------------------------------------------------------------------ pipelining
out=$(cat "$LAB_DIR/desc" "$LAB_DIR/gea" "$LAB_DIR/scpd" "$LAB_DIR/close" "$LAB_DIR/desc" |
	c1 "$SOAPC" raw "$GW_LAN" "$port" 2>&1)
n=$(printf '%s\n' "$out" | grep -c '^HTTP/1.1 200 OK\|^HTTP 200')
check "five pipelined requests, the fourth saying close: four answers ($n)" test "$n" = 4
order=$(printf '%s\n' "$out" | grep -o '<root xmlns\|<scpd xmlns\|<u:GetExternalIPAddressResponse' |
	sed 's/<root.*/desc/; s/<scpd.*/scpd/; s/<u:.*/soap/' | tr '\n' ' ')
check "... in order: desc soap scpd desc ($order)" test "$order" = "desc soap scpd desc "
# the limit: 100 requests per connection, the 100th answered with close
# (the rest of the 150 is read and dropped, so no reset loses an answer)
i=0; : >"$LAB_DIR/many"
while [ $i -lt 150 ]; do cat "$LAB_DIR/nowhere" >>"$LAB_DIR/many"; i=$((i + 1)); done
out=$(c1 "$SOAPC" raw "$GW_LAN" "$port" <"$LAB_DIR/many" 2>&1)
n=$(printf '%s\n' "$out" | grep -c 'Content-Length: 0')
check "150 pipelined requests: 100 answered, then the close (got $n)" test "$n" = 100
last=$(printf '%s\n' "$out" | tr -d '\r' | grep -i '^\(< \)\{0,1\}connection:' | tail -1)
check "... the last one says Connection: close ($last)" test "$last" = "Connection: close"

# ------------------------------------------------------------------ idle timeout
out=$(session "$LAB_DIR/desc" +1000 "$LAB_DIR/gea")
check "a second request 1 s after the first (idle timeout 2 s): answered on the same connection ($(answers "$out"))" \
	test "$(answers "$out")" = "200 - 200 - "
out=$(session "$LAB_DIR/desc" +2800)
check "an idle kept-alive connection is closed after the idle timeout" has "$out" "closed-by-server yes"
check "igdd still runs" kill -0 "$IGDD_PID"
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
