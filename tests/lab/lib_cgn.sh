# lib_cgn.sh - the double-NAT lab: a home gateway behind a carrier-grade NAT.
#
#   c1 (LAN client) --- [cpe: igdd, upstream_protocol=...] --- [cgn] --- out
#   192.168.77.10   lan0 .1          wan0 100.64.7.2  lan0 100.64.7.1  wan0 5.6.7.1   5.6.7.2
#
# The CPE is lib.sh's gateway namespace (NS_GW, GW_*, lab_start_igdd, gw);
# the CGN runs igdd (cgn_start_igdd) or Debian's miniupnpd
# (cgn_start_miniupnpd) as its PCP / NAT-PMP / UPnP IGD server, and NATs
# everything else of the CPE (masquerade), so outgoing traffic works as it
# does behind a real CGN.  The outside host only knows the CGN's outside
# address: a mapping works when traffic to CGN_OUT:port reaches the LAN
# listener through both NATs.  5.6.7.0/24 looks public (miniupnpd refuses
# reserved external addresses) and never leaves these namespaces.
. "$(dirname "$0")/lib.sh"

NS_CGN=igdd-$LAB_ID-cgn
CGN_IN=100.64.7.1		# the CGN's side facing its subscribers
CPE_WAN=100.64.7.2		# the CPE's WAN address (shared address space)
CGN_OUT=5.6.7.1			# the CGN's outside address: the external address
OUT=5.6.7.2			# the outside host
GW_WAN=$CPE_WAN
CGN_PID=
MINIUPNPD=${MINIUPNPD:-/usr/sbin/miniupnpd}

cgn() { ip netns exec "$NS_CGN" "$@"; }

cgn_down() {
	cgn_stop 2>/dev/null
	ip netns pids "$NS_CGN" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS_CGN" 2>/dev/null
	rm -rf "/etc/netns/$NS_GW"	# cpe_hosts's
	if [ "$LAB_FAILED" = 1 ]; then
		for _l in cgn.log miniupnpd.log; do
			[ -f "$LAB_DIR/$_l" ] || continue
			echo "    --- $_l (last 20 lines) ---"
			tail -20 "$LAB_DIR/$_l" | sed 's/^/    /'
		done
	fi
	lab_down
}

cgn_up() {
	lab_require_root
	trap 'cgn_down' EXIT
	trap 'exit 130' INT TERM
	for ns in $NS_GW $NS_C1 $NS_CGN $NS_OUT; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	gw ip link add lan0 type veth peer name eth0 netns "$NS_C1"
	gw ip link add wan0 type veth peer name lan0 netns "$NS_CGN"
	cgn ip link add wan0 type veth peer name eth0 netns "$NS_OUT"
	gw ip addr add "$GW_LAN/24" dev lan0
	gw ip addr add "$CPE_WAN/24" dev wan0
	cgn ip addr add "$CGN_IN/24" dev lan0
	cgn ip addr add "$CGN_OUT/24" dev wan0
	c1 ip addr add "$C1/24" dev eth0
	out ip addr add "$OUT/24" dev eth0
	for l in lan0 wan0; do gw ip link set $l up; cgn ip link set $l up; done
	c1 ip link set eth0 up
	out ip link set eth0 up
	c1 ip route add default via "$GW_LAN"
	gw ip route add default via "$CGN_IN"
	gw sysctl -qw net.ipv4.ip_forward=1
	cgn sysctl -qw net.ipv4.ip_forward=1
	# The CPE NATs its LAN, the CGN its subscribers (a plain NAT44).
	gw nft -f - <<EOF || return 1
table ip labnat {
	chain post { type nat hook postrouting priority 100; oifname "wan0" masquerade; }
}
EOF
	cgn nft -f - <<EOF || return 1
table ip labnat {
	chain post { type nat hook postrouting priority 110; oifname "wan0" masquerade; }
}
EOF
}

# cpe_conf FILE PROTOCOL [extra lines on stdin]: the CPE's configuration.
cpe_conf() {
	_f=$1 _p=$2; shift 2
	lab_conf "$_f" <<EOF
upstream_protocol=$_p
min_lifetime=2
secure_mode=yes
$(cat)
EOF
}

