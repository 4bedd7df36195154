#!/bin/sh
# t_cgn_unreachable.sh - no upstream gateway answers, and STUN (a real
# server, Debian's coturn, that the CGN reaches from a private address)
# sees a private address above: igdd says plainly that mappings cannot be
# reached from outside (log, igddctl status, UPnP ConnectionStatus and 501,
# NAT-PMP result 3, at once) instead of answering success.  When the CGN's
# PCP server comes, mappings are relayed and work.  The STUN server is
# given by name (looked up by the resolver's child process, under the
# system call filter).  igddctl stats counts the relay and STUN; reload
# runs STUN again for a new ext_stun_interval and keeps upstream_server,
# which needs a restart.
. "$(dirname "$0")/lib_cgn.sh"
cgn_up || { fail "the four-namespace lab comes up"; lab_finish; }
# The STUN server sits where the CGN's own outside address is private.
STUN_PRIV=10.99.0.2
CGN_PRIV=10.99.0.1
out ip addr add "$STUN_PRIV/24" dev eth0
cgn ip addr add "$CGN_PRIV/24" dev wan0
stun_server "$STUN_PRIV"
cpe_hosts "$STUN_PRIV stun.lab.test"

cpe_conf "$LAB_DIR/igdd.conf" pcp <<EOF
ext_perform_stun=allow-filtered
ext_stun_host=stun.lab.test
ext_stun_interval=0
EOF
: >>"$LAB_DIR/igdd.log"
log_mark
check "the CPE starts (upstream_protocol=pcp, nothing answers at the CGN yet; STUN on)" \
	lab_start_igdd "$LAB_DIR/igdd.conf" -v
check "STUN, its server named stun.lab.test, sees the private $CGN_PRIV above" \
	cpe_log_wait 10 "STUN: external address $CGN_PRIV (server $STUN_PRIV)"
lab_listen c1 tcp 9000 TOKTCP
c1 natpmpc -g "$GW_LAN" -a 8000 9000 tcp 3600 >"$LAB_DIR/n1.out" 2>&1
check "a NAT-PMP request that no upstream answers fails" \
	sh -c "! grep -q 'Mapped public port' '$LAB_DIR/n1.out'"
check "the log says plainly that mappings cannot be reached from outside" \
	cpe_log_wait 10 "mappings cannot be reached from outside"
check "igddctl status says so, with the upstream's state and what STUN saw" \
	eval 'status_is external.reachable false && status_is upstream.state "not answering" &&
		status_is stun.external_address $CGN_PRIV && status_is stun.server $STUN_PRIV &&
		status_is stun.learnt_from XOR-MAPPED-ADDRESS'
_t0=$(ms_now)
c1 natpmpc -g "$GW_LAN" -a 8001 9000 tcp 3600 >"$LAB_DIR/n2.out" 2>&1
_ms=$(( $(ms_now) - _t0 ))
check "NAT-PMP answers network failure (result 3) at once (${_ms} ms)" \
	sh -c "! grep -q 'Mapped public port' '$LAB_DIR/n2.out' && grep -qi 'network failure\|returned -53\|NETWORKFAILURE' '$LAB_DIR/n2.out' && test $_ms -lt 2000"
UPNP_BASE=$(lab_upnp_base)
_r=$(soap c1 /ctl/IPConn "$URN_IPC2" GetStatusInfo)
check "UPnP GetStatusInfo says Disconnected" \
	sh -c "printf '%s' '$_r' | grep -q '<NewConnectionStatus>Disconnected<'"
_r=$(soap c1 /ctl/IPConn "$URN_IPC2" AddPortMapping NewRemoteHost= NewExternalPort=8002 \
	NewProtocol=TCP NewInternalPort=9000 NewInternalClient="$C1" NewEnabled=1 \
	NewPortMappingDescription=x NewLeaseDuration=0)
check "UPnP AddPortMapping is refused (501)" test "$(upnp_error "$_r")" = 501

# The CGN's PCP server comes: the upstream answers, mappings are relayed.
log_mark
check "the CGN starts igdd as its PCP server" cgn_start_igdd </dev/null
check "the CPE hears it: mappings can be reached again" \
	cpe_log_wait 15 "mappings can be reached from outside"
c1 natpmpc -g "$GW_LAN" -a 8003 9000 tcp 3600 >"$LAB_DIR/n3.out" 2>&1
P=$(natpmpc_port "$LAB_DIR/n3.out" TCP)
check "a NAT-PMP mapping is made through the CGN ($CGN_OUT:${P:-none}) and carries traffic" \
	reach_cgn tcp "${P:-0}" TOKTCP
_r=$(soap c1 /ctl/IPConn "$URN_IPC2" GetStatusInfo)
check "UPnP GetStatusInfo says Connected" \
	sh -c "printf '%s' '$_r' | grep -q '<NewConnectionStatus>Connected<'"
check "igddctl status: reachable, the upstream answers, the address is its $CGN_OUT" \
	eval 'status_is external.reachable true && status_is upstream.state answering &&
		status_is external.address $CGN_OUT && status_is upstream.server $CGN_IN'
ctl stats >"$LAB_DIR/stats.out" 2>&1
check "igddctl stats counts the relay (made, timed out) and STUN's run" \
	sh -c "grep -qx 'upstream.made: [1-9][0-9]*' '$LAB_DIR/stats.out' && grep -qx 'upstream.timed_out: [1-9][0-9]*' '$LAB_DIR/stats.out' && grep -qx 'stun.runs: 1' '$LAB_DIR/stats.out'"
ctl metrics >"$LAB_DIR/metrics.out" 2>&1
check "... and igddctl metrics" \
	grep -Eq '^igdd_upstream_total\{event="made"\} [1-9]' "$LAB_DIR/metrics.out"

# Reload: a new STUN interval applies at once (a run); the upstream's
# server needs a restart and is reported so.
sed -i "s/^ext_stun_interval=0/ext_stun_interval=3600/" "$LAB_DIR/igdd.conf"
echo "upstream_server=$CGN_IN" >>"$LAB_DIR/igdd.conf"
log_mark
ctl reload >"$LAB_DIR/reload.out" 2>&1
check "reload: ext_stun_interval applied, upstream_server needs a restart" \
	sh -c "grep -q '^ext_stun_interval: applied' '$LAB_DIR/reload.out' && grep -q '^upstream_server: changed, needs a restart' '$LAB_DIR/reload.out'"
check "... STUN runs again at once" cpe_log_wait 10 "STUN: external address $CGN_PRIV"
check "... and the relayed mapping still carries traffic" reach_cgn tcp "${P:-0}" TOKTCP
check "the CPE's igdd stops with status 0" lab_stop_igdd
lab_finish
