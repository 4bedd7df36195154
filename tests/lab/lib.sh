# lib.sh - the lab: a gateway built out of network namespaces.
#
#   c1, c2 (LAN clients) --- lan0 (bridge) [gw: igdd, nftables] wan0 --- out
#   c3 (with LAB_LAN2=a.b.c) --- lan1 (bridge) -/
#
# Source it, call lab_up, and everything is torn down on exit, error or
# Ctrl-C.  Names are unique per run; traffic stays inside these namespaces.
# Test results are lines "PASS|FAIL|SKIP lab/<test>: <what>" that
# tests/run.sh counts.

LAB_TOP=${LAB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
IGDD=${IGDD:-$LAB_TOP/igdd}
PROBE=${PROBE:-$LAB_TOP/build/tools/probe}
LAB_LAN=${LAB_LAN:-192.168.77}		# LAN /24: gw .$LAB_GW_HOST, c1 .10, c2 .11
LAB_GW_HOST=${LAB_GW_HOST:-1}
LAB_WAN=${LAB_WAN:-198.51.100}		# WAN /24: gw .1, out .2
LAB_LAN2=${LAB_LAN2:-}			# a second LAN /24 (gw .1 on lan1, c3 .10), if set
LAB_TEST=${LAB_TEST:-$(basename "$0" .sh)}
LAB_ID=${LAB_ID:-$(printf '%04x%04x' $$ "$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')" | cut -c1-8)}
NS_GW=igdd-$LAB_ID-gw
NS_C1=igdd-$LAB_ID-c1
NS_C2=igdd-$LAB_ID-c2
NS_OUT=igdd-$LAB_ID-out
NS_C3=
[ -n "$LAB_LAN2" ] && NS_C3=igdd-$LAB_ID-c3
GW_LAN2=$LAB_LAN2.1
C3=$LAB_LAN2.10
GW_LAN=$LAB_LAN.$LAB_GW_HOST
GW_WAN=$LAB_WAN.1
C1=$LAB_LAN.10
C2=$LAB_LAN.11
OUT=$LAB_WAN.2
LAB_DIR=$(mktemp -d /tmp/igdd-lab.XXXXXX)
LAB_PIDS=
LAB_FAILED=0
IGDD_PID=

gw() { ip netns exec "$NS_GW" "$@"; }
c1() { ip netns exec "$NS_C1" "$@"; }
c2() { ip netns exec "$NS_C2" "$@"; }
out() { ip netns exec "$NS_OUT" "$@"; }
c3() { ip netns exec "$NS_C3" "$@"; }

pass() { echo "PASS lab/$LAB_TEST: $*"; }
fail() { echo "FAIL lab/$LAB_TEST: $*"; LAB_FAILED=1; }
skip() { echo "SKIP lab/$LAB_TEST: $*"; }
# check "what" cmd...: PASS if cmd succeeds.
check() { _w=$1; shift; if "$@" >"$LAB_DIR/check.out" 2>&1; then pass "$_w"; else fail "$_w"; sed 's/^/    /' "$LAB_DIR/check.out" | head -20; fi; }
# check_not "what" cmd...: PASS if cmd fails.
check_not() { _w=$1; shift; if "$@" >"$LAB_DIR/check.out" 2>&1; then fail "$_w"; sed 's/^/    /' "$LAB_DIR/check.out" | head -20; else pass "$_w"; fi; }

lab_require_root() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root for network namespaces"
		exit 0
	fi
	for t in ip nft; do
		command -v $t >/dev/null 2>&1 || { skip "needs '$t' (make deps)"; exit 0; }
	done
}

lab_down() {
	for p in $LAB_PIDS $IGDD_PID; do kill "$p" 2>/dev/null; done
	sleep 0.1
	for p in $LAB_PIDS $IGDD_PID; do kill -9 "$p" 2>/dev/null; done
	for ns in $NS_GW $NS_C1 $NS_C2 $NS_OUT $NS_C3; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$LAB_FAILED" = 1 ] && [ -f "$LAB_DIR/igdd.log" ]; then
		echo "    --- igdd log (last 30 lines) ---"
		tail -30 "$LAB_DIR/igdd.log" | sed 's/^/    /'
	fi
	rm -rf "$LAB_DIR"
}