# cgn_start_igdd [extra config lines on stdin]: igdd as the CGN's server.
cgn_start_igdd() {
	{
		echo "ext_ifname=wan0"
		echo "listening_ip=lan0"
		echo "enable_upnp=yes"
		echo "enable_natpmp=yes"
		echo "secure_mode=yes"
		echo "http_port=2869"
		echo "lease_file=$LAB_DIR/cgn.leases"
		echo "control_socket=$LAB_DIR/cgn.sock"
		echo "uuid=6a1e2f0c-5d3b-4c7e-9f10-2b3c4d5e6f70"
		cat
	} >"$LAB_DIR/cgn.conf"
	cgn_igdd_run
}

# cgn_igdd_run: start igdd in the CGN with the configuration written.
cgn_igdd_run() {
	: >>"$LAB_DIR/cgn.log"
	_from=$(($(wc -l <"$LAB_DIR/cgn.log") + 1))
	ip netns exec "$NS_CGN" "$IGDD" -d -f "$LAB_DIR/cgn.conf" -P "$LAB_DIR/cgn.pid" \
		>>"$LAB_DIR/cgn.log" 2>&1 &
	CGN_PID=$!
	CGN_KIND=igdd
	for i in $(seq 1 200); do
		tail -n +"$_from" "$LAB_DIR/cgn.log" | grep -q " started: uuid " && return 0
		kill -0 "$CGN_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# cgn_start_miniupnpd [extra config lines on stdin]: Debian's miniupnpd as
# the CGN's server, in the CGN namespace only, on the nftables skeleton its
# nft_init.sh makes (as bench/lib.sh runs it).
cgn_start_miniupnpd() {
	[ -x "$MINIUPNPD" ] || return 2
	cgn nft list table inet filter >/dev/null 2>&1 ||
		miniupnpd_nft_skeleton | cgn nft -f - || return 1
	{
		echo "ext_ifname=wan0"
		echo "listening_ip=lan0"
		echo "http_port=2869"
		echo "enable_upnp=yes"
		echo "enable_natpmp=yes"
		echo "secure_mode=yes"
		echo "lease_file=$LAB_DIR/miniupnpd.leases"
		echo "uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b"
		echo "upnp_table_name=filter"
		echo "upnp_nat_table_name=filter"
		echo "upnp_forward_chain=miniupnpd"
		echo "upnp_nat_chain=prerouting_miniupnpd"
		echo "upnp_nat_postrouting_chain=postrouting_miniupnpd"
		cat
		echo "allow 1024-65535 100.64.7.0/24 1024-65535"
		echo "deny 0-65535 0.0.0.0/0 0-65535"
	} >"$LAB_DIR/miniupnpd.conf"
	rm -f "$LAB_DIR/miniupnpd.pid"
	cgn "$MINIUPNPD" -f "$LAB_DIR/miniupnpd.conf" -P "$LAB_DIR/miniupnpd.pid" \
		>>"$LAB_DIR/miniupnpd.log" 2>&1 || return 1
	CGN_KIND=miniupnpd
	for i in $(seq 1 200); do
		CGN_PID=$(cat "$LAB_DIR/miniupnpd.pid" 2>/dev/null)
		[ -n "$CGN_PID" ] && cgn ss -lnu 2>/dev/null | grep -q ':5351 ' && return 0
		sleep 0.1
	done
	return 1
}

# cgn_stop [SIGNAL]: stop the CGN's daemon, whichever it is.
cgn_stop() {
	[ -n "$CGN_PID" ] || return 0
	kill -"${1:-TERM}" "$CGN_PID" 2>/dev/null
	for i in $(seq 1 300); do
		kill -0 "$CGN_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$CGN_PID" 2>/dev/null
	wait "$CGN_PID" 2>/dev/null
	CGN_PID=
}

# reach_cgn tcp|udp PORT TOKEN: from the outside host to the CGN's outside
# address; succeeds when TOKEN comes back from the LAN listener.
reach_cgn() {
	_got=$(out "$PROBE" connect "$1" "$CGN_OUT" "$2" 1500 2>/dev/null)
	[ "$_got" = "$3" ]
}

# cpe_log_wait SECONDS PATTERN: the CPE's log says PATTERN (since log_mark).
cpe_log_wait() {
	_s=$1; shift
	wait_for "$_s" sh -c "tail -n +${LOG_FROM:-1} '$LAB_DIR/igdd.log' | grep -q -- '$1'"
}

# cgn_holds PROTO PORT: the CGN's kernel DNATs PORT (either daemon's table).
cgn_holds() {
	cgn nft list ruleset 2>/dev/null | grep -i "$1" | grep -qw "$2" ||
		cgn nft list ruleset 2>/dev/null | grep -A40 -i 'map dnat' | grep -qw "$2"
}

# ms_now: milliseconds of the monotonic-ish clock, for timings.
ms_now() { date +%s%3N; }

# stun_server ADDR...: Debian's coturn as a plain STUN server in the outside
# namespace only, on these addresses (two: RFC 5780's OTHER-ADDRESS) and
# port 3478 (and 3479, its other port); skips the test without coturn.
TURNSERVER=${TURNSERVER:-/usr/bin/turnserver}
stun_server() {
	if [ ! -x "$TURNSERVER" ]; then
		skip "needs $TURNSERVER (apt-get install coturn; configure --install-deps)"
		lab_finish
	fi
	_l=
	for _a in "$@"; do _l="$_l -L $_a"; done
	# shellcheck disable=SC2086
	out "$TURNSERVER" -n --no-auth --stun-only $_l --listening-port 3478 \
		--no-cli --no-tls --no-dtls --pidfile "$LAB_DIR/turn.pid" \
		--log-file "$LAB_DIR/turn.log" --simple-log --db "$LAB_DIR/turndb" >/dev/null 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	check "coturn listens in the outside namespace" \
		wait_for 5 sh -c "ip netns exec $NS_OUT ss -lnu | grep -q '$1:3478'"
}

# cpe_hosts LINE: an /etc/hosts line for the CPE's namespace only (ip netns
# exec binds /etc/netns/NS/hosts over /etc/hosts): names without DNS.
cpe_hosts() {
	mkdir -p "/etc/netns/$NS_GW" && printf '%s\n' "$1" >>"/etc/netns/$NS_GW/hosts"
}

# status_is KEY VALUE: igddctl status on the CPE says KEY: VALUE.
status_is() { ctl status 2>/dev/null | grep -qx "$1: $2"; }

# cgn_maps PROTO PORT: the CGN's kernel maps external PORT (igdd's map
# element "tcp . PORT ..." or miniupnpd's rule "@nh,72,8 0x6 th dport PORT",
# the protocol byte of the IPv4 header).
cgn_maps() {
	_pn=0x6; [ "$1" = udp ] && _pn=0x11
	cgn nft list ruleset 2>/dev/null | grep -Eqi "(\b$1 \. $2\b|@nh,72,8 $_pn th dport $2\b)"
}

# cgn_restart_empty [RULE]: kill -9 the CGN's daemon, forget everything it
# held (lease file, kernel state), start it again with the same
# configuration (and RULE, a permission line, before its allow rule).
cgn_restart_empty() {
	_kind=$CGN_KIND
	cgn_stop KILL
	if [ -n "${1:-}" ]; then
		sed -i "/^allow /i $1" "$LAB_DIR/cgn.conf" "$LAB_DIR/miniupnpd.conf" 2>/dev/null
	fi
	if [ "$_kind" = igdd ]; then
		rm -f "$LAB_DIR/cgn.leases"	# its restart installs exactly the file
		cgn_igdd_run
	else
		rm -f "$LAB_DIR/miniupnpd.leases"
		for _c in miniupnpd prerouting_miniupnpd postrouting_miniupnpd; do
			cgn nft flush chain inet filter $_c
		done
		cgn "$MINIUPNPD" -f "$LAB_DIR/miniupnpd.conf" -P "$LAB_DIR/miniupnpd.pid" \
			>>"$LAB_DIR/miniupnpd.log" 2>&1 || return 1
		CGN_KIND=miniupnpd
		wait_for 5 sh -c "ip netns exec $NS_CGN ss -lnu | grep -q ':5351 '"
		CGN_PID=$(cat "$LAB_DIR/miniupnpd.pid" 2>/dev/null)
	fi
}

# soap_us NS URL URN ACTION ARGS...: a SOAP call; prints "US STATUS": the
# exchange's time in microseconds, connect to answer (soapc's own clock).
soap_us() {
	_ns=$1; shift
	_r=$(SOAPC_TIME=1 $_ns "$SOAPC" "$@" 2>&1)
	echo "$(printf '%s\n' "$_r" | sed -n 's/^TIME_US //p' | head -1) $(printf '%s\n' "$_r" | sed -n 's/^HTTP //p' | head -1)"
}

# median: the median of the numbers on stdin.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# add_us NS BASE CLIENT PORT: one AddPortMapping (TCP PORT -> CLIENT:9000),
# its time in microseconds and HTTP status.
add_us() {
	soap_us "$1" "$2/ctl/IPConn" "$URN_IPC2" AddPortMapping NewRemoteHost= \
		NewExternalPort="$4" NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$3" \
		NewEnabled=1 NewPortMappingDescription=timing NewLeaseDuration=600
}

# cgn_scenario igdd|miniupnpd pcp|natpmp|upnp REFUSAL_ERROR: the whole
# relay story through one upstream protocol to one CGN daemon.
cgn_scenario() {
	_kind=$1 _proto=$2 _refusal=$3
	_PROTO=$_proto
	cgn_up || { fail "the four-namespace lab comes up"; lab_finish; }
	# The CGN refuses 7000-7099 to everyone.
	if [ "$_kind" = miniupnpd ] && [ ! -x "$MINIUPNPD" ]; then
		skip "needs $MINIUPNPD (apt-get install miniupnpd-nftables; configure --install-deps)"
		lab_finish
	fi
	check "$_kind starts as the CGN's PCP/NAT-PMP/UPnP server" cgn_start_$_kind <<EOF2
deny 7000-7099 0.0.0.0/0 0-65535
allow 1024-65535 100.64.7.0/24 1024-65535
EOF2
	cpe_conf "$LAB_DIR/igdd.conf" "$_proto" </dev/null
	: >>"$LAB_DIR/igdd.log"
	log_mark
	check "the CPE's igdd starts with upstream_protocol=$_proto" \
		lab_start_igdd "$LAB_DIR/igdd.conf" -v
	check "the CPE learns the CGN's external address $CGN_OUT" \
		cpe_log_wait 15 "external address $CGN_OUT"
	cgn_story_map "$_proto"
	cgn_story_refuse "$_refusal"
	cgn_story_timing
	cgn_story_restart
	check "the CPE's igdd stops with status 0" lab_stop_igdd
	lab_finish
}

# natpmpc_port OUT PROTO: the public port natpmpc says it got.
natpmpc_port() { sed -n "s/.*Mapped public port \([0-9]*\) protocol $2 .*/\1/p" "$1" | head -1; }

cgn_story_map() {
	c1 natpmpc -g "$GW_LAN" >"$LAB_DIR/n0.out" 2>&1
	check "natpmpc on the LAN sees the CGN's address" \
		grep -q "Public IP address : $CGN_OUT" "$LAB_DIR/n0.out"
	lab_listen c1 tcp 9000 TOKTCP
	lab_listen c1 udp 9001 TOKUDP
	c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >"$LAB_DIR/n1.out" 2>&1
	P1=$(natpmpc_port "$LAB_DIR/n1.out" TCP)
	check "natpmpc gets a TCP mapping (public port ${P1:-none})" test -n "$P1"
	check "TCP from the outside host to $CGN_OUT:$P1 reaches c1 through both NATs" \
		reach_cgn tcp "${P1:-0}" TOKTCP
	c1 natpmpc -g "$GW_LAN" -a 8006 9001 udp 3600 >"$LAB_DIR/n1u.out" 2>&1
	P1U=$(natpmpc_port "$LAB_DIR/n1u.out" UDP)
	check "natpmpc gets a UDP mapping too (public port ${P1U:-none})" test -n "$P1U"
	check "UDP from the outside host to $CGN_OUT:$P1U reaches c1 through both NATs" \
		reach_cgn udp "${P1U:-0}" TOKUDP
	check "igddctl status: the upstream answers, the external address is its $CGN_OUT" \
		eval 'status_is upstream.state answering && status_is external.address $CGN_OUT &&
			status_is external.source upstream'
	UPNP_BASE=$(lab_upnp_base)
	c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -e relayed -a "$C1" 9001 8001 UDP \
		>"$LAB_DIR/u1.out" 2>&1
	check "upnpc: the external address is the CGN's" \
		grep -q "ExternalIPAddress = $CGN_OUT" "$LAB_DIR/u1.out"
	check "upnpc maps UDP $CGN_OUT:8001 -> c1:9001" \
		grep -q "external $CGN_OUT:8001 UDP is redirected to internal $C1:9001" "$LAB_DIR/u1.out"
	check "UDP from the outside host to $CGN_OUT:8001 reaches c1 through both NATs" \
		reach_cgn udp 8001 TOKUDP
	check "the CGN maps UDP 8001" cgn_maps udp 8001
	c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -e relayed -a "$C1" 9000 8007 TCP \
		>"$LAB_DIR/u1t.out" 2>&1
	check "upnpc maps TCP $CGN_OUT:8007 -> c1:9000, which carries traffic through both NATs" \
		reach_cgn tcp 8007 TOKTCP
	c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -d 8001 UDP >"$LAB_DIR/u2.out" 2>&1
	check_not "upnpc -d: UDP 8001 no longer reaches c1" reach_cgn udp 8001 TOKUDP
	check "... and the CGN no longer maps it (the upstream delete follows the local one)" \
		wait_for 10 cgn_maps_gone udp 8001
	c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -d 8007 TCP >/dev/null 2>&1
	check "upnpc -d of TCP 8007: the CGN no longer maps it" wait_for 10 cgn_maps_gone tcp 8007
	c1 natpmpc -g "$GW_LAN" -a "${P1U:-0}" 9001 udp 0 >/dev/null 2>&1
	check "natpmpc delete of UDP $P1U: the CGN no longer maps it" \
		wait_for 10 cgn_maps_gone udp "${P1U:-0}"
	cgn_story_pcp
	c1 natpmpc -g "$GW_LAN" -a "${P1:-0}" 9000 tcp 0 >/dev/null 2>&1
	check_not "natpmpc delete: TCP $P1 no longer reaches c1" reach_cgn tcp "${P1:-0}" TOKTCP
	check "... and the CGN no longer maps it" wait_for 10 cgn_maps_gone tcp "${P1:-0}"
	c1 natpmpc -g "$GW_LAN" -a 8002 9000 tcp 3 >"$LAB_DIR/n2.out" 2>&1
	P2=$(natpmpc_port "$LAB_DIR/n2.out" TCP)
	check "a 3 s NAT-PMP lease carries traffic at first" reach_cgn tcp "${P2:-0}" TOKTCP
	check "... while the CGN holds it longer (it asked for at least 120 s)" cgn_maps tcp "${P2:-0}"
	sleep 4
	check "after the local lease ended the CGN no longer maps $P2 either" \
		wait_for 10 cgn_maps_gone tcp "${P2:-0}"
}
cgn_maps_gone() { ! cgn_maps "$@"; }

# A PCP client on the LAN (RFC 7648: the CPE proxies its MAP upstream).
cgn_story_pcp() {
	_n=0102030405060708090a0b0c
	c1 "$PCPC" -n $_n "$GW_LAN" map tcp 9000 8008 3600 >"$LAB_DIR/p1.out" 2>&1
	_pp=$(pcp_field "$LAB_DIR/p1.out" external_port)
	check "PCP MAP from c1: SUCCESS with the CGN's address (got $(pcp_field "$LAB_DIR/p1.out" result_name) $(pcp_field "$LAB_DIR/p1.out" external_ip):${_pp:-none})" \
		sh -c "test '$(pcp_field "$LAB_DIR/p1.out" result)' = 0 && test '$(pcp_field "$LAB_DIR/p1.out" external_ip)' = '$CGN_OUT'"
	check "... which carries TCP from the outside host through both NATs" \
		reach_cgn tcp "${_pp:-0}" TOKTCP
	c1 "$PCPC" -n $_n "$GW_LAN" map tcp 9000 "${_pp:-0}" 0 >"$LAB_DIR/p2.out" 2>&1
	check "PCP delete (lifetime 0, same nonce): the CGN no longer maps it" \
		wait_for 10 cgn_maps_gone tcp "${_pp:-0}"
}

# The CGN refuses a port: the LAN client gets the protocol's error and no
# local mapping is left.
cgn_story_refuse() {
	_r=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=7000 \
		NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
		NewPortMappingDescription=refused NewLeaseDuration=0)
	check "AddPortMapping of a port the CGN refuses: UPnP error $1 (got $(upnp_error "$_r"))" \
		test "$(upnp_error "$_r")" = "$1"
	_r=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= \
		NewExternalPort=7000 NewProtocol=TCP)
	check "... and no local mapping is left (GetSpecificPortMappingEntry 714)" \
		test "$(upnp_error "$_r")" = 714
	check_not "... nor a kernel element on the CPE" sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 7000"
	# A PCP client with PREFER_FAILURE (RFC 7648, RFC 6970's table): a
	# refusal upstream (606 above) is NOT_AUTHORIZED, a port the upstream
	# cannot give (729) CANNOT_PROVIDE_EXTERNAL; nothing is left here.
	_want=11; [ "$1" = 606 ] && _want=2
	c1 "$PCPC" -n 0d0e0f101112131415161718 "$GW_LAN" map tcp 9000 7002 3600 --prefer-failure \
		>"$LAB_DIR/p3.out" 2>&1
	check "PCP MAP with PREFER_FAILURE of a port the CGN refuses: result $_want (got $(pcp_field "$LAB_DIR/p3.out" result) $(pcp_field "$LAB_DIR/p3.out" result_name))" \
		test "$(pcp_field "$LAB_DIR/p3.out" result)" = "$_want"
	check "... and no local mapping is left (714, no kernel element)" \
		eval 'cpe_lacks 7002 && ! gw nft list ruleset | grep -qw 7002'
	c1 natpmpc -g "$GW_LAN" -a 7001 9000 tcp 3600 >"$LAB_DIR/n3.out" 2>&1
	_p=$(natpmpc_port "$LAB_DIR/n3.out" TCP)
	if [ -n "$_p" ]; then
		# NAT-PMP's port is a suggestion: the CGN may give another
		check "natpmpc asking for a port the CGN refuses gets another one ($_p), never 7001" \
			test "$_p" != 7001
		check "... which carries traffic from the outside host" reach_cgn tcp "$_p" TOKTCP
		c1 natpmpc -g "$GW_LAN" -a "$_p" 9000 tcp 0 >/dev/null 2>&1
		wait_for 10 cgn_maps_gone tcp "$_p"	# the port is free upstream again
	else
		check "natpmpc asking for a port the CGN refuses gets NAT-PMP's error ($(sed -n 's/.*returned \(-*[0-9]*\).*/\1/p' "$LAB_DIR/n3.out" | head -1))" \
			grep -Eqi "refused|not authori|network failure|out of resources|returned -" "$LAB_DIR/n3.out"
		check "... and no local mapping is left (714, no kernel element)" \
			eval 'cpe_lacks 7001 && ! gw nft list ruleset | grep -qw 7001'
	fi
	cgn_story_any
}

