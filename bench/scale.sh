#!/bin/sh
# bench/scale.sh - igdd at the size of a CGN test host ("make bench-scale",
# root): NAT-PMP and PCP from NSRC LAN addresses at 1, 16 and 64 requests
# in flight, the sender's own ceiling against a no-op echo server, fills to
# SIZES, memory, kernel elements against the store, SOAP at scale,
# restarts (SIGTERM, SIGQUIT, kill -9) with 100,000 leases, delete-all,
# and the first SSDP answer side by side with miniupnpd.  bench/README.md
# ("The CGN scale benchmark") says what each row is.
#
#   BENCH_QUICK=1        sizes 1000 10000, shorter windows (about 1 minute)
#   BENCH_SCALE_SIZES    "1000 10000 100000" (the largest is the restart size)
#   BENCH_SCALE_NSRC     LAN source addresses (64)
#   BENCH_SCALE_BEFORE   a kv file of an earlier run: a "before" column
#   BENCH_SCALE_REPEAT   runs of each rate window, the median reported (3; quick 1)
#   BENCH_SCALE_RESTARTS the stops before a restart ("TERM QUIT KILL KILL+change")
#   BENCH_SCALE_LEASE_DIR where the lease file is (a fresh directory in /dev/shm:
#                        tmpfs, as OpenWrt keeps it; the same work with the
#                        file on the lab's disk is measured once at the end)
#   BENCH_OUT            where scale.kv / scale.md (and igdd's log, scale-igdd.log) go
#                        (bench/results)
#   MINIUPNPD            (/usr/sbin/miniupnpd) for the SSDP comparison
set -u
BENCH_TOP=$(cd "$(dirname "$0")/.." && pwd)
LAB_TOP=$BENCH_TOP
LAB_TEST=bench-scale
export LAB_TOP LAB_TEST
. "$BENCH_TOP/tests/lab/lib.sh"
. "$BENCH_TOP/bench/lib.sh"

BENCH_OUT=${BENCH_OUT:-$BENCH_TOP/bench/results}
MINIUPNPD=${MINIUPNPD:-/usr/sbin/miniupnpd}
BB=$BENCH_TOP/build/bench
SL=$BB/scaleload
NSRC=${BENCH_SCALE_NSRC:-64}
SRC0=$LAB_LAN.100		# NSRC addresses from here on c1
HTTP_PORT=5000
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	SIZES=${BENCH_SCALE_SIZES:-1000 10000}
	W1=300 W=2000 SSDP_N=10 REPEAT=${BENCH_SCALE_REPEAT:-1} LIST_N=10
else
	SIZES=${BENCH_SCALE_SIZES:-1000 10000 100000}
	W1=1000 W=5000 SSDP_N=30 REPEAT=${BENCH_SCALE_REPEAT:-3} LIST_N=30
fi
RESTARTS=${BENCH_SCALE_RESTARTS:-TERM QUIT KILL KILL+change}
LEASE_DIR=${BENCH_SCALE_LEASE_DIR:-}
WE=20000			# requests of each sender-ceiling run
MAX=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
FILL_PORT=10000			# fill: NAT-PMP TCP and PCP UDP, ports FILL_PORT + k
WIN_PORT=1100			# rate windows: NAT-PMP TCP and PCP UDP, then deleted
SOAP_PORT=62000			# SOAP adds at a size (TCP), then deleted
BENCH_DEADLINE=${BENCH_DEADLINE:-1800}
[ $((MAX / 2)) -le $((65536 - FILL_PORT)) ] || { echo "bench-scale: $MAX is too many (2 x 55536 at most)" >&2; exit 1; }

[ -x "$SL" ] && [ -x "$BB/soapload" ] && [ -x "$PROBE" ] && [ -x "$IGDD" ] || {
	echo "bench-scale: build first: make igdd tools bench-tools" >&2; exit 1; }

lab_up
gw true && c1 true && out true || { echo "bench-scale: lab_up failed" >&2; exit 1; }
i=0
while [ $i -lt "$NSRC" ]; do
	c1 ip addr add "$LAB_LAN.$((100 + i))/24" dev eth0 || exit 1
	i=$((i + 1))