lab_up() {
	lab_require_root
	trap 'lab_down' EXIT
	trap 'exit 130' INT TERM
	for ns in $NS_GW $NS_C1 $NS_C2 $NS_OUT; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	# veths are born in the gateway namespace and one end is moved, so no
	# name is ever visible in the host namespace.
	gw ip link add lan0 type bridge
	gw ip link set lan0 up
	gw ip link add c1p type veth peer name eth0 netns "$NS_C1"
	gw ip link add c2p type veth peer name eth0 netns "$NS_C2"
	gw ip link add wan0 type veth peer name eth0 netns "$NS_OUT"
	for p in c1p c2p; do gw ip link set $p master lan0 up; done
	gw ip addr add "$GW_LAN/24" dev lan0
	gw ip addr add "$GW_WAN/24" dev wan0
	gw ip link set wan0 up
	gw sysctl -qw net.ipv4.ip_forward=1
	c1 ip addr add "$C1/24" dev eth0
	c2 ip addr add "$C2/24" dev eth0
	out ip addr add "$OUT/24" dev eth0
	for f in c1 c2 out; do $f ip link set eth0 up; done
	c1 ip route add default via "$GW_LAN"
	c2 ip route add default via "$GW_LAN"
	# The outside host knows no route to the LAN: only mappings reach it.
	# The bridge has no STP, so its ports forward at once; wait for the
	# state (3 = forwarding) rather than trust it, 10 s at most.
	for i in $(seq 1 100); do
		[ "$(gw cat /sys/class/net/c1p/brport/state)" = 3 ] &&
			[ "$(gw cat /sys/class/net/c2p/brport/state)" = 3 ] && break
		sleep 0.1
	done
	[ -z "$LAB_LAN2" ] || lab_up_lan2
}

# The second LAN (LAB_LAN2): bridge lan1 in the gateway, client c3.
lab_up_lan2() {
	ip netns add "$NS_C3" || return 1
	ip -n "$NS_C3" link set lo up
	gw ip link add lan1 type bridge
	gw ip link set lan1 up
	gw ip link add c3p type veth peer name eth0 netns "$NS_C3"
	gw ip link set c3p master lan1 up
	gw ip addr add "$GW_LAN2/24" dev lan1
	c3 ip addr add "$C3/24" dev eth0
	c3 ip link set eth0 up
	c3 ip route add default via "$GW_LAN2"
	for i in $(seq 1 100); do
		[ "$(gw cat /sys/class/net/c3p/brport/state)" = 3 ] && break
		sleep 0.1
	done
}

# lab_conf FILE [extra lines on stdin]: a config for the gateway.
lab_conf() {
	{
		echo "ext_ifname=wan0"
		echo "listening_ip=lan0"
		echo "enable_upnp=yes"
		echo "enable_natpmp=yes"
		echo "lease_file=$LAB_DIR/igdd.leases"
		echo "ext_allow_private_ipv4=yes"
		# uid 0 (still with CAP_NET_ADMIN alone) whether or not this
		# machine has an igdd user: the tests write lease files as
		# root (t_privs tests the default user)
		echo "user=root"
		echo "control_socket=$LAB_DIR/igdd.sock"
		cat
	} >"$1"
}

# lab_integrate_conf: the keys that attach igdd to the chains of
# conf/nftables-integrate.nft (miniupnpd-nftables' layout), for lab_conf's
# stdin.
lab_integrate_conf() {
	echo "upnp_table_name=filter"
	echo "upnp_nat_table_name=filter"
	echo "upnp_forward_chain=miniupnpd"
	echo "upnp_nat_chain=prerouting_miniupnpd"
	echo "upnp_nat_postrouting_chain=postrouting_miniupnpd"
}

