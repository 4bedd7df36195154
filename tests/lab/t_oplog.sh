#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_oplog.sh - a log an operator can use: at the default verbosity one line
# per mapping created, changed, deleted, expired or refused (UPnP, NAT-PMP
# and PCP alike) with the protocol, the external and internal endpoints,
# the lease, the requester and the description (escaped); a renewal that
# changes nothing only at -v; a flood of refusals from one client rate-
# limited (what is left out is counted and said); the counters per
# protocol at shutdown.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
min_lifetime=2
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "igdd starts at the default verbosity" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
LOG=$LAB_DIR/igdd.log
# line PATTERN: exactly one line of the log matches PATTERN (grep -E)
line() { test "$(grep -Ec -- "$1" "$LOG")" = 1; }

lab_listen c1 tcp 9000 tok-9000
c1 upnpc -e "web server" -a "$C1" 9000 8000 TCP 600 >/dev/null 2>&1
check "UPnP add: 'mapping created' with protocol, endpoints, lease, requester, description" \
	line "info: mapping created: UPnP TCP 1\.2\.3\.4:8000 -> $C1:9000, 600 s, by $C1, \"web server\"\$"
check "... and the mapping carries traffic" reach tcp 8000 tok-9000
c1 upnpc -e "web server" -a "$C1" 9000 8000 TCP 600 >/dev/null 2>&1
check_not "an identical refresh is no line at the default verbosity" \
	grep -q "mapping renewed\|mapping changed: UPnP TCP 1.2.3.4:8000" "$LOG"
c1 upnpc -e 'say "hi" \ bye' -a "$C1" 9000 8000 TCP 900 >/dev/null 2>&1
check "a refresh with a new description: 'mapping changed', the description escaped" \
	line "mapping changed: UPnP TCP 1\.2\.3\.4:8000 -> $C1:9000, 900 s, by $C1, \"say \\\\\"hi\\\\\" \\\\\\\\ bye\"\$"
c1 upnpc -e web -a "$C1" 9000 80 TCP 600 >/dev/null 2>&1
check "a port the rules deny: 'mapping refused' with the store's reason" \
	line "mapping refused: UPnP TCP 1\.2\.3\.4:80 -> $C1:9000, 600 s, by $C1, \"web\": denied by permission rules\$"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8001 NewProtocol=TCP \
	NewInternalPort=0 NewInternalClient="$C1" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=60)
check "an argument UPnP refuses (internal port 0): 'mapping refused' with the UPnP error" \
	line "mapping refused: UPnP TCP 1\.2\.3\.4:8001 -> $C1:0, 60 s, by $C1, \"x\": AddPortMapping: UPnP error 732"
c1 upnpc -d 8000 TCP >/dev/null 2>&1
check "UPnP delete: 'mapping deleted' by the requester" \
	line "mapping deleted: UPnP TCP 1\.2\.3\.4:8000 -> $C1:9000, by $C1, \"say"

c1 natpmpc -g "$GW_LAN" -a 8100 9100 udp 2 >/dev/null 2>&1
check "NAT-PMP add: 'mapping created'" \
	line "mapping created: NAT-PMP UDP 1\.2\.3\.4:8100 -> $C1:9100, 2 s, by $C1, \"NAT-PMP 9100 udp\"\$"
check "... and 'mapping expired' when its lease ends" \
	wait_for 5 line "mapping expired: NAT-PMP UDP 1\.2\.3\.4:8100 -> $C1:9100, \"NAT-PMP 9100 udp\"\$"
c1 "$PCPC" "$GW_LAN" map tcp 9200 8200 600 --desc "pcp game" >"$LAB_DIR/pcp.out" 2>&1
check "PCP add: 'mapping created'" \
	line "mapping created: PCP TCP 1\.2\.3\.4:8200 -> $C1:9200, 600 s, by $C1, \"pcp game\"\$"
c1 "$PCPC" "$GW_LAN" map 47 9300 8300 600 >/dev/null 2>&1
check "PCP refused before the store (protocol 47): 'mapping refused' with the reason" \
	line "mapping refused: PCP \? 1\.2\.3\.4:8300 -> $C1:9300, 600 s, by $C1: protocol not supported"

# A flood of refusals from one client: at most MAPLOG_BURST (20) lines at
# once, the rest counted; the next line after a pause says what was left out.
log_mark
i=0
while [ $i -lt 100 ]; do
	c2 "$PMPQ" send "$GW_LAN" 00020000005000500000003c 300 >/dev/null 2>&1
	i=$((i + 1))
done
n=$(count_log "mapping refused: NAT-PMP TCP 1.2.3.4:80 -> $C2:80")
check "100 refusals from c2 in a burst: at most 20 + 2 lines ($n)" test "$n" -ge 10 -a "$n" -le 22
sleep 2
c2 "$PMPQ" send "$GW_LAN" 00020000005000500000003c 300 >/dev/null 2>&1
check "the next line says how many were left out" \
	wait_for 10 grep -Eq "mapping log: [0-9]+ line\(s\) about $C2 left out" "$LOG"
check "c1 was not silenced by c2's flood" sh -c \
	"ip netns exec $NS_C1 upnpc -e after -a $C1 9000 8400 TCP 600 >/dev/null 2>&1; grep -q 'mapping created: UPnP TCP 1.2.3.4:8400' '$LOG'"
check_not "no debug line at the default verbosity" grep -q "debug:" "$LOG"

check "igdd stops" lab_stop_igdd TERM
check "the counters at shutdown: NAT-PMP answers by result (101+ x 2 refused)" \
	grep -Eq "counters: NAT-PMP: [0-9]+ request\(s\); answers: [0-9]+ x 0, 1[0-9][0-9] x 2; drops: none" "$LOG"
check "... UPnP answers by code (success and 606 from the rules)" \
	grep -Eq "counters: UPnP: [0-9]+ request\(s\); answers: [0-9]+ x 0, 1 x 606, 1 x 732" "$LOG"

# -v: a renewal is a debug line.
log_mark
check "igdd starts with -v" lab_start_igdd "$LAB_DIR/igdd.conf" -v
c1 upnpc -e after -a "$C1" 9000 8400 TCP 600 >/dev/null 2>&1
check "-v: an identical refresh is a 'mapping renewed' debug line" \
	test "$(count_log "debug: mapping renewed: UPnP TCP 1.2.3.4:8400")" = 1
check "igdd stops" lab_stop_igdd TERM
lab_finish