done
RAW=$LAB_DIR/raw
mkdir -p "$RAW" "$BENCH_OUT"
if [ -z "$LEASE_DIR" ]; then
	LEASE_DIR=$(mktemp -d /dev/shm/igdd-bench.XXXXXX) || exit 1
	trap 'rm -rf "$LEASE_DIR"; lab_down' EXIT
fi
KV=$RAW/scale.kv
: >"$KV"
T_START=$(date +%s)
say "lab $LAB_ID up; $NSRC sources; sizes $SIZES"

# load ARGS...: scaleload from c1's sources (prints its summary line).
load() { c1 "$SL" -t 3000 -d 120 "$@"; }
# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "" }'; }
now_ns() { awk '{ printf "%d", $1 * 1000000000 }' /proc/uptime; }

# --- the sender's ceiling: a no-op echo server in the gateway ------------
echo_ceiling() {
	ip netns exec "$NS_GW" "$SL" echo "$GW_LAN" >/dev/null 2>&1 &
	ec_pid=$!
	LAB_PIDS="$LAB_PIDS $ec_pid"
	sleep 0.3
	for i in 1 16 64; do
		for m in map pcpmap; do
			l=$(load -i $i "$GW_LAN" $m "$SRC0" "$NSRC" "$WIN_PORT" "$WE")
			kv "echo_${m}_rps_$i" "$(field rps "$l")"
		done
	done
	kill "$ec_pid" 2>/dev/null
	wait "$ec_pid" 2>/dev/null
}

# --- igdd ------------------------------------------------------------------

# scale_conf [LEASE_FILE]: the lease file on tmpfs unless given.
scale_conf() {
	lab_conf "$LAB_DIR/igdd.conf.in" <<EOF
http_port=$HTTP_PORT
secure_mode=no
max_mappings=200000
max_mappings_per_client=8192
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
	sed "s,^lease_file=.*,lease_file=${1:-$LEASE_DIR/igdd.leases}," "$LAB_DIR/igdd.conf.in" \
		>"$LAB_DIR/igdd.conf"
}

# start_stamped: igdd started through "scaleload stamp" (the exec time in
# $LAB_DIR/t0), without waiting.
start_stamped() {
	ip netns exec "$NS_GW" "$SL" stamp "$LAB_DIR/t0" "$IGDD" -d -f "$LAB_DIR/igdd.conf" \
		-P "$LAB_DIR/igdd.pid" >>"$LAB_DIR/igdd.log" 2>&1 &
	IGDD_PID=$!
	DPID=$IGDD_PID
}

# count_check LABEL: the store's count (SOAP) and the kernel's elements.
count_check() {
	cc_s=$(field count "$(c1 "$BB/soapload" "$CTL" "$SVC" count 2>/dev/null)")
	cc_k=$(field count "$(gw "$SL" nftcount inet igdd dnat4 fwd4 dnat4_rh fwd4_rh)")
	kv "store_count_$1" "$cc_s"
	kv "kernel_elems_$1" "$cc_k"
	if [ -n "$cc_s" ] && [ "$cc_k" = $((cc_s * 2)) ]; then cc_v=yes; else cc_v=NO; fi
	kv "cnt_$1" "$cc_s / $cc_k / $cc_v"
	COUNT=${cc_s:-0}
}

# windows LABEL: new NAT-PMP and PCP mappings at 1, 16 and 64 in flight on
# top of what is there (REPEAT runs each, the median), each window
# deleted again; the deletes at 16 in flight are the delete rate.
windows() {
	for i in 1 16 64; do
		n=$W; [ $i = 1 ] && n=$W1
		for m in map pcpmap; do
			u= d=unmap; [ $m = pcpmap ] && u=-u d=pcpunmap
			: >"$RAW/w" ; : >"$RAW/d"
			r=0
			while [ $r -lt "$REPEAT" ]; do
				l=$(load -i $i $u "$GW_LAN" $m "$SRC0" "$NSRC" "$WIN_PORT" "$n")
				echo "$(field rps "$l")" >>"$RAW/w"
				[ "$(field ok "$l")" = "$n" ] || kv "win_${m}_${i}_$1_err" "$l"
				l=$(load -i 16 $u "$GW_LAN" $d "$SRC0" "$NSRC" "$WIN_PORT" "$n")
				[ $i = 16 ] && echo "$(field rps "$l")" >>"$RAW/d"
				r=$((r + 1))
			done
			kv "win_${m}_rps_${i}_$1" "$(median <"$RAW/w")"
			kv "win_${m}_runs_${i}_$1" "$(tr '\n' ' ' <"$RAW/w" | sed 's/ $//')"
			[ $i = 16 ] && kv "win_${m}_del_rps_$1" "$(median <"$RAW/d")"
		done
	done
}

