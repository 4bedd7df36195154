#!/bin/sh
# run.sh DIR SECONDS [SEED] - run every libFuzzer harness in DIR for SECONDS
# each, on its seed corpus (tests/fuzz/corpus/<name>) plus the regression
# inputs (tests/fuzz/regress/<name>).  New corpus entries go to a temporary
# dir.  With SEED (as in make check) the mutation sequence is fixed, so the
# test suite is a repeatable regression gate; without it (make fuzz) every
# run explores somewhere new.
set -u
dir=$1; secs=$2; seed=${3:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
rc=0
for h in "$dir"/fuzz_*; do
	[ -x "$h" ] || continue
	n=$(basename "$h")
	work=$(mktemp -d /tmp/igdd-fuzz.XXXXXX)
	seeds="$top/tests/fuzz/corpus/$n"
	regress="$top/tests/fuzz/regress/$n"
	if [ -d "$regress" ] && ! "$h" "$regress"/* >"$work/regress.log" 2>&1; then
		echo "FAIL fuzz/$n: a regression input crashes"; tail -20 "$work/regress.log"; rc=1
	fi
	if "$h" ${seed:+-seed="$seed"} -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		"$work" ${seeds:+"$seeds"} >"$work/log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
		cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1)
		echo "PASS fuzz/$n: ${secs}s${seed:+ (seed $seed)}, ${execs:-?} executions, $cov, no crash"
	else
		echo "FAIL fuzz/$n: crash or error"; grep -A30 'ERROR\|==ERROR\|runtime error' "$work/log" | head -40
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* /tmp/ 2>/dev/null
		rc=1
	fi
	rm -rf "$work"
done
exit $rc
