#!/bin/sh
# bench/run.sh - igdd side by side with miniupnpd on the same work, in one
# lab (tests/lab/lib.sh), one daemon at a time.  `make bench` runs it as root.
#
#   BENCH_QUICK=1        small sizes and budgets (about 2 minutes)
#   BENCH_DAEMONS="igdd miniupnpd"   which ones, in this order
#   BENCH_FILL_BUDGET=S  seconds of AddPortMapping for miniupnpd (full: 420)
#   BENCH_IGDD_FILL_BUDGET=S  the same for igdd (full: 180)
#   BENCH_OUT=DIR        where latest.json / latest.md go (bench/results)
#   BENCH_AB_ROUNDS=N    rounds of the data-plane comparison, 10 mappings vs
#                        the largest size, alternating (3; 0: none)
#   BENCH_AB_BUDGET=S    seconds for all of those rounds (full: 80)
#   BENCH_PMPPAIR_BURSTS=N  bursts per daemon of the NAT-PMP external-address
#                        rate with both daemons running, after both phases
#                        (full: 24 with 1 in flight, half with 16, at
#                        least 2; 0: none)
#   BENCH_PMPPAIR_GAP_MS=MS  idle time between those bursts (100)
#
# Results: bench/results/latest.json, latest.md (bench/README.md explains
# them).  Every load generator has a deadline per request and a budget per
# phase, and the whole run keeps to BENCH_DEADLINE seconds (840), so a dead
# or slow daemon cannot hold it; the lab's namespaces go on exit.
set -u
BENCH_TOP=$(cd "$(dirname "$0")/.." && pwd)
LAB_TOP=$BENCH_TOP
LAB_TEST=bench
export LAB_TOP LAB_TEST
. "$BENCH_TOP/tests/lab/lib.sh"
. "$BENCH_TOP/bench/lib.sh"

BENCH_OUT=${BENCH_OUT:-$BENCH_TOP/bench/results}
BENCH_DAEMONS=${BENCH_DAEMONS:-igdd miniupnpd}
MINIUPNPD=${MINIUPNPD:-/usr/sbin/miniupnpd}
BB=$BENCH_TOP/build/bench
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	SIZES=${BENCH_SIZES:-100 300 1000}
	MID=${BENCH_MID:-300}
	FILL_BUDGET=${BENCH_FILL_BUDGET:-60}
	IGDD_FILL_BUDGET=${BENCH_IGDD_FILL_BUDGET:-60}
	DELALL_BUDGET=${BENCH_DELALL_BUDGET:-20}
	PHASE_BUDGET=${BENCH_PHASE_BUDGET:-10}
	REPEAT=30 CONNS=100 PMP_N=50 RATE_SECS=1 LOAD_SECS=3
	KA_PAIRS=200
	AB_BUDGET=${BENCH_AB_BUDGET:-30} AB_CONNS=300
	PMP_PAIR_BURSTS=${BENCH_PMPPAIR_BURSTS:-12}
	BENCH_DEADLINE=${BENCH_DEADLINE:-400}
else
	SIZES=${BENCH_SIZES:-100 1000 5000 10000}
	MID=${BENCH_MID:-5000}
	FILL_BUDGET=${BENCH_FILL_BUDGET:-420}
	IGDD_FILL_BUDGET=${BENCH_IGDD_FILL_BUDGET:-180}
	DELALL_BUDGET=${BENCH_DELALL_BUDGET:-45}
	PHASE_BUDGET=${BENCH_PHASE_BUDGET:-15}
	REPEAT=100 CONNS=300 PMP_N=200 RATE_SECS=3 LOAD_SECS=10
	KA_PAIRS=400
	AB_BUDGET=${BENCH_AB_BUDGET:-80} AB_CONNS=480
	PMP_PAIR_BURSTS=${BENCH_PMPPAIR_BURSTS:-24}
	BENCH_DEADLINE=${BENCH_DEADLINE:-840}
