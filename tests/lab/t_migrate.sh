#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_migrate.sh - a switch from miniupnpd keeps the mappings (issue 15,
# "Leases: migrate without losing a mapping"): lease_file pointing at
# miniupnpd's lease file, in both of its forms (PROTO:EPORT:IADDR:IPORT:
# TIMESTAMP:DESC, and with the remote host after EPORT) and with hostile
# lines among them, is read at start: the unexpired mappings upnpc and
# natpmpc had made carry traffic, each bad line is reported as file:line,
# and the file becomes igdd's journal (no FILE.miniupnpd left once it is
# synced) that a restart reads back.
. "$(dirname "$0")/lib.sh"
lab_up
D=$LAB_DIR
LEASES=$D/igdd.leases
now=$(date +%s)
long=$(head -c 3000 /dev/zero | tr '\0' d)
{
	printf 'TCP:8040:%s:9040:%s:libminiupnpc\n' "$C1" $((now + 3600))		# 1 classic
	printf 'UDP:8041::%s:9041:%s:libminiupnpc\n' "$C1" $((now + 3600))		# 2 with (no) remote host
	printf 'TCP:8042:%s:%s:9042:0:libminiupnpc\n' "$OUT" "$C1"			# 3 for one remote host, permanent
	printf 'UDP:8043:%s:8043:%s:NAT-PMP 8043 udp\n' "$C1" $((now + 600))		# 4 natpmpc's
	printf 'TCP:8044:%s:9044:300:seconds left\n' "$C1"				# 5 remaining-time build
	printf 'TCP:8045:%s:9045:%s:expired\n' "$C1" $((now - 10))			# 6 expired: dropped
	printf '\001\002\377 junk:::\n'							# 7 junk
	printf 'TCP:70000:%s:9046:0:port\n' "$C1"					# 8 bad port
	printf 'TCP:8047:%s:9047:0:a\0b\n' "$C1"					# 9 NUL
	printf 'TCP:8048:%s:9048:0:%s\n' "$C1" "$long"				# 10 long description: cut
	printf 'TCP:8049:1.2.3.4:9049:0:not a LAN host\n'				# 11 policy: dropped
	printf 'TCP:8050:%s:9050:0:torn' "$C1"						# 12 torn
} >"$LEASES"
chmod 600 "$LEASES"
lab_conf "$D/igdd.conf" <<CONF
ext_ip=1.2.3.4
CONF
for p in 9040 9042 9044 9048; do lab_listen c1 tcp $p t$p; done
for p in 9041 8043; do lab_listen c1 udp $p u$p; done
check "igdd starts on miniupnpd's lease file" lab_start_igdd "$D/igdd.conf"
check "the classic form carries traffic" reach tcp 8040 t9040
check "the form with the remote host (none) carries traffic" reach udp 8041 u9041
check "a mapping for one remote host carries its traffic" reach tcp 8042 t9042
check "natpmpc's mapping carries traffic" reach udp 8043 u8043
check "a lease in seconds left carries traffic" reach tcp 8044 t9044
check "a long description is cut, the mapping kept" reach tcp 8048 t9048
bad=0
for l in 7 8 9; do grep -q "$LEASES:$l: " "$D/igdd.log" || { bad=$((bad + 1)); echo "    line $l: no warning"; }; done
check "each malformed line is reported as file:line" test $bad = 0
check "the torn last line is ignored with a warning" grep -q "$LEASES:12: torn" "$D/igdd.log"
check "the mapping to a non-LAN host is dropped and logged" grep -q "lease TCP 8049 .*dropped" "$D/igdd.log"
c1 upnpc -l >"$D/upnpc-l" 2>&1
check "upnpc -l lists the migrated mappings" sh -c "grep -q '8040->$C1:9040' '$D/upnpc-l' && grep -q '8041->$C1:9041' '$D/upnpc-l'"
check_not "... not the expired one" grep -q "8045->" "$D/upnpc-l"
check "the file is igdd's journal now" sh -c "head -1 '$LEASES' | grep -q '^# igdd lease journal' && grep -q '^+ TCP 8040 :: $C1 9040 ' '$LEASES'"
check_not "... with no line of miniupnpd's left" grep -q '^[A-Z]*:' "$LEASES"
check "... and the original's copy is gone once it is synced" test ! -e "$LEASES.miniupnpd"
check "the conversion is logged" grep -q "converted from miniupnpd's format, 6 mappings" "$D/igdd.log"
UPNP_BASE=$(lab_upnp_base)
check "daemon, lease file and kernel agree" lab_agree
check "igdd stops" lab_stop_igdd TERM
check "igdd starts again on the converted file" lab_start_igdd "$D/igdd.conf"
check "the mappings are back" reach tcp 8040 t9040
check "... the one for a remote host too" reach tcp 8042 t9042
UPNP_BASE=$(lab_upnp_base)
check "daemon, lease file and kernel agree" lab_agree
check "igdd stops" lab_stop_igdd TERM
lab_finish
