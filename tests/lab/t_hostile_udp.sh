#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_hostile_udp.sh - hostile datagrams on SSDP (1900) and NAT-PMP/PCP
# (5351): each case leaves igdd running, gets the specified error or a
# silent drop that igdd counts (a trace line per drop at -vv, the counters
# at shutdown), and afterwards the daemon, the lease file and the kernel agree
# and nothing is mapped that should not be.  What t_upnp_discovery,
# t_natpmp and t_pcp already check is not repeated here; tests/tools/udpsend
# sends the datagrams (sweeps of every length from one process).
. "$(dirname "$0")/lib.sh"
lab_up
UDPSEND=${UDPSEND:-$LAB_TOP/build/tools/udpsend}
RATE=20		# ssdp_rate_limit: answers per source per second

lab_conf "$LAB_DIR/igdd.conf" <<CONF
min_lifetime=120
max_lifetime=86400
ssdp_rate_limit=$RATE
notify_interval=600
CONF
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf" -vv
LOG=$LAB_DIR/igdd.log
UPNP_BASE=$(lab_upnp_base)
check "the gateway answers a plain M-SEARCH ($UPNP_BASE)" test -n "$UPNP_BASE"

T0=$(date +%s)
alive() { kill -0 "$IGDD_PID"; }
# log_mark and count_log PATTERN (lib.sh): trace lines logged since the mark
u1() { c1 "$UDPSEND" "$@"; }
# answers FILE: the number of answers udpsend reported
answers() { sed -n 's/^sent [0-9]* answers \([0-9]*\).*/\1/p' "$1"; }
msearch() { # msearch FILE ST [HEADER LINES...]: an M-SEARCH datagram
	_f=$1; _st=$2; shift 2
	{ printf 'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nST: %s\r\n' "$_st"
	  for _h in "$@"; do printf '%s\r\n' "$_h"; done; printf '\r\n'; } >"$_f"
}
MAN='MAN: "ssdp:discover"'

# ---------------------------------------------------------------- SSDP
log_mark
{ printf 'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n%s\r\nMX: 1\r\nST: ' "$MAN"
  head -c 1400 /dev/zero | tr '\0' ':'; printf '\r\n\r\n'; } >"$LAB_DIR/colons"
u1 -w 1500 239.255.255.250 1900 "file:$LAB_DIR/colons" >"$LAB_DIR/o" 2>&1
check "multicast ST of 1,400 ':': no answer" test "$(answers "$LAB_DIR/o")" = 0
check "... the drop is counted (ST of 1400 bytes)" wait_for 10 count_log_is 1 'ST of 1400 bytes'

# MX: 0, -1, 99999, garbage, absent; all answered (UDA 1.1 1.3.3: MX is
# clamped to 1..5 s; igdd answers a missing or bad MX as MX 1).
msearch "$LAB_DIR/mx0" upnp:rootdevice "$MAN" "MX: 0"
msearch "$LAB_DIR/mx-1" upnp:rootdevice "$MAN" "MX: -1"
msearch "$LAB_DIR/mx99999" upnp:rootdevice "$MAN" "MX: 99999"
msearch "$LAB_DIR/mxjunk" upnp:rootdevice "$MAN" "MX: 1; DROP TABLE"
msearch "$LAB_DIR/mxnone" upnp:rootdevice "$MAN"
msearch "$LAB_DIR/noman" upnp:rootdevice "MX: 1"
msearch "$LAB_DIR/badman" upnp:rootdevice 'MAN: "ssdp:update"' "MX: 1"
log_mark
PIDS=
for m in mx0 mx-1 mxjunk mxnone noman badman; do
	u1 -w 1600 239.255.255.250 1900 "file:$LAB_DIR/$m" >"$LAB_DIR/$m.out" 2>&1 &
	PIDS="$PIDS $!"
done
u1 -w 5600 239.255.255.250 1900 "file:$LAB_DIR/mx99999" >"$LAB_DIR/mx99999.out" 2>&1 &
PIDS="$PIDS $!"
wait $PIDS
for m in mx0 mx-1 mxjunk mxnone; do
	check "MX ${m#mx}: exactly one answer within 1.6 s (MX taken as 1)" \
		test "$(answers "$LAB_DIR/$m.out")" = 1
done
check "MX 99999: exactly one answer within 5.6 s (clamped to 5)" \
	test "$(answers "$LAB_DIR/mx99999.out")" = 1
check "MAN absent: answered (lenient, as upnpc-era clients omit it)" \
	test "$(answers "$LAB_DIR/noman.out")" = 1
