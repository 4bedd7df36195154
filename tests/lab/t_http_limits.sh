#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_http_limits.sh - what the HTTP server's limits guarantee against a
# hostile LAN client: GetListOfPortMappings answers are bounded (1,000
# entries, a byte cap) however many mappings match; connections that
# send a big-list request and never read the answer cannot lock other
# clients out nor grow the daemon's memory; a request followed by a
# half-close is answered.
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=203.0.113.7
secure_mode=yes
http_idle_timeout=30
http_max_connections=64
max_mappings=4000
max_mappings_per_client=4000
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
# 1,500 TCP mappings of c1 with 200-byte descriptions (an answer of ~760
# bytes each), 500 UDP ones whose descriptions are 250 '&' (escaped twice
# in a listing: 2,250 bytes each), restored from the lease file at start.
D200=$(head -c 200 /dev/zero | tr '\0' x)
DAMP=$(head -c 250 /dev/zero | tr '\0' '&')
now=$(date +%s)
awk -v c1="$C1" -v now="$now" -v d="$D200" -v a="$DAMP" 'BEGIN {
	for (p = 10000; p < 11500; p++)
		printf "+ TCP %d :: %s %d %d %d UPNP %s 000000000000000000000000 1 %s\n", p, c1, p, now + 3600, now, c1, d
	for (p = 20000; p < 20500; p++)
		printf "+ UDP %d :: %s %d %d %d UPNP %s 000000000000000000000000 1 %s\n", p, c1, p, now + 3600, now, c1, a
}' >"$LAB_DIR/igdd.leases"
check "igdd starts with 2,000 mappings from the lease file" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
check "the gateway is discovered ($UPNP_BASE)" test -n "$UPNP_BASE"
[ -n "$UPNP_BASE" ] || lab_finish
port=${UPNP_BASE##*:}
HP="$GW_LAN:$port"
check "... all 2,000 in the kernel ($(nmapelems dnat4))" test "$(nmapelems dnat4)" = 2000
lab_listen c1 tcp 10000 tok-list
check "... and TCP from outside to WAN:10000 reaches c1" reach tcp 10000 tok-list

alive() { kill -0 "$IGDD_PID"; }
has() { printf '%s\n' "$1" | grep -qF -- "$2" || { printf '%s\n' "$1" | head -5; return 1; }; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$IGDD_PID/status"; }
# list PROTO START N: GetListOfPortMappings from c1 (Manage=1); its entries
# are counted by their escaped opening tags.
list() {
	soap c1 /ctl/IPConn "$URN_IPC2" GetListOfPortMappings NewStartPort="$2" NewEndPort=65535 \
		NewProtocol="$1" NewManage=1 NewNumberOfPorts="$3"
}
entries() { printf '%s' "$1" | grep -o '&lt;p:PortMappingEntry&gt;' | wc -l; }
first_port() { printf '%s' "$1" | grep -o '&lt;p:NewExternalPort&gt;[0-9]*' | head -1 | sed 's/.*;//'; }
last_port() { printf '%s' "$1" | grep -o '&lt;p:NewExternalPort&gt;[0-9]*' | tail -1 | sed 's/.*;//'; }

# ------------------------------------------------------------------ bounded answers
# IGD:2 2.5.20: the device may return fewer entries than asked; a control
# point pages on with NewStartPort = the last port + 1.
for n in 0 65535; do
	out=$(list TCP 1 $n)
	check "GetListOfPortMappings NewNumberOfPorts=$n of 1,500: 1,000 entries (got $(entries "$out"))" \
		test "$(entries "$out")" = 1000
	check "... ports 10000 to 10999 ($(first_port "$out")-$(last_port "$out"))" \
		test "$(first_port "$out")-$(last_port "$out")" = 10000-10999
done
out=$(list TCP 11000 0)
check "the next page from 11000: the other 500 (got $(entries "$out"))" test "$(entries "$out")" = 500
out=$(list TCP 1 7)
check "NewNumberOfPorts=7: 7 entries" test "$(entries "$out")" = 7
out=$(list UDP 1 0)
size=$(printf '%s' "$out" | wc -c)
n=$(entries "$out")
check "500 entries with 250 '&' each (1.4 MB escaped): the answer stops at the byte cap ($n entries, $size bytes)" \
	test "$n" -gt 100 -a "$n" -lt 500 -a "$size" -le 1100000
check "... each description escaped twice (&amp;amp;), the last entry whole" \
	sh -c "printf '%s' '$(printf '%s' "$out" | tail -c 300)' | grep -q '&amp;amp;&lt;/p:NewDescription&gt;&lt;p:NewLeaseTime&gt;[0-9]*&lt;/p:NewLeaseTime&gt;&lt;/p:PortMappingEntry&gt;&lt;/p:PortMappingList&gt;</NewPortListing>'"

# ------------------------------------------------------------------ half-close
# A client may shut its sending side down once the request is out (the
# request ends where the stream ends); the request is answered all the same.
status() { printf '%s\n' "$1" | sed -n 's/^HTTP //p' | head -1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
half() { c1 "$SOAPC" half "$GW_LAN" "$port" 2>&1; }
out=$(printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" | half)
check "GET /rootDesc.xml, then a half-close: 200 (got $(status "$out"))" test "$(status "$out")" = 200
check "... the whole description" has "$out" "</root>"
gea=$(printf '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:GetExternalIPAddress xmlns:u="%s"></u:GetExternalIPAddress></s:Body></s:Envelope>' "$URN_IPC2")
out=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#GetExternalIPAddress"\r\nContent-Length: %s\r\n\r\n%s' \
	"$HP" "$URN_IPC2" "${#gea}" "$gea" | half)
check "a SOAP POST, then a half-close: 200 with the external address" has "$out" "<NewExternalIPAddress>203.0.113.7<"
out=$({ printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#GetExternalIPAddress"\r\nTransfer-Encoding: chunked\r\n\r\n' "$HP" "$URN_IPC2"
	printf '%x\r\n%s\r\n0\r\n\r\n' "${#gea}" "$gea"; } | half)
check "a chunked SOAP POST, then a half-close: 200 with the external address" has "$out" "<NewExternalIPAddress>203.0.113.7<"
t=$(now_ms)
out=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nContent-Length: 500\r\n\r\n<s:Env' "$HP" | half)
dt=$(($(now_ms) - t))
check "a body cut short by a half-close: closed without an answer (got $(status "$out"))" test "$(status "$out")" = 000
check "... at once, not after the idle timeout (${dt} ms)" test "$dt" -lt 2000

# ------------------------------------------------------------------ unread answers
# 150 connections from c1, each asking for the big TCP list and never
# reading: the answers must not pile up in the daemon (neither in number
# nor in memory), and c2, then c1 itself, are still served at once.
# listreq N [K]: the request for a listing of N entries (0: all), K times
# pipelined (1).
listreq() {
	__b=$(printf '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:GetListOfPortMappings xmlns:u="%s"><NewStartPort>1</NewStartPort><NewEndPort>65535</NewEndPort><NewProtocol>TCP</NewProtocol><NewManage>1</NewManage><NewNumberOfPorts>%s</NewNumberOfPorts></u:GetListOfPortMappings></s:Body></s:Envelope>' "$URN_IPC2" "$1")
	: >"$LAB_DIR/listreq"
	for __k in $(seq 1 "${2:-1}"); do
		printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#GetListOfPortMappings"\r\nContent-Length: %s\r\n\r\n%s' \
			"$HP" "$URN_IPC2" "${#__b}" "$__b" >>"$LAB_DIR/listreq"
	done
}
# hold_check WHAT N[xK] [SRC...]: 150 connections asking for N entries
# (K times pipelined on each) (from these sources of
# c1 in turn), held 6 s; after 3 s c2 and c1 are served on new connections
# and igdd's VmRSS has grown by at most 16 MiB (the held answers alone
# would be ~110 MB).
hold_check() {
	__what=$1; listreq "${2%x*}" "$(echo "$2" | sed -n 's/.*x//p')"; shift 2
	rss0=$(rss_kb)
	c1 "$SOAPC" hold "$GW_LAN" "$port" 150 6 "$@" <"$LAB_DIR/listreq" >"$LAB_DIR/hold" 2>&1 &
	__hold=$!
	sleep 3
	rss1=$(rss_kb)
	out=$(soap c2 /ctl/IPConn "$URN_IPC2" GetExternalIPAddress)
	check "150 unread big-list answers held $__what: c2 is still served" has "$out" 203.0.113.7
	out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetExternalIPAddress)
	check "... and so is c1 on a new connection" has "$out" 203.0.113.7
	rss2=$(rss_kb)
	grow=$(( (rss2 > rss1 ? rss2 : rss1) - rss0 ))
	case $LAB_TEST in
	san/*) skip "... VmRSS not judged under ASan (shadow memory and its quarantine of freed blocks)" ;;
	*) check "... igdd's VmRSS grew by $grow kB ($rss0 -> $rss1 -> $rss2 kB), at most 16 MiB" \
		test "$grow" -le 16384 ;;
	esac
	wait $__hold
	check "... the holder sent its 150 requests ($(cat "$LAB_DIR/hold"))" grep -q "^opened 150 " "$LAB_DIR/hold"
}
# one client: its own share (a quarter of http_max_connections) runs out
# first, and its connections with unread answers are the first to go
hold_check "by c1" 0
# eight clients (c1's extra addresses): 8 x 16 > 64, the server is full,
# and the connections whose answers are unread go first
srcs=
for i in 20 21 22 23 24 25 26 27; do
	c1 ip addr add "$LAB_LAN.$i/24" dev eth0
	srcs="$srcs $LAB_LAN.$i"
done
# shellcheck disable=SC2086
hold_check "by 8 addresses" 0 $srcs
# answers of 200 entries (~150 KB): the kernel takes most of each, and
# the rest stays below the bytes held in all; the server fills up with
# unread answers, which go first for a new client.
# shellcheck disable=SC2086
hold_check "by 8 addresses (200 entries each)" 200 $srcs
# kept-alive connections with ten big-list requests pipelined on each: the
# next request is read only once the answer before has been taken
# shellcheck disable=SC2086
hold_check "by 8 addresses (10 pipelined on each)" 0x10 $srcs
check "igdd still runs" alive

check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
