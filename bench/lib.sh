# bench/lib.sh - the benchmark's own helpers, sourced by bench/run.sh after
# tests/lab/lib.sh.  One daemon at a time: bench_daemon NAME runs the whole
# work on it and writes key=value lines to $RAW/NAME.kv for bench/report.awk.

CLK_TCK=$(getconf CLK_TCK)

say() { echo "bench [$(($(date +%s) - T_START))s]: $*" >&2; }
kv() { kv_k=$1; shift; echo "$kv_k=$*" >>"$KV"; }
# field NAME "k=v k=v ...": the value of NAME.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
# fadd A B: float sum.
fadd() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
# Seconds left of the whole run's deadline, less KEEP: time kept for what
# comes after the daemons' phases (pmp_pair).
left() { echo $((T_START + BENCH_DEADLINE - ${KEEP:-0} - $(date +%s))); }
# budget WANT [RESERVE]: WANT seconds, less if the deadline (minus RESERVE) is near; at least 1.
budget() {
	_l=$(($(left) - ${2:-30}))
	[ "$_l" -lt "$1" ] || _l=$1
	[ "$_l" -ge 1 ] || _l=1
	echo "$_l"
}

alive() {
	[ -n "$DPID" ] && [ -r "/proc/$DPID/stat" ] &&
		[ "$(cut -d' ' -f3 "/proc/$DPID/stat" 2>/dev/null)" != Z ]
}
# CPU ticks (utime + stime) of the daemon so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DPID/stat" 2>/dev/null || echo 0; }
ticks_s() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }'; }
# per_k TICKS N: milliseconds of CPU per 1,000 operations
per_k() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n }'; }
# rss LABEL: VmRSS, VmHWM and RssAnon (the part that is the daemon's own:
# VmRSS also counts the shared libraries' pages it touched) in kB.
rss() {
	kv "rss_kb_$1" "$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status" 2>/dev/null)"
	kv "anon_kb_$1" "$(awk '/^RssAnon:/ { print $2 }' "/proc/$DPID/status" 2>/dev/null)"
	kv "hwm_kb_$1" "$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status" 2>/dev/null)"
	# BENCH_SMAPS=DIR: keep the mappings' Rss too (DIR/DAEMON-LABEL.smaps)
	[ -z "${BENCH_SMAPS:-}" ] || cat "/proc/$DPID/smaps" >"$BENCH_SMAPS/$D-$1.smaps" 2>/dev/null
}
# nft_count LABEL: rules and set/map elements in the gateway.
nft_count() {
	gw nft -a list ruleset 2>/dev/null | awk -v l="$1" '
		/elements = \{/ { inel = 1; sub(/.*elements = \{/, "") }
		inel { line = $0; if (line ~ /\}/) { sub(/\}.*/, "", line); inel = 0 }
		       if (line ~ /[^ \t,]/) { n = gsub(/,/, ",", line); el += n
		       if (line !~ /,[ \t]*$/) el++ } next }
		/# handle/ && $1 !~ /^(table|chain|set|map|flowtable)$/ { rules++ }
		END { printf "nft_rules_%s=%d\nnft_elements_%s=%d\n", l, rules, l, el }' >>"$KV"
}
exit_signal() { awk '{ print $52 % 128 }' "/proc/$DPID/stat" 2>/dev/null; }

# --- the daemons ---------------------------------------------------------

start_igdd_bench() {
	lab_conf "$LAB_DIR/igdd.conf" <<EOF
http_port=$HTTP_PORT
secure_mode=no
max_mappings=30000
max_mappings_per_client=30000
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
	lab_start_igdd "$LAB_DIR/igdd.conf" || { tail -5 "$LAB_DIR/igdd.log" >&2; return 1; }
	DPID=$IGDD_PID
	DBIN=$IGDD
}

stop_igdd_bench() { lab_stop_igdd; }