# AddAnyPortMapping of a port the CGN refuses: the CPE keeps its own port
# (7050), the world gets the CGN's (NewReservedPort), and the mapping is
# known by that one (GetSpecificPortMappingEntry, DeletePortMapping).
cgn_story_any() {
	_r=$(soap c1 /ctl/IPConn "$URN_IPC2" AddAnyPortMapping NewRemoteHost= NewExternalPort=7050 \
		NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
		NewPortMappingDescription=any NewLeaseDuration=600)
	_q=$(printf '%s\n' "$_r" | sed -n 's,.*<NewReservedPort>\([0-9]*\)<.*,\1,p')
	if [ -z "$_q" ] && [ "$_PROTO" = upnp ] && grep -q "WANIPConnection:1 at" "$LAB_DIR/igdd.log"; then
		skip "AddAnyPortMapping through an IGD:1 upstream (it has none): error $(upnp_error "$_r")"
		return
	fi
	check "AddAnyPortMapping of 7050 gets another port from the CGN (${_q:-none})" \
		sh -c "test -n '$_q' && test '$_q' != 7050"
	check "... which carries traffic from the outside host" reach_cgn tcp "${_q:-0}" TOKTCP
	_r=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= \
		NewExternalPort="${_q:-0}" NewProtocol=TCP)
	check "... and names the mapping (GetSpecificPortMappingEntry)" \
		sh -c "printf '%s' '$_r' | grep -q '<NewInternalPort>9000<'"
	_r=$(soap c1 /ctl/IPConn "$URN_IPC2" DeletePortMapping NewRemoteHost= \
		NewExternalPort="${_q:-0}" NewProtocol=TCP)
	check "... and deletes it (DeletePortMapping)" sh -c "printf '%s' '$_r' | grep -q '^HTTP 200'"
	check "... on the CGN too" wait_for 10 cgn_maps_gone tcp "${_q:-0}"
}

