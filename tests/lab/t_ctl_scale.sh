#!/bin/sh
# t_ctl_scale.sh - igddctl list at 100,000 mappings (issue 16): the list
# with every mapping's kernel counters (one netlink dump per forward set,
# not a query per mapping) comes back whole, as JSON and as a table, and
# its counters are the kernel's (a mapping with traffic shows it).  The
# times (best of three runs, the daemon's own part from its debug log)
# are reported, never judged: timing is no pass/fail matter.
. "$(dirname "$0")/lib.sh"
lab_up
PY=${PY:-/usr/bin/python3}
N=${SCALE_N:-100000}

# N/2 TCP and N/2 UDP mappings to c1, external = internal port, restored
# from the lease file in one transaction at start.
now=$(date +%s)
awk -v n="$N" -v c1="$C1" -v now="$now" 'BEGIN {
	for (i = 0; i < n; i++) {
		p = 1024 + int(i / 2)
		printf "+ %s %d :: %s %d 0 %d UPNP %s 000000000000000000000000 1 scale %d\n",
			(i % 2 ? "UDP" : "TCP"), p, c1, p, now, c1, i
	}
}' >"$LAB_DIR/igdd.leases"
lab_conf "$LAB_DIR/igdd.conf" <<CONF
max_mappings=1000000
max_mappings_per_client=1000000
CONF
t0=$(date +%s%N)
LAB_START_WAIT=60
check "igdd starts with $N mappings in its lease file" lab_start_igdd "$LAB_DIR/igdd.conf" -v
t1=$(date +%s%N)
echo "    (start with $N mappings: $(( (t1 - t0) / 1000000 )) ms)"
lab_listen c1 tcp 2000 tok
check "TCP 2000 (one of them) carries traffic" reach tcp 2000 tok

# ms CMD...: wall time of CMD in milliseconds (output to $LAB_DIR/out).
ms() { _a=$(date +%s%N); "$@" >"$LAB_DIR/out" 2>&1; _r=$?; _b=$(date +%s%N); echo $(( (_b - _a) / 1000000 )); return $_r; }
best() {	# best CMD...: the best of three runs, in ms (a shared machine)
	_best=
	for _i in 1 2 3; do
		_t=$(ms "$@") || { echo fail; return 1; }
		[ -z "$_best" ] || [ "$_t" -lt "$_best" ] && _best=$_t
	done
	echo "$_best"
}
tj=$(best ctl list --json)
n=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$LAB_DIR/out")
check "igddctl list --json returns all $N mappings ($n)" test "$n" = "$N"
check "... (igddctl list --json: ${tj} ms, reported)" test "$tj" != fail
pk=$("$PY" -c 'import json, sys
for m in json.load(open(sys.argv[1])):
    if m["protocol"] == "tcp" and m["external_port"] == 2000:
        print(m["packets"], m["bytes"])' "$LAB_DIR/out")
check "... with the kernel's counters: TCP 2000 shows its traffic ($pk packets, bytes)" \
	sh -c "set -- $pk; test \"\${1:-0}\" -gt 0 -a \"\${2:-0}\" -gt 0"
dm=$(sed -n 's/.*control: list of [0-9]* mappings: counters \([0-9]*\) ms, answer \([0-9]*\) ms.*/\1 \2/p' "$LAB_DIR/igdd.log" |
	awk '{ t = $1 + $2; if (best == "" || t < best) { best = t; c = $1; a = $2 } } END { print best, c, a }')
set -- $dm
echo "    (igdd's part: ${1:-?} ms: counters ${2:-?} ms, answer ${3:-?} ms)"
tt=$(best ctl list)
check "igddctl list (the table; ${tt} ms, reported)" test "$tt" != fail
check "... a header and $N rows" test "$(wc -l <"$LAB_DIR/out")" = $((N + 1))
tm=$(best ctl metrics)
check "igddctl metrics (${tm} ms, reported)" test "$tm" != fail
check "... its mapping gauge counts $N" sh -c "'$PY' '$(dirname "$0")/promcheck.py' igdd_mappings <'$LAB_DIR/out' | grep -qx '$N'"
check "igdd stops with status 0" lab_stop_igdd TERM
lab_finish
