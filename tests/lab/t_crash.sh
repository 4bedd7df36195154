#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_crash.sh - kill -9 at random moments of a burst of adds and deletes,
# CRASH_CYCLES times (50): after each restart the daemon, the lease file
# and the kernel agree (lab_agree), no acknowledged mapping is lost and no
# acknowledged delete comes back.
#
# A client in c1 runs a random sequence of NAT-PMP (UDP) or, every third
# cycle, UPnP (TCP) adds and deletes over a small port pool, logging
# "try OP PORT" before each request and "ok OP PORT" once it was answered
# with success.  igdd is killed with SIGKILL 50..500 ms into the burst,
# then the client.  The expected state of a port is the one of its last
# acknowledged operation, unless a later request on it went unanswered
# (in flight at the kill): then either state is right.
. "$(dirname "$0")/lib.sh"
lab_up

CYCLES=${CRASH_CYCLES:-50}
POOL=16				# ports per protocol: keeps the store walk short
PMP_BASE=20000			# NAT-PMP: UDP PMP_BASE.. (internal = external)
UPNP_BASE_PORT=21000		# UPnP: TCP UPNP_BASE_PORT..
HTTP_PORT=47123

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
http_port=$HTTP_PORT
secure_mode=yes
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
UPNP_BASE=http://$GW_LAN:$HTTP_PORT
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf"

# The client: reads "a PORT" / "d PORT" lines, logs to $2.
cat >"$LAB_DIR/client.sh" <<'CLIENT'
#!/bin/sh
# client.sh MODE OPS LOG GW PMPQ SOAPC URL C1
mode=$1 ops=$2 log=$3 gw=$4 pmpq=$5 soapc=$6 url=$7 c1=$8
while read -r op port; do
	echo "try $op $port" >>"$log"
	if [ "$mode" = pmp ]; then
		life=00000e10; [ "$op" = d ] && life=00000000
		r=$("$pmpq" send "$gw" "$(printf '00010000%04x%04x%s' "$port" "$port" "$life")" 300 2>/dev/null)
		# 0081 RESULT EPOCH IPORT EPORT LIFE: success is result 0000
		case $r in 00810000*) echo "ok $op $port" >>"$log" ;; esac
	else
		urn=urn:schemas-upnp-org:service:WANIPConnection:2
		if [ "$op" = a ]; then
			r=$("$soapc" "$url/ctl/IPConn" $urn AddPortMapping NewRemoteHost= \
				NewExternalPort="$port" NewProtocol=TCP NewInternalPort="$port" \
				NewInternalClient="$c1" NewEnabled=1 NewPortMappingDescription=crash \
				NewLeaseDuration=3600 2>/dev/null)
		else
			r=$("$soapc" "$url/ctl/IPConn" $urn DeletePortMapping NewRemoteHost= \
				NewExternalPort="$port" NewProtocol=TCP 2>/dev/null)
		fi
		case $r in "HTTP 200"*) echo "ok $op $port" >>"$log" ;; esac
	fi
done <"$ops"
CLIENT

# expect PREV LOG PROTO BASE: from the state before the burst (PREV: the
# store view) and the client's log, print "PORT present|absent" for every
# port whose state is certain, and "acked N" (acknowledged operations).
expect() {
	awk -v proto="$3" -v base="$4" -v pool="$POOL" '
		FILENAME == ARGV[1] { if ($1 == proto) st[$5] = 1; next }
		$1 == "try" { unsure[$3] = 1; next }
		$1 == "ok" { acked++; delete unsure[$3]; if ($2 == "a") st[$3] = 1; else delete st[$3] }
		END {
			for (p = base; p < base + pool; p++)
				if (!(p in unsure)) print p, (p in st) ? "present" : "absent"
			print "acked", acked + 0
		}' "$1" "$2"
}

# compare EXPECT VIEW PROTO: every certain port is as expected.
compare() {
	_bad=0
	while read -r _p _s; do
		[ "$_p" = acked ] && continue
		if awk -v proto="$3" -v p="$_p" '$1 == proto && $5 == p { f = 1 } END { exit !f }' "$2"; then
			_got=present
		else
			_got=absent
		fi
		if [ "$_got" != "$_s" ]; then
			echo "port $3 $_p: expected $_s, found $_got"
			_bad=1
		fi
	done <"$1"
	return $_bad
}