# fill_to N: NAT-PMP TCP and PCP UDP mappings, half each, 16 in flight.
fill_to() {
	ft_from=$((HAVE / 2)) ft_to=$(($1 / 2))
	[ $ft_to -gt $ft_from ] || return 0
	ft_c0=$(cpu_ticks)
	l1=$(load -i 16 "$GW_LAN" map "$SRC0" "$NSRC" $((FILL_PORT + ft_from)) $((ft_to - ft_from)))
	l2=$(load -i 16 -u "$GW_LAN" pcpmap "$SRC0" "$NSRC" $((FILL_PORT + ft_from)) $((ft_to - ft_from)))
	kv "fill_map_rps_$1" "$(field rps "$l1")"
	kv "fill_pcpmap_rps_$1" "$(field rps "$l2")"
	ft_c1=$(cpu_ticks)
	kv "fill_cpu_ticks_$1" $((ft_c1 - ft_c0))
	kv "fill_cpu_ms_k_$1" "$(per_k $((ft_c1 - ft_c0)) $((2 * (ft_to - ft_from))))"
	[ "$(field ok "$l1")" = $((ft_to - ft_from)) ] || kv "fill_err_$1" "$l1"
	[ "$(field ok "$l2")" = $((ft_to - ft_from)) ] || kv "fill_err_pcp_$1" "$l2"
	HAVE=$((ft_to * 2))
}

# soap_at LABEL: AddPortMapping of 100 new ports (one connection each),
# deleted again (REPEAT times: the median of the medians); at the largest
# size also a page of 1000 entries of
# GetListOfPortMappings and the last index of GetGenericPortMappingEntry.
soap_at() {
	# a pause first: the kernel resizes a hash table that grew or shrank
	# by thousands in a deferred worker, which should not fall on these
	sleep 0.5
	: >"$RAW/s"
	r=0
	while [ $r -lt "$REPEAT" ]; do
		l=$(soap -T 100 "$CTL" "$SVC" add "$SOAP_PORT" 100)
		echo "$(field med_us "$l")" >>"$RAW/s"
		[ "$(field ok "$l")" = 100 ] || kv "soap_add_err_$1" "$l"
		soap "$CTL" "$SVC" del "$SOAP_PORT" 100 >/dev/null
		r=$((r + 1))
	done
	kv "soap_add_med_us_$1" "$(median <"$RAW/s")"
	kv "soap_add_runs_$1" "$(tr '\n' ' ' <"$RAW/s" | sed 's/ $//')"
	[ "$1" = "$MAX" ] || return 0
	l=$(soap -P 1000 "$CTL" "$SVC" list1 "$FILL_PORT" "$LIST_N")
	kv "soap_list1000_med_us_$1" "$(field med_us "$l")"
	kv "soap_list1000_p99_us_$1" "$(field p99_us "$l")"
	kv "soap_list1000_entries_$1" "$(field entries "$l")"
	l=$(soap "$CTL" "$SVC" getgen $((COUNT - 1)) "$LIST_N")
	kv "soap_getgen_last_med_us_$1" "$(field med_us "$l")"
	l=$(soap "$CTL" "$SVC" getgen $((COUNT / 2)) "$LIST_N")
	kv "soap_getgen_mid_med_us_$1" "$(field med_us "$l")"
}