# start_miniupnpd [ADDR PORT]: it listens on lan0 and HTTP_PORT, or on the
# gateway's LAN address ADDR and HTTP port PORT (pmp_pair, next to igdd).
start_miniupnpd() {
	sm_addr=${1:-$GW_LAN} sm_port=${2:-$HTTP_PORT} sm_listen=lan0
	[ $# -eq 0 ] || sm_listen=$sm_addr/24
	miniupnpd_nft_skeleton >"$LAB_DIR/miniupnpd.nft"
	gw nft -f "$LAB_DIR/miniupnpd.nft" || return 1
	# ext_ip: miniupnpd refuses the lab's TEST-NET WAN address; this one is
	# only reported to clients, never a traffic target.
	cat >"$LAB_DIR/miniupnpd.conf" <<EOF
ext_ifname=wan0
listening_ip=$sm_listen
ext_ip=1.2.3.4
http_port=$sm_port
enable_upnp=yes
enable_natpmp=yes
secure_mode=no
system_uptime=yes
lease_file=$LAB_DIR/miniupnpd.leases
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
upnp_table_name=filter
upnp_nat_table_name=filter
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
	rm -f "$LAB_DIR/miniupnpd.pid"
	# Without -d it forks into the background at default verbosity (-d
	# would also turn on debug logging, one line per rule).  Its syslog
	# finds no /dev/log here; notices and errors only.
	gw "$MINIUPNPD" -f "$LAB_DIR/miniupnpd.conf" -P "$LAB_DIR/miniupnpd.pid" \
		>"$LAB_DIR/miniupnpd.log" 2>&1 || return 1
	for i in $(seq 1 50); do
		[ -s "$LAB_DIR/miniupnpd.pid" ] &&
			c1 "$BB/soapload" -t 500 desc "http://$sm_addr:$sm_port/rootDesc.xml" \
				>/dev/null 2>&1 && break
		sleep 0.1
	done
	DPID=$(cat "$LAB_DIR/miniupnpd.pid" 2>/dev/null)
	DBIN=$MINIUPNPD
	alive
}

stop_miniupnpd() {
	alive || return 0
	kill "$DPID" 2>/dev/null
	for i in $(seq 1 100); do alive || return 0; sleep 0.1; done
	kill -9 "$DPID" 2>/dev/null
}

# Which of igdd's front ends exist yet: their files are stubs until the
# people writing them merge their work.
igdd_missing() {
	case $1 in
	upnp) grep -l "stub: not built yet" "$BENCH_TOP/daemon/http.c" "$BENCH_TOP/daemon/ssdp.c" ;;
	pmp) grep -l "stub: not built yet" "$BENCH_TOP/daemon/pmp.c" ;;
	esac >/dev/null 2>&1
}

# --- the measurements ----------------------------------------------------

soap() { c1 "$BB/soapload" -c "$C1" "$@" 2>>"$LAB_DIR/bench.err"; }

# spot LABEL PORT: real traffic through a mapped port (correctness), then
# the new-connection time through it.
spot() {
	lab_listen c1 tcp "$2" "bench$2"
	if reach tcp "$2" "bench$2"; then kv "reach_$1" ok; else
		kv "reach_$1" FAIL; say "$D: no traffic through port $2 at $1"; fi
	sp_l=$(out "$BB/connload" -w "$WARMUP" -n "$CONNS" -d "$(budget 20)" "$GW_WAN" "$2")
	kv "conn_med_us_$1" "$(field conn_med_us "$sp_l")"
	kv "conn_p99_us_$1" "$(field conn_p99_us "$sp_l")"
	kv "conn_fail_$1" "$(field fail "$sp_l")"
}

# --- the data-plane comparison in alternating rounds ----------------------
# One median per size swings by +-30% between runs on a shared 2-core VM,
# more than the 1.2x the goal allows, so the goal is decided here instead:
# the new-connection median at 10 mappings and at the largest size in
# alternating rounds (10, max, 10, max, ...), the table changed between
# them through the daemon itself (SOAP AddPortMapping / DeletePortMapping
# of the mappings above the 10th), and the goal compares the median of the
# per-round medians at each size.  Drift of the machine's load then falls
# on both sizes alike.  It runs after "delete all", from 0 mappings, so
# none of the other measurements sees the churn; it ends at max and the
# daemon is stopped with them (its shutdown drops its nftables table in
# one step, no per-mapping work).  All of it is bounded by AB_BUDGET.

ab_left() { echo $((AB_BUDGET - $(date +%s) + ab_t0)); }

# ab_to N: add or delete until the mappings are BASE_PORT..BASE_PORT+N-1
# (AB_HAVE of them now); fails, with the reason in ab_why, when a step is
# not complete, or would not be: a change is not started when the budget
# left is less than the longest one so far took plus a round (ab_last).
ab_to() {
	at_left=$(ab_left)
	[ "$at_left" -ge $((ab_last + 4)) ] || { ab_why=budget; return 1; }
	at_b=$(budget "$at_left" 120)
	if [ "$AB_HAVE" -lt "$1" ]; then
		at_n=$(($1 - AB_HAVE))
		at_l=$(soap -T "$WINDOW" -b "$at_b" "$CTL" "$SVC" add $((BASE_PORT + AB_HAVE)) "$at_n")
	elif [ "$AB_HAVE" -gt "$1" ]; then
		at_n=$((AB_HAVE - $1))
		at_l=$(soap -b "$at_b" "$CTL" "$SVC" del $((BASE_PORT + $1)) "$at_n")
	else
		return 0
	fi
	if [ "$(field ok "$at_l")" != "$at_n" ]; then
		ab_secs=$(fadd "$ab_secs" "$(field secs "$at_l")")
		ab_why=$(field stopped "$at_l")
		[ "$ab_why" != done ] || ab_why="errors (first $(field first_err "$at_l"))"
		[ -n "$ab_why" ] || ab_why="no answer"
		say "$D: alternating rounds: going from $AB_HAVE to $1 mappings failed: $at_l"
		return 1
	fi
	ab_secs=$(fadd "$ab_secs" "$(field secs "$at_l")")
	# the longest change so far: a short one (10 to 100) must not let
	# the next, long one start with less time left than it takes
	ab_last=$(awk -v s="$(field secs "$at_l")" -v l="$ab_last" \
		'BEGIN { s = int(s + 0.999); printf "%d", s > l ? s : l }')
	say "$D: $AB_HAVE -> $1 mappings in $(field secs "$at_l") s"
	AB_HAVE=$1
}