# lab_start_igdd CONF [ARGS...]: start igdd in the gateway, wait until it
# logs "started: uuid" (LAB_START_WAIT seconds at most, 20 by default: an
# ASan build on a loaded machine; it returns as soon as the line is there).
lab_start_igdd() {
	_conf=$1; shift
	_from=$(($(cat "$LAB_DIR/igdd.log" 2>/dev/null | wc -l) + 1))
	# ip netns exec execs igdd, so $! is igdd itself (not a subshell).
	ip netns exec "$NS_GW" "$IGDD" -d -f "$_conf" -P "$LAB_DIR/igdd.pid" "$@" \
		>>"$LAB_DIR/igdd.log" 2>&1 &
	IGDD_PID=$!
	for i in $(seq 1 $((${LAB_START_WAIT:-20} * 10))); do
		# The whole line: a write that crosses a page of the file can be
		# read half done.
		tail -n +"$_from" "$LAB_DIR/igdd.log" 2>/dev/null | grep -q " started: uuid " &&
			[ -z "$(tail -c 1 "$LAB_DIR/igdd.log")" ] && return 0
		kill -0 "$IGDD_PID" 2>/dev/null || { wait "$IGDD_PID"; return 1; }
		sleep 0.1
	done
	return 1
}

# lab_stop_igdd [SIGNAL]: stop it and wait (30 s at most: an ASan build's
# exit checks for leaks); returns its status.
lab_stop_igdd() {
	[ -n "$IGDD_PID" ] || return 0
	kill -"${1:-TERM}" "$IGDD_PID" 2>/dev/null
	for i in $(seq 1 300); do
		kill -0 "$IGDD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$IGDD_PID" 2>/dev/null && kill -9 "$IGDD_PID"	# did not stop: fail, never hang
	wait "$IGDD_PID"; _rc=$?
	IGDD_PID=
	return $_rc
}

# lab_listen c1|c2|out tcp|udp PORT TOKEN: a listener in that namespace,
# for LAB_LISTEN_SECS seconds (120; longer for one a long test needs to
# its end: the time a test takes depends on the machine).
lab_listen() {
	case $1 in
	c1) _ns=$NS_C1 ;; c2) _ns=$NS_C2 ;; c3) _ns=$NS_C3 ;; out) _ns=$NS_OUT ;; gw) _ns=$NS_GW ;;
	*) echo "lab_listen: no namespace $1" >&2; return 1 ;;
	esac
	shift
	LAB_NLISTEN=$((${LAB_NLISTEN:-0} + 1))
	_lf=$LAB_DIR/listen.$LAB_NLISTEN; : >"$_lf"
	ip netns exec "$_ns" "$PROBE" listen "$@" "${LAB_LISTEN_SECS:-120}" >"$_lf" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	wait_listening "$_lf" $!
}

# wait_listening FILE [PID]: a tool started in the background with its
# output in FILE (probe listen, soapc catch, pmpq listen) has its socket
# bound: it printed "listening" (LAB_LISTEN_WAIT seconds at most, 10 by
# default; fails at once if PID is given and has exited).
wait_listening() {
	for i in $(seq 1 $((${LAB_LISTEN_WAIT:-10} * 20))); do
		grep -q '^listening' "$1" 2>/dev/null && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_bound NS_FN tcp|udp PORT: a socket of namespace NS_FN (c1, gw, out...)
# listens (tcp) or is bound (udp) on PORT, for tools that do not say so.
wait_bound() {
	wait_for "${LAB_LISTEN_WAIT:-10}" sh -c '[ -n "$($1 ss -Hn -l -"$2" "sport = :$3")" ]' \
		sh "ip netns exec igdd-$LAB_ID-$1" "$(echo "$2" | cut -c1)" "$3"
}

# reach tcp|udp PORT TOKEN: from the outside host to the gateway's WAN
# address; succeeds when TOKEN comes back.
reach() {
	_got=$(out "$PROBE" connect "$1" "$GW_WAN" "$2" 1500 2>/dev/null)
	[ "$_got" = "$3" ]
}

lab_finish() {
	exit $LAB_FAILED
}

# reach_from SRC tcp|udp PORT TOKEN: like reach, from source address SRC
# of the outside host (add it first: out ip addr add SRC/24 dev eth0).
reach_from() {
	_got=$(out "$PROBE" connect -s "$1" "$2" "$GW_WAN" "$3" 1500 2>/dev/null)
	[ "$_got" = "$4" ]
}

# ctl ARGS...: igddctl on this lab's control socket (lab_conf's).
IGDDCTL=${IGDDCTL:-$LAB_TOP/igddctl}
ctl() { "$IGDDCTL" -s "$LAB_DIR/igdd.sock" "$@"; }
# ctl_has PROTO PORT: igddctl lists a mapping of that external port.
ctl_has() { ctl list --json 2>/dev/null | grep -q "\"protocol\":\"$1\",\"external_port\":$2,"; }

# fwctl ARGS...: the firewall backend driven directly, in the gateway.
FWCTL=${FWCTL:-$LAB_TOP/build/tools/fwctl}
fwctl() { gw "$FWCTL" "$@"; }

# LAB_ELEMS_AWK: an awk program's part that calls el(E) for each element
# of the `nft list` of a set or map it reads, as the lines come (an
# element never ends on a line of its own: what follows a line's last
# comma waits for the next), not from one buffer of them all (appending
# to one string is quadratic in awk: minutes for 30,000 elements).
LAB_ELEMS_AWK='/elements = \{/ { on = 1; sub(/.*elements = \{/, "") }
	on { l = part " " $0; last = sub(/\}.*/, "", l); n = split(l, e, ",")
		for (i = 1; i < n; i++) el(e[i])
		part = e[n]; if (last) { el(part); part = ""; on = 0 } }'

