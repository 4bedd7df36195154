#!/bin/sh
# run.sh - every test of the project: structural checks of the source
# (tests/static.sh: no include cycle, no file-scope mutable state, no function over 80 lines), the
# build as a packager meets it (tests/build.sh: configure, make install), unit
# tests (plain and under ASan/UBSan), lab tests (network namespaces, real nftables and clients),
# the hostile-input and fault lab tests again against the ASan/UBSan
# daemon (igdd-san: a sanitizer report aborts it, which the tests see),
# the kernel-dependent lab tests again as igdd runs on a 6.1 kernel
# (Debian 12's: no DESTROY, no element timeouts; every lab test in make
# check-full), and a short run of each fuzz harness.  Ends with "N passed,
# N failed".
#   TESTS="unit lab" sh tests/run.sh  runs some groups; LAB="t_smoke t_store" runs some lab tests.
set -u
cd "$(dirname "$0")/.." || exit 1
TESTS=${TESTS:-static build unit san lab labsan lab61 fuzz}
# The lab tests marked "# also-san" run again against igdd-san.
LAB_SAN=${LAB_SAN:-$(grep -l '^# also-san' tests/lab/t_*.sh | sed 's,.*/,,; s,\.sh$,,' | tr '\n' ' ')}
# Those marked "# also-6.1" (every one with FULL=1) run again as igdd runs
# on Linux 6.1 (IGDD_KERNEL_RELEASE: the running kernel takes the older
# kernels' messages too), but for those that say so themselves.
if [ "${FULL:-0}" = 1 ]; then _l=$(ls tests/lab/t_*.sh); else _l=$(grep -l '^# also-6\.1' tests/lab/t_*.sh); fi
LAB_61=${LAB_61:-$(grep -L '^export IGDD_KERNEL_RELEASE=' $_l /dev/null | grep -v '^/dev/null$' |
	sed 's,.*/,,; s,\.sh$,,' | tr '\n' ' ')}
LAB=${LAB:-}
FUZZ_CHECK_SECONDS=${FUZZ_CHECK_SECONDS:-20}
FUZZ_SEED=${FUZZ_SEED:-1}	# fixed: the suite repeats; make fuzz explores
LAB_TIMEOUT=${LAB_TIMEOUT:-300}
log=$(mktemp /tmp/igdd-tests.XXXXXX)
trap 'rm -f "$log"' EXIT

# run NAME CMD...: run a group, keep its PASS/FAIL/SKIP lines, say how long
# it took; a group that dies without saying so counts as one failure.
run() {
	_name=$1; shift
	echo "== $_name"
	_t0=$(date +%s)
	"$@" >"$log.out" 2>&1
	_rc=$?
	cat "$log.out"
	# its time, to see a test near its budget (LAB_TIMEOUT) before it fails
	echo "== $_name: $(($(date +%s) - _t0)) s"
	grep -E '^(PASS|FAIL|SKIP) ' "$log.out" >>"$log"
	if [ $_rc -ne 0 ] && ! grep -q '^FAIL ' "$log.out"; then
		echo "FAIL $_name: exited with status $_rc" | tee -a "$log"
	fi
	rm -f "$log.out"
}

for group in $TESTS; do
	case $group in
	static)
		run static sh tests/static.sh ;;
	build)
		run build sh tests/build.sh ;;
	unit)
		run unit ./build/unit ;;
	san)
		# the unit program's own status counts too (LeakSanitizer's at exit)
		run "unit (ASan+UBSan)" sh -c './build-san/unit >"$1" 2>&1; rc=$?
			sed "s,^\(PASS\|FAIL\) unit/,\1 san/," "$1"; rm -f "$1"; exit $rc' sh "$log.san" ;;
	lab)
		for t in tests/lab/t_*.sh; do
			n=$(basename "$t" .sh)
			case " ${LAB:-$n} " in *" $n "*) ;; *) continue ;; esac
			# "# full-only": make check-full's (FULL=1), or named in LAB
			if [ "${FULL:-0}" != 1 ] && [ -z "$LAB" ] &&
			   grep -q '^# full-only' "$t"; then
				echo "SKIP lab/$n: full-only (make check-full)" | tee -a "$log"
				continue
			fi
			run "lab $n" timeout -k 5 "$LAB_TIMEOUT" sh "$t"
		done ;;
	labsan)
		for n in $LAB_SAN; do
			run "lab $n (igdd-san)" env IGDD="$PWD/igdd-san" LAB_TEST="san/$n" \
				timeout -k 5 "$LAB_TIMEOUT" sh "tests/lab/$n.sh"
		done ;;
	lab61)
		for n in $LAB_61; do
			case " ${LAB:-$n} " in *" $n "*) ;; *) continue ;; esac
			if [ "${FULL:-0}" != 1 ] && [ -z "$LAB" ] && grep -q '^# full-only' "tests/lab/$n.sh"; then
				echo "SKIP lab/k61/$n: full-only (make check-full)" | tee -a "$log"
				continue
			fi
			run "lab $n (as on Linux 6.1)" env IGDD_KERNEL_RELEASE=6.1.0 LAB_TEST="k61/$n" \
				timeout -k 5 "$LAB_TIMEOUT" sh "tests/lab/$n.sh"
		done ;;
	fuzz)
		if ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
			if make -s fuzz-build >"$log.fz" 2>&1; then
				run fuzz sh tests/fuzz/run.sh build-fuzz/fuzz "$FUZZ_CHECK_SECONDS" "$FUZZ_SEED"
			else
				cat "$log.fz"
				echo "FAIL fuzz: harnesses did not build" | tee -a "$log"
			fi
			rm -f "$log.fz"
		fi ;;
	*)
		echo "unknown test group $group" >&2; exit 2 ;;
	esac
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ "$failed" -gt 0 ]; then
	echo "Failures:"
	grep '^FAIL ' "$log" | sed 's/^/  /'
fi
[ "$skipped" -gt 0 ] && grep '^SKIP ' "$log" | sed 's/^/  /'
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
