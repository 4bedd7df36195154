#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_hostile_http.sh - hostile HTTP, SOAP and GENA requests from a LAN
# client: odd SOAPAction headers, bad Content-Length, chunked bodies good
# and bad, broken header lines, NUL bytes, 1 MiB of headers, absolute-form
# targets, '..' paths, HTTP/0.9, slow and idle clients, every
# WANIPConnection action with each argument missing, empty, non-numeric or
# out of range, XML entities and CDATA, 10,000 nested elements, hostile
# descriptions, GENA callbacks to strangers and a subscription flood.
# After each batch: igdd still runs, each answer is the specified error
# (or a clean close), and the daemon, the lease file and the kernel hold
# the same mappings, none of them unwanted.
# (t_upnp_discovery covers the basic HTTP limits, the empty and '"'
# SOAPActions, 1,100 idle connections and CallStranger to another LAN host
# on SUBSCRIBE; t_upnp_mapping the first argument errors.)
. "$(dirname "$0")/lib.sh"
lab_up

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=203.0.113.7
secure_mode=yes
http_idle_timeout=2
http_body_max=65536
max_subscribers=16
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf" -v
UPNP_BASE=$(lab_upnp_base)
check "the gateway is discovered ($UPNP_BASE)" test -n "$UPNP_BASE"
[ -n "$UPNP_BASE" ] || lab_finish
port=${UPNP_BASE##*:}
HP="$GW_LAN:$port"

# raw: stdin to the HTTP server from c1, soapc's answer on stdout.
raw() { c1 "$SOAPC" raw "$GW_LAN" "$port" 2>&1; }
# status OUTPUT: the HTTP status soapc saw (000 = closed without answer).
status() { printf '%s\n' "$1" | sed -n 's/^HTTP //p' | head -1; }
# is_status OUTPUT S1 [S2...]: the status is one of these.
is_status() { __st=$(status "$1"); shift; for __w in "$@"; do [ "$__st" = "$__w" ] && return 0; done
	echo "got HTTP $__st, want $*"; return 1; }
is_upnp() { [ "$(upnp_error "$1")" = "$2" ] || { echo "got UPnP error '$(upnp_error "$1")', want $2"; printf '%s\n' "$1" | head -3; return 1; }; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# envelope ACTION [XML args]: a SOAP body for WANIPConnection:2.
envelope() {
	printf '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:%s xmlns:u="%s">%s</u:%s></s:Body></s:Envelope>\r\n' \
		"$1" "$URN_IPC2" "$2" "$1"
}
# post SOAPACTION_LINE BODYFILE: a POST to /ctl/IPConn with that header line.
post() {
	{ printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\n%s\r\nContent-Length: %s\r\n\r\n' \
		"$HP" "$1" "$(wc -c <"$2")"; cat "$2"; } | raw
}
alive() { kill -0 "$IGDD_PID"; }
# has OUTPUT STRING / hasx OUTPUT LINE: a fixed string / a whole line in it.
has() { printf '%s\n' "$1" | grep -qF -- "$2" || { printf '%s\n' "$1" | head -5; return 1; }; }
hasx() { printf '%s\n' "$1" | grep -qxF -- "$2" || { printf '%s\n' "$1" | head -5; return 1; }; }
# within MS LO HI: LO <= MS < HI
within() { [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }
# batch_end WHAT N: igdd runs, the three views agree and hold N mappings.
batch_end() {
	check "$1: igdd still runs" alive
	check "$1: daemon, lease file and kernel agree" lab_agree
	__n=$(wc -l <"$LAB_DIR/view.store")
	check "$1: $2 mapping(s) in the store (got $__n), $2 kernel element(s) ($(nmapelems dnat4))" \
		test "$__n" = "$2" -a "$(nmapelems dnat4)" = "$2"
}
T0=$(date +%s)

# ------------------------------------------------------------------ SOAPAction
envelope GetExternalIPAddress >"$LAB_DIR/gea"
SA="urn:schemas-upnp-org:service:WANIPConnection:2"
out=$(post "SOAPAction: '" "$LAB_DIR/gea")
check "SOAPAction a single quote: 401" is_upnp "$out" 401
out=$(post "SOAPAction: $SA#GetExternalIPAddress" "$LAB_DIR/gea")
check "SOAPAction unquoted: 200" is_status "$out" 200
out=$(post "SOAPAction: '$SA#GetExternalIPAddress'" "$LAB_DIR/gea")
check "SOAPAction in single quotes: 200" is_status "$out" 200
out=$(post "SOAPAction: \"$SA\"" "$LAB_DIR/gea")
check "SOAPAction without '#': the action comes from the body (200)" is_status "$out" 200
out=$(post "SOAPAction: \"$SA#$(head -c 8000 /dev/zero | tr '\0' A)\"" "$LAB_DIR/gea")
check "SOAPAction with an 8,000-byte action name: 401" is_upnp "$out" 401
out=$(post "SOAPAction: \"$SA#$(head -c 8192 /dev/zero | tr '\0' A)\"" "$LAB_DIR/gea")
check "SOAPAction of 8 KiB (head over http_header_max): 431" is_status "$out" 431
out=$(post "SOAPAction: \"$SA#AddPortMapping\"" "$LAB_DIR/gea")
check "SOAPAction naming another action than the body: 401" is_upnp "$out" 401
out=$(post "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:9#GetExternalIPAddress\"" "$LAB_DIR/gea")
check "SOAPAction for a version we do not serve: 401" is_upnp "$out" 401

# ------------------------------------------------------------------ Content-Length, chunked
for cl in abc 12abc 0x10 "1 2" 18446744073709551617; do
	out=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#GetExternalIPAddress"\r\nContent-Length: %s\r\n\r\n' \
		"$HP" "$SA" "$cl" | raw)
	check "Content-Length '$cl': 400 or 413 (got $(status "$out"))" is_status "$out" 400 413
done
out=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef' "$HP" | raw)
check "two different Content-Lengths: 400" is_status "$out" 400
out=$({ printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#GetExternalIPAddress"\r\nContent-Length: 65537\r\n\r\n' \
	"$HP" "$SA"; head -c 65537 /dev/zero | tr '\0' ' '; } | raw)
check "Content-Length http_body_max + 1 (body sent): 413 or a clean close (got $(status "$out"))" is_status "$out" 413 000
# Transfer-Encoding: framing errors are refused at once (the chunked
# bodies themselves are in their own batch below).
for te in "400|chunked\r\nContent-Length: 4\r\n\r\n4\r\nab\r\n0\r\n\r\n|chunked and Content-Length (smuggling)" \
	  "400|chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n|two Transfer-Encoding lines" \
	  "400|chunked, gzip\r\n\r\n0\r\n\r\n|chunked, gzip (chunked not last)" \
	  "501|gzip, chunked\r\n\r\n0\r\n\r\n|gzip, chunked (a coding we do not do)"; do
	want=${te%%|*}; req=${te#*|}; what=${req#*|}; req=${req%%|*}
	out=$(printf "POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: \"%s#GetExternalIPAddress\"\r\nTransfer-Encoding: $req" "$HP" "$SA" | raw)
	check "Transfer-Encoding: $what: $want" is_status "$out" "$want"
done
# A body shorter than its Content-Length waits for the idle timeout (2 s),
# and meanwhile another client is served at once.
printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#GetExternalIPAddress"\r\nContent-Length: 500\r\n\r\n<s:Envelope>' \
	"$HP" "$SA" | raw >"$LAB_DIR/short" &
SHORT=$!
t=$(now_ms)
sleep 0.3
out=$(soap c2 /ctl/IPConn "$URN_IPC2" GetExternalIPAddress)
dt=$(($(now_ms) - t))
# (a server held by the short body would serve c2 after its 2 s idle
# timeout: any bound under 2000 ms tells the two apart)
check "while a short body waits, c2 is served promptly (${dt} ms after its start)" within "$dt" 0 1900
check "... with the right answer" has "$out" 203.0.113.7
wait $SHORT
dt=$(($(now_ms) - t))
check "the short body ends with 408 after the idle timeout (${dt} ms)" within "$dt" 1500 4500
check "... 408" grep -qx 'HTTP 408' "$LAB_DIR/short"
batch_end "SOAPAction and body framing" 0

# ------------------------------------------------------------------ chunked bodies
# RFC 9112 7.1: a chunked request body is decoded (control points built on
# a general HTTP library may send their SOAP calls so), in place as it
# arrives.  A framing error is 400, a decoded body over http_body_max 413.
# chunked FILE SIZE: FILE as chunks of SIZE bytes, each with an extension,
# then the last chunk and a trailer field.
chunked() {
	__n=$(wc -c <"$1"); __o=0
	while [ "$__o" -lt "$__n" ]; do
		__k=$((__n - __o < $2 ? __n - __o : $2))
		printf '%x;at=%d\r\n' "$__k" "$__o"
		tail -c +$((__o + 1)) "$1" | head -c "$__k"
		printf '\r\n'
		__o=$((__o + __k))
	done
	printf '0\r\nX-Trailer: ignored\r\n\r\n'
}
# chunked_head ACTION: a POST head for ACTION, chunked.
chunked_head() {
	printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#%s"\r\nTransfer-Encoding: chunked\r\n\r\n' \
		"$HP" "$SA" "$1"
}
envelope AddPortMapping "<NewRemoteHost></NewRemoteHost><NewExternalPort>20100</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>20100</NewInternalPort><NewInternalClient>$C1</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>sent chunked</NewPortMappingDescription><NewLeaseDuration>3600</NewLeaseDuration>" >"$LAB_DIR/apm"
envelope DeletePortMapping "<NewRemoteHost></NewRemoteHost><NewExternalPort>20100</NewExternalPort><NewProtocol>TCP</NewProtocol>" >"$LAB_DIR/dpm"
lab_listen c1 tcp 20100 tok-chunked
out=$({ chunked_head AddPortMapping; chunked "$LAB_DIR/apm" 100; } | raw)
check "a chunked AddPortMapping (100-byte chunks, extensions, a trailer): 200" is_status "$out" 200
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=20100 NewProtocol=TCP)
check "... GetSpecificPortMappingEntry finds it, to c1:20100" \
	has "$out" "<NewInternalPort>20100</NewInternalPort><NewInternalClient>$C1</NewInternalClient>"
check "... with the description from the chunked body" has "$out" "<NewPortMappingDescription>sent chunked</NewPortMappingDescription>"
lab_kernel_view >"$LAB_DIR/kview"
check "... nftables holds TCP 20100 -> $C1:20100" grep -qx "TCP 20100 - $C1 20100" "$LAB_DIR/kview"
check "... and TCP from outside to WAN:20100 reaches c1" reach tcp 20100 tok-chunked
batch_end "a chunked AddPortMapping" 1
# the same body one byte per 2 ms: a chunked body split over hundreds of reads
envelope GetExternalIPAddress >"$LAB_DIR/gea"
out=$({ chunked_head GetExternalIPAddress; chunked "$LAB_DIR/gea" 64; } |
	c1 "$SOAPC" slow "$GW_LAN" "$port" 2 2>&1)
check "a chunked GetExternalIPAddress trickled one byte per 2 ms: 200" is_status "$out" 200
check "... with the right answer" has "$out" 203.0.113.7
# one byte per chunk: 6 bytes on the wire for each byte of the body
out=$({ chunked_head DeletePortMapping; chunked "$LAB_DIR/dpm" 1; } | raw)
check "a chunked DeletePortMapping in 1-byte chunks: 200" is_status "$out" 200
check_not "... TCP 20100 no longer reaches c1" reach tcp 20100 tok-chunked
for te in "400|zz\r\nab\r\n0\r\n\r\n|a non-hex chunk size" \
	  "400|-5\r\nab\r\n0\r\n\r\n|a negative chunk size" \
	  "400|ffffffffffffffffff\r\nab\r\n0\r\n\r\n|a chunk size over 64 bits" \
	  "400|5\r\nhelloXY\r\n0\r\n\r\n|no CRLF after the chunk data" \
	  "400|5;a\rb\r\nhello\r\n0\r\n\r\n|a bare CR in a chunk extension" \
	  "400|0\r\nNoColon\r\n\r\n|a trailer line without a colon" \
	  "413|10001\r\n|a chunk over http_body_max, before its data" \
	  "413|ffffffffffffffff\r\n|a chunk of 2^64 - 1 bytes"; do
	want=${te%%|*}; body=${te#*|}; what=${body#*|}; body=${body%%|*}
	out=$({ chunked_head GetExternalIPAddress; printf '%b' "$body"; } | raw)
	check "chunked body with $what: $want" is_status "$out" "$want"
done
# 17 chunks of 4 KiB, each small, together 4 KiB over the limit (the client
# is still sending when the answer comes: 413, or a reset before it is read)
out=$({ chunked_head GetExternalIPAddress; head -c 69632 /dev/zero | tr '\0' ' ' >"$LAB_DIR/big"
	chunked "$LAB_DIR/big" 4096; } | raw)
check "a chunked body of 68 KiB in 4 KiB chunks (http_body_max 64 KiB): 413 or a clean close (got $(status "$out"))" \
	is_status "$out" 413 000
batch_end "chunked bodies" 0

# ------------------------------------------------------------------ header and request lines
out=$(printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nNoColonHere\r\n\r\n' "$HP" | raw)
check "a header line without a colon: 400" is_status "$out" 400
out=$(printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\nX-A\000b: c\r\n\r\n' "$HP" | raw)
check "a NUL byte in a header name: 400" is_status "$out" 400
out=$(printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\000evil\r\n\r\n' "$HP" | raw)
check "a NUL byte in the Host value: 400" is_status "$out" 400
out=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#GetExternal\000IPAddress"\r\nContent-Length: %s\r\n\r\n' \
	"$HP" "$SA" "$(wc -c <"$LAB_DIR/gea")" | cat - "$LAB_DIR/gea" | raw)
check "a NUL byte in SOAPAction: 401 or 400 (got $(status "$out") $(upnp_error "$out"))" sh -c "[ '$(status "$out")' = 400 ] || [ '$(upnp_error "$out")' = 401 ]"
out=$(printf 'GET /rootDesc.xml\000 HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" | raw)
check "a NUL byte in the request target: 400" is_status "$out" 400
out=$({ printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n' "$HP"
	head -c 1048576 /dev/zero | tr '\0' 'a' | fold -w 100 | sed 's/^/X-Pad: /; s/$/\r/'; printf '\r\n'; } | raw)
check "1 MiB of headers: 431 or a clean close (got $(status "$out"))" is_status "$out" 431 000
out=$(printf 'GET http://%s/rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" "$HP" | raw)
check "absolute-form GET http://$HP/rootDesc.xml: 200 (RFC 9112 3.2.2)" is_status "$out" 200
out=$(printf 'POST http://%s/ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#GetExternalIPAddress"\r\nContent-Length: %s\r\n\r\n' \
	"$HP" "$HP" "$SA" "$(wc -c <"$LAB_DIR/gea")" | cat - "$LAB_DIR/gea" | raw)
check "absolute-form POST http://$HP/ctl/IPConn: 200" has "$out" 203.0.113.7
out=$(printf 'GET http://evil.example:%s/rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n' "$port" "$HP" | raw)
check "absolute-form naming another host (DNS rebinding): 400" is_status "$out" 400
out=$(printf 'GET http://%s HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" "$HP" | raw)
check "absolute-form without a path: 404 (the root '/' is no document)" is_status "$out" 404
out=$(printf 'GET ftp://%s/rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" "$HP" | raw)
check "an ftp:// target: 400" is_status "$out" 400
for p in /../rootDesc.xml /ctl/../rootDesc.xml /rootDesc.xml/.. /%2e%2e/etc/passwd //rootDesc.xml /../../../../etc/passwd; do
	out=$(printf 'GET %s HTTP/1.1\r\nHost: %s\r\n\r\n' "$p" "$HP" | raw)
	check "GET $p: 404 or 400 (got $(status "$out"))" is_status "$out" 404 400
done
t=$(now_ms)
out=$(printf 'GET /rootDesc.xml\r\n' | raw)
dt=$(($(now_ms) - t))
check "HTTP/0.9 'GET /rootDesc.xml': 400 at once (${dt} ms)" is_status "$out" 400
check "... without waiting for the idle timeout" within "$dt" 0 1000
out=$(printf 'GET /rootDesc.xml HTTP/2.0\r\nHost: %s\r\n\r\n' "$HP" | raw)
check "HTTP/2.0 in the request line: 505" is_status "$out" 505
out=$(printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n folded: yes\r\n\r\n' "$HP" | raw)
check "obsolete line folding: 400" is_status "$out" 400
out=$(printf '\r\n\r\n\r\n' | raw)
check "only empty lines: 400 or a clean close (got $(status "$out"))" is_status "$out" 400 000
out=$(head -c 20000 /dev/urandom | raw)
check "20 KB of noise: 400, 431 or a clean close (got $(status "$out"))" is_status "$out" 400 431 505 000
# two malformed requests back to back on one connection: the first is
# answered, the connection closed, the second never parsed.
out=$(printf 'GET /a HTTP/1.1\r\nNoColon\r\n\r\nPOST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nContent-Length: x\r\n\r\n' "$HP" | raw)
check "two malformed requests on one connection: 400" is_status "$out" 400
check "... one answer only, then close" test "$(printf '%s\n' "$out" | grep -c '^HTTP/1')" = 0
out=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nSOAPAction: "%s#AddPortMapping"\r\nContent-Length: 3\r\n\r\n<a>POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nContent-Length: 3\r\n\r\n<b>' "$HP" "$SA" "$HP" | raw)
check "two garbage SOAP bodies on one connection: 401" is_upnp "$out" 401
# both are well framed: the connection persists (HTTP/1.1 keep-alive) and
# each gets its own answer, in order
check "... each answered in turn: two 401 faults" \
	test "$(printf '%s\n' "$out" | grep -o '<errorCode>401</errorCode>' | wc -l)" = 2

# slow and idle clients: a request trickled one byte per 100 ms (5 s) is
# served, and another client is served meanwhile; an idle connection is
# closed after http_idle_timeout.
printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" | c1 "$SOAPC" slow "$GW_LAN" "$port" 100 >"$LAB_DIR/slow" 2>&1 &
SLOW=$!
: | raw >"$LAB_DIR/idle" &
IDLE=$!
t=$(now_ms)
sleep 1
out=$(c2 "$SOAPC" get "$UPNP_BASE/rootDesc.xml")
dt=$(($(now_ms) - t - 1000))
# (a server held by the trickle would answer c2 after its 5 s)
check "while a client trickles bytes, c2 gets the description at once (${dt} ms)" within "$dt" 0 2000
check "... 200" hasx "$out" "HTTP 200"
wait $IDLE
dt=$(($(now_ms) - t))
check "an idle connection is closed after the idle timeout (${dt} ms)" within "$dt" 1500 4500
check "... quietly (no answer to no request)" grep -qx 'HTTP 000' "$LAB_DIR/idle"
wait $SLOW
check "the slow client (one byte per 100 ms) is served: 200" grep -qx "HTTP 200" "$LAB_DIR/slow"
batch_end "header and request lines" 0

# ------------------------------------------------------------------ action arguments
# args_with ARGS NAME VALUE|-: ARGS with NAME set to VALUE, or left out (-).
args_with() {
	__r=
	for __a in $1; do
		case $__a in
		"$2="*) [ "$3" = - ] || __r="$__r $2=$3" ;;
		*) __r="$__r $__a" ;;
		esac
	done
	echo "$__r"
}
# try WANT ACTION ARGS: call ACTION with ARGS (words NAME=VALUE) from c1.
try() {
	__want=$1; __act=$2
	# shellcheck disable=SC2086
	__out=$(soap c1 /ctl/IPConn "$URN_IPC2" "$__act" $3)
	__got=$(upnp_error "$__out")
	[ -n "$__got" ] || __got=$(status "$__out")
	if [ "$__got" = "$__want" ]; then return 0; fi
	echo "$__act$3: got $__got, want $__want"
	return 1
}
ADD="NewRemoteHost= NewExternalPort=20000 NewProtocol=TCP NewInternalPort=20000 NewInternalClient=$C1 NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=3600"
DEL="NewRemoteHost= NewExternalPort=20000 NewProtocol=TCP"
RANGE="NewStartPort=20000 NewEndPort=20010 NewProtocol=TCP NewManage=1"
LIST="$RANGE NewNumberOfPorts=10"
bad=0; ncase=0
# case_ WANT ACTION BASE NAME VALUE|-
case_() {
	ncase=$((ncase + 1))
	try "$1" "$2" "$(args_with "$3" "$4" "$5")" || bad=$((bad + 1))
}
for act in AddPortMapping AddAnyPortMapping; do
	for a in NewExternalPort NewProtocol NewInternalPort NewInternalClient; do
		case_ 402 $act "$ADD" $a -
		case_ 402 $act "$ADD" $a ""
	done
	for a in NewExternalPort NewInternalPort NewLeaseDuration NewEnabled; do
		case_ 402 $act "$ADD" $a abc
		case_ 402 $act "$ADD" $a -1
		case_ 402 $act "$ADD" $a 1.5
	done
	case_ 402 $act "$ADD" NewExternalPort 70000
	case_ 402 $act "$ADD" NewExternalPort 0x50
	case_ 402 $act "$ADD" NewInternalPort 65536
	case_ 732 $act "$ADD" NewInternalPort 0
	case_ 402 $act "$ADD" NewLeaseDuration 4294967296
	case_ 402 $act "$ADD" NewEnabled 2
	case_ 402 $act "$ADD" NewProtocol ICMP
	case_ 402 $act "$ADD" NewProtocol tcpx
	case_ 402 $act "$ADD" NewInternalClient abc
	case_ 402 $act "$ADD" NewInternalClient 0.0.0.0
	case_ 402 $act "$ADD" NewInternalClient 192.168.77.300
	case_ 606 $act "$ADD" NewInternalClient 255.255.255.255
	case_ 606 $act "$ADD" NewInternalClient "$C2"
	case_ 402 $act "$ADD" NewRemoteHost abc
	case_ 402 $act "$ADD" NewRemoteHost 1.2.3.4.5
done
case_ 716 AddPortMapping "$ADD" NewExternalPort 0
case_ 716 AddPortMapping "$ADD" NewExternalPort '*'
for a in NewExternalPort NewProtocol; do
	for act in DeletePortMapping GetSpecificPortMappingEntry; do
		case_ 402 $act "$DEL" $a -
		case_ 402 $act "$DEL" $a ""
	done
done
for act in DeletePortMapping GetSpecificPortMappingEntry; do
	case_ 402 $act "$DEL" NewExternalPort abc
	case_ 402 $act "$DEL" NewExternalPort 70000
	case_ 402 $act "$DEL" NewExternalPort 0
	case_ 402 $act "$DEL" NewProtocol ICMP
	case_ 402 $act "$DEL" NewRemoteHost abc
done
case_ 402 GetGenericPortMappingEntry NewPortMappingIndex=0 NewPortMappingIndex -
case_ 402 GetGenericPortMappingEntry NewPortMappingIndex=0 NewPortMappingIndex ""
case_ 402 GetGenericPortMappingEntry NewPortMappingIndex=0 NewPortMappingIndex -1
case_ 402 GetGenericPortMappingEntry NewPortMappingIndex=0 NewPortMappingIndex 4294967296
case_ 713 GetGenericPortMappingEntry NewPortMappingIndex=0 NewPortMappingIndex 4294967295
for act in DeletePortMappingRange GetListOfPortMappings; do
	base=$RANGE; [ $act = GetListOfPortMappings ] && base=$LIST
	for a in NewStartPort NewEndPort NewProtocol NewManage; do
		case_ 402 $act "$base" $a -
	done
	for a in NewStartPort NewEndPort; do
		case_ 402 $act "$base" $a ""
		case_ 402 $act "$base" $a abc
		case_ 402 $act "$base" $a 65536
	done
	case_ 402 $act "$base" NewProtocol ICMP
	case_ 402 $act "$base" NewManage maybe
	case_ 733 $act "$base" NewStartPort 20011
done
case_ 402 GetListOfPortMappings "$LIST" NewNumberOfPorts -
case_ 402 GetListOfPortMappings "$LIST" NewNumberOfPorts abc
case_ 402 GetListOfPortMappings "$LIST" NewNumberOfPorts 65536
case_ 402 SetConnectionType NewConnectionType=IP_Routed NewConnectionType -
case_ 402 SetConnectionType NewConnectionType=IP_Routed NewConnectionType PPPoE
case_ 200 SetConnectionType NewConnectionType=IP_Routed NewConnectionType IP_Routed
check "$ncase argument cases answer their error code ($bad wrong)" test "$bad" = 0
batch_end "argument errors" 0
# Optional arguments may be left out (liberal, as miniupnpd): defaults apply.
check "AddPortMapping without NewRemoteHost/NewEnabled/NewPortMappingDescription/NewLeaseDuration: 200" \
	try 200 AddPortMapping "NewExternalPort=20001 NewProtocol=UDP NewInternalPort=20001 NewInternalClient=$C1"
check "AddAnyPortMapping NewExternalPort='*' picks a port" \
	try 200 AddAnyPortMapping "$(args_with "$ADD" NewExternalPort '*')"
try 200 DeletePortMappingRange "NewStartPort=1 NewEndPort=65535 NewProtocol=TCP NewManage=1" >/dev/null
try 200 DeletePortMappingRange "NewStartPort=1 NewEndPort=65535 NewProtocol=UDP NewManage=1" >/dev/null
batch_end "optional arguments" 0

# ------------------------------------------------------------------ XML payloads
# entities, numeric references and CDATA are decoded; the answer escapes again.
desc='&lt;b&gt;x&amp;y&#65;&#x42;&quot;<![CDATA[<c>&amp;]]>&apos;'
check "AddPortMapping with entities and CDATA in the description: 200" \
	try 200 AddPortMapping "$(args_with "$ADD" NewPortMappingDescription "$desc")"
# shellcheck disable=SC2086
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry $DEL)
check "the description is returned escaped: &lt;b&gt;x&amp;yAB&quot;&lt;c&gt;&amp;amp;&apos;" \
	has "$out" '<NewPortMappingDescription>&lt;b&gt;x&amp;yAB&quot;&lt;c&gt;&amp;amp;&apos;</NewPortMappingDescription>'
check "the lease file holds it decoded: <b>x&yAB\"<c>&amp;'" wait_for 5 grep -qF "<b>x&yAB\"<c>&amp;'" "$LAB_DIR/igdd.leases"
for v in '&bogus;' '&#0;' '&#xD800;' '&#1114112;' '&#;' '&lt' '<![CDATA[x' '<x>' '<!DOCTYPE>'; do
	case_ 402 AddPortMapping "$ADD" NewPortMappingDescription "$v"
done
check "malformed entities, unterminated CDATA, nested elements and a DTD in a value: 402" test "$bad" = 0
# 10,000 levels of nesting (30 KB, under http_body_max; the closing tags
# would not fit): an error, no crash.
{ printf '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:AddPortMapping xmlns:u="%s">' "$URN_IPC2"
  head -c 10000 /dev/zero | tr '\0' 'a' | sed 's/a/<a>/g'
  printf '</u:AddPortMapping></s:Body></s:Envelope>'; } >"$LAB_DIR/deep"
out=$(post "SOAPAction: \"$SA#AddPortMapping\"" "$LAB_DIR/deep")
check "10,000 nested elements: 402" is_upnp "$out" 402
{ printf '<?xml version="1.0"?>'; head -c 20000 /dev/zero | tr '\0' 'a' | sed 's/a/<a>/g'; } >"$LAB_DIR/deep2"
out=$(post "SOAPAction: \"$SA#AddPortMapping\"" "$LAB_DIR/deep2")
check "20,000 unclosed elements before any Envelope: 401" is_upnp "$out" 401
{ printf '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'; cat "$LAB_DIR/gea"; } >"$LAB_DIR/dtd"
out=$(post "SOAPAction: \"$SA#GetExternalIPAddress\"" "$LAB_DIR/dtd")
check "a DTD with entity definitions (billion laughs): refused (401)" is_upnp "$out" 401
# a character reference in a number is a digit once decoded (XML 1.0 4.1)
check "NewExternalPort 2000&#55; is port 20007" try 200 AddPortMapping \
	"$(args_with "$(args_with "$ADD" NewExternalPort '2000&#55;')" NewProtocol UDP)"
check "... found as 20007/UDP" try 200 GetSpecificPortMappingEntry "NewRemoteHost= NewExternalPort=20007 NewProtocol=UDP"
batch_end "XML payloads" 2

# ------------------------------------------------------------------ hostile descriptions
lf=$(printf 'a\nb\rc')
q="\"quoted\" and 'single'"
long=$(head -c 4096 /dev/zero | tr '\0' d)
nonutf=$(printf 'x\377\376y\300\257z')
ctl=$(printf 'p\001q\033r\177s')
n=20002
for d in "$lf" "$q" "$long" "$nonutf" "$ctl"; do
	out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=$n NewProtocol=TCP \
		NewInternalPort=$n NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription="$d" NewLeaseDuration=3600)
	check "description #$((n - 20001)) ($(printf '%s' "$d" | head -c 12 | tr -c '[:print:]' '?')...): stored (200)" is_status "$out" 200
	n=$((n + 1))
done
sleep 0.2
# one record per line: every line of the journal is a whole record
check "the lease file stays one record per line" sh -c \
	"! grep -v '^[-+#] ' '$LAB_DIR/igdd.leases' | grep -q ."
check "no raw control byte in the lease file" sh -c "! LC_ALL=C tr -d '\n' <'$LAB_DIR/igdd.leases' | LC_ALL=C grep -q '[[:cntrl:]]'"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=20002 NewProtocol=TCP)
check "a description with CR/LF comes back as a?b?c" has "$out" '<NewPortMappingDescription>a?b?c</NewPortMappingDescription>'
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=20003 NewProtocol=TCP)
check "quotes come back escaped" has "$out" '&quot;quoted&quot; and &apos;single&apos;'
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=20004 NewProtocol=TCP)
d=$(printf '%s' "$out" | sed -n 's,.*<NewPortMappingDescription>\(d*\)</NewPortMappingDescription>.*,\1,p')
check "a 4 KiB description is cut (${#d} bytes kept, < 256)" test "${#d}" -gt 0 -a "${#d}" -lt 256
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=20005 NewProtocol=TCP)
check "non-UTF-8 bytes come back replaced: x????y??z" has "$out" '<NewPortMappingDescription>x??y??z</NewPortMappingDescription>'
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetListOfPortMappings NewStartPort=20000 NewEndPort=20010 NewProtocol=TCP NewManage=1 NewNumberOfPorts=0)
check "GetListOfPortMappings with these descriptions: 200" hasx "$out" "HTTP 200"
listing=$(printf '%s' "$out" | tr -d '\n' | sed -n 's,.*<NewPortListing>\(.*\)</NewPortListing>.*,\1,p')
no_lt() { [ -n "$1" ] && ! printf '%s' "$1" | grep -q '<'; }
check "... the listing is escaped once more (no raw '<' inside NewPortListing)" no_lt "$listing"
batch_end "hostile descriptions" 7

# ------------------------------------------------------------------ GENA
sub() {	# sub CALLBACK_URL [extra header lines]: SUBSCRIBE from c1
	printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nCALLBACK: <%s>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n%s\r\n' \
		"$HP" "$1" "${2:-}" | raw
}
out "$SOAPC" catch 5556 4 >"$LAB_DIR/c_out" 2>&1 &
C_OUT=$!
c2 "$SOAPC" catch 5556 4 >"$LAB_DIR/c_c2" 2>&1 &
C_C2=$!
wait_listening "$LAB_DIR/c_out" $C_OUT
wait_listening "$LAB_DIR/c_c2" $C_C2
out=$(sub "http://$OUT:5556/evt")
check "SUBSCRIBE with a CALLBACK on the WAN host ($OUT): 412" is_status "$out" 412
out=$(sub "http://$C2:5556/evt")
check "SUBSCRIBE with a CALLBACK on another LAN host ($C2): 412" is_status "$out" 412
out=$(sub "http://$GW_LAN:$port/evt")
check "SUBSCRIBE with a CALLBACK on the gateway itself: 412" is_status "$out" 412
out=$(sub "http://$C1:5556/$(head -c 8192 /dev/zero | tr '\0' u)")
check "SUBSCRIBE with an 8 KiB CALLBACK URL: 412 or 431 (got $(status "$out"))" is_status "$out" 412 431
out=$(sub "http://$C1:5556/$(head -c 1000 /dev/zero | tr '\0' u)")
check "SUBSCRIBE with a 1 KB CALLBACK path: 412 (longer than the subscription keeps)" is_status "$out" 412
out=$(sub "http://$C1:99999/evt")
check "SUBSCRIBE with a CALLBACK port 99999: 412" is_status "$out" 412
out=$(sub "https://$C1:5556/evt")
check "SUBSCRIBE with an https CALLBACK: 412" is_status "$out" 412
out=$(sub "http://$OUT:5556/evt><http://$C1:5556/evt")
check "SUBSCRIBE with a stranger first, then itself: 412" is_status "$out" 412
wait $C_OUT; r_out=$?
wait $C_C2; r_c2=$?
check "no NOTIFY reached the WAN host" test "$r_out" != 0
check "no NOTIFY reached the other LAN host" test "$r_c2" != 0
out=$(printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b\r\nTIMEOUT: Second-1800\r\n\r\n' "$HP" | raw)
check "renewal with a wrong SID: 412" is_status "$out" 412
out=$(printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: \r\n\r\n' "$HP" | raw)
check "renewal with an empty SID: 412" is_status "$out" 412
out=$(printf 'UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b\r\n\r\n' "$HP" | raw)
check "UNSUBSCRIBE with a wrong SID: 412" is_status "$out" 412
out=$(printf 'UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\n\r\n' "$HP" | raw)
check "UNSUBSCRIBE without a SID: 412" is_status "$out" 412
# A real subscription, then the SID renewed on another service's URL: 412.
out=$(sub "http://$C1:5557/evt")
sid=$(printf '%s\n' "$out" | sed -n 's/^< SID: *//p')
check "a valid SUBSCRIBE: 200" is_status "$out" 200
# 10,000 SUBSCRIBEs as fast as one connection each allows (bounded by 25 s):
# one host may hold a quarter of max_subscribers (16 / 4 = 4), the rest is
# refused with 503, and another host can still subscribe.
printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nCALLBACK: <http://%s:5558/evt>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n' \
	"$HP" "$C1" | c1 "$SOAPC" burst "$GW_LAN" "$port" 10000 25 >"$LAB_DIR/burst" 2>&1
sent=$(sed -n 's/^sent //p' "$LAB_DIR/burst")
ok=$(sed -n 's/^status 200 //p' "$LAB_DIR/burst")
no=$(sed -n 's/^status 503 //p' "$LAB_DIR/burst")
check "SUBSCRIBE flood: $sent sent in at most 25 s (>= 1,000)" test "${sent:-0}" -ge 1000
check "... ${ok:-0} accepted (4 per host - 1 held)" test "${ok:-0}" = 3
check "... all the others (${no:-0}) refused with 503" test "$((${ok:-0} + ${no:-0}))" = "${sent:-x}"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetExternalIPAddress)
check "after the flood igdd answers SOAP" has "$out" 203.0.113.7
out=$(printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nCALLBACK: <http://%s:5559/evt>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n' \
	"$HP" "$C2" | c2 "$SOAPC" raw "$GW_LAN" "$port" 2>&1)
check "... and another LAN host can still subscribe: 200" is_status "$out" 200
out=$(printf 'UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: %s\r\nSID: %s\r\n\r\n' "$HP" "$sid" | raw)
check "UNSUBSCRIBE of the real SID: 200" is_status "$out" 200
out=$(sub "http://$C1:5557/evt")
check "... which frees a slot for a new subscriber: 200" is_status "$out" 200
batch_end "GENA" 7

T1=$(date +%s)
echo "    (hostile cases ran in $((T1 - T0)) s)"
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
