#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_lan_alias.sh - two listening_ip on ONE interface (a bridge with a
# secondary subnet: lan0 holds 192.168.77.1/24 and 192.168.79.1/24, the
# second with the label lan0:1; c1 is
# in the first, c3 in the second, both on lan0).  igdd starts (the
# multicast groups and the IPv6 listeners are the interface's, made once);
# a client of each subnet discovers the gateway over SSDP with a LOCATION
# in its own subnet, fetches the description, maps over UPnP and NAT-PMP,
# and traffic from outside reaches it; the hairpin's lan4 set holds both
# subnets.  A reload that drops lan0's first subnet leaves the alias the
# interface's groups; one that gives a dropped subnet's slot to another
# subnet drops the SSDP answers still due to the first (none goes out from
# the new subnet's address).  Then the exact duplicates (the interface's
# name, its address, the alias twice) are served once, with a warning.
LAB_LAN2=${LAB_LAN2:-192.168.79}
. "$(dirname "$0")/lib.sh"
HTTP_PORT=47140
lab_up
check "IPv6 on lan0 and the WAN" lab_ipv6
# lab_up made lan1 for c3's subnet: c3's port and that subnet move to
# lan0, a secondary subnet on the same bridge as c1 and c2
GW_ALIAS=$GW_LAN2
gw ip link set c3p master lan0
gw ip link del lan1
# labelled, as ifupdown's "iface lan0:1" makes it: getifaddrs lists the
# address under "lan0:1", but the LAN is lan0 (its IPv6 addresses and
# sockets, lan4's interface name)
gw ip addr add "$GW_ALIAS/24" dev lan0 label lan0:1
check "c3's port forwards on lan0" wait_for 2 \
	sh -c "[ \"\$(ip netns exec $NS_GW cat /sys/class/net/c3p/brport/state)\" = 3 ]"

lab_listen c1 tcp 9001 tok-c1
lab_listen c3 tcp 9003 tok-c3
lab_listen c1 udp 9101 utok-c1
lab_listen c3 udp 9103 utok-c3
lab_listen c1 tcp 9201 ptok-c1
lab_listen c3 tcp 9203 ptok-c3