# nelems SET / nmapelems MAP: elements in igdd's own table.  nft's JSON
# names an element "val" only when it has a counter or a timeout (the
# DNAT maps have no counters, a lease 0 no timeout): the text's elements,
# separated by commas, are counted instead.
nelems() {
	gw nft list "${2:-set}" inet igdd "$1" 2>/dev/null |
		awk "function el(x) { if (x ~ /[^ \t]/) c++ } $LAB_ELEMS_AWK END { print c + 0 }"
}
nmapelems() { nelems "$1" map; }
nmapelems_is() { [ "$(nmapelems "$1")" = "$2" ]; }

# lease_line PROTO EPORT IADDR IPORT SECONDS [RHOST]: a lease file record
# for a mapping that ends SECONDS from now (0 = no expiry).
lease_line() {
	_now=$(date +%s)
	_exp=0; [ "$5" = 0 ] || _exp=$((_now + $5))
	echo "+ $1 $2 ${6:-::} $3 $4 $_exp $_now UPNP $3 000000000000000000000000 1 lab $1 $2"
}

# log_mark: remember where igdd's log ends; count_log PATTERN: lines
# matching PATTERN written since the last log_mark.
log_mark() { LOG_FROM=$(($(wc -l <"$LAB_DIR/igdd.log") + 1)); }
count_log() { tail -n +"${LOG_FROM:-1}" "$LAB_DIR/igdd.log" | grep -c -- "$1"; }

# count_log_is N PATTERN: exactly N lines match PATTERN since log_mark (use
# as "wait_for S count_log_is N PATTERN": the daemon logs after it acts).
count_log_is() { [ "$(count_log "$2")" = "$1" ]; }
count_log_ge() { [ "$(count_log "$2")" -ge "$1" ]; }

# lab_kernel_at_least MAJOR MINOR: does igdd take the kernel for at least
# this release (IGDD_KERNEL_RELEASE, as igdd reads it, else uname -r)?
# The older kernels' ways: before 6.3 no DESTROY (a start after kill -9
# installs every element again instead of reading and reconciling the
# sets), before 6.12 no element timeouts.
lab_kernel_at_least() {
	_kr=${IGDD_KERNEL_RELEASE:-$(uname -r)}
	_kmaj=${_kr%%.*} _kmin=${_kr#*.}
	_kmin=${_kmin%%[!0-9]*}
	# igdd takes what is not MAJOR.MINOR (each at most 1000) for an old kernel
	case $_kr in *.*) ;; *) return 1 ;; esac
	case $_kmaj.$_kmin in [0-9]*.[0-9]*) ;; *) return 1 ;; esac
	case $_kmaj in *[!0-9]*) return 1 ;; esac
	[ "$_kmaj" -le 1000 ] && [ "$_kmin" -le 1000 ] || return 1
	[ "$_kmaj" -gt "$1" ] || { [ "$_kmaj" -eq "$1" ] && [ "$_kmin" -ge "$2" ]; }
}
lab_reconciles() { lab_kernel_at_least 6 3; }
lab_timeouts() { lab_kernel_at_least 6 12; }