check "MAN \"ssdp:update\": no answer" test "$(answers "$LAB_DIR/badman.out")" = 0
check "... the drop is counted (malformed)" wait_for 10 count_log_is 1 'ssdp: dropped a malformed datagram'

# 64 KiB: a valid ssdp:all M-SEARCH padded to 65,507 bytes, so the daemon
# must drop it as oversized rather than answer its first 2 KiB.
msearch "$LAB_DIR/big" ssdp:all "$MAN" "MX: 1"
{ cat "$LAB_DIR/big"; head -c $((65507 - $(wc -c <"$LAB_DIR/big"))) /dev/zero | tr '\0' x; } >"$LAB_DIR/big64k"
check "the padded M-SEARCH is 65,507 bytes" test "$(wc -c <"$LAB_DIR/big64k")" = 65507
log_mark
u1 -w 1500 239.255.255.250 1900 "file:$LAB_DIR/big64k" >"$LAB_DIR/o1" 2>&1
u1 -w 500 "$GW_LAN" 1900 "file:$LAB_DIR/big64k" >"$LAB_DIR/o2" 2>&1
u1 -w 500 "$GW_LAN" 1900 rand:65507:7 >"$LAB_DIR/o3" 2>&1
check "65,507-byte M-SEARCH to 239.255.255.250: no answer" test "$(answers "$LAB_DIR/o1")" = 0
check "65,507-byte M-SEARCH unicast to $GW_LAN: no answer" test "$(answers "$LAB_DIR/o2")" = 0
check "65,507 random bytes unicast: no answer" test "$(answers "$LAB_DIR/o3")" = 0
check "... the three drops are counted (65507 bytes)" wait_for 10 count_log_is 3 'dropped a datagram of 65507 bytes'
check "igdd is alive after the SSDP datagrams" alive

# The WAN side: a real M-SEARCH from out to the WAN address and to the
# group through wan0 (out has no route: -i eth0), and the same from a
# spoofed LAN source (192.168.77.10 on out's eth0; rp_filter off in the
# gateway so the datagram reaches igdd and igdd's own check is tested).
# An answer to the spoofed source would go to c1: c1 listens on that port.
msearch "$LAB_DIR/all" ssdp:all "$MAN" "MX: 1"
gw sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.wan0.rp_filter=0
out ip addr add "$C1/32" dev eth0
c1 "$UDPSEND" listen 41900 4000 >"$LAB_DIR/c1catch" 2>&1 &
CATCH=$!
c1 "$UDPSEND" listen 41901 4000 >"$LAB_DIR/c1catch2" 2>&1 &
CATCH2=$!
wait_bound c1 udp 41900
wait_bound c1 udp 41901
log_mark
out ip route add "$LAB_LAN.0/24" via "$GW_WAN"
W=
wan_send() { _o=$1; shift; out "$UDPSEND" "$@" >"$LAB_DIR/$_o" 2>&1 & W="$W $!"; }
wan_send w1 -w 1200 "$GW_WAN" 1900 "file:$LAB_DIR/all"
wan_send w2 -i eth0 -w 1200 239.255.255.250 1900 "file:$LAB_DIR/all"
wan_send w3 -s "$C1" -p 41900 -w 1200 "$GW_WAN" 1900 "file:$LAB_DIR/all"
wan_send w4 -s "$C1" -p 41900 -i eth0 -w 1200 239.255.255.250 1900 "file:$LAB_DIR/all"
wan_send w5 -s "$C1" -p 41901 -w 1200 "$GW_LAN" 5351 hex:0000
wan_send w6 -s "$C1" -p 41901 -w 1200 "$GW_LAN" 5351 hex:02000000000000000000000000000000000000000000ffffc0a84d0a
wan_send w7 -s "$C1" -p 41901 -w 1200 "$GW_WAN" 5351 hex:0000
wait $W
out ip route del "$LAB_LAN.0/24" via "$GW_WAN"
wait $CATCH $CATCH2
check "M-SEARCH from out to $GW_WAN:1900: no answer" test "$(answers "$LAB_DIR/w1")" = 0
check "M-SEARCH from out to 239.255.255.250 via wan: no answer" test "$(answers "$LAB_DIR/w2")" = 0
check "spoofed-LAN-source M-SEARCH on wan to $GW_WAN:1900: no answer" test "$(answers "$LAB_DIR/w3")" = 0
check "spoofed-LAN-source M-SEARCH on wan to the group: no answer" test "$(answers "$LAB_DIR/w4")" = 0
check "spoofed NAT-PMP/PCP on wan to $GW_LAN:5351 and $GW_WAN:5351: no answer" \
	test "$(answers "$LAB_DIR/w5")$(answers "$LAB_DIR/w6")$(answers "$LAB_DIR/w7")" = 000
