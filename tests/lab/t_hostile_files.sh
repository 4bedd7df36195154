#!/bin/sh
# also-6.1: run again as igdd runs on Linux 6.1 (tests/run.sh)
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_hostile_files.sh - hostile configuration and lease files.
# A configuration that is truncated, binary, endless (/dev/zero) or full of
# hostile lines is refused with "file:line: message" for each bad line, by
# --check and by a real start (which then changes nothing in the kernel).
# A lease file with binary junk, NUL bytes, overlong and malformed records
# and a torn last line is read with a "file:line" warning per bad record:
# igdd starts, the good records carry traffic, and the daemon, the lease
# file and the kernel agree.
# The lease file is opened safely (issue 14, finding 5): a symbolic link
# planted at the file or at its temporary name never makes igdd write
# through it (the target stays as it was), and a lease file or directory
# that others can write, or that another user owns, is refused at start
# and by --check.
# Lease replay obeys today's policy (issue 14, finding 6): a record ~600
# years ahead no longer makes the kernel refuse the whole restore (it is
# clamped, and the good records carry traffic), and records that today's
# secure mode or permission rules refuse are dropped with a log line.
. "$(dirname "$0")/lib.sh"
lab_up
D=$LAB_DIR

# --check FILE: igdd refuses it; its messages go to $D/check.err
refused() { ! "$IGDD" --check -f "$1" >"$D/check.err" 2>&1; }
# says FILE LINE: the messages name FILE:LINE
says() { grep -q "^$1:$2: " "$D/check.err"; }

base() { printf 'ext_ifname=wan0\nlistening_ip=lan0\nenable_upnp=yes\n'; }

# truncated in the middle of a line
{ base; printf 'enable_natpmp=ye'; } >"$D/trunc.conf"
check "a truncated configuration is refused" refused "$D/trunc.conf"
check "... naming file:line of the cut line" says "$D/trunc.conf" 4
{ base; printf 'allow 1024-65535 192.168.77.0/24'; } >"$D/trunc2.conf"
check "a permission rule cut short is refused" refused "$D/trunc2.conf"
check "... at its line" says "$D/trunc2.conf" 4

# binary junk (fixed bytes, so the test repeats)
awk 'BEGIN { srand(7); for (i = 0; i < 8192; i++) printf "%c", int(rand() * 256) }' >"$D/binary.conf"
check "a binary configuration is refused" timeout 10 sh -c "! '$IGDD' --check -f '$D/binary.conf' >'$D/check.err' 2>&1"
check "... with file:line messages" grep -q "^$D/binary.conf:[0-9]*: " "$D/check.err"
check "... and no more than 50 of them plus a summary" test "$(wc -l <"$D/check.err")" -le 51

# endless: bounded memory and time
check "/dev/zero as configuration is refused within 10 s" \
	timeout 10 sh -c "! '$IGDD' --check -f /dev/zero >'$D/check.err' 2>&1"
check "... as too large" grep -q "larger than" "$D/check.err"

# hostile lines, one per line number
{
	base						# 1-3
	printf 'ext_ifname=wan0; rm -rf /\n'		# 4
	printf 'friendly_name=%s\n' "$(head -c 5000 /dev/zero | tr '\0' a)"	# 5
	printf 'http_port=-1\n'				# 6
	printf '=value\n'				# 7
	printf 'uuid=../../../etc/passwd\n'		# 8
	printf 'model_name=a\001b\n'			# 9
	printf 'notify_interval=99999999999999999999\n'	# 10
	printf 'allow 1-2 300.1.1.1/8 1-2\n'		# 11
	printf 'deny 0-65535 0.0.0.0/0 0-65535 "(((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+"\n'	# 12
	printf 'lease_file\n'				# 13
	printf 'listening_ip=lan0 lan0 lan0\0\n'	# 14
	printf 'secure_mode=maybe\n'			# 15
	printf '%s\n' "$(head -c 3000 /dev/zero | tr '\0' '%')"	# 16
} >"$D/hostile.conf"
check "a configuration of hostile lines is refused" refused "$D/hostile.conf"
n=0
for l in 4 5 6 7 8 9 10 11 12 13 14 15 16; do says "$D/hostile.conf" $l || { n=$((n + 1)); echo "    line $l not reported"; }; done
check "... every hostile line is reported as file:line (13 lines)" test $n = 0
check "... and nothing else" test "$(grep -c "^$D/hostile.conf:" "$D/check.err")" = 13
check "a real start with it fails" sh -c "! ip netns exec $NS_GW '$IGDD' -d -f '$D/hostile.conf' >/dev/null 2>&1"
check_not "... and leaves nothing in the kernel" sh -c "ip netns exec $NS_GW nft list tables | grep -q igdd"

