#!/bin/sh
# t_smoke.sh - igdd starts on the lab gateway with a configuration written
# for miniupnpd (a CGN test host's), stops cleanly on SIGTERM, and --check
# tells good files from broken ones with file:line.
LAB_LAN=10.0.0 LAB_GW_HOST=36
. "$(dirname "$0")/lib.sh"
lab_up

cat >"$LAB_DIR/cgn.conf" <<CONF
ext_ifname=wan0
ext_ip=1.2.3.4
listening_ip=10.0.0.36/24
port=0
enable_natpmp=yes
enable_upnp=yes
bitrate_up=1000000
bitrate_down=10000000
secure_mode=no
system_uptime=yes
notify_interval=60
clean_ruleset_interval=600
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
serial=12345678
model_number=1
control_socket=$LAB_DIR/igdd.sock
allow 1024-65535 10.0.0.0/24 1024-65535
allow 1024-65535 10.0.1.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
check "--check accepts the miniupnpd-style CGN config" "$IGDD" --check -f "$LAB_DIR/cgn.conf"

printf 'ext_ifname=wan0\nlistening_ip=lan0\nno_such_key=1\n' >"$LAB_DIR/bad1.conf"
check_not "--check rejects an unknown key" "$IGDD" --check -f "$LAB_DIR/bad1.conf"
"$IGDD" --check -f "$LAB_DIR/bad1.conf" 2>"$LAB_DIR/err1" >/dev/null
check "the unknown key is reported as file:line" grep -q "bad1.conf:3:" "$LAB_DIR/err1"
printf 'ext_ifname=wan0\nlistening_ip=lan0\nnotify_interval=abc\n' >"$LAB_DIR/bad2.conf"
check_not "--check rejects notify_interval=abc" "$IGDD" --check -f "$LAB_DIR/bad2.conf"
"$IGDD" --check -f "$LAB_DIR/bad2.conf" 2>"$LAB_DIR/err2" >/dev/null
check "notify_interval=abc is reported as file:line" grep -q "bad2.conf:3:" "$LAB_DIR/err2"

check "igdd starts in the gateway namespace with the CGN config" \
	lab_start_igdd "$LAB_DIR/cgn.conf" -v
check "its log names the configured UUID" grep -q "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b" "$LAB_DIR/igdd.log"
check "pidfile written" test -s "$LAB_DIR/igdd.pid"
# Least privilege: after start-up only CAP_NET_ADMIN (bit 12) is left.
capeff() { awk '/^CapEff/ {print $2}' "/proc/$IGDD_PID/status"; }
check "only CAP_NET_ADMIN is effective after start-up" test "$(capeff)" = 0000000000001000
check "the bounding set is CAP_NET_ADMIN alone" \
	test "$(awk '/^CapBnd/ {print $2}' "/proc/$IGDD_PID/status")" = 0000000000001000
check "no_new_privs is set" test "$(awk '/^NoNewPrivs/ {print $2}' "/proc/$IGDD_PID/status")" = 1
check "igdd stops with status 0 on SIGTERM" lab_stop_igdd TERM
check "pidfile removed on stop" test ! -e "$LAB_DIR/igdd.pid"

# With user=nobody it runs as nobody, still with CAP_NET_ADMIN only.
sed '/^uuid=/d' "$LAB_DIR/cgn.conf" >"$LAB_DIR/user.conf"
echo "user=nobody" >>"$LAB_DIR/user.conf"
# The pid file's directory is made for nobody, who writes and removes the
# file after dropping root (the lab directory must let it through).
chmod 755 "$LAB_DIR"
check "igdd starts with user=nobody" lab_start_igdd "$LAB_DIR/user.conf" -P "$LAB_DIR/run/igdd.pid"
check "... its pid file written" test -s "$LAB_DIR/run/igdd.pid"
check "it runs as nobody" test "$(awk '/^Uid/ {print $2 $3 $4}' "/proc/$IGDD_PID/status")" = 655346553465534
check "as nobody it keeps CAP_NET_ADMIN only" test "$(capeff)" = 0000000000001000
check "it stops on SIGTERM" lab_stop_igdd TERM
check "... and removes its pid file as nobody" test ! -e "$LAB_DIR/run/igdd.pid"
printf 'user=no-such-user-here\n' >>"$LAB_DIR/user.conf"
check_not "an unknown user stops start-up" lab_start_igdd "$LAB_DIR/user.conf"
check "the reason is logged" grep -q "no-such-user-here does not exist" "$LAB_DIR/igdd.log"
lab_finish