# locs NS: the LOCATION of every answer to an ssdp:all M-SEARCH from NS
# (multicast: an answer per target), one line each ("none" for an answer
# without one)
locs() {
	$1 "$SSDPQ" search ssdp:all 1 239.255.255.250 2500 2>/dev/null | tr -d '\r' |
		awk '/^--- answer/ { if (n++) print l; l = "none" }
		     sub(/^LOCATION: */, "") { l = $0 }
		     END { if (n) print l }'
}
# all_at LOCS URL: there are answers, and every one's LOCATION is URL (a
# right one first and a wrong one after fails)
all_at() { [ -n "$1" ] && ! printf '%s\n' "$1" | grep -qvxF "$2"; }
# said LOCS: for a message, "N answers: URL[,URL...]"
said() {
	printf '%s answers: %s' "$(printf '%s\n' "$1" | grep -c .)" \
		"$(printf '%s\n' "$1" | sort -u | paste -sd, -)"
}
# add NS BASE EPORT IPORT CLIENT: UPnP AddPortMapping (TCP)
add() {
	UPNP_BASE=$2 soap "$1" /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= \
		NewExternalPort="$3" NewProtocol=TCP NewInternalPort="$4" NewInternalClient="$5" \
		NewEnabled=1 NewPortMappingDescription=alias NewLeaseDuration=3600
}
ok() { [ "$(printf '%s\n' "$1" | head -1)" = "HTTP 200" ]; }
desc_ok() { $1 "$SOAPC" get "$2" 2>/dev/null | grep -q 'InternetGatewayDevice'; }
pmp() { $1 natpmpc -g "$2" -a "$3" "$4" "$5" 3600 2>&1 | grep -q "Mapped public port $3"; }
# upnpc_ok NS GW: upnpc -s (its own discovery) finds the IGD at GW (upnpc
# calls it "not connected?": the lab's WAN address is a documentation one)
upnpc_ok() {
	$1 upnpc -s >"$LAB_DIR/upnpc.out" 2>&1
	grep -q "desc: http://$2:$HTTP_PORT/rootDesc.xml" "$LAB_DIR/upnpc.out" &&
		grep -q "IGD : http://$2:$HTTP_PORT/ctl/IPConn" "$LAB_DIR/upnpc.out" ||
		{ cat "$LAB_DIR/upnpc.out"; return 1; }
}
# serve NS GW TAG TCP_EXT TCP_INT UDP_EXT UDP_INT CLIENT: a client of one
# subnet discovers, fetches the description, maps over UPnP (TCP) and
# NAT-PMP (UDP); outside traffic reaches it through both
serve() {
	_l=$(locs "$1")
	check "$3: every SSDP answer has the LOCATION of its own subnet ($(said "$_l"))" \
		all_at "$_l" "http://$2:$HTTP_PORT/rootDesc.xml"
	check "$3: the description is served there" desc_ok "$1" "http://$2:$HTTP_PORT/rootDesc.xml"
	check "$3: upnpc -s finds the IGD at $2" upnpc_ok "$1" "$2"
	r=$(add "$1" "http://$2:$HTTP_PORT" "$4" "$5" "$8")
	check "$3: UPnP AddPortMapping TCP $4 -> $8:$5" ok "$r"
	check "$3: outside traffic reaches it through TCP $4" reach tcp "$4" "tok-$3"
	check "$3: NAT-PMP maps UDP $6 -> $8:$7" pmp "$1" "$2" "$6" "$7" udp
	check "$3: outside traffic reaches it through UDP $6" reach udp "$6" "utok-$3"
	check "$3: PCP maps TCP $(($4 + 200)) -> $8:$(($5 + 200))" sh -c \
		"ip netns exec $(ns_of $1) $PCPC -n 0102030405060708090a0b0c $2 map tcp $(($5 + 200)) \
		 $(($4 + 200)) 3600 | grep -qx 'result=0'"
	check "$3: outside traffic reaches it through TCP $(($4 + 200))" \
		reach tcp "$(($4 + 200))" "ptok-$3"
}
ns_of() { case $1 in c1) echo "$NS_C1" ;; c3) echo "$NS_C3" ;; esac; }

lab_conf "$LAB_DIR/alias.conf" <<CONF
listening_ip=$GW_ALIAS/24
http_port=$HTTP_PORT
secure_mode=yes
CONF
gw "$IGDD" --check -f "$LAB_DIR/alias.conf" >"$LAB_DIR/check.txt" 2>&1
check "--check lists both LANs, the second sharing lan0's groups and IPv6 sockets" sh -c \
	"grep -qx 'listening_ip: lan0 $GW_LAN/24' '$LAB_DIR/check.txt' &&
	 grep -q '^listening_ip: lan0 $GW_ALIAS/24 (the interface of a LAN above' '$LAB_DIR/check.txt' &&
	 grep -q 'configuration OK' '$LAB_DIR/check.txt'"
check "igdd starts with listening_ip=lan0 and listening_ip=$GW_ALIAS/24 (both on lan0)" \
	lab_start_igdd "$LAB_DIR/alias.conf" -v
check "no 'Address already in use' in the log" \
	sh -c "! grep -i 'address already in use' $LAB_DIR/igdd.log"
check "the IPv6 HTTP listener of lan0 is made once" \
	test "$(grep -c 'http: listening on IPv6 port' "$LAB_DIR/igdd.log")" = 1