# ab_measure N R: round R at N mappings: the table's size in gw, real
# traffic through the mapped port, then the new-connection times: AB_CONNS
# connections in AB_BURSTS bursts 150 ms apart (about 2 s in all), because
# on a shared VM a burst's median is ~75 or ~110 us depending on the moment
# (the same at any table size; it changes from one burst to the next), so
# a round of one burst would report one such moment, not the path's cost.
# A short pause first: after thousands of changes the kernel resizes the
# maps' hash tables in a deferred worker; that should not land on one
# size's connections only.
ab_measure() {
	sleep 0.5
	nft_count "ab_$1_r$2"
	if reach tcp "$AB_PORT" benchab; then kv "reach_ab_$1_r$2" ok; else
		kv "reach_ab_$1_r$2" FAIL; say "$D: no traffic through port $AB_PORT at $1 (round $2)"; fi
	am_b=$(ab_left)
	[ "$am_b" -le 20 ] || am_b=20
	[ "$am_b" -ge 5 ] || am_b=5
	am_l=$(out "$BB/connload" -w "$WARMUP" -n "$AB_CONNS" -b "$AB_BURSTS" -g 150 \
		-d "$(budget "$am_b" 60)" "$GW_WAN" "$AB_PORT")
	kv "conn_ab_med_us_$1_r$2" "$(field conn_med_us "$am_l")"
	kv "conn_ab_bursts_$1_r$2" "$(field burst_meds "$am_l")"
	kv "conn_ab_p99_us_$1_r$2" "$(field conn_p99_us "$am_l")"
	kv "conn_ab_ok_$1_r$2" "$(field ok "$am_l")"
	kv "conn_ab_fail_$1_r$2" "$(field fail "$am_l")"
}

# ab_rounds MAX: AB_ROUNDS rounds of 10 and MAX mappings, from 0 mappings.
ab_rounds() {
	AB_HAVE=0 AB_PORT=$BASE_PORT ab_why=done ab_t0=$(date +%s) ab_r=0 ab_done=0 ab_secs=0 ab_last=0
	say "$D: alternating rounds, 10 and $1 mappings, $AB_ROUNDS each"
	kv conn_ab_max "$1"
	kv conn_ab_conns "$AB_CONNS"
	kv conn_ab_bursts "$AB_BURSTS"
	kv conn_ab_warmup "$WARMUP"
	kv add_ab_window "$WINDOW"
	# Its own listener, for the whole of it: the port is the first
	# mapping, there at both sizes, and no other listener's.
	ip netns exec "$NS_C1" "$PROBE" listen tcp "$AB_PORT" benchab $((AB_BUDGET + 60)) \
		>/dev/null 2>&1 &
	ab_lpid=$!
	LAB_PIDS="$LAB_PIDS $ab_lpid"
	sleep 0.2
	while [ "$ab_r" -lt "$AB_ROUNDS" ]; do
		ab_r=$((ab_r + 1))
		for ab_n in 10 "$1"; do
			# on the way up, AddPortMapping's window at 100 (the adds
			# from 10 to 100, as the fill's) and at the largest size
			# (its last WINDOW adds): the Add goal's alternating rounds
			# (both recorded, or neither: the goal pairs rounds)
			ab_w100=
			if [ "$ab_n" != 10 ] && [ "$1" -gt 100 ]; then
				ab_to 100 || break 2
				ab_w100=$(field tail_med_us "$at_l")
			fi
			ab_to "$ab_n" || break 2
			ab_wmax=$(field tail_med_us "$at_l")
			if [ -n "$ab_w100" ] && [ -n "$ab_wmax" ]; then
				kv "add_ab_med_us_100_r$ab_r" "$ab_w100"
				kv "add_ab_med_us_${ab_n}_r$ab_r" "$ab_wmax"
			fi
			ab_measure "$ab_n" "$ab_r"
		done
		ab_done=$ab_r
	done
	kill "$ab_lpid" 2>/dev/null
	kv conn_ab_rounds "$ab_done"
	kv conn_ab_stopped "$ab_why"
	kv conn_ab_secs $(($(date +%s) - ab_t0))
	kv conn_ab_change_secs "$ab_secs"
	kv conn_ab_end_count "$AB_HAVE"
}