# check_reconciled WHAT PATTERN [SECONDS]: a start that finds the kernel
# changed since its journal's mark: the reconcile's line since log_mark
# matches PATTERN (within SECONDS, 15); before 6.3 every element is
# installed again instead (lab_reconciles), which is checked then.
check_reconciled() {
	if lab_reconciles; then
		check "$1" wait_for "${3:-15}" count_log_ge 1 "$2"
	else
		check "$1: before 6.3, every element installed again" wait_for "${3:-15}" \
			count_log_ge 1 "kernel reconciled with .* every element installed again"
	fi
}

# lab_can_hold: can strace hold igdd in a system call here (delay
# injection; ptrace allowed), and cpp name the call's number?
lab_can_hold() {
	command -v strace >/dev/null 2>&1 && command -v cpp >/dev/null 2>&1 &&
		strace -D -qq -o /dev/null -e trace=sendmsg -e inject=sendmsg:delay_enter=1:when=1..2 \
			true 2>/dev/null && [ -n "$(lab_sendmsg_nr)" ]
}

# The number of sendmsg() as /proc/PID/syscall shows it ("" if unknown;
# some ABIs define it as an expression).
lab_sendmsg_nr() {
	lsn=$(printf '#include <sys/syscall.h>\nSYS_sendmsg\n' | cpp -P - 2>/dev/null | tail -n 1)
	lsn=$(($lsn)) 2>/dev/null && echo "$lsn"
}

# lab_start_held CONF CMD...: start igdd with CONF held 3 s at its first
# sendmsg() (its start's transaction, after its checks: queries go with
# sendto), while CMD runs in the background as soon as igdd is held
# there (not at all when it never is); as lab_start_igdd, and
# $LAB_DIR/held.ok when CMD succeeded and igdd was still held after it.
# LAB_HOLDS=N: its first N sendmsg() are held, one after the other, CMD
# run in each hold with HELD_N its number (held.ok: in every one).
# strace stays attached until igdd exits: end it with kill -9 (an ASan
# build's leak check cannot run under ptrace).
lab_start_held() {
	lsh_conf=$1
	shift
	lsh_nr=$(lab_sendmsg_nr)
	lsh_n=${LAB_HOLDS:-1}
	rm -f "$LAB_DIR/held.pid" "$LAB_DIR/held.ok" "$LAB_DIR/held.stop"
	printf '#!/bin/sh\necho $$ >"%s"\nexec strace -D -qq -o /dev/null -e trace=sendmsg -e inject=sendmsg:delay_enter=3000000:when=1..%s "%s" "$@"\n' \
		"$LAB_DIR/held.pid" "$lsh_n" "$IGDD" >"$LAB_DIR/held"
	chmod +x "$LAB_DIR/held"
	(
		held() { [ "$(cut -d' ' -f1 "/proc/$p/syscall" 2>/dev/null)" = "$lsh_nr" ]; }
		# igdd's context switches: none while a hold stops it, some
		# between two (its queries wait for answers), however short
		# the time between them; a hold stays (0.1 s: not the stop at
		# a sendmsg()'s return, which strace makes too)
		ctxsw() { sed -n 's/^.*voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null |
			tr '\n' ' '; }
		p= k=0 last=
		while [ $k -lt "$lsh_n" ]; do
			while [ ! -e "$LAB_DIR/held.stop" ]; do
				[ -n "$p" ] || p=$(cat "$LAB_DIR/held.pid" 2>/dev/null)
				[ -n "$p" ] && held && now=$(ctxsw) && [ "$now" != "$last" ] &&
					sleep 0.1 && held && [ "$(ctxsw)" = "$now" ] && break
				sleep 0.01
			done
			k=$((k + 1))
			[ ! -e "$LAB_DIR/held.stop" ] && HELD_N=$k "$@" && held && [ "$(ctxsw)" = "$now" ] ||
				exit 0
			last=$now
		done
		touch "$LAB_DIR/held.ok"
	) &
	lsh_w=$!
	LAB_PIDS="$LAB_PIDS $lsh_w"
	lsh_igdd=$IGDD
	IGDD=$LAB_DIR/held
	lab_start_igdd "$lsh_conf"
	lsh_r=$?
	IGDD=$lsh_igdd
	touch "$LAB_DIR/held.stop"	# started or given up: the holds are over or never come
	wait "$lsh_w"
	return $lsh_r
}