serve c1 "$GW_LAN" c1 8001 9001 8101 9101 "$C1"
serve c3 "$GW_ALIAS" c3 8003 9003 8103 9103 "$C3"
r=$(add c3 "http://$GW_ALIAS:$HTTP_PORT" 8013 9001 "$C1")
check "secure_mode: c3 cannot map to c1 ($(upnp_error "$r"))" test "$(upnp_error "$r")" = 606
check "the hairpin's lan4 set holds both subnets of lan0" sh -c \
	"ip netns exec $NS_GW nft list set inet igdd lan4 | grep -q '$LAB_LAN.0/24 . \"lan0\"' &&
	 ip netns exec $NS_GW nft list set inet igdd lan4 | grep -q '$LAB_LAN2.0/24 . \"lan0\"'"

# A reload that drops lan0's first address: the slot that stays (the
# alias) takes over the interface's groups and IPv6 sockets, as they are.
ssdp6() {
	printf 'M-SEARCH * HTTP/1.1\r\nHOST: [FF02::C]:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: upnp:rootdevice\r\n\r\n' |
		c1 timeout 3 socat -t 2 - "UDP6-DATAGRAM:[ff02::c]:1900,so-bindtodevice=eth0" 2>/dev/null |
		grep -q "LOCATION: http://\[fe80"
}
http6() {
	printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: [%s]:%s\r\nConnection: close\r\n\r\n' \
		"$GW6_LAN" "$HTTP_PORT" | c1 timeout 5 socat -T 3 - "TCP6:[$GW6_LAN]:$HTTP_PORT" |
		grep -q InternetGatewayDevice
}
check "before: SSDP over IPv6 answers c1" ssdp6
check "before: the IPv6 HTTP listener serves the description" http6
grep -v "^listening_ip=lan0$" "$LAB_DIR/alias.conf" >"$LAB_DIR/alias2.conf"
cp "$LAB_DIR/alias2.conf" "$LAB_DIR/alias.conf"
kill -HUP "$IGDD_PID"
check "reload (SIGHUP): lan0's first subnet is no longer served" wait_for 5 \
	grep -q "listening_ip: lan0 ($GW_LAN) is no longer served" "$LAB_DIR/igdd.log"
check "after: SSDP over IPv6 still answers on lan0" ssdp6
check "after: the IPv6 HTTP listener still serves the description" http6
check "after: PCP over IPv6 still answers on lan0" sh -c \
	"ip netns exec $NS_C1 $PCPC $GW6_LAN announce | grep -qx 'result=0'"
l=$(locs c3)
check "after: c3 still discovers over IPv4, every answer in its subnet ($(said "$l"))" \
	all_at "$l" "http://$GW_ALIAS:$HTTP_PORT/rootDesc.xml"
lab_listen c3 tcp 9033 tok33-c3
check "after: c3 still maps over NAT-PMP" pmp c3 "$GW_ALIAS" 8033 9033 tcp
check "and traffic reaches c3 through 8033" reach tcp 8033 tok33-c3
check "no 'Address already in use' after the reload either" \
	sh -c "! grep -i 'address already in use' $LAB_DIR/igdd.log"

# SSDP answers still due to a LAN that a reload tears down are dropped:
# they name its slot, which the same reload may give to the next LAN it
# sets up.  c1's subnet is served again (in the free slot 0); c1 sends
# searches, answered after a random delay of up to MX = 5 s; a reload
# then swaps c1's subnet for a third subnet of lan0, which takes slot 0.
# No answer may go out after it, least of all from the third subnet's
# address (a LOCATION c1 cannot use).
GW_LAN3=${LAB_LAN3:-192.168.78}.1
gw ip addr add "$GW_LAN3/24" dev lan0 label lan0:2
{ cat "$LAB_DIR/alias2.conf"; echo "listening_ip=$GW_LAN/24"; echo "ssdp_rate_limit=0"; } \
	>"$LAB_DIR/alias.conf"