# Sockets of any network namespace that listen to nftables' change
# notifications (NFNLGRP_NFTABLES): with one anywhere on the host (the
# kernel keeps one listener bitmap for all namespaces; every igdd has
# one), every transaction builds a notification for each element it
# changes, which on this VM more than doubled the kernel's time for a
# restore's 300,000 elements (bench/README.md).
nft_listeners() {
	for p in /proc/[0-9]*; do
		echo "$(readlink "$p/ns/net" 2>/dev/null) $p"
	done | sort -u -k1,1 | while read -r ns p; do
		[ -n "$p" ] && cat "$p/net/netlink" 2>/dev/null
	done | while read -r _ eth _ grp _ _ _ _ _ ino; do
		[ "$eth" = 12 ] && [ $((0x$grp & 0x40)) -ne 0 ] || continue
		f=$(find /proc/[0-9]*/fd -lname "socket:\[$ino\]" 2>/dev/null | head -1)
		f=${f#/proc/}
		cat "/proc/${f%%/*}/comm" 2>/dev/null || echo unknown
	done | sort | uniq -c | awk '{ n += $1; s = s (s == "" ? "" : ", ") $2 ($1 > 1 ? " x" $1 : "") }
		END { printf "%d%s\n", n, n ? " (" s ")" : "" }'
}

# restart HOW: stop igdd (TERM, QUIT, KILL) with MAX mappings and start it
# again: exec to NAT-PMP and HTTP answering, and to every element in the
# kernel (a dump of the sets, again and again, until the count is right:
# after a kill -9 a few elements are taken away and a few foreign ones
# put in first, so that the restart has to reconcile), and the longest
# gap of new connections through a mapping from the outside meanwhile.
restart() {
	rs_k=$1 rs_p=$((FILL_PORT + 7)) rs_n=$(echo "$1" | tr -c 'A-Za-z0-9\n' _)
	lab_listen c1 tcp $rs_p rs >/dev/null
	ip netns exec "$NS_OUT" "$SL" outage "$GW_WAN" $rs_p 6000 >"$RAW/outage" 2>&1 &
	rs_op=$!
	sleep 0.5
	case $rs_k in
	KILL*) kill -9 "$IGDD_PID"; wait "$IGDD_PID" 2>/dev/null; IGDD_PID= ;;
	*) lab_stop_igdd "$rs_k" ;;
	esac
	if [ "$rs_k" = KILL+change ]; then
		# take 100 dnat elements away, put 50 foreign ones in
		gw nft -f - <<EOF 2>>"$LAB_DIR/bench.err"
delete element inet igdd dnat4 { $(seq $((FILL_PORT + 100)) $((FILL_PORT + 199)) | sed 's/^/tcp . /' | paste -sd, -) }
add element inet igdd dnat4 { $(seq 64000 64049 | sed "s/.*/tcp . & : $LAB_LAN.250 . &/" | paste -sd, -) }
EOF
	fi
	rs_from=$(($(wc -l <"$LAB_DIR/igdd.log") + 1))
	kv "restart_${rs_n}_nft_listeners" "$(nft_listeners)"
	kv "restart_${rs_n}_kernel_before" "$(field count "$(gw "$SL" nftcount inet igdd dnat4 fwd4 dnat4_rh fwd4_rh)")"
	ip netns exec "$NS_C1" "$SL" waitup "$GW_LAN" "$HTTP_PORT" 15000 >"$RAW/waitup" 2>&1 &
	rs_wp=$!
	ip netns exec "$NS_GW" "$SL" nftcount -w $((COUNT * 2)) -t 15000 inet igdd dnat4 fwd4 \
		dnat4_rh fwd4_rh >"$RAW/nftc" 2>&1 &
	rs_np=$!
	start_stamped
	wait $rs_wp $rs_np
	wait $rs_op
	rs_t0=$(cat "$LAB_DIR/t0")
	rs_w=$(cat "$RAW/waitup") rs_c=$(cat "$RAW/nftc")
	for f in pmp_up_ns http_up_ns; do
		v=$(field $f "$rs_w")
		[ "${v:-0}" -gt 0 ] && kv "restart_${rs_n}_${f%_ns}_ms" \
			"$(awk -v a="$v" -v b="$rs_t0" 'BEGIN { printf "%.1f", (a - b) / 1e6 }')"
	done
	v=$(field at_ns "$rs_c")
	if [ "${v:-0}" -gt 0 ]; then
		kv "restart_${rs_n}_kernel_ms" "$(awk -v a="$v" -v b="$rs_t0" 'BEGIN { printf "%.1f", (a - b) / 1e6 }')"
	else
		kv "restart_${rs_n}_kernel_ms" "never ($(field count "$rs_c") elements)"
	fi
	kv "restart_${rs_n}_dump_ms" "$(field dump_ms "$rs_c")"
	kv "restart_${rs_n}_outage_ms" "$(field max_gap_ms "$(cat "$RAW/outage")")"
	kv "restart_${rs_n}_outage_fail" "$(field fail "$(cat "$RAW/outage")")"
	wait_for 5 c1 "$BB/soapload" "$CTL" "$SVC" count
	# the kernel's part of the restore over (it runs on in the daemon
	# after the counts are right: the lease file's rewrite)
	wait_for 20 sh -c "tail -n +$rs_from '$LAB_DIR/igdd.log' |
		grep -q 'kernel reconciled\|kernel holds the restored'"
	# the daemon's own account of it (how the kernel got its elements, and when)
	kv "restart_${rs_n}_log" "$(tail -n +"$rs_from" "$LAB_DIR/igdd.log" |
		sed -n 's/.*\(kernel reconciled .*\|kernel holds the restored .*\)/\1/p' | head -1)"
	# the daemon's CPU from exec to here, all / system (the kernel's
	# part: its inserts run in igdd's sendmsg): less noisy than the times
	kv "restart_${rs_n}_cpu_ms" "$(awk -v hz="$CLK_TCK" '{ printf "%d / %d", ($14 + $15) * 1000 / hz, $15 * 1000 / hz }' "/proc/$DPID/stat" 2>/dev/null)"
	rss "restart_$rs_n"
	count_check "restart_$rs_n"
}