# not CMD...: succeeds when CMD fails (for wait_for: "wait_for 10 not reach ...").
not() { ! "$@"; }

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() {
	_n=$(($1 * 5)); shift
	while [ $_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2; _n=$((_n - 1))
	done
	return 1
}

# --- NAT-PMP / PCP helpers (t_natpmp, t_pcp) ---
PCPC=${PCPC:-$LAB_TOP/build/tools/pcpc}
PMPQ=${PMPQ:-$LAB_TOP/build/tools/pmpq}
# pcp_field FILE KEY: the value of KEY=... in pcpc's output.
pcp_field() { sed -n "s/^$2=//p" "$1" | head -1; }
# pcp_listener HOST ADDR NONCE IPORT EPORT OUT: a PCP client on host (c1,
# c2) that keeps listening on its port 41000 (socat, for 300 s after its
# request) to hear what comes later: MAP UDP IPORT -> suggested EPORT
# (4 hex digits each), lifetime 3600, client ::ffff:ADDR, NONCE (24 hex
# digits); what it hears goes to OUT.  PCPCL is socat's pid; empty (and
# nothing sent) without socat or xxd (pcp_listener_can).
pcp_listener_can() { command -v socat >/dev/null 2>&1 && command -v xxd >/dev/null 2>&1; }
pcp_listener() {
	PCPCL=
	pcp_listener_can || return 0
	case $1 in c1) _ns=$NS_C1 ;; *) _ns=$NS_C2 ;; esac
	_hex=$(printf '%02x%02x%02x%02x' $(echo "$2" | tr . ' '))
	# the pipeline's last process is socat (ip netns exec execs it): $!
	printf '%s' "0201000000000e1000000000000000000000ffff${_hex}${3}11000000${4}${5}00000000000000000000000000000000" |
		xxd -r -p | ip netns exec "$_ns" socat -t 300 - "UDP4-DATAGRAM:$GW_LAN:5351,bind=$2:41000" >"$6" 2>/dev/null &
	PCPCL=$!
	LAB_PIDS="$LAB_PIDS $PCPCL"
}
# pcp_hex FILE: what pcp_listener heard, in hex, 60 bytes (a MAP response
# without options) a line.
pcp_hex() { od -An -tx1 -v "$1" | tr -d ' \n' | fold -w 120; echo; }

# --- UPnP helpers (t_upnp_*.sh) ---
SSDPQ=${SSDPQ:-$LAB_TOP/build/tools/ssdpq}
SOAPC=${SOAPC:-$LAB_TOP/build/tools/soapc}
URN_IPC2=urn:schemas-upnp-org:service:WANIPConnection:2
URN_IPC1=urn:schemas-upnp-org:service:WANIPConnection:1
URN_CFG=urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1
URN_L3F=urn:schemas-upnp-org:service:Layer3Forwarding:1

# lab_upnp_base: "http://<gw lan>:<port>" from the LOCATION of an M-SEARCH
# answer seen by c1 (empty if none came).  The answer comes up to MX (1 s)
# late, in a window of 2.5 s: asked up to three times, for a daemon slowed
# down by load (a lost answer costs a window, a quick one nothing more).
lab_upnp_base() {
	for _t in 1 2 3; do
		_b=$(c1 "$SSDPQ" search upnp:rootdevice 1 239.255.255.250 2500 2>/dev/null |
			tr -d '\r' | sed -n 's,^LOCATION: *\(http://[^/]*\)/.*,\1,p' | head -1)
		[ -z "$_b" ] || break
	done
	echo "$_b"
}

# soap NS_FN PATH URN ACTION [NAME=VALUE...]: a SOAP call from a client
# namespace to $UPNP_BASE; output as soapc prints it.
soap() {
	_ns=$1; _path=$2; shift 2
	$_ns "$SOAPC" "$UPNP_BASE$_path" "$@" 2>&1
}

# upnp_error OUTPUT: the UPnP error code in soapc output (empty if none).
upnp_error() { printf '%s\n' "$1" | sed -n 's/^UPnPError //p' | head -1; }

