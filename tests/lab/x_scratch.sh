. "$(dirname "$0")/lib_cgn.sh"
cgn_up
out ip addr add 5.6.7.3/24 dev eth0
out turnserver -n --no-auth --stun-only -L "$OUT" -L 5.6.7.3 --listening-port 3478 --no-cli --no-tls --no-dtls --pidfile "$LAB_DIR/turn.pid" --log-file "$LAB_DIR/turn.log" --simple-log --db "$LAB_DIR/turndb" >/dev/null 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
sleep 1
cpe_conf "$LAB_DIR/igdd.conf" none <<EOF2
ext_perform_stun=allow-filtered
ext_stun_host=$OUT
ext_stun_interval=0
EOF2
lab_start_igdd "$LAB_DIR/igdd.conf" -v
sleep 2
kill -USR1 $IGDD_PID
sleep 2
grep -v debug $LAB_DIR/igdd.log | tail