# --- the lease file ---
LEASES=$D/igdd.leases
now=$(date +%s); exp=$((now + 3600))
{
	echo "# igdd lease journal v1"
	lease_line TCP 8000 "$C1" 9000 3600				# 2 good
	printf '\001\002\003\377\376 junk\n'				# 3
	printf '+ TCP 8001 :: %s 9001 %s %s UPNP %s 000000000000000000000000 1 a\0b\n' "$C1" $exp $now "$C1"	# 4 NUL
	printf '+ TCP 8002 :: %s 9002 %s %s UPNP %s 000000000000000000000000 1 %s\n' "$C1" $exp $now "$C1" "$(head -c 100000 /dev/zero | tr '\0' x)"	# 5 very long desc
	printf '+ TCP 0 :: %s 9003 %s %s UPNP %s 000000000000000000000000 1 zero\n' "$C1" $exp $now "$C1"	# 6
	printf '+ TCP 70000 :: %s 9003 %s %s UPNP %s 000000000000000000000000 1 big\n' "$C1" $exp $now "$C1"	# 7
	printf '+ ICMP 8003 :: %s 9003 %s %s UPNP %s 000000000000000000000000 1 icmp\n' "$C1" $exp $now "$C1"	# 8
	printf '+ TCP 8004\n'						# 9 truncated
	printf '+ TCP 8005 :: 999.1.1.1 9005 %s %s UPNP 1.2.3.4 000000000000000000000000 1 addr\n' $exp $now	# 10
	printf '+ TCP 8006 :: %s 9006 %s %s ROOT %s 000000000000000000000000 1 owner\n' "$C1" $exp $now "$C1"	# 11
	printf '+ TCP 8007 :: %s 9007 %s %s UPNP %s 0000 1 nonce\n' "$C1" $exp $now "$C1"	# 12
	printf '+ TCP 8008 :: %s 9008 %s %s UPNP %s 000000000000000000000000 1 crlf\r\n' "$C1" $exp $now "$C1"	# 13 CRLF line end: the CR is dropped, the record is good
	lease_line UDP 8009 "$C1" 9009 3600				# 14 good
	printf '+ TCP 8010 :: %s 9010 %s %s UPNP %s 000000000000000000000000 1 torn' "$C1" $exp $now "$C1"	# 15 torn (no newline)
} >"$LEASES"
lab_conf "$D/igdd.conf" <<EOF2
ext_ip=1.2.3.4
EOF2
lab_listen c1 tcp 9000 t9000
lab_listen c1 udp 9009 u9009
check "igdd starts with a hostile lease file" lab_start_igdd "$D/igdd.conf"
bad=0
for l in 3 4 6 7 8 9 10 11 12; do grep -q "$LEASES:$l: " "$D/igdd.log" || { bad=$((bad + 1)); echo "    line $l: no warning"; }; done
check "every malformed record is skipped with a file:line warning" test $bad = 0
check "the torn last record is ignored with a warning" grep -q "torn" "$D/igdd.log"
check "a good TCP record before the junk carries traffic" reach tcp 8000 t9000
check "a good UDP record after the junk carries traffic" reach udp 8009 u9009
UPNP_BASE=$(lab_upnp_base)
check "discovered" test -n "$UPNP_BASE"
check "daemon, lease file and kernel agree" lab_agree
check_not "nothing from the bad records was mapped" grep -q " 800[134567] " "$D/view.kernel"
check "igdd stops with status 0" lab_stop_igdd TERM