# The time a relayed AddPortMapping takes (c1 -> CPE -> CGN and back),
# against a local one (the CPE as a client of the CGN's own daemon, which
# maps locally): medians of 11, as soapc times its exchange.
cgn_story_timing() {
	: >"$LAB_DIR/t.rel"
	: >"$LAB_DIR/t.loc"
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		add_us c1 "$UPNP_BASE" "$C1" $((8100 + i)) >>"$LAB_DIR/t.rel"
		add_us gw "http://$CGN_IN:2869" "$CPE_WAN" $((8200 + i)) >>"$LAB_DIR/t.loc"
	done
	check "11 relayed AddPortMappings succeed" test "$(grep -c ' 200$' "$LAB_DIR/t.rel")" = 11
	check "11 local AddPortMappings at the CGN succeed" test "$(grep -c ' 200$' "$LAB_DIR/t.loc")" = 11
	echo "TIMING lab/$LAB_TEST: AddPortMapping relayed $(cut -d' ' -f1 "$LAB_DIR/t.rel" | median) us," \
		"local at the CGN $(cut -d' ' -f1 "$LAB_DIR/t.loc" | median) us (medians of 11;" \
		"relayed: $(cut -d' ' -f1 "$LAB_DIR/t.rel" | tr '\n' ' ')local: $(cut -d' ' -f1 "$LAB_DIR/t.loc" | tr '\n' ' '))"
	check "the relayed mapping carries traffic" reach_cgn tcp 8101 TOKTCP
}

