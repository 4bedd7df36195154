#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_ctl_hostile.sh - hostile clients of the control socket (issue 16):
# garbage JSON, a 1 MiB line, a request sent in half and held open, a
# client that never reads its answers, 200 connections at once.  Each gets
# an error or is dropped (ctl_abuse.py checks which), and meanwhile igdd
# keeps answering UPnP and NAT-PMP within a second, measured from a LAN
# client during the abuse.  Afterwards igdd still runs, serves igddctl,
# and has not grown.
. "$(dirname "$0")/lib.sh"
lab_up
PY=${PY:-/usr/bin/python3}
HTTP_PORT=47241
lab_conf "$LAB_DIR/igdd.conf" <<CONF
http_port=$HTTP_PORT
secure_mode=yes
CONF
check "igdd starts" lab_start_igdd "$LAB_DIR/igdd.conf"
check "a manual forward to list" ctl add tcp 8500 "$C1" 9500 "listed"
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$IGDD_PID/status"; }
rss0=$(rss)

# The probe: GetExternalIPAddress over UPnP and a NAT-PMP public address
# request, from c1; both must answer.
cat >"$LAB_DIR/probe.sh" <<PROBE
ip netns exec $NS_C1 "$SOAPC" "http://$GW_LAN:$HTTP_PORT/ctl/IPConn" "$URN_IPC2" GetExternalIPAddress | grep -qx 'HTTP 200' &&
ip netns exec $NS_C1 natpmpc -g $GW_LAN | grep -q 'Public IP address'
PROBE
"$PY" "$(dirname "$0")/ctl_abuse.py" "$LAB_DIR/igdd.sock" "$LAB_TEST" sh "$LAB_DIR/probe.sh" ||
	LAB_FAILED=1

check "igdd still runs" kill -0 "$IGDD_PID"
check "igddctl still works" sh -c "'$IGDDCTL' -s '$LAB_DIR/igdd.sock' list | grep -q listed"
rss1=$(rss)
check "igdd has not grown by more than 8 MiB (RSS $rss0 -> $rss1 kB)" test $((rss1 - rss0)) -lt 8192
check "drops are logged at stop with the count" lab_stop_igdd TERM
check "... (control: N dropped)" grep -q "control: [0-9]* client(s) served, 0 refused, [1-9][0-9]* dropped" "$LAB_DIR/igdd.log"
lab_finish
