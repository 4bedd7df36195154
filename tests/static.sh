#!/bin/sh
# static.sh - structural checks of the source tree, run by tests/run.sh:
#  - layers: the include graph of daemon/ and netfilter/ (file X includes
#    Y.h of another module Y) has no cycle: modules stand in a ladder;
#  - includes: no "../" include path;
#  - state: no object file of the library has a file-scope mutable
#    variable (nm: .data/.bss symbols) outside the allow-list below;
#  - keys: conf.c's key table is sorted, every key of it is documented in
#    man/igdd.conf.5 and conf/igdd.conf, and every key they document is in
#    the table;
#  - size: no function of daemon/, netfilter/ or a program's folder is
#    longer than 80 lines, but the table-driven switchboards listed below.
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

# Includes name headers by their name; the -I paths of the Makefile find
# them (a "../" path ties a file to where it sits).
rel=$(grep -n '^#include "\.\./' daemon/*.[ch] netfilter/*.[ch] tests/*/*.[ch] bench/*.[ch] 2>/dev/null)
if [ -z "$rel" ]; then
	pass "includes: no relative (../) include path"
else
	fail "includes: relative include paths"
	echo "$rel" | sed 's/^/    /'
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
# Configuration keys: the table (conf_keys[] in daemon/conf.c), the manual
# (".B key", ".BI key=..." lines; the KEYS WITH NO EFFECT list) and the
# sample file ("key=" and "#key=" lines; the no-effect keys in a comment).
keys_order=$(sed -n '/^static const struct conf_key conf_keys\[\] = {/,/^};/p' daemon/conf.c |
	sed -n 's/.*\(K_[A-Z0-9]*(\|\.name = \)"\([a-z0-9_]*\)".*/\2/p')
keys_table=$(echo "$keys_order" | sort -u)
keys_man=$(sed -n 's/^\.B[IR]* \([a-z][a-z0-9_]*\)=.*/\1/p' man/igdd.conf.5 | sort -u)
keys_conf=$(sed -n 's/^#\{0,1\}\([a-z][a-z0-9_]*\)=.*/\1/p' conf/igdd.conf | sort -u)
keys_bad=
# conf.c looks keys up with bsearch(): the table must stay sorted.
echo "$keys_order" | LC_ALL=C sort -c 2>/dev/null || keys_bad="
the key table of daemon/conf.c is not sorted (bsearch): $(echo "$keys_order" | LC_ALL=C sort -c 2>&1)"
for k in $keys_man; do
	echo "$keys_table" | grep -qx "$k" || keys_bad="$keys_bad
man/igdd.conf.5 documents $k=, which is not in the key table"
done
for k in $keys_conf; do
	echo "$keys_table" | grep -qx "$k" || keys_bad="$keys_bad
conf/igdd.conf sets $k=, which is not in the key table"
done
for k in $keys_table; do
	grep -Eq "^\.B[IR]? $k( |=|\$)" man/igdd.conf.5 || keys_bad="$keys_bad
key $k is not documented in man/igdd.conf.5"
	grep -Eq "(^#?$k=|[ (]$k[,. )]|[ (]$k\$)" conf/igdd.conf || keys_bad="$keys_bad
key $k is not in conf/igdd.conf"
done
if [ -n "$(echo "$keys_table" | tr -d ' ')" ] && [ -z "$keys_bad" ]; then
	pass "keys: the key table, igdd.conf(5) and conf/igdd.conf name the same $(echo "$keys_table" | wc -l) keys"
else
	fail "keys: the key table and the documentation disagree"
	echo "$keys_bad" | sed '/^$/d; s/^/    /'
fi

# Function length: a function is a line at column 0 naming it ("name(",
# after its return type), then its body from the "{" alone at column 0 on
# the line after its header to the "}" at column 0 that closes it, both
# counted.  Table-driven switchboards may be longer, each said why here:
#   (none today)
FUNC_MAX=80
long_ok='^$'
prog_dirs=$(sed -n 's/^PROGRAMS *= *//p' Makefile.in | tr ' ' '\n' | sed -n 's/:.*//p' |
	grep -v '^daemon$')
long=$(for f in daemon/*.c netfilter/*.c $(for d in $prog_dirs; do echo "$d"/*.c; done); do
	[ -f "$f" ] && echo "$f"; done | xargs awk -v max="$FUNC_MAX" '
	FNR == 1 { cand = ""; start = 0 }
	/^[A-Za-z_][A-Za-z0-9_ *]*\(/ && !start {
		name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name); cand = name; next }
	/^\{/ && cand != "" { start = FNR; fn = cand; cand = ""; next }
	/^\}/ && start { n = FNR - start + 1
		if (n > max) printf "%s:%d: %s() is %d lines\n", FILENAME, start, fn, n
		start = 0; next }
	/^[^ \t#\/]/ && !start && /;[ \t]*$/ { cand = "" }' | awk -v ok="$long_ok" '{ f = $2; sub(/\(\).*/, "", f) } f !~ ok')
if [ -z "$long" ]; then
	pass "size: no function over $FUNC_MAX lines outside the switchboards listed in static.sh"
else
	fail "size: functions over $FUNC_MAX lines"
	echo "$long" | sed 's/^/    /'
fi
exit $failed