# --- lease replay obeys today's policy ---
now=$(date +%s)
{
	lease_line TCP 8030 "$C1" 9030 3600
	printf '+ TCP 8031 :: %s 9031 %s %s UPNP %s 000000000000000000000000 1 far\n' \
		"$C1" $((now + 600 * 365 * 86400)) $now "$C1"
	lease_line UDP 8032 "$C1" 9032 3600
} >"$LEASES"
lab_conf "$D/replay.conf" <<EOF2
ext_ip=1.2.3.4
deny 8034 0.0.0.0/0 0-65535
allow 1024-65535 0.0.0.0/0 1024-65535
EOF2
lab_listen c1 tcp 9030 t9030
lab_listen c1 tcp 9031 t9031
lab_listen c1 udp 9032 u9032
lab_listen c1 tcp 9033 t9033
lab_listen c1 tcp 9034 t9034
check "igdd starts with a record 600 years ahead among good ones" lab_start_igdd "$D/replay.conf"
check "a good record carries traffic" reach tcp 8030 t9030
check "another good record carries traffic" reach udp 8032 u9032
check "the far-future record is restored (clamped) and carries traffic" reach tcp 8031 t9031
# timeout_days PORT: days of the kernel element timeout of TCP PORT
timeout_days() { gw nft list map inet igdd dnat4 | tr ',' '\n' | sed -n "s/.*tcp \. $1 .*timeout \([0-9]*\)d.*/\1/p"; }
if lab_timeouts; then
	check "... its kernel timeout is 2^32 s (~136 years, 49710 days), not 600 years" \
		test "$(timeout_days 8031)" = 49710
else
	check "... before 6.12 its kernel element has no timeout" sh -c \
		"ip netns exec $NS_GW nft list map inet igdd dnat4 | tr ',' '\n' | grep 'tcp \. 8031 ' | grep -vq timeout"
fi
UPNP_BASE=$(lab_upnp_base)
check "daemon, lease file and kernel agree" lab_agree
lab_stop_igdd TERM
{
	lease_line TCP 8030 "$C1" 9030 3600
	# made by c2 for c1: secure mode (the default) refuses that today
	printf '+ TCP 8033 :: %s 9033 %s %s UPNP %s 000000000000000000000000 1 for c1\n' \
		"$C1" $((now + 3600)) $now "$C2"
	lease_line TCP 8034 "$C1" 9034 3600		# denied by today's rules
} >"$LEASES"
log_mark
check "igdd starts with records today's policy refuses" lab_start_igdd "$D/replay.conf"
check "the good record carries traffic" reach tcp 8030 t9030
check_not "a record secure mode refuses today is not mapped" reach tcp 8033 t9033
check "... and its drop is logged" test "$(count_log 'lease TCP 8033 .*secure mode.*dropped')" = 1
check_not "a record the rules deny today is not mapped" reach tcp 8034 t9034
check "... and its drop is logged" test "$(count_log 'lease TCP 8034 .*permission.*dropped')" = 1
UPNP_BASE=$(lab_upnp_base)
check "daemon, lease file and kernel agree" lab_agree
check_not "... the lease file has no more of them" grep -q " 803[34] " "$LEASES"
lab_stop_igdd TERM