bench_igdd() {
	D=igdd
	scale_conf
	rm -f "$LAB_DIR/igdd.leases"
	lab_start_igdd "$LAB_DIR/igdd.conf" || {
		kv status "did not start"; tail -5 "$LAB_DIR/igdd.log" >&2; return 1; }
	DPID=$IGDD_PID
	kv status ok
	sleep 0.5
	rss idle
	l=$(c1 "$BB/ssdpload" -m 1 -r "$SSDP_N" "$C1" urn:schemas-upnp-org:device:InternetGatewayDevice:1)
	for f in answered first_med_ms first_max_ms; do kv "ssdp_igd1_$f" "$(field $f "$l")"; done
	loc=$(field location "$l")
	l=$(c1 "$BB/ssdpload" -m 1 -r 3 "$C1" ssdp:all)
	for f in first_med_ms answers_med; do kv "ssdp_all_$f" "$(field $f "$l")"; done
	l=$(c1 "$BB/ssdpload" -m 1 -r 3 "$C1" upnp:rootdevice)
	kv ssdp_root_first_med_ms "$(field first_med_ms "$l")"
	[ -n "$loc" ] && [ "$loc" != - ] || loc=http://$GW_LAN:$HTTP_PORT/rootDesc.xml
	l=$(c1 "$BB/soapload" desc "$loc" 2>>"$LAB_DIR/bench.err")
	CTL=$(echo "$l" | sed -n 's/^control=//p')
	SVC=$(echo "$l" | sed -n 's/^service=//p')
	HAVE=0 COUNT=0
	say "igdd: rate windows at 0"
	windows 0
	soap_at 0
	for N in $SIZES; do
		say "igdd: fill to $N"
		fill_to "$N"
		count_check "$N"
		rss "$N"
		if [ "$N" = "$MAX" ] || [ "$N" = 10000 ]; then
			say "igdd: rate windows at $N"
			windows "$N"
		fi
		soap_at "$N"
	done
	lab_listen c1 tcp $((FILL_PORT + 3)) tok >/dev/null
	if reach tcp $((FILL_PORT + 3)) tok; then kv reach_max ok; else kv reach_max FAIL; fi
	for k in $RESTARTS; do
		say "igdd: restart after SIG$k with $COUNT mappings"
		restart $k
	done
	say "igdd: delete all"
	ft_c0=$(cpu_ticks)
	l1=$(load -i 16 "$GW_LAN" unmap "$SRC0" "$NSRC" "$FILL_PORT" $((MAX / 2)))
	ft_c1=$(cpu_ticks)
	l2=$(load -i 16 -u "$GW_LAN" pcpunmap "$SRC0" "$NSRC" "$FILL_PORT" $((MAX / 2)))
	ft_c2=$(cpu_ticks)
	kv delall_map_rps "$(field rps "$l1")"
	kv delall_pcp_rps "$(field rps "$l2")"
	kv delall_cpu_ticks $((ft_c2 - ft_c0))
	# the daemon's own CPU per 1,000 deletes: a slow run's rate that the
	# CPU does not follow is the VM (a descheduled vCPU), not igdd
	kv delall_map_cpu_ms_k "$(per_k $((ft_c1 - ft_c0)) $((MAX / 2)))"
	kv delall_pcp_cpu_ms_k "$(per_k $((ft_c2 - ft_c1)) $((MAX / 2)))"
	count_check end
	rss end
	soap_at end	# at ~0 again, late in the same daemon: a second baseline
	kv clk_tck "$CLK_TCK"
	lab_stop_igdd
	# The same new-mapping window with the lease file on the lab's disk:
	# each batch then waits for the disk's fdatasync.
	say "igdd: the lease file on disk"
	scale_conf "$LAB_DIR/igdd.leases"
	lab_start_igdd "$LAB_DIR/igdd.conf" || return 1
	DPID=$IGDD_PID
	for m in map pcpmap; do
		u= d=unmap; [ $m = pcpmap ] && u=-u d=pcpunmap
		: >"$RAW/w"
		r=0
		while [ $r -lt "$REPEAT" ]; do
			l=$(load -i 16 $u "$GW_LAN" $m "$SRC0" "$NSRC" "$WIN_PORT" "$W")
			echo "$(field rps "$l")" >>"$RAW/w"
			load -i 16 $u "$GW_LAN" $d "$SRC0" "$NSRC" "$WIN_PORT" "$W" >/dev/null
			r=$((r + 1))
		done
		kv "disk_win_${m}_rps_16" "$(median <"$RAW/w")"
	done
	lab_stop_igdd
}