t0=$(date +%s)
acked_total=0 checked_total=0 bad_cycles=0 agree_bad=0 start_bad=0
lab_store_view >"$LAB_DIR/prev" || echo "initial store walk failed"
cyc=1
while [ "$cyc" -le "$CYCLES" ]; do
	if [ $((cyc % 3)) = 0 ]; then mode=upnp proto=TCP base=$UPNP_BASE_PORT
	else mode=pmp proto=UDP base=$PMP_BASE; fi
	# 400 random operations (more than a burst can use), 2/3 adds
	awk -v seed="$(od -An -N2 -tu2 /dev/urandom)" -v base="$base" -v pool="$POOL" \
		'BEGIN { srand(seed); for (k = 0; k < 400; k++)
			print (rand() < 0.66 ? "a" : "d"), base + int(rand() * pool) }' >"$LAB_DIR/ops"
	: >"$LAB_DIR/log"
	ip netns exec "$NS_C1" sh "$LAB_DIR/client.sh" "$mode" "$LAB_DIR/ops" "$LAB_DIR/log" \
		"$GW_LAN" "$PMPQ" "$SOAPC" "$UPNP_BASE" "$C1" &
	client=$!
	# the kill comes 50-500 ms into the burst, however slowly the client
	# starts on a loaded machine (its first "try" line)
	for i in $(seq 1 500); do [ -s "$LAB_DIR/log" ] && break; sleep 0.02; done
	ms=$(printf '0.%03d' $(($(od -An -N2 -tu2 /dev/urandom) % 451 + 50)))
	sleep "$ms"
	kill -9 "$IGDD_PID"
	kill -9 "$client" 2>/dev/null
	wait "$client" 2>/dev/null
	lab_stop_igdd KILL
	if ! lab_start_igdd "$LAB_DIR/igdd.conf"; then
		fail "cycle $cyc: igdd does not restart"
		start_bad=$((start_bad + 1))
		break
	fi
	if ! lab_agree >"$LAB_DIR/agree.out" 2>&1; then
		fail "cycle $cyc ($mode, kill after ${ms}s): store, lease file and kernel disagree"
		sed 's/^/    /' "$LAB_DIR/agree.out" | head -30
		agree_bad=$((agree_bad + 1))
	fi
	expect "$LAB_DIR/prev" "$LAB_DIR/log" "$proto" "$base" >"$LAB_DIR/expect"
	n=$(sed -n 's/^acked //p' "$LAB_DIR/expect")
	acked_total=$((acked_total + n))
	checked_total=$((checked_total + $(grep -vc '^acked' "$LAB_DIR/expect")))
	if ! compare "$LAB_DIR/expect" "$LAB_DIR/view.store" "$proto" >"$LAB_DIR/cmp.out"; then
		fail "cycle $cyc ($mode, kill after ${ms}s, $n acknowledged): acknowledged state lost"
		sed 's/^/    /' "$LAB_DIR/cmp.out" | head -20
		tail -5 "$LAB_DIR/log" | sed 's/^/    log: /'
		bad_cycles=$((bad_cycles + 1))
	fi
	# the other protocol's mappings saw no request: unchanged
	if [ "$proto" = UDP ]; then other=TCP; else other=UDP; fi
	grep "^$other " "$LAB_DIR/prev" >"$LAB_DIR/prev.other"
	grep "^$other " "$LAB_DIR/view.store" >"$LAB_DIR/now.other"
	if ! cmp -s "$LAB_DIR/prev.other" "$LAB_DIR/now.other"; then
		fail "cycle $cyc: $other mappings changed without a request"
		bad_cycles=$((bad_cycles + 1))
	fi
	cp "$LAB_DIR/view.store" "$LAB_DIR/prev"
	cyc=$((cyc + 1))
done
t1=$(date +%s)
echo "    $((cyc - 1)) cycles in $((t1 - t0)) s: $acked_total acknowledged operations, $checked_total port states checked"
check "$((cyc - 1)) kill -9 cycles ran" test "$((cyc - 1))" = "$CYCLES"
check "after every restart store, lease file and kernel agree ($agree_bad bad)" test "$agree_bad" = 0
check "no acknowledged add lost, no acknowledged delete back ($acked_total acknowledged operations)" test "$bad_cycles" = 0
check "the bursts did acknowledge operations" test "$acked_total" -gt "$CYCLES"

# The mappings left are real: the last state still carries traffic.
p=$(awk '$1 == "UDP" { print $5; exit }' "$LAB_DIR/prev")
if [ -n "$p" ]; then
	lab_listen c1 udp "$p" tok-crash
	check "a surviving NAT-PMP mapping (UDP $p) carries traffic" reach udp "$p" tok-crash
fi
check "no lease record was ever malformed" sh -c "! grep -q 'malformed lease record' '$LAB_DIR/igdd.log'"
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
