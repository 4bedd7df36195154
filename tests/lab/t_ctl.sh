#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_ctl.sh - the control socket and igddctl (issue 16): mappings made by
# upnpc and natpmpc appear in "igddctl list --json" with their source,
# owner and kernel counters that grow with real traffic; "igddctl add"
# makes a permanent forward that carries traffic, that UPnP and NAT-PMP
# clients see and cannot delete (606) or take, that survives kill -9 and a
# restart (the stale socket replaced), and that "igddctl del" removes;
# "igddctl metrics" parses as Prometheus text and its mapping gauge equals
# the list's length; stats, status, flush; a user who is neither root nor
# in control_group cannot use the socket, a member can.
. "$(dirname "$0")/lib.sh"
lab_up
command -v upnpc >/dev/null 2>&1 || { skip "upnpc (miniupnpc) not installed"; exit 0; }
PY=${PY:-/usr/bin/python3}
U_OUT=igddo$LAB_ID			# a user in no group of igdd's
U_IN=igddi$LAB_ID			# a member of control_group
G=igddg$LAB_ID
cleanup() {
	userdel "$U_OUT" 2>/dev/null
	userdel "$U_IN" 2>/dev/null
	groupdel "$G" 2>/dev/null
	lab_down
}
trap cleanup EXIT
groupadd "$G" && useradd -M -N -g nogroup -s /usr/sbin/nologin "$U_OUT" &&
	useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$U_IN" ||
	{ fail "cannot create the test users"; lab_finish; }

lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
secure_mode=no
control_group=$G
allow 1024-65535 $LAB_LAN.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "igdd starts with a control socket" lab_start_igdd "$LAB_DIR/igdd.conf"
check "the socket is a socket, mode 0660, owner root, group $G" sh -c \
	"test -S '$LAB_DIR/igdd.sock' && test \"\$(stat -c '%a %U %G' '$LAB_DIR/igdd.sock')\" = '660 root $G'"
UPNP_BASE=$(lab_upnp_base)
check "the gateway is discovered ($UPNP_BASE)" test -n "$UPNP_BASE"

