#!/usr/bin/python3
"""ctl_abuse.py - hostile clients of igdd's control socket (t_ctl_hostile.sh).

usage: ctl_abuse.py SOCKET TEST PROBE_CMD...
PROBE_CMD is run (through sh) while the abuse goes on; it must succeed and
answer within a second: it asks igdd something over UPnP and NAT-PMP from
a LAN client.  Prints "PASS lab/TEST: ..." / "FAIL lab/TEST: ..." lines;
exits 1 when any failed.

The clients: garbage JSON (each line gets an error answer and the
connection stays usable), a 1 MiB line (an error, or the connection
dropped), a request sent in half and held open, a client that pipelines
requests and never reads its answers (both dropped once they stop making
progress), and 200 connections at once (the least recently active are
dropped; a new client is still served)."""
import json
import select
import socket
import subprocess
import sys
import time

SOCK, TEST, PROBE = sys.argv[1], sys.argv[2], sys.argv[3:]
IDLE = 10.0            # CTL_IDLE_MS
MAX_CLIENTS = 32       # CTL_MAX_CLIENTS
failed = False


def result(ok, what):
    global failed
    print('%s lab/%s: %s' % ('PASS' if ok else 'FAIL', TEST, what), flush=True)
    failed |= not ok


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)
    return s


def read_line(s, timeout=3.0):
    s.settimeout(timeout)
    buf = b''
    while not buf.endswith(b'\n'):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def closed_by_peer(s, timeout):
    """True when the daemon closes s within timeout (EOF or reset)."""
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def hung_up(s, timeout):
    """True when the daemon closes s within timeout, seen without reading
    (reading what waits would be progress for a client that never reads)."""
    p = select.poll()
    p.register(s, select.POLLHUP | select.POLLERR | select.POLLRDHUP)
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        for _, ev in p.poll(left * 1000):
            if ev & (select.POLLHUP | select.POLLERR | select.POLLRDHUP):
                return True


def probe(what):
    t0 = time.monotonic()
    r = subprocess.run(PROBE, shell=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=10)
    ms = (time.monotonic() - t0) * 1000
    result(r.returncode == 0 and ms < 1000,
           'UPnP and NAT-PMP answered %s (%.0f ms)' % (what, ms))


def garbage():
    bad = [b'garbage', b'{}', b'{"v":1}', b'{"v":2,"cmd":"list"}',
           b'{"v":1,"cmd":"list","cmd":"list"}', b'{"v":1,"cmd":"nope"}', b'[1,2,3]',
           b'{"v":1,"cmd":"list"} trailing', b'{"v":1,"cmd":"list"',
           b'{"v":1.5,"cmd":"list"}', b'{"v":100000000000000000000000,"cmd":"list"}',
           b'{"v":1,"cmd":{"a":[[[[[[[[[[]]]]]]]]]]}}', b'{"v":1,"cmd":"list","x":"\\ud800"}',
           b'{"v":1,"cmd":"\xff\xfe"}', b'{"v":1,\x00"cmd":"list"}', b'{"v":1,"cmd":"li\\u0000st"}',
           b'{"v":1,"cmd":"del","protocol":"tcp"}', b'{"v":1,"cmd":"list","lease":5}',
           b'{"v":1,"cmd":"add","protocol":"tcp","external_port":99999,'
           b'"internal_client":"192.168.77.10","internal_port":80}',
           b'{"v":1,"cmd":"add","protocol":"icmp","external_port":80,'
           b'"internal_client":"192.168.77.10","internal_port":80}',
           b'{"v":1,"cmd":"add","protocol":"tcp","external_port":80,'
           b'"internal_client":"not an address","internal_port":80}',
           b'{"v":1,"cmd":"add","protocol":"tcp","external_port":8080,'
           b'"internal_client":"192.168.77.10","internal_port":80,"description":"' + b'x' * 300 + b'"}',
           b'{"v":1,"cmd":"flush","source":"everything"}', b'\t \r', b'{"v":1,"cmd":"list",}']
    s = connect()
    errors = 0
    for line in bad:
        s.sendall(line + b'\n')
        ans = read_line(s)
        try:
            a = json.loads(ans)
            if a.get('ok') is False and isinstance(a.get('error'), str) and a['error']:
                errors += 1
            else:
                print('    not an error answer to %r: %r' % (line[:60], ans[:200]))
        except ValueError:
            print('    not JSON in answer to %r: %r' % (line[:60], ans[:200]))
    result(errors == len(bad), '%d garbage requests each get {"ok":false,"error":...} (%d did)'
           % (len(bad), errors))
    s.sendall(b'{"v":1,"cmd":"status"}\n')
    a = json.loads(read_line(s))
    result(a.get('ok') is True, 'the same connection still answers a good request')
    s.close()


def huge_line():
    s = connect()
    answer = b''
    try:
        s.settimeout(5)
        s.sendall(b'a' * (1 << 20))
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    try:
        answer = read_line(s)
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        pass
    gone = closed_by_peer(s, 3)
    result(gone and (answer == b'' or b'longer than' in answer),
           'a 1 MiB line: %s, connection closed' % (
               'answered "%s"' % json.loads(answer)['error'] if answer else 'dropped'))
    s.close()


def never_reads():
    s = connect()
    s.setblocking(False)
    sent = 0
    req = b'{"v":1,"cmd":"list"}\n'
    try:
        for _ in range(20000):
            s.send(req)
            sent += 1
    except BlockingIOError:
        pass
    return s, sent


def flood():
    conns = []
    for _ in range(200):
        conns.append(connect())
    t0 = time.monotonic()
    s = connect()
    s.sendall(b'{"v":1,"cmd":"status"}\n')
    a = json.loads(read_line(s))
    ms = (time.monotonic() - t0) * 1000
    result(a.get('ok') is True, 'with 200 connections open, a new client is served (%.0f ms)' % ms)
    s.close()
    quick = sum(1 for c in conns if closed_by_peer(c, 0.05))
    result(quick >= 200 - MAX_CLIENTS,
           '... %d of the 200 were dropped at once (at most %d are kept)' % (quick, MAX_CLIENTS))
    return conns


def main():
    start = time.monotonic()
    half = connect()
    half.sendall(b'{"v":1,"cmd":')
    slow, sent = never_reads()
    result(sent > 0, 'a client pipelines %d requests and never reads' % sent)
    probe('with a half-sent request and a non-reader held open')
    garbage()
    huge_line()
    probe('after garbage and a 1 MiB line')
    left = IDLE + 2.5 - (time.monotonic() - start)
    result(closed_by_peer(half, max(left, 0.1)),
           'the half-sent request is dropped within %.0f s' % (IDLE + 2.5))
    # (its last progress came a little after the half-sent one's)
    result(hung_up(slow, 3.0), 'the client that never reads is dropped too')
    conns = flood()
    probe('with 200 control connections open')
    t0 = time.monotonic()
    kept = [c for c in conns if not closed_by_peer(c, 0.01)]
    late = sum(1 for c in kept if closed_by_peer(c, max(IDLE + 2.5 - (time.monotonic() - t0), 0.1)))
    result(late == len(kept), '... the %d kept ones are dropped once idle %.0f s' % (len(kept), IDLE))
    for c in conns:
        c.close()
    sys.exit(1 if failed else 0)


main()
