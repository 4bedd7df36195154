#!/bin/sh
# also-san: run again against the ASan/UBSan daemon (tests/run.sh)
# t_admin.sh - the admin page's security (issue 19), from the LAN, the
# outside host and igddctl: admin_sec.py (run on c1) checks the login,
# sessions and their timeouts, CSRF, Origin and Host, the security headers,
# hostile form fields, the API's forwards (with real traffic from the
# outside host), /metrics' token, the files' ETag and gzip, and 20 wrong
# passwords; here: igddctl passwd (a line on stdin; at a terminal, without
# echo) and igdd --check of the password file; the WAN side gets nothing
# (no listener on the WAN address, and a connection to the LAN address from
# outside is closed unanswered); a reload with a new password ends every
# session; the page beside the UPnP descriptions when admin_listen is
# http_port (its password file from openssl passwd -6), over IPv6 too, and
# nothing to the WAN side there either.
. "$(dirname "$0")/lib.sh"
lab_up
check "IPv6 on every link" lab_ipv6
for t in curl upnpc; do
	command -v $t >/dev/null 2>&1 || { skip "$t not installed"; exit 0; }
done
PY=${PY:-/usr/bin/python3}
PW="correct horse battery"
printf '%s\n' "$PW" | "$IGDDCTL" passwd "$LAB_DIR/admin.pw" 2>/dev/null
check "igddctl passwd FILE (a line on stdin): one yescrypt hash, mode 0600" sh -c \
	"grep -Eqx '[\$]y[\$][^ ]+' '$LAB_DIR/admin.pw' && test \$(wc -l <'$LAB_DIR/admin.pw') = 1 &&
	 test \"\$(stat -c %a '$LAB_DIR/admin.pw')\" = 600"
TPW="typed at a terminal"
"$PY" "$(dirname "$0")/admin_tty.py" "$IGDDCTL" "$LAB_DIR/tty.pw" "$TPW" >"$LAB_DIR/tty.out" 2>&1; rc=$?
h=$(cat "$LAB_DIR/tty.pw" 2>/dev/null)
check "igddctl passwd FILE at a terminal: asked twice, nothing echoed, the hash of what was typed ($rc)" sh -c \
	"test $rc = 0 && grep -q 'The same again' '$LAB_DIR/tty.out' && ! grep -q '$TPW' '$LAB_DIR/tty.out' &&
	 test -n '$h' && test \"\$(perl -e 'print crypt(\$ARGV[0], \$ARGV[1])' '$TPW' '$h')\" = '$h'"
"$PY" "$(dirname "$0")/admin_tty.py" "$IGDDCTL" "$LAB_DIR/tty2.pw" "$TPW" "not the same" \
	>"$LAB_DIR/tty2.out" 2>&1; rc=$?
check "... two different answers: refused, said, no file ($rc)" sh -c \
	"test $rc != 0 && grep -q 'the two do not match' '$LAB_DIR/tty2.out' && ! test -e '$LAB_DIR/tty2.pw'"
TOKEN=metrics-$LAB_ID-0123456789abcdef
echo "$TOKEN" >"$LAB_DIR/metrics.token"
chmod 600 "$LAB_DIR/metrics.token"
echo "1900000000 02:00:00:00:00:01 $C1 client-one 01:02:00:00:00:00:01" >"$LAB_DIR/dhcp.leases"
ADMIN_PORT=8080
lab_conf "$LAB_DIR/igdd.conf" <<CONF
ext_ip=1.2.3.4
admin_listen=$GW_LAN:$ADMIN_PORT
admin_password_file=$LAB_DIR/admin.pw
admin_metrics_token_file=$LAB_DIR/metrics.token
admin_dhcp_leases=$LAB_DIR/dhcp.leases
admin_session_idle=3
admin_session_max=8
CONF
chmod 666 "$LAB_DIR/admin.pw"
check_not "igdd --check refuses a password file anyone may write" "$IGDD" --check -f "$LAB_DIR/igdd.conf"
chmod 600 "$LAB_DIR/admin.pw"
check "igdd --check reads the password file" "$IGDD" --check -f "$LAB_DIR/igdd.conf"
check "igdd starts with the admin page on $GW_LAN:$ADMIN_PORT" lab_start_igdd "$LAB_DIR/igdd.conf"
UPNP_BASE=$(lab_upnp_base)
lab_listen c2 tcp 9500 tok-admin
UPNP_PORT=8600
c1 upnpc -u "$UPNP_BASE/rootDesc.xml" -e "by upnp" -a "$C1" 9600 $UPNP_PORT TCP >"$LAB_DIR/u1" 2>&1
check "upnpc maps TCP $UPNP_PORT (a port the page cannot take)" grep -q "is redirected" "$LAB_DIR/u1"

# --- from the LAN: admin_sec.py ---
ADMIN_HOST=$GW_LAN ADMIN_PASSWORD=$PW ADMIN_TOKEN=$TOKEN ADMIN_IDLE=3 ADMIN_MAX=8 \
	CTL_SOCK=$LAB_DIR/igdd.sock UPNP_BASE=$UPNP_BASE
export ADMIN_HOST ADMIN_PORT ADMIN_PASSWORD ADMIN_TOKEN ADMIN_IDLE ADMIN_MAX CTL_SOCK UPNP_BASE UPNP_PORT
export LAB_DIR LAB_TEST IGDDCTL PROBE NS_OUT NS_C2 GW_WAN C1 C2
c1 "$PY" "$(dirname "$0")/admin_sec.py" || LAB_FAILED=1