check "... and no answer reached the real $C1 either" \
	test ! -s "$LAB_DIR/c1catch" -a ! -s "$LAB_DIR/c1catch2"
check "... SSDP counted both unicast WAN M-SEARCHes (the group is not joined on wan0)" \
	wait_for 10 count_log_is 2 'ssdp: dropped a datagram from .*not from a LAN'
check "... NAT-PMP/PCP counted both spoofed datagrams on lan0's socket" \
	wait_for 10 count_log_is 2 "NAT-PMP/PCP: dropped a datagram from $C1:41901 on lan0: not from this LAN"
out ip addr del "$C1/32" dev eth0

# ------------------------------------------------- SSDP amplification
# c1's bucket: RATE answers, RATE more per second; ssdp:all = 10 answers.
sleep 1.1
log_mark
u1 -q -n 200 -w 1000 "$GW_LAN" 1900 "file:$LAB_DIR/all" >"$LAB_DIR/f1" 2>&1
n=$(answers "$LAB_DIR/f1"); ms=$(sed -n 's/.*send_ms \([0-9]*\)/\1/p' "$LAB_DIR/f1")
max=$((RATE + (RATE * ms + 999) / 1000 + 2))
check "200 unicast ssdp:all at once ($ms ms): $n answers, at least 10 and at most $max" \
	test "$n" -ge 10 -a "$n" -le "$max"
# (the kernel may drop some of a burst of 200 before igdd reads them)
wait_for 10 count_log_ge 100 'over ssdp_rate_limit'
check "... the refused M-SEARCHes are counted (over ssdp_rate_limit: $(count_log 'over ssdp_rate_limit'))" \
	test "$(count_log 'over ssdp_rate_limit')" -ge 100
sleep 1.1
# Spread over one second, while c2 asks too.
u1 -q -n 200 -g 5000 -w 1200 239.255.255.250 1900 "file:$LAB_DIR/all" >"$LAB_DIR/f2" 2>&1 &
FLOOD=$!
sleep 0.5
c2 "$UDPSEND" -q -w 1200 "$GW_LAN" 1900 "file:$LAB_DIR/all" >"$LAB_DIR/f3" 2>&1
wait $FLOOD
n=$(answers "$LAB_DIR/f2"); ms=$(sed -n 's/.*send_ms \([0-9]*\)/\1/p' "$LAB_DIR/f2")
max=$((RATE + (RATE * ms + 999) / 1000 + 2))
check "200 multicast ssdp:all over $ms ms: $n answers, at most $max" test "$n" -le "$max" -a "$n" -ge 10
check "c2, asking during c1's flood, gets all 10 answers" test "$(answers "$LAB_DIR/f3")" = 10
check "igdd is alive after the floods" alive
check "daemon, lease file and kernel agree after the SSDP cases" lab_agree
check "... and hold no mapping" test ! -s "$LAB_DIR/view.store"