# mfield PROTO EPORT FIELD: a field of that mapping in "igddctl list --json".
mfield() {
	ctl list --json | "$PY" -c 'import json, sys
p, e, f = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for m in json.load(sys.stdin):
    if m["protocol"] == p and m["external_port"] == e:
        v = m[f]
        print(str(v).lower() if isinstance(v, bool) else v)' "$1" "$2" "$3"
}
nlist() { ctl list --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

# --- mappings of the protocols, with their source, owner and counters ---
lab_listen c2 tcp 9000 tok-up
lab_listen c1 udp 9001 tok-pmp
lab_listen c1 tcp 9002 tok-pmpt
# secure_mode=no: c1 asks for c2, so owner (c1) and internal client (c2) differ
c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -e "for c2" -a "$C2" 9000 8000 TCP >"$LAB_DIR/u1" 2>&1
check "upnpc on c1 maps TCP 8000 to c2:9000" grep -q "is redirected to internal $C2:9000" "$LAB_DIR/u1"
c1 natpmpc -g "$GW_LAN" -a 8001 9001 udp 3600 >"$LAB_DIR/n1" 2>&1
check "natpmpc maps UDP 8001 to c1:9001" grep -q "Mapped public port 8001 protocol UDP" "$LAB_DIR/n1"
c1 natpmpc -g "$GW_LAN" -a 8002 9002 tcp 3600 >"$LAB_DIR/n2" 2>&1
check "natpmpc maps TCP 8002 to c1:9002" grep -q "Mapped public port 8002 protocol TCP" "$LAB_DIR/n2"
check "list --json: TCP 8000 has source upnp" test "$(mfield tcp 8000 source)" = upnp
check "... owner $C1 (the requester), internal client $C2" \
	test "$(mfield tcp 8000 owner) $(mfield tcp 8000 internal_client)" = "$C1 $C2"
check "... description and internal port" \
	test "$(mfield tcp 8000 description) $(mfield tcp 8000 internal_port)" = "for c2 9000"
check "UDP 8001 has source natpmp, owner $C1, a lease under 3600 s" sh -c \
	"test '$(mfield udp 8001 source) $(mfield udp 8001 owner)' = 'natpmp $C1' && \
	 test '$(mfield udp 8001 lease_remaining)' -le 3600 -a '$(mfield udp 8001 lease_remaining)' -gt 3500"
check "TCP 8002 has source natpmp" test "$(mfield tcp 8002 source)" = natpmp
p0=$(mfield tcp 8000 packets); b0=$(mfield tcp 8000 bytes)
u0=$(mfield udp 8001 packets)
check "traffic from outside reaches c2 through TCP 8000" reach tcp 8000 tok-up
check "... again" reach tcp 8000 tok-up
check "traffic from outside reaches c1 through UDP 8001" reach udp 8001 tok-pmp
p1=$(mfield tcp 8000 packets); b1=$(mfield tcp 8000 bytes)
u1=$(mfield udp 8001 packets)
check "TCP 8000's packet counter grew with the traffic ($p0 -> $p1)" test "${p1:-0}" -gt "${p0:-0}"
check "... and its byte counter ($b0 -> $b1)" test "${b1:-0}" -gt "${b0:-0}"
check "UDP 8001's packet counter grew ($u0 -> $u1)" test "${u1:-0}" -gt "${u0:-0}"
check "the plain list is a table with a header and a row per mapping" sh -c \
	"'$IGDDCTL' -s '$LAB_DIR/igdd.sock' list | awk 'NR == 1 && \$1 == \"SOURCE\" { h = 1 } NR > 1 { n++ } END { exit !(h && n == 3) }'"

# --- a manual forward ---
lab_listen c2 tcp 9500 tok-man
check "igddctl add tcp 8500 $C2 9500 'web server'" ctl add tcp 8500 "$C2" 9500 "web server"
check "... listed with source manual, no owner, lease 0 (permanent)" test \
	"$(mfield tcp 8500 source) [$(mfield tcp 8500 owner)] $(mfield tcp 8500 lease_remaining)" = "manual [] 0"
check "... it carries traffic from outside to c2:9500" reach tcp 8500 tok-man
out=$(soap c1 /ctl/IPConn "$URN_IPC2" GetSpecificPortMappingEntry NewRemoteHost= NewExternalPort=8500 NewProtocol=TCP)
check "UPnP clients see it (GetSpecificPortMappingEntry)" sh -c "printf '%s' '$out' | grep -q '<NewInternalClient>$C2<'"
out=$(soap c1 /ctl/IPConn "$URN_IPC2" DeletePortMapping NewRemoteHost= NewExternalPort=8500 NewProtocol=TCP)
check "UPnP DeletePortMapping of it: 606" test "$(upnp_error "$out")" = 606
out=$(soap c2 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8500 NewProtocol=TCP \
	NewInternalPort=9500 NewInternalClient="$C2" NewEnabled=1 NewPortMappingDescription=take NewLeaseDuration=60)
check "UPnP AddPortMapping of it (refresh or take over): 718" test "$(upnp_error "$out")" = 718
c2 natpmpc -g "$GW_LAN" -a 8500 9500 tcp 3600 >"$LAB_DIR/n3" 2>&1
check "NAT-PMP asking for it gets another port" sh -c \
	"grep -q 'Mapped public port' '$LAB_DIR/n3' && ! grep -q 'Mapped public port 8500 ' '$LAB_DIR/n3'"
c2 natpmpc -g "$GW_LAN" -a 8500 9500 tcp 0 >/dev/null 2>&1
check "... nor deletes it (lifetime 0)" test "$(mfield tcp 8500 source)" = manual
check "it still carries traffic" reach tcp 8500 tok-man
ctl add tcp 8000 "$C1" 9600 >/dev/null 2>"$LAB_DIR/conflict"; rc=$?
check "igddctl add on upnp's TCP 8000 fails (status $rc)" test $rc = 1
check "... saying which mapping holds the port" grep -q "TCP 8000 is already mapped (source upnp) to $C2:9000" "$LAB_DIR/conflict"
ctl add tcp 8600 "$GW_LAN" 22 >/dev/null 2>"$LAB_DIR/gwaddr"; rc=$?
check "igddctl add to the gateway's own address is refused ($rc: $(cat "$LAB_DIR/gwaddr"))" test $rc = 1
lab_listen gw tcp 8700 gwsvc
ctl add tcp 8700 "$C2" 9500 >/dev/null 2>"$LAB_DIR/inuse"; rc=$?
check "igddctl add of a port a gateway socket uses is refused ($rc: $(cat "$LAB_DIR/inuse"))" sh -c \
	"test $rc = 1 && grep -q 'in use' '$LAB_DIR/inuse'"
check "igddctl add udp 8501 $C1 9001 --lease 600 (a leased forward)" ctl add udp 8501 "$C1" 9001 --lease 600
l=$(mfield udp 8501 lease_remaining)
check "... its lease is counted down from 600 s ($l)" test "${l:-0}" -le 600 -a "${l:-0}" -gt 590
check "bad arguments: exit status 2" sh -c "'$IGDDCTL' -s '$LAB_DIR/igdd.sock' add tcp 99999 $C1 1 2>/dev/null; test \$? = 2"

# --- metrics, stats, status ---
ctl metrics >"$LAB_DIR/metrics"; rc=$?
check "igddctl metrics succeeds" test $rc = 0
gauge=$("$PY" "$(dirname "$0")/promcheck.py" igdd_mappings <"$LAB_DIR/metrics" 2>"$LAB_DIR/promcheck")
check "its output parses as Prometheus text (strict check and prometheus_client) $(cat "$LAB_DIR/promcheck")" test -n "$gauge"
n=$(nlist)
check "the mapping gauge equals the list's length ($gauge = $n)" test "$gauge" = "$n"
check "metrics has request counters per protocol and result" sh -c \
	"grep -q '^igdd_responses_total{protocol=\"upnp\",result=\"606\"} [1-9]' '$LAB_DIR/metrics' && \
	 grep -q '^igdd_responses_total{protocol=\"natpmp\",result=\"0\"} [1-9]' '$LAB_DIR/metrics'"
ctl stats --json >"$LAB_DIR/stats"
# (c2's NAT-PMP mapping went with its lifetime-0 request)
check "stats: mappings by source (manual 2, natpmp 2, upnp 1)" "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))["mappings"]
sys.exit(not (s["manual"]["tcp"] + s["manual"]["udp"] == 2 and s["natpmp"]["tcp"] + s["natpmp"]["udp"] == 2
              and s["upnp"]["tcp"] == 1 and s["total"] == 5))' "$LAB_DIR/stats"
check "stats: requests per protocol and an uptime" "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(not (s["requests"]["upnp"] > 0 and s["requests"]["natpmp"] >= 4 and s["uptime"] >= 0))' "$LAB_DIR/stats"
ctl status >"$LAB_DIR/status"
check "status: version, external address, interfaces, table" sh -c \
	"grep -q '^version: ' '$LAB_DIR/status' && grep -q '^external.address: 1.2.3.4' '$LAB_DIR/status' && \
	 grep -q '^interfaces\[0\].name: lan0' '$LAB_DIR/status' && grep -q '^firewall.table: inet igdd' '$LAB_DIR/status'"

# --- users: neither root nor in the group / a member ---
chmod 711 "$LAB_DIR"
cp "$IGDDCTL" "$LAB_DIR/igddctl" && chmod 755 "$LAB_DIR/igddctl"
as() { _u=$1; shift; setpriv --reuid="$_u" --regid=nogroup --init-groups "$LAB_DIR/igddctl" -s "$LAB_DIR/igdd.sock" "$@"; }
as "$U_OUT" list >/dev/null 2>"$LAB_DIR/denied"; rc=$?
check "a user in neither root nor $G cannot use the socket (status $rc: $(cat "$LAB_DIR/denied"))" sh -c \
	"test $rc = 4 && grep -q 'permission denied' '$LAB_DIR/denied'"
check "a member of $G can" sh -c "setpriv --reuid=$U_IN --regid=nogroup --init-groups '$LAB_DIR/igddctl' -s '$LAB_DIR/igdd.sock' status >/dev/null"
chmod 666 "$LAB_DIR/igdd.sock"
as "$U_OUT" list >/dev/null 2>"$LAB_DIR/denied2"; rc=$?
check "with the socket opened to all (0666), the peer check still refuses him ($rc: $(cat "$LAB_DIR/denied2"))" sh -c \
	"test $rc = 4 && grep -q 'permission denied' '$LAB_DIR/denied2'"
check "... and the daemon logs the refusal" grep -q "control: refused a client (uid" "$LAB_DIR/igdd.log"
chmod 660 "$LAB_DIR/igdd.sock"

# --- kill -9, restart: the manual forward stays, the stale socket goes ---
pid=$IGDD_PID
lab_stop_igdd KILL
check "kill -9 igdd" sh -c "! kill -0 $pid 2>/dev/null"
check "the socket file is left behind" test -S "$LAB_DIR/igdd.sock"
check "igddctl says igdd is not running (status 3)" sh -c \
	"'$IGDDCTL' -s '$LAB_DIR/igdd.sock' list 2>'$LAB_DIR/down'; test \$? = 3 && grep -q 'not running' '$LAB_DIR/down'"
check "igdd restarts" lab_start_igdd "$LAB_DIR/igdd.conf"
check "... replacing the stale socket" grep -q "replacing a stale socket" "$LAB_DIR/igdd.log"
# (from another network namespace: in the same one, the table's lock
# refuses it first)
check "a second igdd on the same socket refuses to start" sh -c \
	"! ip netns exec $NS_C1 '$IGDD' -d -f '$LAB_DIR/igdd.conf' -P '$LAB_DIR/igdd2.pid' >'$LAB_DIR/second.log' 2>&1"
check "... saying the socket is in use" grep -q "in use by a running igdd" "$LAB_DIR/second.log"
check "the manual forward survived: source manual, permanent" \
	test "$(mfield tcp 8500 source) $(mfield tcp 8500 lease_remaining)" = "manual 0"
check "... and carries traffic" reach tcp 8500 tok-man
check "igddctl del tcp 8500" ctl del tcp 8500
check "(the list shows the other manual forward: the view works)" ctl_has udp 8501
check_not "... it is gone from the list" ctl_has tcp 8500
check_not "... and carries no traffic" reach tcp 8500 tok-man
ctl del tcp 8500 2>"$LAB_DIR/del2"; rc=$?
check "deleting it again: status 1, 'no mapping TCP 8500'" sh -c "test $rc = 1 && grep -q 'no mapping TCP 8500' '$LAB_DIR/del2'"
check "igddctl flush --source natpmp" ctl flush --source natpmp
check "... leaves the upnp and manual ones ($(nlist) left)" test "$(nlist)" = 2
check_not "... UDP 8001 carries no traffic any more" reach udp 8001 tok-pmp
check "... TCP 8000 (upnp) still does" reach tcp 8000 tok-up
check "igddctl flush" ctl flush
check "... leaves nothing" test "$(nlist)" = 0
check "igdd stops with status 0" lab_stop_igdd TERM
check "... and removes its socket" test ! -e "$LAB_DIR/igdd.sock"
lab_finish