# pmp_tests LABEL PORTBASE: NAT-PMP and PCP with the current mappings.
pmp_tests() {
	[ -z "$PMP_NA" ] || return 0
	for i in 1 16; do
		pt_l=$(c1 "$BB/pmpload" -i $i -d "$RATE_SECS" -n 100000000 "$GW_LAN" ext)
		kv "pmp_ext_rps_${i}_$1" "$(field rps "$pt_l")"
		kv "pmp_ext_med_us_${i}_$1" "$(field med_us "$pt_l")"
		kv "pmp_ext_lost_${i}_$1" "$(field lost "$pt_l")"
	done
	pt_p=$2
	for proto in pmp pcp; do
		for i in 1 16; do
			pt_b=$(budget "$PHASE_BUDGET")
			if [ $proto = pmp ]; then
				pt_l=$(c1 "$BB/pmpload" -i $i -t 5000 -n "$PMP_N" -d "$pt_b" "$GW_LAN" map $pt_p)
			else
				pt_l=$(c1 "$BB/pmpload" -i $i -t 5000 -n "$PMP_N" -d "$pt_b" "$GW_LAN" pcpmap $pt_p "$C1")
			fi
			kv "${proto}_map_med_us_${i}_$1" "$(field med_us "$pt_l")"
			kv "${proto}_map_p99_us_${i}_$1" "$(field p99_us "$pt_l")"
			kv "${proto}_map_rps_${i}_$1" "$(field rps "$pt_l")"
			kv "${proto}_map_ok_${i}_$1" "$(field ok "$pt_l")"
			kv "${proto}_map_err_${i}_$1" "$(field first_err "$pt_l")"
			kv "${proto}_map_lost_${i}_$1" "$(field lost "$pt_l")"
			pt_n=$(field n "$pt_l")
			# take them away again (untimed), so the SOAP count stays
			pt_b=$(budget "$PHASE_BUDGET")
			if [ $proto = pmp ]; then
				c1 "$BB/pmpload" -i 16 -t 5000 -n "${pt_n:-0}" -d "$pt_b" "$GW_LAN" unmap $pt_p >/dev/null
			else
				c1 "$BB/pmpload" -i 16 -t 5000 -n "${pt_n:-0}" -d "$pt_b" "$GW_LAN" pcpunmap $pt_p "$C1" >/dev/null
			fi
			pt_p=$((pt_p + 1000))
		done
	done
}

# list_tests LABEL: the full listing two ways; CPU of both.
list_tests() {
	lt_c0=$(cpu_ticks)
	lt_l=$(soap -b "$(budget $((PHASE_BUDGET * 2)))" "$CTL" "$SVC" walk)
	kv "walk_entries_$1" "$(field entries "$lt_l")"
	kv "walk_secs_$1" "$(field secs "$lt_l")"
	kv "walk_stopped_$1" "$(field stopped "$lt_l")"
	lt_c1=$(cpu_ticks)
	kv "walk_cpu_ticks_$1" $((lt_c1 - lt_c0))
	lt_l=$(soap -b "$(budget "$PHASE_BUDGET")" "$CTL" "$SVC" list)
	lt_c2=$(cpu_ticks)
	sleep 0.2
	if ! alive; then
		kv "list_secs_$1" "daemon died (signal $(exit_signal))"
		kv crashed "signal $(exit_signal) in GetListOfPortMappings at $COUNT mappings"
		say "$D died in GetListOfPortMappings at $COUNT mappings"
		return 1
	fi
	kv "list_entries_$1" "$(field entries "$lt_l")"
	kv "list_secs_$1" "$(field secs "$lt_l")"
	kv "list_requests_$1" "$(field requests "$lt_l")"
	kv "list_err_$1" "$(field first_err "$lt_l")"
	kv "list_cpu_ticks_$1" $((lt_c2 - lt_c1))
}

