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
		echo "min_lifetime=2"
		echo "lease_file=$LAB_DIR/cgn.leases"
		echo "uuid=6a1e2f0c-5d3b-4c7e-9f10-2b3c4d5e6f70"
		cat
	} >"$LAB_DIR/cgn.conf"
	: >>"$LAB_DIR/cgn.log"
	_from=$(($(wc -l <"$LAB_DIR/cgn.log") + 1))
	ip netns exec "$NS_CGN" "$IGDD" -d -f "$LAB_DIR/cgn.conf" -P "$LAB_DIR/cgn.pid" \
		>>"$LAB_DIR/cgn.log" 2>&1 &
	CGN_PID=$!
	CGN_KIND=igdd
	for i in $(seq 1 50); do
		tail -n +"$_from" "$LAB_DIR/cgn.log" | grep -q " started" && return 0
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
		echo "enable_pcp_pmp=yes"
		echo "secure_mode=yes"
		echo "min_lifetime=2"
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
	for i in $(seq 1 50); do
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
	for i in $(seq 1 50); do
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