# --- Agreement of the three views of the mappings (hardening tests) ---
# lab_store_view: the enabled mappings as the daemon reports them (a walk of
# GetGenericPortMappingEntry from c1; needs UPNP_BASE), one
# "PROTO EPORT RHOST IADDR IPORT" line each ("-" = any remote host), sorted.
# Fails unless the walk ends with error 713 (index past the end).
lab_store_view() {
	_i=0
	while [ $_i -lt 5000 ]; do
		_r=$(soap c1 /ctl/IPConn "$URN_IPC2" GetGenericPortMappingEntry NewPortMappingIndex=$_i)
		case $_r in
		"HTTP 200"*) ;;
		*) [ "$(upnp_error "$_r")" = 713 ] || { echo "walk stopped at $_i: $_r" >&2; return 1; }
		   break ;;
		esac
		printf '%s\n' "$_r" | tr -d '\n' | sed -n 's,.*<NewRemoteHost>\([^<]*\)</NewRemoteHost><NewExternalPort>\([0-9]*\)</NewExternalPort><NewProtocol>\([A-Z]*\)</NewProtocol><NewInternalPort>\([0-9]*\)</NewInternalPort><NewInternalClient>\([^<]*\)</NewInternalClient><NewEnabled>1<.*,\3 \2 @\1 \5 \4\n,p' |
			sed 's/ @ / - /; s/ @/ /'
		_i=$((_i + 1))
	done | sort
}

# lab_lease_view: the live enabled mappings of the lease journal (last record
# per key wins, expired ones dropped), same format.
lab_lease_view() {
	awk -v now="$(date +%s)" '
		$1 == "+" && NF >= 12 { k = $2 " " $3 " " ($4 == "::" ? "-" : $4)
			if (($7 == 0 || $7 > now) && $12 == 1) m[k] = $5 " " $6; else delete m[k] }
		$1 == "-" && NF == 4 { delete m[$2 " " $3 " " ($4 == "::" ? "-" : $4)] }
		END { for (k in m) print k, m[k] }' "$LAB_DIR/igdd.leases" 2>/dev/null | sort
}

# lab_kernel_view: the mappings in igdd's own nftables maps, same format
# (LAB_KV_TABLE=filter LAB_KV_PREFIX=igdd_: integrated into table inet filter).
lab_kernel_view() {
	for _m in dnat4 dnat4_rh; do
		gw nft list map inet "${LAB_KV_TABLE:-igdd}" "${LAB_KV_PREFIX:-}$_m" 2>/dev/null |
			awk -v rh="$_m" 'function el(e,   a, c, j) { c = split(e, a, " "); if (c < 3) return
				for (j = 1; j <= c && a[j] != ":"; j++) ;
				if (rh == "dnat4") print toupper(a[1]), a[3], "-", a[j + 1], a[j + 3]
				else print toupper(a[3]), a[5], a[1], a[j + 1], a[j + 3] }'"$LAB_ELEMS_AWK"
	done | sort
}

# lab_agree [WHAT]: the daemon, the lease file and the kernel hold the same
# mappings; on a mismatch print all three and fail.
lab_agree() {
	lab_store_view >"$LAB_DIR/view.store" || return 1
	lab_lease_view >"$LAB_DIR/view.lease"
	lab_kernel_view >"$LAB_DIR/view.kernel"
	if cmp -s "$LAB_DIR/view.store" "$LAB_DIR/view.lease" &&
	   cmp -s "$LAB_DIR/view.store" "$LAB_DIR/view.kernel"; then
		return 0
	fi
	for _v in store lease kernel; do
		echo "$_v:"; sed 's/^/  /' "$LAB_DIR/view.$_v"
	done
	return 1
}

# miniupnpd_nft_skeleton: miniupnpd's nftables skeleton, as its nft_init.sh
# makes it (table inet filter, chains miniupnpd / prerouting_miniupnpd /
# postrouting_miniupnpd), plus the two rules every real forward chain has so
# replies and LAN traffic (lan0) pass a drop policy.  bench/ and lib_cgn.sh.
miniupnpd_nft_skeleton() {
	cat <<EOF
table inet filter {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "lan0" accept
		jump miniupnpd
	}
	chain miniupnpd {
	}
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
}
EOF
}