# checkpoint N: everything measured at N mappings.
checkpoint() {
	cp_n=$1 cp_top=$((NEXT - 1))
	say "$D: $cp_n mappings"
	rss "$cp_n"
	nft_count "$cp_n"
	spot "$cp_n" "$cp_top"
	cp_l=$(soap -b "$(budget "$PHASE_BUDGET")" "$CTL" "$SVC" getspec "$cp_top" "$REPEAT")
	kv "getspec_med_us_$cp_n" "$(field med_us "$cp_l")"
	kv "getspec_p99_us_$cp_n" "$(field p99_us "$cp_l")"
	kv "getspec_err_$cp_n" "$(field first_err "$cp_l")"
	cp_l=$(soap -b "$(budget "$PHASE_BUDGET")" "$CTL" "$SVC" getgen $((COUNT - 1)) "$REPEAT")
	kv "getgen_med_us_$cp_n" "$(field med_us "$cp_l")"
	kv "getgen_p99_us_$cp_n" "$(field p99_us "$cp_l")"
	kv "getgen_err_$cp_n" "$(field first_err "$cp_l")"
	# Delete the last WINDOW mappings (timed), then add them back.
	cp_w=$WINDOW
	[ "$cp_w" -le "$COUNT" ] || cp_w=$COUNT
	cp_l=$(soap -b "$(budget $((PHASE_BUDGET * 2)))" "$CTL" "$SVC" del $((NEXT - cp_w)) "$cp_w")
	cp_k=$(field ok "$cp_l")
	kv "del_med_us_$cp_n" "$(field med_us "$cp_l")"
	kv "del_p99_us_$cp_n" "$(field p99_us "$cp_l")"
	kv "del_n_$cp_n" "$cp_k"
	kv "del_err_$cp_n" "$(field first_err "$cp_l")"
	if [ "${cp_k:-0}" -gt 0 ]; then
		cp_l=$(soap -b "$(budget $((PHASE_BUDGET * 2)))" "$CTL" "$SVC" add $((NEXT - cp_k)) "$cp_k")
		[ "$(field ok "$cp_l")" = "$cp_k" ] || say "$D: re-adding the window failed: $cp_l"
	fi
}

# The middle size: NAT-PMP/PCP under load and the listings.
mid_work() {
	kv mid_count "$COUNT"
	pmp_tests mid 48000
	list_tests mid
}

# ka_pinned PAIRS: kaload's line, the daemon (all its threads) held on
# the first CPU this shell may use meanwhile, kaload's bursts on that CPU
# and, when there is one, in turn on the second; the daemon's affinity is
# restored afterwards.
ka_pinned() {
	_kc=$(taskset -c -p $$ 2>/dev/null | sed -n 's/.*: //p' | awk -F, '{
		for (i = 1; i <= NF && n < 2; i++) {
			split($i, r, "-"); if (r[2] == "") r[2] = r[1]
			for (c = r[1]; c <= r[2] && n < 2; c++) l = l (n++ ? "," : "") c
		} print l }')
	_aff=$(taskset -p "$DPID" 2>/dev/null | sed -n 's/.*: //p')
	[ -n "$_kc" ] && [ -n "$_aff" ] && taskset -a -p -c "${_kc%,*}" "$DPID" >/dev/null 2>&1 || _kc=
	c1 "$BB/kaload" -n "$1" -t 5000 ${_kc:+-p "$_kc"} "$CTL" "$SVC" 2>>"$LAB_DIR/bench.err"
	[ -z "$_kc" ] || taskset -a -p "$_aff" "$DPID" >/dev/null 2>&1
}