bench_miniupnpd_ssdp() {
	command -v "$MINIUPNPD" >/dev/null || { kv mini_status "not installed"; return 0; }
	gw nft flush ruleset
	KV_SAVE=$KV
	start_miniupnpd || { kv mini_status "did not start"; stop_miniupnpd; return 0; }
	kv mini_status ok
	l=$(c1 "$BB/ssdpload" -m 1 -r "$SSDP_N" "$C1" urn:schemas-upnp-org:device:InternetGatewayDevice:1)
	for f in answered first_med_ms first_max_ms; do kv "mini_ssdp_igd1_$f" "$(field $f "$l")"; done
	l=$(c1 "$BB/ssdpload" -m 1 -r 3 "$C1" ssdp:all)
	for f in first_med_ms answers_med; do kv "mini_ssdp_all_$f" "$(field $f "$l")"; done
	stop_miniupnpd
}

say "sender ceiling against a no-op echo server"
echo_ceiling
bench_igdd
say "miniupnpd: SSDP"
bench_miniupnpd_ssdp
{
	echo "meta_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "meta_host=$(uname -sr) $(nproc) cpu"
	echo "meta_commit=$(git -C "$BENCH_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "meta_sizes=$SIZES"
	echo "meta_nsrc=$NSRC"
	echo "meta_repeat=$REPEAT"
	echo "meta_quick=${BENCH_QUICK:-0}"
	echo "meta_restarts=$RESTARTS"
	echo "meta_secs=$(($(date +%s) - T_START))"
} >>"$KV"
cp "$KV" "$BENCH_OUT/scale.kv"
cp "$LAB_DIR/igdd.log" "$BENCH_OUT/scale-igdd.log" 2>/dev/null
awk -v max="$MAX" -f "$BENCH_TOP/bench/scale_report.awk" ${BENCH_SCALE_BEFORE:+"$BENCH_SCALE_BEFORE"} "$KV" \
	>"$BENCH_OUT/scale.md"
cat "$BENCH_OUT/scale.md"
say "results in $BENCH_OUT/scale.kv and scale.md"
exit 0