# --- the lease file opened safely ---
# A victim file outside igdd's reach; its last line has no newline, which
# an unsafe opener would cut off as a torn record.
VICTIM=$D/victim
victim() { printf 'victim line 1\nvictim line 2 (no newline)' >"$VICTIM"; }
victim_intact() { [ "$(cat "$VICTIM")" = "$(printf 'victim line 1\nvictim line 2 (no newline)')" ]; }
SAFE=$D/safe
mkdir -m 700 "$SAFE"
lab_conf "$D/safe.conf" <<EOF2
ext_ip=1.2.3.4
lease_file=$SAFE/igdd.leases
EOF2
starts() { lab_start_igdd "$D/safe.conf" && lab_stop_igdd TERM; }
checks() { "$IGDD" --check -f "$D/safe.conf" >"$D/check.err" 2>&1; }

victim
ln -s "$VICTIM" "$SAFE/igdd.leases"
log_mark
check_not "a symbolic link at the lease file: igdd refuses to start" starts
check "... saying why" test "$(count_log 'lease file refused: .*igdd.leases: a symbolic link')" -ge 1
check "... and the link's target is untouched" victim_intact
check_not "--check refuses it too" checks
check "... saying why" grep -q "lease_file: .*a symbolic link" "$D/check.err"
rm -f "$SAFE/igdd.leases"

lease_line TCP 8020 "$C1" 9020 3600 >"$SAFE/igdd.leases"
chmod 600 "$SAFE/igdd.leases"
ln -s "$VICTIM" "$SAFE/igdd.leases.tmp"
lab_listen c1 tcp 9020 t9020
check "a symbolic link at the temporary name: igdd starts (the start removes that name)" \
	lab_start_igdd "$D/safe.conf"
check "... the link's target is untouched" victim_intact
check "... the lease file is a regular file of mode 0600" \
	test "$(stat -c %F:%a "$SAFE/igdd.leases")" = "regular file:600"
check "... holding the restored mapping" grep -q "^+ TCP 8020 " "$SAFE/igdd.leases"
check "... which carries traffic" reach tcp 8020 t9020
check "... and no temporary is left" test ! -e "$SAFE/igdd.leases.tmp"
lab_stop_igdd TERM

chmod 1777 "$SAFE"
check_not "a world-writable lease directory (sticky, as /tmp) is refused" starts
check "... saying why" test "$(count_log 'writable by its group or others')" -ge 1
check_not "--check refuses it too" checks
check "... saying why" grep -q "lease_file: .*writable by its group or others" "$D/check.err"
chmod 700 "$SAFE"
chmod 622 "$SAFE/igdd.leases"
check_not "a group- and world-writable lease file is refused" starts
check_not "... by --check too" checks
chmod 600 "$SAFE/igdd.leases"
chown nobody "$SAFE/igdd.leases"
check_not "a lease file owned by another user is refused" starts
check "... saying whose it is" test "$(count_log 'owned by uid 65534, not by uid 0')" -ge 1
check_not "... by --check too" checks
chown root "$SAFE/igdd.leases"
ln "$SAFE/igdd.leases" "$D/second-name"
check_not "a lease file with a second hard link is refused" starts
rm -f "$D/second-name"
check "with all of that undone, igdd starts again" starts

# With user=nobody the lease file is nobody's: opened and made only after
# the switch (by root before it, nobody could not rewrite it safely).
chmod 711 "$D"
mkdir -m 700 "$D/nobody"
chown nobody "$D/nobody"
lab_conf "$D/nobody.conf" <<EOF2
ext_ip=1.2.3.4
lease_file=$D/nobody/igdd.leases
user=nobody
EOF2
check "--check: nobody's directory is fine for user=nobody" "$IGDD" --check -f "$D/nobody.conf"
# (its pid file too: nobody writes it once ready and removes it at the end)
check "igdd starts as nobody with a lease file in nobody's directory" \
	lab_start_igdd "$D/nobody.conf" -P "$D/nobody/igdd.pid"
check "... the file it made is nobody's, mode 0600" \
	test "$(stat -c %U:%a "$D/nobody/igdd.leases")" = "nobody:600"
lab_stop_igdd TERM
chown root "$D/nobody"
check_not "--check: root's directory is refused for user=nobody" "$IGDD" --check -f "$D/nobody.conf"
chmod 700 "$D"
lab_finish