bench_daemon() {
	D=$1 KV=$RAW/$1.kv DPID= DBIN= UPNP_NA= PMP_NA= DFILL=$FILL_BUDGET
	: >"$KV"
	say "$D: starting"
	if [ "$D" = igdd ]; then
		igdd_missing upnp && UPNP_NA="not built yet"
		igdd_missing pmp && PMP_NA="not built yet"
		DFILL=$IGDD_FILL_BUDGET
		start_igdd_bench || { kv status "did not start"; return 0; }
		_stop=stop_igdd_bench
	else
		command -v "$MINIUPNPD" >/dev/null || { kv status "not installed"; return 0; }
		start_miniupnpd || { kv status "did not start"; stop_miniupnpd; return 0; }
		_stop=stop_miniupnpd
	fi
	kv status ok
	strip -o "$LAB_DIR/stripped" "$DBIN" && kv binary_bytes "$(stat -c %s "$LAB_DIR/stripped")"
	sleep 1
	rss idle
	kv cpu_ticks_start "$(cpu_ticks)"

	# SSDP: answers to M-SEARCH (MX 1) and the description's control URL.
	CTL= SVC=
	if [ -z "$UPNP_NA" ]; then
		_l=$(c1 "$BB/ssdpload" -m 1 -r 5 "$C1" urn:schemas-upnp-org:device:InternetGatewayDevice:1)
		for f in searches answered first_med_ms first_max_ms; do kv "ssdp_$f" "$(field $f "$_l")"; done
		_loc=$(field location "$_l")
		_l=$(c1 "$BB/ssdpload" -m 1 -r 3 "$C1" ssdp:all)
		for f in answers_min answers_med answers_max; do kv "ssdp_all_$f" "$(field $f "$_l")"; done
		[ "$_loc" != "-" ] && [ -n "$_loc" ] || _loc=http://$GW_LAN:$HTTP_PORT/rootDesc.xml
		_l=$(c1 "$BB/soapload" desc "$_loc" 2>>"$LAB_DIR/bench.err")
		CTL=$(echo "$_l" | sed -n 's/^control=//p')
		SVC=$(echo "$_l" | sed -n 's/^service=//p')
		kv control "$CTL"
		kv service "$SVC"
		[ -n "$CTL" ] || UPNP_NA="no answer (no control URL at $_loc)"
	fi
	[ -z "$UPNP_NA" ] || kv upnp_na "$UPNP_NA"
	if [ -z "$PMP_NA" ]; then
		_l=$(c1 "$BB/pmpload" -n 3 -t 500 "$GW_LAN" ext)
		[ "$(field ok "$_l")" -ge 1 ] 2>/dev/null || PMP_NA="no answer on port 5351"
	fi
	[ -z "$PMP_NA" ] || kv pmp_na "$PMP_NA"

	# SOAP under load: LOAD_RPS requests/s, open loop, for LOAD_SECS
	# (a mix of Add/refresh, GetSpecific, GetGeneric, GetExternalIPAddress
	# on 100 ports of their own, deleted afterwards); memory before/after.
	if [ -z "$UPNP_NA" ]; then
		rss load0
		_l=$(soap -t 5000 "$CTL" "$SVC" rate "$LOAD_RPS" "$LOAD_SECS" "$LOAD_PORT")
		rss load1
		for f in n ok err first_err med_us p99_us max_us rate; do kv "load_$f" "$(field $f "$_l")"; done
		soap "$CTL" "$SVC" del "$LOAD_PORT" 100 >/dev/null
	fi

	# HTTP keep-alive: GetExternalIPAddress on a fresh connection against
	# the second request on a kept-alive one, the two alternating; the
	# daemon and kaload on one CPU, and in bursts in between on two
	# (bench/README.md: the wake-up of an idle vCPU).
	if [ -z "$UPNP_NA" ]; then
		_l=$(ka_pinned "$KA_PAIRS")
		for f in n fresh_med_us kept_med_us ratio ratio_bursts kept err \
			 cross_fresh_med_us cross_kept_med_us cross_ratio cross_ratio_bursts; do
			kv "ka_$f" "$(field $f "$_l")"
		done
	fi

	pmp_tests 0 40000

	COUNT=0 NEXT=$BASE_PORT ab_ready=0
	if [ -z "$UPNP_NA" ]; then
		fill_secs=0 fill_ticks=0 stopped=done mid_done=0
		for N in 10 $SIZES; do
			_need=$((N - COUNT))
			[ $_need -gt 0 ] || continue
			_b=$(awk -v b="$DFILL" -v s="$fill_secs" 'BEGIN { printf "%d", b - s + 0.999 }')
			_b=$(budget "$_b" 180)
			_c0=$(cpu_ticks)
			_l=$(soap -T "$WINDOW" -b "$_b" "$CTL" "$SVC" add "$NEXT" "$_need")
			_c1=$(cpu_ticks)
			fill_ticks=$((fill_ticks + _c1 - _c0))
			fill_secs=$(fadd "$fill_secs" "$(field secs "$_l")")
			NEXT=$((NEXT + $(field n "$_l")))
			COUNT=$((COUNT + $(field ok "$_l")))
			[ "$(field err "$_l")" = 0 ] || kv add_first_err "$(field first_err "$_l")"
			last_tail_med=$(field tail_med_us "$_l")
			if [ "$N" -ge 100 ]; then
				kv "add_med_us_$N" "$(field tail_med_us "$_l")"
				kv "add_p99_us_$N" "$(field tail_p99_us "$_l")"
			fi
			if [ "$COUNT" -lt "$N" ] || [ "$(field err "$_l")" != 0 ]; then
				stopped=$(field stopped "$_l")
				[ "$stopped" != done ] || stopped="errors"
				kv "add_partial_$N" "$COUNT"
				say "$D: fill stopped at $COUNT mappings ($stopped)"
				break
			fi
			[ "$N" = 10 ] && { spot 10 $((NEXT - 1)); continue; }
			checkpoint "$N"
			# the listings at the smallest size too (miniupnpd 2.3.1
			# aborts in GetListOfPortMappings past ~140 mappings)
			if [ "$N" = 100 ] && [ "$MID" != 100 ]; then list_tests 100 || break; fi
			if [ "$N" = "$MID" ]; then
				kv fill_secs_mid "$fill_secs"
				kv fill_cpu_ticks_mid "$fill_ticks"
				mid_done=1
				mid_work || break
			fi
		done
		kv fill_reached "$COUNT"
		kv fill_stopped "$stopped"
		kv fill_secs "$fill_secs"
		kv fill_cpu_ticks "$fill_ticks"
		if alive && [ $mid_done = 0 ] && [ "$COUNT" -gt 0 ]; then
			kv fill_secs_mid "$fill_secs"
			kv fill_cpu_ticks_mid "$fill_ticks"
			kv final_count "$COUNT"
			kv add_med_us_final "$last_tail_med"
			checkpoint final
			mid_work
		fi
		if alive; then
			rss full
			# Delete everything, top down: above the middle size, then the rest.
			_del_top=$((NEXT - BASE_PORT - MID))
			[ $_del_top -ge 0 ] || _del_top=0
			_t0=$(date +%s)
			_c0=$(cpu_ticks)
			_l=$(soap -b "$(budget "$DELALL_BUDGET" 60)" "$CTL" "$SVC" del $((BASE_PORT + MID)) "$_del_top")
			_c1=$(cpu_ticks)
			_rest=$((DELALL_BUDGET - $(date +%s) + _t0))
			[ "$_rest" -ge 1 ] || _rest=1
			_d1=$(field ok "$_l")
			_s1=$(field secs "$_l")
			_l2="ok=0 secs=0 stopped=budget"
			if [ "$(field stopped "$_l")" = done ]; then
				_m=$((NEXT - BASE_PORT)); [ $_m -le "$MID" ] || _m=$MID
				_l2=$(soap -b "$(budget "$_rest" 60)" "$CTL" "$SVC" del "$BASE_PORT" "$_m")
			fi
			_c2=$(cpu_ticks)
			kv delall_cpu_ticks_top $((_c1 - _c0))
			kv delall_cpu_ticks_mid $((_c2 - _c1))
			kv delall_n $((${_d1:-0} + $(field ok "$_l2")))
			kv delall_n_mid "$(field ok "$_l2")"
			kv delall_secs "$(fadd "${_s1:-0}" "$(field secs "$_l2")")"
			kv delall_secs_mid "$(field secs "$_l2")"
			kv delall_stopped "$(field stopped "$_l2")"
			kv delall_med_us_mid "$(field med_us "$_l2")"
			[ "$(field stopped "$_l2")" = done ] &&
				[ $((${_d1:-0} + $(field ok "$_l2"))) = "$COUNT" ] && ab_ready=1
		fi
	elif [ -z "$PMP_NA" ]; then
		# No UPnP yet: reach the middle size through NAT-PMP, so NAT-PMP
		# and PCP under load are measured all the same.
		_c0=$(cpu_ticks)
		_l=$(c1 "$BB/pmpload" -i 16 -t 5000 -n "$MID" -d "$(budget "$DFILL" 120)" \
			"$GW_LAN" map "$BASE_PORT")
		kv pmp_fill "$_l"
		kv pmp_fill_cpu_ticks $(($(cpu_ticks) - _c0))
		COUNT=$(field ok "$_l")
		kv mid_fill_via NAT-PMP
		rss mid
		nft_count mid
		kv mid_count "$COUNT"
		pmp_tests mid 48000
		c1 "$BB/pmpload" -i 16 -t 5000 -n "$MID" -d "$(budget "$DELALL_BUDGET" 60)" \
			"$GW_LAN" unmap "$BASE_PORT" >/dev/null
	fi
	if alive; then
		rss end
		kv cpu_ticks_end "$(cpu_ticks)"
	fi
	# The data-plane goal in alternating rounds, after everything else
	# (igdd only: miniupnpd's fill to 10,000 would take hours).
	case " $AB_DAEMONS " in *" $D "*)
		if [ "$AB_ROUNDS" -gt 0 ] && [ "$ab_ready" = 1 ] && [ "$COUNT" -gt 10 ] && alive; then
			ab_rounds "$COUNT"
		elif [ "$AB_ROUNDS" -gt 0 ]; then
			kv conn_ab_stopped "not run (fill or delete all incomplete, or daemon dead)"
		fi ;;
	esac
	kv alive_at_end "$(alive && echo yes || echo no)"
	kv clk_tck "$CLK_TCK"
	$_stop
	say "$D: done"
}