# --- Conntrack (data-plane tests) ---
# lab_conntrack PROTO ORIG REPLY: the gateway's conntrack table holds a
# flow of PROTO (tcp, udp) whose original tuple has every key=value of ORIG
# and whose reply tuple every one of REPLY (each "src=A dst=B sport=P
# dport=Q", any subset), as /proc/net/nf_conntrack shows them (conntrack -L
# prints the same tuples).  Prints the table when there is none.
lab_conntrack() {
	gw cat /proc/net/nf_conntrack >"$LAB_DIR/conntrack" 2>/dev/null
	awk -v p="$1" -v o="$2" -v r="$3" '
		function has(tuple, want,   n, w, i) {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++)
				if (index(tuple " ", " " w[i] " ") == 0)
					return 0
			return 1
		}
		$3 == p {
			orig = ""; rep = ""; k = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^src=/)
					k++
				if ($i ~ /^(src|dst|sport|dport)=/)
					if (k == 1) orig = orig " " $i; else if (k == 2) rep = rep " " $i
			}
			if (has(orig, o) && has(rep, r))
				found = 1
		}
		END { exit !found }' "$LAB_DIR/conntrack" && return 0
	echo "no $1 flow with original ($2), reply ($3) in:"
	grep " $1 " "$LAB_DIR/conntrack"
	return 1
}

# peer_from NS PROTO HOST PORT [SRC[:SPORT]]: connect from namespace NS to a
# "@peer" listener and print the address:port it saw.
peer_from() {
	_ns=$1; shift
	ip netns exec "$_ns" "$PROBE" connect ${4:+-s "$4"} "$1" "$2" "$3" 1500 2>/dev/null
}

# Hairpin (t_hairpin*.sh): c1 listens (@peer) behind a mapping of port 8000.
# hairpin_ok NS PROTO ADDR: from NS to ADDR:8000, c1 answers and saw the
# gateway's LAN address (masqueraded, so its answer went back through it)
hairpin_ok() {
	_got=$(peer_from "$1" "$2" "$3" 8000)
	case $_got in "$GW_LAN":*) return 0 ;; esac
	echo "got '$_got'"
	return 1
}
reaches_c1() { [ -n "$(peer_from "$1" "$2" "$3" 8000)" ]; }

# --- IPv6 (t_ipv6_*.sh): lab_ipv6 after lab_up puts IPv6 on every link,
# documentation prefixes only: the LAN 2001:db8:77::/64 (gw ::1, c1 ::10,
# c2 ::11), the WAN 2001:db8:100::/64 (gw ::1, out ::2); the outside host
# routes the LAN prefix through the gateway (no NAT66: only the IPv6
# firewall stands between them).  Existing tests never call it.
LAB6_LAN=2001:db8:77
LAB6_WAN=2001:db8:100
GW6_LAN=$LAB6_LAN::1
GW6_WAN=$LAB6_WAN::1
C1_6=$LAB6_LAN::10
C2_6=$LAB6_LAN::11
OUT6=$LAB6_WAN::2

lab_ipv6() {
	for ns in $NS_GW $NS_C1 $NS_C2 $NS_OUT; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.disable_ipv6=0
	done
	gw sysctl -qw net.ipv6.conf.all.forwarding=1
	gw ip -6 addr add "$GW6_LAN/64" dev lan0 nodad
	gw ip -6 addr add "$GW6_WAN/64" dev wan0 nodad
	c1 ip -6 addr add "$C1_6/64" dev eth0 nodad
	c2 ip -6 addr add "$C2_6/64" dev eth0 nodad
	out ip -6 addr add "$OUT6/64" dev eth0 nodad
	c1 ip -6 route add default via "$GW6_LAN"
	c2 ip -6 route add default via "$GW6_LAN"
	out ip -6 route add "$LAB6_LAN::/64" via "$GW6_WAN"
	# the link-local addresses were born before accept_dad=0: wait until
	# none is tentative any more (about a second; 10 s at most)
	for i in $(seq 1 100); do
		_t=0
		for f in gw c1 c2 out; do
			[ -z "$($f ip -6 addr show tentative)" ] || _t=1
		done
		[ $_t = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# reach6 tcp|udp HOST6 PORT TOKEN: from the outside host to a LAN host's
# IPv6 address (routed, no NAT); succeeds when TOKEN comes back.
reach6() {
	_got=$(out "$PROBE" connect "$1" "$2" "$3" 1500 2>/dev/null)
	[ "$_got" = "$4" ]
}