# --- from the WAN side: nothing ---
wan0=$(ctl stats --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["dropped"]["http"]["wan"])')
out curl -s --max-time 3 -o /dev/null "http://$GW_WAN:$ADMIN_PORT/login"; rc=$?
check "from outside, the WAN address: no connection (curl $rc)" test $rc = 7
out ip route add "$LAB_LAN.0/24" via "$GW_WAN"
out curl -s --max-time 3 -D "$LAB_DIR/wan.h" -o /dev/null "http://$GW_LAN:$ADMIN_PORT/login"; rc=$?
check "from outside, the LAN address: closed without an answer (curl $rc)" sh -c \
	"test $rc = 52 -o $rc = 56 && ! test -s '$LAB_DIR/wan.h'"
wan1=$(ctl stats --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["dropped"]["http"]["wan"])')
check "... counted as a WAN drop ($wan0 -> $wan1)" test "$wan1" -gt "$wan0"

# --- a new password by reload ends every session ---
B=http://$GW_LAN:$ADMIN_PORT
c1 curl -s -o /dev/null -c "$LAB_DIR/jar" --data-urlencode "password=$PW" "$B/login"
check "a session before the reload" sh -c \
	"test \"\$(ip netns exec $NS_C1 curl -s -o /dev/null -w '%{http_code}' -b '$LAB_DIR/jar' $B/api/state)\" = 200"
printf 'a new password\n' | "$IGDDCTL" passwd "$LAB_DIR/admin.pw" 2>/dev/null
ctl reload >"$LAB_DIR/reload.out" 2>&1
check "igddctl reload reads the new password: every session ended" \
	grep -q "a new password: every session of the admin page ended" "$LAB_DIR/reload.out"
check "... the old session: 401" sh -c \
	"test \"\$(ip netns exec $NS_C1 curl -s -o /dev/null -w '%{http_code}' -b '$LAB_DIR/jar' $B/api/state)\" = 401"
check "... the old password: 401" sh -c \
	"test \"\$(ip netns exec $NS_C1 curl -s -o /dev/null -w '%{http_code}' --data-urlencode 'password=$PW' $B/login)\" = 401"
check "... the new one: 303" sh -c \
	"test \"\$(ip netns exec $NS_C1 curl -s -o /dev/null -w '%{http_code}' --data-urlencode 'password=a new password' $B/login)\" = 303"
chmod 000 "$LAB_DIR/admin.pw"
ctl reload >"$LAB_DIR/reload.out" 2>&1
check "a reload that cannot use the file keeps the running password" sh -c \
	"grep -q 'the running password and token are kept' '$LAB_DIR/reload.out' &&
	 test \"\$(ip netns exec $NS_C1 curl -s -o /dev/null -w '%{http_code}' --data-urlencode 'password=a new password' $B/login)\" = 303" 
chmod 600 "$LAB_DIR/admin.pw"
lab_stop_igdd
check "igdd stops cleanly with the page on" test $? = 0

# --- beside the UPnP descriptions: admin_listen is http_port ---
# (the password file written by openssl passwd -6 this time)
printf 'a new password\n' | openssl passwd -6 -stdin >"$LAB_DIR/admin.pw"
check "openssl passwd -6 writes a SHA-512 hash" grep -Eqx '[$]6[$][^ ]+' "$LAB_DIR/admin.pw"
lab_conf "$LAB_DIR/igdd2.conf" <<CONF
ext_ip=1.2.3.4
http_port=5000
admin_listen=5000
admin_password_file=$LAB_DIR/admin.pw
CONF
check "igdd starts with the page on the UPnP port" lab_start_igdd "$LAB_DIR/igdd2.conf"
B=http://$GW_LAN:5000
check "GET /rootDesc.xml is the description" sh -c \
	"ip netns exec $NS_C1 curl -s $B/rootDesc.xml | grep -q '<presentationURL>http://$GW_LAN:5000/</presentationURL>'"
check "GET / is the page's way to the login" sh -c \
	"test \"\$(ip netns exec $NS_C1 curl -s -o /dev/null -w '%{http_code} %{redirect_url}' $B/)\" = '303 $B/login'"
check "POST /login logs in" sh -c \
	"test \"\$(ip netns exec $NS_C1 curl -s -o /dev/null -w '%{http_code}' --data-urlencode 'password=a new password' $B/login)\" = 303"
B6="http://[$GW6_LAN]:5000"
check "over IPv6 (every LAN address): GET / leads to the login" sh -c \
	"test \"\$(ip netns exec $NS_C1 curl -sg -o /dev/null -w '%{http_code} %{redirect_url}' '$B6/')\" = '303 $B6/login'"
check "... POST /login from this page's origin logs in" sh -c \
	"test \"\$(ip netns exec $NS_C1 curl -sg -o /dev/null -w '%{http_code}' -H 'Origin: $B6' --data-urlencode 'password=a new password' '$B6/login')\" = 303"
# the WAN side over IPv6: nothing either
out curl -sg --max-time 3 -o /dev/null "http://[$GW6_WAN]:5000/login"; rc=$?
check "from outside over IPv6, the WAN address: no connection (curl $rc)" test $rc = 7
out curl -sg --max-time 3 -D "$LAB_DIR/wan6.h" -o /dev/null "$B6/login"; rc=$?
# (the IPv6 listener is bound to lan0: the kernel refuses what comes in on wan0)
check "from outside over IPv6, the LAN address: refused, never answered (curl $rc)" sh -c \
	"test $rc = 7 -o $rc = 52 -o $rc = 56 && ! test -s '$LAB_DIR/wan6.h'"
lab_finish
