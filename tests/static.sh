#!/bin/sh
# static.sh - structural checks of the source tree, run by tests/run.sh:
#  - layers: the include graph of daemon/ and netfilter/ (file X includes
#    Y.h of another module Y) has no cycle: modules stand in a ladder;
#  - state: no object file of the library has a file-scope mutable
#    variable (nm: .data/.bss symbols) outside the allow-list below.
# Prints PASS/FAIL lines; needs the objects of build/ (make check builds them).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
failed=0
pass() { echo "PASS static/$*"; }
fail() { echo "FAIL static/$*"; failed=1; }

edges=$(mktemp /tmp/igdd-static.XXXXXX)
trap 'rm -f "$edges" "$edges.err"' EXIT
for c in daemon/*.c netfilter/*.c; do
	m=$(basename "$c" .c)
	sed -n 's/^#include "\([a-z_0-9]*\)\.h".*/\1/p' "$c" | while read -r h; do
		# an edge to another module that has a .c of its own
		[ "$h" != "$m" ] && { [ -f "daemon/$h.c" ] || [ -f "netfilter/$h.c" ]; } &&
			echo "$m $h"
	done
	echo "$m $m"
done >"$edges"
if tsort "$edges" >/dev/null 2>"$edges.err"; then
	pass "layers: no include cycle between the modules of daemon/ and netfilter/"
else
	fail "layers: include cycle"
	sed 's/^/    /' "$edges.err"
fi

# File-scope mutable state: objects in a writable section (.data, .bss;
# not .data.rel.ro, which is read-only once relocated).  The logger, the
# pid file's exit handler (svc.c) and main()'s context are the only ones
# allowed (signals come through a signalfd: no flag needed).
allowed='^(log_level|log_stderr|log_echo_fd|svc_exiting|ctx\.[0-9]+)$'
bad=$(for o in "$BUILD"/daemon/*.o "$BUILD"/netfilter/*.o; do
	objdump -t "$o" | awk -v f="$o" '$3 == "O" && $4 ~ /^\.(data|bss)/ && $4 !~ /^\.data\.rel\.ro/ {print f, $4, $6}'
done | awk -v a="$allowed" '$3 !~ a')
if [ -z "$bad" ]; then
	pass "state: no file-scope mutable variable outside the logger and the pid file's exit handler"
else
	fail "state: file-scope mutable variables"
	echo "$bad" | sed 's/^/    /'
fi
exit $failed
