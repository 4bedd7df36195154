#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_privs.sh - least privilege by default (issue 14, finding 12): with
# user= empty igdd runs as the system user igdd when this machine has one
# (uid 0 with a warning otherwise), keeps CAP_NET_ADMIN alone (plus
# CAP_NET_BIND_SERVICE for an HTTP port below 1024), runs from /, and
# once started runs under a seccomp filter (Seccomp: 2) that still lets
# it serve: a NAT-PMP mapping made then carries traffic.  seccomp=no
# turns the filter off, with a warning.
. "$(dirname "$0")/lib.sh"
lab_up

status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$IGDD_PID/status"; }
# no lease file (the lab's directory is root's); user= as igdd.conf(5)'s default
lab_conf "$LAB_DIR/default.conf" <<CONF
ext_ip=1.2.3.4
lease_file=
user=
CONF
check "igdd starts with user= empty" lab_start_igdd "$LAB_DIR/default.conf"
if id igdd >/dev/null 2>&1; then
	check "it runs as the system user igdd" test "$(status Uid)" = "$(id -u igdd)"
else
	check "no user igdd here: it stays uid 0" test "$(status Uid)" = 0
	check "... and says how to run unprivileged" grep -q "no user igdd: igdd stays uid 0" "$LAB_DIR/igdd.log"
fi
check "the seccomp filter is on (Seccomp: 2)" test "$(status Seccomp)" = 2
check "... one filter" test "$(status Seccomp_filters)" = 1
check "... as the log says" grep -q "seccomp: system call filter on" "$LAB_DIR/igdd.log"
check "CapEff is CAP_NET_ADMIN alone" test "$(status CapEff)" = 0000000000001000
check "CapPrm is CAP_NET_ADMIN alone" test "$(status CapPrm)" = 0000000000001000
check "CapBnd is CAP_NET_ADMIN alone" test "$(status CapBnd)" = 0000000000001000
check "no_new_privs" test "$(status NoNewPrivs)" = 1
check "it runs from /" test "$(readlink "/proc/$IGDD_PID/cwd")" = /
# It still serves under the filter: SSDP, HTTP, NAT-PMP, nftables.
lab_listen c1 udp 9400 u9400
check "a NAT-PMP mapping is made under the filter" \
	sh -c "ip netns exec $NS_C1 natpmpc -g $GW_LAN -a 9400 9400 udp 60 | grep -q 'Mapped public port 9400'"
check "... and carries traffic" reach udp 9400 u9400
UPNP_BASE=$(lab_upnp_base)
check "UPnP discovery and description work under the filter" test -n "$UPNP_BASE"
check "igdd is alive after all that" kill -0 "$IGDD_PID"
check "it stops with status 0 (nothing killed on the way out)" lab_stop_igdd TERM

# An HTTP port below 1024 keeps CAP_NET_BIND_SERVICE (bit 10) too.
lab_conf "$LAB_DIR/low.conf" <<CONF
ext_ip=1.2.3.4
lease_file=
http_port=80
CONF
check "igdd starts with http_port=80" lab_start_igdd "$LAB_DIR/low.conf"
check "CapEff is CAP_NET_ADMIN + CAP_NET_BIND_SERVICE" test "$(status CapEff)" = 0000000000001400
lab_stop_igdd TERM

lab_conf "$LAB_DIR/nosec.conf" <<CONF
ext_ip=1.2.3.4
lease_file=
seccomp=no
CONF
check "igdd starts with seccomp=no" lab_start_igdd "$LAB_DIR/nosec.conf"
check "... without the filter (Seccomp: 0)" test "$(status Seccomp)" = 0
check "... and says so" grep -q "seccomp=no: running without the system call filter" "$LAB_DIR/igdd.log"
lab_stop_igdd TERM
lab_finish