fi
MAX=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
BASE_PORT=20000		# SOAP mappings: BASE_PORT + i -> c1:same port
WINDOW=100		# requests per latency window
HTTP_PORT=5000
LOAD_RPS=${BENCH_LOAD_RPS:-500}	# SOAP requests/s of the load phase
LOAD_PORT=62000		# its 100 mappings
WARMUP=10		# connections before each new-connection measurement, not counted
AB_ROUNDS=${BENCH_AB_ROUNDS:-3}	# alternating rounds of 10 vs max mappings
AB_BURSTS=12		# bursts of connections in each round (AB_CONNS in all)
AB_DAEMONS=igdd		# which daemons do them
PMP_PAIR_BURST_MS=150	# NAT-PMP ext with both daemons at once: PMP_PAIR_BURSTS bursts each
PMP_PAIR_GAP_MS=${BENCH_PMPPAIR_GAP_MS:-100}	# between those bursts
PAIR_ADDR=$LAB_LAN.254	# miniupnpd's LAN address then (igdd's is GW_LAN)
PMP_PAIR_KEEP=40	# seconds the daemons' phases leave it (it takes ~20)

[ -x "$BB/soapload" ] && [ -x "$BB/kaload" ] && [ -x "$PROBE" ] || {
	echo "bench: build first: make igdd tools bench-tools" >&2; exit 1; }
# lab_up's status is that of its last settle ping (absent on some hosts):
# judge the lab by its namespaces instead.
lab_up
gw true && c1 true && out true || { echo "bench: lab_up failed" >&2; exit 1; }
RAW=$LAB_DIR/raw
mkdir -p "$RAW" "$BENCH_OUT"
T_START=$(date +%s)
say "lab $LAB_ID up; sizes $SIZES (goal size $MID), fill budget ${FILL_BUDGET}s per daemon"

KEEP=0
case " $BENCH_DAEMONS " in
*" igdd "*" miniupnpd "* | *" miniupnpd "*" igdd "*)
	[ "$PMP_PAIR_BURSTS" -eq 0 ] || KEEP=$PMP_PAIR_KEEP ;;
esac
for d in $BENCH_DAEMONS; do
	bench_daemon "$d"
	gw nft flush ruleset
done
# NAT-PMP external-address rate, igdd and miniupnpd running at once, bursts
# in turn (only when both ran with NAT-PMP; values land in both kv files)
KEEP=0
pmp_pair

{
	echo "meta.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "meta.host=$(uname -sr) $(nproc) cpu"
	echo "meta.quick=${BENCH_QUICK:-0}"
	echo "meta.sizes=$SIZES"
	echo "meta.mid=$MID"
	echo "meta.max=$MAX"
	echo "meta.fill_budget_s=$FILL_BUDGET"
	echo "meta.window=$WINDOW"
	echo "meta.load_rps=$LOAD_RPS"
	echo "meta.load_secs=$LOAD_SECS"
	echo "meta.ka_pairs=$KA_PAIRS"
	echo "meta.conns=$CONNS"
	echo "meta.warmup=$WARMUP"
	echo "meta.ab_rounds=$AB_ROUNDS"
	echo "meta.pmp_pair_bursts=$PMP_PAIR_BURSTS"
	echo "meta.igdd_commit=$(git -C "$BENCH_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "meta.miniupnpd_version=$("$MINIUPNPD" --version 2>&1 | head -1)"
	echo "meta.total_s=$(($(date +%s) - T_START))"
} >"$RAW/meta.kv"
for d in igdd miniupnpd; do [ -f "$RAW/$d.kv" ] || echo "status=not run" >"$RAW/$d.kv"; done
cp "$RAW"/*.kv "$BENCH_OUT/" 2>/dev/null
awk -v mode=json -f "$BENCH_TOP/bench/report.awk" "$RAW/meta.kv" "$RAW/igdd.kv" \
	"$RAW/miniupnpd.kv" >"$BENCH_OUT/latest.json"
awk -v mode=md -f "$BENCH_TOP/bench/report.awk" "$RAW/meta.kv" "$RAW/igdd.kv" \
	"$RAW/miniupnpd.kv" >"$BENCH_OUT/latest.md"
cat "$BENCH_OUT/latest.md"
say "results in $BENCH_OUT/latest.json and latest.md ($(($(date +%s) - T_START)) s)"
exit 0