# --- NAT-PMP external-address rate, both daemons at once ----------------
# One request in flight is a round trip of ~30-130 us for either daemon,
# nearly all of it the kernel's (veth, conntrack), and the machine flips
# between fast and slow spells every fraction of a second, so one
# RATE_SECS measurement per daemon, minutes apart, says more about the
# moment than about the daemon (0.49x-1.10x between runs), and so did
# rounds with each daemon restarted in turn (0.87x-1.21x).  Here, after
# both daemons' phases, both run at the same time in the gateway: igdd on
# GW_LAN, miniupnpd on a second LAN address (PAIR_ADDR, its HTTP on
# HTTP_PORT + 1), each with its phase's config, at 0 mappings.  One pmpload
# sends short bursts to them in turn, igdd miniupnpd miniupnpd igdd igdd
# ... (pmpload -2), so both meet the same spells; each daemon's value is the
# median of its bursts' rates, and pair_ratio_med the median ratio of
# neighbouring bursts.  Both values go to each daemon's kv file.

# pmp_pair_up: start both, wait until both answer NAT-PMP (3 s at most).
pmp_pair_up() {
	gw nft flush ruleset
	rm -f "$LAB_DIR/igdd.leases" "$LAB_DIR/miniupnpd.leases"
	gw ip addr add "$PAIR_ADDR/24" dev lan0 || return 1
	start_igdd_bench || return 1
	DPID=
	start_miniupnpd "$PAIR_ADDR" $((HTTP_PORT + 1))
	pp_rc=$? pp_mini=$DPID	# stopped by pmp_pair_down even if it failed
	[ "$pp_rc" = 0 ] || return 1
	for pp_a in "$GW_LAN" "$PAIR_ADDR"; do
		for i in $(seq 1 10); do
			[ "$(field ok "$(c1 "$BB/pmpload" -n 1 -t 300 "$pp_a" ext)")" = 1 ] && continue 2
		done
		return 1
	done
}