ctl reload >"$LAB_DIR/r2.out" 2>&1
check "reload: c1's subnet is served again" grep -qF "now serving lan0 ($GW_LAN)" "$LAB_DIR/r2.out"
ssdp_requests() {
	ctl stats --json | "${PY:-/usr/bin/python3}" -c \
		'import json,sys; print(json.load(sys.stdin)["requests"]["ssdp"])'
}
ssdp_requests_ge() { [ "$(ssdp_requests)" -ge "$1" ]; }
n0=$(ssdp_requests)
late=
for i in 1 2 3 4 5 6 7 8 9 10; do
	c1 "$SSDPQ" search upnp:rootdevice 5 239.255.255.250 6000 >"$LAB_DIR/late.$i" 2>&1 &
	late="$late $!"
done
check "igdd has c1's 10 searches" wait_for 10 ssdp_requests_ge $((n0 + 10))
sed "s,^listening_ip=$GW_LAN/24\$,listening_ip=$GW_LAN3/24," "$LAB_DIR/alias.conf" \
	>"$LAB_DIR/alias3.conf"
cp "$LAB_DIR/alias3.conf" "$LAB_DIR/alias.conf"
ctl reload >"$LAB_DIR/r3.out" 2>&1
check "reload: c1's subnet goes, lan0's third subnet comes (slot 0 again)" sh -c \
	"grep -qF 'listening_ip: lan0 ($GW_LAN) is no longer served' '$LAB_DIR/r3.out' &&
	 grep -qF 'now serving lan0 ($GW_LAN3)' '$LAB_DIR/r3.out'"
# shellcheck disable=SC2086 # a list of pids
wait $late
cat "$LAB_DIR"/late.* | tr -d '\r' >"$LAB_DIR/late"
n=$(grep -c '^--- answer' "$LAB_DIR/late")
check "answers still due at the reload were dropped ($n of 10 came)" test "$n" -lt 10
check "every answer c1 got names c1's subnet: none went out from $GW_LAN3" sh -c \
	"! grep '^LOCATION:' '$LAB_DIR/late' | grep -vxF 'LOCATION: http://$GW_LAN:$HTTP_PORT/rootDesc.xml'"
check "igdd stops cleanly" lab_stop_igdd
gw ip addr del "$GW_LAN3/24" dev lan0
rm -f "$LAB_DIR/igdd.leases"

# Exact duplicates: the name, the address it resolves to, the alias twice.
lab_conf "$LAB_DIR/dup.conf" <<CONF
listening_ip=lan0
listening_ip=$GW_LAN/24
listening_ip=$GW_ALIAS/24
listening_ip=$GW_ALIAS
http_port=$HTTP_PORT
CONF
: >"$LAB_DIR/igdd.log"
gw "$IGDD" --check -f "$LAB_DIR/dup.conf" >"$LAB_DIR/check.txt" 2>&1
check "--check: OK, warns of each duplicate, lists 2 LANs" sh -c \
	"grep -q 'configuration OK' '$LAB_DIR/check.txt' &&
	 [ \$(grep -c 'served once' '$LAB_DIR/check.txt') = 3 ] &&
	 [ \$(grep -c '^listening_ip: lan0 ' '$LAB_DIR/check.txt') = 2 ]"
check "igdd starts with duplicate listening_ip entries" lab_start_igdd "$LAB_DIR/dup.conf" -v
check "it serves 2 LANs, not 5" grep -q ' started: uuid .*, 2 LAN interface(s)' "$LAB_DIR/igdd.log"
check "it warns of the duplicates" grep -q 'listening_ip.*served once' "$LAB_DIR/igdd.log"
check "c1: NAT-PMP maps TCP 8021 -> 9001" pmp c1 "$GW_LAN" 8021 9001 tcp
check "outside traffic reaches c1 through 8021" reach tcp 8021 tok-c1
check "c3: NAT-PMP maps TCP 8023 -> 9003" pmp c3 "$GW_ALIAS" 8023 9003 tcp
check "outside traffic reaches c3 through 8023" reach tcp 8023 tok-c3
l=$(locs c3)
check "c3: every SSDP answer still has its own subnet's LOCATION ($(said "$l"))" \
	all_at "$l" "http://$GW_ALIAS:$HTTP_PORT/rootDesc.xml"
lab_finish