# ------------------------------------------------------ NAT-PMP / PCP
# Every length 0..1100 (and 1101..1104) for version bytes 0, 2, 1, 3 and
# 255, zero and random contents.  Lines: "LEN VER OP RLEN KEY" (VER, OP
# of the request in decimal; KEY: the answer's first 4 bytes, "- -" = none).
# A PCP MAP (for the sweeps, a delete with lifetime 0) from c1 keeps
# existing mappings safe: random nonces must not delete them.
N1=0102030405060708090a0b0c
N2=ffeeddccbbaa998877665544
pcp() { _o=$1; shift; c1 "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
pcp2() { _o=$1; shift; c2 "$PCPC" "$@" >"$LAB_DIR/$_o" 2>&1; }
is() { [ "$(pcp_field "$LAB_DIR/$1" "$2")" = "$3" ]; }
pcp keep -n $N1 "$GW_LAN" map tcp 9100 8100 3600
check "a PCP mapping to protect: SUCCESS" is keep result 0
c1 natpmpc -g "$GW_LAN" -a 8101 9101 udp 3600 >"$LAB_DIR/keep2" 2>&1
check "a NAT-PMP mapping to protect" grep -q "Mapped public port 8101 protocol UDP" "$LAB_DIR/keep2"

log_mark
SW0=$(date +%s)
# Each sweep uses its own source ports (PORT + i), so a late answer can
# never be taken for another length's.
SPORT=20000
sweep() { # sweep NAME PREFIX zero|rand:SEED [MIN MAX]
	u1 sweep -p $SPORT -w 300 "$GW_LAN" 5351 "${4:-0}" "${5:-1100}" "$2" "$3" >"$LAB_DIR/sw.$1" 2>&1
	SPORT=$((SPORT + 1110))
}
for v in 00 02 01 03 ff; do
	sweep "$v.zero" "$v" zero
	sweep "$v.rand" "$v" "rand:$((0x$v + 11))"
	sweep "$v.big" "$v" zero 1101 1104
done
SW1=$(date +%s)
cat "$LAB_DIR"/sw.* | grep -v '^sent' >"$LAB_DIR/sweeps"
check "sweeps: $(grep -c . "$LAB_DIR/sweeps") datagrams in $((SW1 - SW0)) s" \
	test "$(grep -c . "$LAB_DIR/sweeps")" = $((5 * (1101 * 2 + 4)))
check "igdd is alive after the sweeps" alive

# expect NAME AWK-PROGRAM: every line of that sweep satisfies the rules
# (the program prints the lines that break them).
expect() {
	awk "$2" "$LAB_DIR/sw.$1" | grep -v '^sent' >"$LAB_DIR/bad.$1"
	check "sweep $1: every length answered as specified$(head -3 "$LAB_DIR/bad.$1" | tr '\n' ';')" \
		test ! -s "$LAB_DIR/bad.$1"
}
# RFC 6886 §3.2: version 0 op 0 is the external address (12 bytes) whatever
# follows; shorter than 2 bytes is dropped.
expect 00.zero '$1 < 2 && $4 != "-" { print } $1 >= 2 && !($4 == 12 && $5 == "00800000") { print }'
# Random version-0 bytes: a response opcode (>= 128) is ignored; op 0 the
# address; op 1/2 need 12 bytes (§3.3) then get a 16-byte answer; other
# opcodes come back with result 5 (§3.5), the request echoed (at least 8).
expect 00.rand '
	$1 < 2 { if ($4 != "-") print; next }
	{ o = $3 }
	o >= 128 { if ($4 != "-") print; next }
	o == 0 { if (!($4 == 12 && $5 == "00800000")) print; next }
	o <= 2 { if ($1 < 12) { if ($4 != "-") print } else if ($4 != 16 || substr($5, 1, 4) != sprintf("00%02x", o + 128)) print; next }
	{ l = $1 < 8 ? 8 : ($1 > 1100 ? 1100 : $1); if (!($4 == l && $5 == sprintf("00%02x0005", o + 128))) print }'
# PCP (version 2): 2..23 bytes or not a multiple of 4 is MALFORMED_REQUEST
# (§8.3: header and the request body copied, a multiple of 4); zero
# client address != the source: ADDRESS_MISMATCH.
PCPRULES='
	$1 < 2 { if ($4 != "-") print; next }
	{ o = $3 }
	o >= 128 { if ($4 != "-") print; next }
	{ b = $1 > 1100 ? 1100 : $1; body = b > 24 ? b - 24 - (b - 24) % 4 : 0
	  r = ($1 < 24 || $1 % 4 || $1 > 1100) ? "03" : "0c"
	  if (!($4 == 24 + body && $5 == sprintf("02%02x00%s", o + 128, r))) print }'
expect 02.zero "$PCPRULES"
expect 02.rand "$PCPRULES"
expect 02.big "$PCPRULES"
expect 00.big '!($4 == 12 && $5 == "00800000") { print }'
# Versions 1, 3, 255 (RFC 6887 §9): UNSUPP_VERSION in version 2, the
# 24-byte header; responses (R bit) are ignored.
UNSUPP='
	$1 < 2 { if ($4 != "-") print; next }
	{ o = $3 }
	o >= 128 { if ($4 != "-") print; next }
	!($4 == 24 && $5 == sprintf("02%02x0001", o + 128)) { print }'
for v in 01 03 ff; do
	for k in zero rand big; do expect "$v.$k" "$UNSUPP"; done
done
silent=$(cat "$LAB_DIR"/sw.* | grep -c ' - -$')
sweep_logged() { echo $(($(count_log 'NAT-PMP/PCP: dropped a malformed') + $(count_log 'NAT-PMP/PCP: ignored a response'))); }
sweep_done() { [ "$(sweep_logged)" = "$silent" ]; }
wait_for 10 sweep_done	# the daemon logs as it reads: let it catch up
logged=$(sweep_logged)
check "every unanswered sweep datagram was counted ($silent silent, $logged logged)" \
	test "$silent" = "$logged"

# Unknown opcodes, each alone: PCP 3..127 -> UNSUPP_OPCODE (§7.4) with a
# full header from c1; NAT-PMP 3..127 -> result 5.
HDR=0000000000000000000000000000ffffc0a84d0a	# lifetime 0, client ::ffff:192.168.77.10
badop=
for o in $(seq 3 127); do
	h=$(printf '%02x' "$o")
	r=$(u1 -a 1 -w 1000 "$GW_LAN" 5351 "hex:02${h}0000$HDR" | sed -n 's/^answer from [^ ]* 24 \(........\).*/\1/p')
	[ "$r" = "02$(printf '%02x' $((o + 128)))0004" ] || badop="$badop pcp:$o=$r"
	r=$(u1 -a 1 -w 1000 "$GW_LAN" 5351 "hex:00${h}00000000000000000000" | sed -n 's/^answer from [^ ]* 12 \(........\).*/\1/p')
	[ "$r" = "00$(printf '%02x' $((o + 128)))0005" ] || badop="$badop pmp:$o=$r"
done
check "opcodes 3..127: PCP UNSUPP_OPCODE and NAT-PMP result 5 for each${badop}" test -z "$badop"

# PCP option lengths that overrun the packet: MALFORMED_OPTION (§7.3),
# and the MAP they ride on is not made.
map_hex() { # map_hex LIFETIME NONCE PROTO IPORT EPORT: a MAP request from c1
	printf '0201%s%08x%s%s%s%02x000000%04x%04x%032x' 0000 "$1" \
		00000000000000000000ffff c0a84d0a "$2" "$3" "$4" "$5" 0
}
bad_opt=
for opt in 8000006461626364 \
	   01000010c0a84d0b \
	   8000ffff \
	   80000001 \
	   800000046162636480000009 \
	   0300001400000000 \
	   0200000002000000; do
	r=$(u1 -a 1 -w 1000 "$GW_LAN" 5351 "hex:$(map_hex 3600 $N2 6 9200 8200)$opt" |
		sed -n 's/^answer from [^ ]* [0-9]* \(........\).*/\1/p')
	# overruns and a repeated PREFER_FAILURE: MALFORMED_OPTION (6)
	[ "$r" = 02810006 ] || bad_opt="$bad_opt $opt=$r"
done
check "PCP options overrunning the packet (and a repeated PREFER_FAILURE): MALFORMED_OPTION${bad_opt}" test -z "$bad_opt"
check_not "... and none of those MAPs was made (TCP 8200 in the ruleset)" \
	sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8200"

# THIRD_PARTY naming another host, for a delete of that host's mapping:
# refused without pcp_allow_thirdparty, even with the right nonce.
pcp2 tp0 -n $N2 "$GW_LAN" map tcp 9300 8300 3600
check "c2 maps TCP 8300 with its nonce" is tp0 result 0
pcp tp1 -n $N2 "$GW_LAN" map tcp 9300 8300 0 --third-party "$C2"
check "c1 deleting c2's mapping via THIRD_PARTY: NOT_AUTHORIZED" is tp1 result 2
pcp tp2 -n $N2 "$GW_LAN" map tcp 9301 8301 4294967295 --third-party "$C2"
check "c1 mapping for c2 via THIRD_PARTY, lifetime 2^32-1: NOT_AUTHORIZED" is tp2 result 2
# Wrong nonces: another host with c1's nonce; c1 deleting all with another nonce.
pcp2 wn1 -n $N1 "$GW_LAN" map tcp 9100 8100 0
check "c2 deleting 'TCP 9100' with c1's nonce: SUCCESS for c2's own (none)" is wn1 result 0
pcp wn2 -n $N2 "$GW_LAN" map 0 0 0 0
check "c1 delete-all (protocol 0) with a wrong nonce: SUCCESS" is wn2 result 0
pcp wn3 -n $N2 "$GW_LAN" map tcp 9100 8100 4294967295
check "refresh with a wrong nonce, lifetime 2^32-1: NOT_AUTHORIZED" is wn3 result 2
lab_listen c1 tcp 9100 TOKKEEP
check "c1's PCP mapping survived all of that (traffic through 8100)" reach tcp 8100 TOKKEEP
check "c2's PCP mapping survived too (kernel holds 8300)" \
	sh -c "ip netns exec $NS_GW nft list ruleset | grep -qw 8300"

# Lifetimes: 2^32-1 is clamped to max_lifetime, 1 to min_lifetime, 0 on
# nothing is SUCCESS with nothing made.
pcp lt1 -n $N1 "$GW_LAN" map udp 9400 8400 4294967295
check "PCP lifetime 2^32-1: SUCCESS, lifetime 86400 (max_lifetime)" \
	sh -c "[ \"$(pcp_field "$LAB_DIR/lt1" result)/$(pcp_field "$LAB_DIR/lt1" lifetime)\" = 0/86400 ]"
pcp lt2 -n $N1 "$GW_LAN" map udp 9401 8401 1
check "PCP lifetime 1: SUCCESS, lifetime 120 (min_lifetime)" \
	sh -c "[ \"$(pcp_field "$LAB_DIR/lt2" result)/$(pcp_field "$LAB_DIR/lt2" lifetime)\" = 0/120 ]"
pcp lt3 -n $N1 "$GW_LAN" map udp 9402 8402 0
check "PCP lifetime 0 on no mapping: SUCCESS, lifetime 0" \
	sh -c "[ \"$(pcp_field "$LAB_DIR/lt3" result)/$(pcp_field "$LAB_DIR/lt3" lifetime)\" = 0/0 ]"
r=$(u1 -a 1 -w 1000 "$GW_LAN" 5351 hex:00010000251c251cffffffff | sed -n 's/^answer from [^ ]* 16 //p')
check "NAT-PMP lifetime 2^32-1: SUCCESS, lifetime 86400 ($r)" \
	sh -c "echo '$r' | grep -Eq '^00810000.{8}251c251c00015180$'"
r=$(u1 -a 1 -w 1000 "$GW_LAN" 5351 hex:00010000251d251d00000000 | sed -n 's/^answer from [^ ]* 16 //p')
check "NAT-PMP lifetime 0 on no mapping: SUCCESS, port 0, lifetime 0 ($r)" \
	sh -c "echo '$r' | grep -Eq '^00810000.{8}251d000000000000$'"

# Whatever the random version-0 sweep mapped for c1 (random NAT-PMP map
# requests are legitimate requests from c1 for c1) goes: delete-all.
u1 -a 1 -w 1000 "$GW_LAN" 5351 hex:000100000000000000000000 >/dev/null
u1 -a 1 -w 1000 "$GW_LAN" 5351 hex:000200000000000000000000 >/dev/null
check "igdd is alive after the NAT-PMP/PCP cases" alive
check "daemon, lease file and kernel agree after the NAT-PMP/PCP cases" lab_agree
# Exactly what the valid requests made: c1's PCP TCP 8100 and UDP 8400/8401
# and c2's TCP 8300 (c1's NAT-PMP UDP 8101 and 9500 went with delete-all).
printf '%s\n' "TCP 8100 - $C1 9100" "TCP 8300 - $C2 9300" "UDP 8400 - $C1 9400" \
	"UDP 8401 - $C1 9401" | sort >"$LAB_DIR/want"
check "nothing is mapped that should not be ($(tr '\n' ';' <"$LAB_DIR/view.store"))" \
	cmp -s "$LAB_DIR/want" "$LAB_DIR/view.store"

check "igdd stops with status 0" lab_stop_igdd TERM
check "shutdown counters: SSDP drops counted" \
	grep -Eq "counters: SSDP: [1-9][0-9]* request.*drops: [1-9][0-9]* not from a LAN, [1-9][0-9]* malformed, [1-9][0-9]* over a rate limit" "$LOG"
# drops_5351 CAUSE: the drops of NAT-PMP and PCP together, from the counters
drops_5351() {
	grep -E "counters: (NAT-PMP|PCP): " "$LOG" | grep -oE "[0-9]+ $1" | awk '{ n += $1 } END { print n + 0 }'
}
check "shutdown counters: NAT-PMP/PCP drops counted ($(drops_5351 'not from a LAN') not from a LAN, $(drops_5351 malformed) malformed, $(drops_5351 ignored) responses ignored)" \
	test "$(drops_5351 'not from a LAN')" -ge 1 -a "$(drops_5351 malformed)" -ge 1 -a "$(drops_5351 ignored)" -ge 1
echo "    (t_hostile_udp ran the hostile cases in $(($(date +%s) - T0)) s)"
lab_finish