pmp_pair_down() {
	DPID=$pp_mini
	stop_miniupnpd
	stop_igdd_bench
	gw ip addr del "$PAIR_ADDR/24" dev lan0 2>/dev/null
	gw nft flush ruleset
}

# pmp_pair_kv K V_IGDD V_MINIUPNPD: K into each daemon's kv file.
pmp_pair_kv() {
	KV=$RAW/igdd.kv; kv "$1" "$2"
	KV=$RAW/miniupnpd.kv; kv "$1" "$3"
}

# pmp_pair: both daemons must have run their phase with NAT-PMP.
pmp_pair() {
	pp_t0=$(date +%s) pp_why=done pp_mini=
	for d in igdd miniupnpd; do
		case " $BENCH_DAEMONS " in *" $d "*) ;; *) return 0 ;; esac
	done
	pp_not=
	for d in igdd miniupnpd; do
		grep -qx "status=ok" "$RAW/$d.kv" 2>/dev/null || pp_not="$pp_not $d did not run;"
		grep -q "^pmp_na=" "$RAW/$d.kv" 2>/dev/null && pp_not="$pp_not $d no NAT-PMP;"
	done
	[ "$PMP_PAIR_BURSTS" -gt 0 ] || pp_not=" BENCH_PMPPAIR_BURSTS=0;"
	[ "$(left)" -ge "$PMP_PAIR_KEEP" ] || pp_not=" no time left;"
	if [ -n "$pp_not" ]; then
		pp_not="not run ($(echo "$pp_not" | sed 's/^ //; s/;$//'))"
		for d in igdd miniupnpd; do
			KV=$RAW/$d.kv; [ ! -f "$KV" ] || kv pmp_pair_stopped "$pp_not"
		done
		return 0
	fi
	say "NAT-PMP external address, igdd and miniupnpd at once, bursts in turn"
	if pmp_pair_up; then
		for i in 1 16; do
			pp_b=$PMP_PAIR_BURSTS	# pmpload -2 needs 2 at least
			[ "$i" = 1 ] || pp_b=$((PMP_PAIR_BURSTS / 2))
			[ "$pp_b" -ge 2 ] || pp_b=2
			pp_l=$(c1 "$BB/pmpload" -i "$i" -b "$pp_b" -m "$PMP_PAIR_BURST_MS" \
				-g "$PMP_PAIR_GAP_MS" -d "$(budget 30 10)" -n 100000000 \
				-2 "$PAIR_ADDR" "$GW_LAN" ext)
			[ "$(field stopped "$pp_l")" = done ] || pp_why="$(field stopped "$pp_l") ($i in flight)"
			for f in burst_med_rps:rps burst_rps:bursts lost:lost; do
				pmp_pair_kv "pmp_pair_ext${i}_${f#*:}" "$(field "a_${f%:*}" "$pp_l")" \
					"$(field "b_${f%:*}" "$pp_l")"
			done
			pp_r=$(field pair_ratio_med "$pp_l")
			pmp_pair_kv "pmp_pair_ext${i}_ratio" "$pp_r" "$pp_r"
			say "NAT-PMP at once, $i in flight: igdd $(field a_burst_med_rps "$pp_l")/s," \
				"miniupnpd $(field b_burst_med_rps "$pp_l")/s, pair ratio $pp_r"
		done
	else
		pp_why="did not start or answer"
		say "NAT-PMP at once: $pp_why"
	fi
	pmp_pair_down
	for k in "stopped:$pp_why" "bursts:$PMP_PAIR_BURSTS" "burst_ms:$PMP_PAIR_BURST_MS" \
		"gap_ms:$PMP_PAIR_GAP_MS" "secs:$(($(date +%s) - pp_t0))"; do
		pmp_pair_kv "pmp_pair_${k%%:*}" "${k#*:}" "${k#*:}"
	done
}