# The CGN's daemon is killed and restarted empty: the mapping works again
# within 30 s, without any client action.
# The CGN's daemon is killed and restarted empty, now refusing 8004: the
# mapping of 8003 works again within 30 s without any client action; the
# UPnP mapping of 8004 is removed here too and the LAN is told (the CPE's
# new epoch: a PCP ANNOUNCE).
cgn_story_restart() {
	c1 natpmpc -g "$GW_LAN" -a 8003 9000 tcp 3600 >"$LAB_DIR/n4.out" 2>&1
	P3=$(natpmpc_port "$LAB_DIR/n4.out" TCP)
	check "a mapping before the CGN restarts carries traffic" reach_cgn tcp "${P3:-0}" TOKTCP
	_r=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8004 \
		NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
		NewPortMappingDescription=lost NewLeaseDuration=0)
	check "a UPnP mapping of 8004 before the CGN restarts carries traffic" reach_cgn tcp 8004 TOKTCP
	c1 "$PMPQ" listen "$C1" 12 >"$LAB_DIR/announce.out" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	wait_listening "$LAB_DIR/announce.out" $!
	log_mark
	_t0=$(ms_now)
	cgn_restart_empty "deny 8004-8004 0.0.0.0/0 0-65535"
	check "the CGN's $CGN_KIND restarts with no mapping" test -n "$CGN_PID"
	check "within 30 s the mapping works again with no client action" \
		wait_for 30 reach_cgn tcp "${P3:-0}" TOKTCP
	echo "TIMING lab/$LAB_TEST: mapping back $(( $(ms_now) - _t0 )) ms after the CGN restarted empty"
	check "the mapping the CGN now refuses (8004) is removed on the CPE too" \
		wait_for 15 cpe_lacks 8004
	check "... the CPE's log says so" cpe_log_wait 1 "upstream refuses TCP 8004"
	check "... and the LAN hears a new epoch (PCP ANNOUNCE from the CPE)" \
		wait_for 10 grep -Eq "^$GW_LAN 0280" "$LAB_DIR/announce.out"
	cgn_story_cpe_restart
}

# cpe_lacks PORT: the CPE has no TCP mapping of PORT (UPnP 714).
cpe_lacks() {
	_r=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= \
		NewExternalPort="$1" NewProtocol=TCP)
	test "$(upnp_error "$_r")" = 714
}

# The CPE is killed (-9) and restarted: the mapping is asked for again from
# the lease file, with the same nonce, and the CGN refreshes it (another
# nonce would be refused: NOT_AUTHORIZED).
cgn_story_cpe_restart() {
	lab_stop_igdd KILL
	log_mark
	check "the CPE's igdd restarts after kill -9" lab_start_igdd "$LAB_DIR/igdd.conf" -v
	check "... asks the CGN for the mappings of its lease file" \
		cpe_log_wait 10 "asking for the [0-9]* mapping(s) held here"
	check "... and the mapping carries traffic again" wait_for 10 reach_cgn tcp "${P3:-0}" TOKTCP
	sleep 1
	check_not "... the CGN refused none of them (same nonces)" cpe_log_wait 1 "upstream refuses"
	UPNP_BASE=$(lab_upnp_base)
}
