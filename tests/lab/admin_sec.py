#!/usr/bin/python3
"""admin_sec.py - the admin page attacked from a LAN client (t_admin.sh).

Runs in the client namespace c1; the settings come from the environment
(t_admin.sh exports them).  Each check prints "PASS lab/TEST: ..." or
"FAIL lab/TEST: ..."; the exit status is 1 when any failed.

What it checks: every page and action without a session leads to the
login (303) or is refused (401); the security headers; a wrong password
is refused and logged without the password; a login sets an HttpOnly,
SameSite=Strict session cookie; a change without the CSRF token, with a
wrong one, from a foreign Origin, Referer or Sec-Fetch-Site, or naming
another Host, is refused and changes nothing; a manual forward made
through the API carries traffic from the outside host, and its deletion
stops it; hostile fields (huge, NUL, markup, unknown, not a form) get
clear errors, quoted as JSON data (nosniff), never markup; /metrics needs a
session or the bearer token; the page's files are revalidated (ETag, 304)
and sent gzip-compressed; a session id used from another host is refused;
sessions end at their idle and absolute timeouts and at logout; 20 wrong
passwords in a row are slowed down (held answers, 429 while waiting, the
right password refused too meanwhile) and logged."""
import gzip
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

E = os.environ
HOST, PORT = E["ADMIN_HOST"], int(E["ADMIN_PORT"])
TEST = E.get("LAB_TEST", "t_admin")
PASSWORD = E["ADMIN_PASSWORD"]
failed = False


def result(ok, what, detail=""):
    global failed
    print(("PASS" if ok else "FAIL") + " lab/%s: %s" % (TEST, what))
    if not ok:
        failed = True
        if detail:
            for line in str(detail).splitlines()[:12]:
                print("    " + line)
    sys.stdout.flush()
    return ok


class Answer:
    def __init__(self, status, headers, body, elapsed):
        self.status, self.h, self.body, self.elapsed = status, headers, body, elapsed

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return {}

    def __repr__(self):
        return "%s %s %r" % (self.status, self.h, self.body[:300])


def req(method, path, headers=None, body=None, sid=None, timeout=5.0, host=None):
    """One request on a connection of its own; None when it timed out."""
    h = {"Host": host or "%s:%d" % (HOST, PORT)}
    if sid:
        h["Cookie"] = "igdd_sid=" + sid
    h.update(headers or {})
    c = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    t0 = time.monotonic()
    try:
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        if body is not None:
            if isinstance(body, str):
                body = body.encode()
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, data,
                      time.monotonic() - t0)
    except (TimeoutError, OSError) as e:
        return Answer(None, {}, str(e).encode(), time.monotonic() - t0)
    finally:
        c.close()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ORIGIN = "http://%s:%d" % (HOST, PORT)


def post(path, fields, sid=None, csrf=None, headers=None, raw=None):
    h = dict(FORM)
    h["Origin"] = ORIGIN
    if csrf is not None:
        h["X-CSRF-Token"] = csrf
    h.update(headers or {})
    body = raw if raw is not None else urllib.parse.urlencode(fields)
    return req("POST", path, h, body, sid)


def login(password=PASSWORD, timeout=5.0):
    return req("POST", "/login", dict(FORM, Origin=ORIGIN),
               urllib.parse.urlencode({"password": password}), timeout=timeout)


def session():
    """A fresh login: (sid, csrf)."""
    a = login()
    m = re.match(r"igdd_sid=([0-9a-f]{32});", a.h.get("set-cookie", ""))
    if not m:
        return None, None
    st = req("GET", "/api/state", sid=m.group(1)).json()
    return m.group(1), st.get("csrf")


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True)


def ctl_list():
    r = sh('"%s" -s "%s" list --json' % (E["IGDDCTL"], E["CTL_SOCK"]))
    try:
        return json.loads(r.stdout)
    except ValueError:
        return []


def has_mapping(proto, port):
    return any(m["protocol"] == proto and m["external_port"] == port for m in ctl_list())


def reach(port, token):
    r = sh('ip netns exec "%s" "%s" connect tcp "%s" %d 1500' %
           (E["NS_OUT"], E["PROBE"], E["GW_WAN"], port))
    return r.stdout.strip() == token


def log_text():
    with open(os.path.join(E["LAB_DIR"], "igdd.log"), errors="replace") as f:
        return f.read()


def check_headers(a, what):
    csp = a.h.get("content-security-policy", "")
    ok = ("script-src 'self'" in csp and "frame-ancestors 'none'" in csp and
          "unsafe-inline" not in csp and "default-src 'none'" in csp and
          a.h.get("x-frame-options") == "DENY" and
          a.h.get("x-content-type-options") == "nosniff")
    result(ok, "%s: CSP without inline script, frame-ancestors 'none', X-Frame-Options, "
           "nosniff" % what, a)


def anonymous():
    a = req("GET", "/")
    result(a.status == 303 and a.h.get("location") == "/login",
           "GET / without a session: 303 to /login", a)
    check_headers(a, "GET /")
    a = req("GET", "/login")
    result(a.status == 200 and b'name="password"' in a.body and
           a.h.get("cache-control") == "no-store", "GET /login: the form, no-store", a)
    check_headers(a, "GET /login")
    for m, p in (("GET", "/api/state"), ("POST", "/api/forward"), ("POST", "/api/delete"),
                 ("GET", "/metrics")):
        a = post(p, {"protocol": "tcp"}) if m == "POST" else req(m, p)
        result(a.status == 401, "%s %s without a session: 401" % (m, p), a)
    a = req("GET", "/metrics")
    result("bearer" in a.h.get("www-authenticate", "").lower(),
           "/metrics: WWW-Authenticate: Bearer", a)
    a = post("/logout", {})
    result(a.status == 303 and a.h.get("location") == "/login",
           "POST /logout without a session: 303 to /login", a)
    a = req("GET", "/api/state", sid="0" * 32)
    result(a.status == 401, "a made-up session id: 401", a)


def logins():
    before = log_text()
    a = login("wrong-guess-1")
    result(a.status == 401 and b"Wrong password." in a.body, "a wrong password: 401, said", a)
    after = log_text()[len(before):]
    result("wrong password from %s" % E["C1"] in after and "wrong-guess-1" not in after,
           "... logged with the source, without the password", after)
    a = login()
    ck = a.h.get("set-cookie", "")
    result(a.status == 303 and a.h.get("location") == "/" and
           re.match(r"igdd_sid=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Strict$", ck),
           "the right password: 303 to /, cookie of 128 random bits, HttpOnly, "
           "SameSite=Strict, Path=/", a)
    log = log_text()
    result(PASSWORD not in log and ck[9:41] not in log,
           "the log holds neither the password nor the session id")


def state_checks(sid):
    a = req("GET", "/api/state", sid=sid)
    st = a.json()
    result(a.status == 200 and re.fullmatch("[0-9a-f]{32}", st.get("csrf", "")) is not None,
           "GET /api/state: the state and a CSRF token", a)
    result(a.h.get("cache-control") == "no-store", "... no-store", a)
    result(st.get("hosts", {}).get(E["C1"]) == "client-one",
           "... the host name of %s from the DHCP leases file" % E["C1"], st.get("hosts"))
    ext = st.get("status", {}).get("external", {})
    result(ext.get("address") == "1.2.3.4" and ext.get("source") == "ext_ip" and
           ext.get("link") == "up", "... the external address and how it was learnt", ext)
    return st.get("csrf")


GOOD = {"protocol": "tcp", "external_port": "8500", "internal_client": E["C2"],
        "internal_port": "9500", "description": "<b>web</b>", "lease": ""}


def csrf_origin(sid, csrf):
    a = post("/api/forward", GOOD, sid)
    result(a.status == 403, "a change without the CSRF token: 403", a)
    a = post("/api/forward", GOOD, sid, csrf="f" * 32)
    result(a.status == 403, "... with a wrong token (header): 403", a)
    a = post("/api/forward", dict(GOOD, csrf="0" * 32), sid)
    result(a.status == 403, "... with a wrong token (form field): 403", a)
    a = post("/api/forward", GOOD, sid, csrf, {"Origin": "http://evil.example"})
    result(a.status == 403, "a foreign Origin with a valid cookie and token: 403", a)
    a = post("/api/forward", GOOD, sid, csrf, {"Origin": "null"})
    result(a.status == 403, "Origin: null: 403", a)
    h = dict(FORM, **{"X-CSRF-Token": csrf, "Referer": "http://evil.example/page"})
    a = req("POST", "/api/forward", h, urllib.parse.urlencode(GOOD), sid)
    result(a.status == 403, "a foreign Referer (no Origin): 403", a)
    a = post("/api/forward", GOOD, sid, csrf, {"Sec-Fetch-Site": "cross-site"})
    result(a.status == 403, "Sec-Fetch-Site: cross-site: 403", a)
    h = dict(FORM, **{"X-CSRF-Token": csrf})
    a = req("POST", "/api/forward", h, urllib.parse.urlencode(GOOD), sid,
            host="evil.example:%d" % PORT)
    result(a.status == 400, "a Host naming another host (DNS rebinding): 400", a)
    result(not has_mapping("tcp", 8500), "... none of them made a mapping", ctl_list())


def forward(sid, csrf):
    a = post("/api/forward", GOOD, sid, csrf)
    result(a.status == 200 and a.json().get("ok") is True, "POST /api/forward: 200", a)
    m = [x for x in ctl_list() if x["external_port"] == 8500]
    result(len(m) == 1 and m[0]["source"] == "manual" and m[0]["internal_client"] == E["C2"]
           and m[0]["description"] == "<b>web</b>" and m[0]["lease_remaining"] == 0,
           "... a permanent manual forward TCP 8500 -> %s:9500 (igddctl list)" % E["C2"], m)
    result(reach(8500, "tok-admin"), "... that carries traffic from the outside host")
    st = req("GET", "/api/state", sid=sid).json()
    d = [x for x in st.get("mappings", []) if x["external_port"] == 8500]
    result(len(d) == 1 and d[0]["description"] == "<b>web</b>",
           "... listed in the state, its markup as data", d)


def field_errors(sid, csrf):
    n0 = len(ctl_list())
    cases = [
        ("the port of a UPnP mapping", dict(GOOD, external_port=E["UPNP_PORT"]), 409,
         "external_port", "is already mapped (source upnp)"),
        ("an internal client on no LAN", dict(GOOD, external_port="8501",
                                              internal_client="10.9.9.9"), 409,
         "internal_client", "not a host on a LAN"),
        ("a description of 300 bytes", dict(GOOD, external_port="8502", description="x" * 300),
         400, "description", "at most 255 bytes"),
        ("a NUL in the description", dict(GOOD, external_port="8503", description="a\0b"), 400,
         "description", "control characters"),
        ("markup as the internal client", dict(GOOD, external_port="8504",
                                               internal_client="<script>alert(1)</script>"),
         400, "internal_client", "'<script>alert(1)</script>' is not an IPv4 address"),
        ("port 0 and 70000", dict(GOOD, external_port="0", internal_port="70000"), 400,
         "internal_port", "1 to 65535"),
        ("lease -1", dict(GOOD, external_port="8505", lease="-1"), 400, "lease", "seconds"),
    ]
    for what, fields, status, field, text in cases:
        a = post("/api/forward", fields, sid, csrf)
        err = a.json().get("errors", {}).get(field, "")
        result(a.status == status and text in err and
               a.h.get("content-type") == "application/json" and
               a.h.get("x-content-type-options") == "nosniff",
               "%s: %d, '%s' beside %s (JSON data, nosniff)" % (what, status, text, field), a)
    a = post("/api/forward", None, sid, csrf, raw="description=" + "A" * 65536)
    result(a.status == 413, "a 64 KiB form: 413", a)
    a = post("/api/forward", dict(GOOD, evil="1"), sid, csrf)
    result(a.status == 400 and "unknown field 'evil'" in a.json().get("error", ""),
           "an unknown field: 400, named", a)
    a = post("/api/forward", None, sid, csrf, {"Content-Type": "text/plain"}, raw="x")
    result(a.status == 415, "not a form: 415", a)
    a = post("/api/forward", None, sid, csrf, raw="protocol=%zz")
    result(a.status == 400 and "escape" in a.json().get("error", ""),
           "a bad %-escape: 400, said", a)
    result(len(ctl_list()) == n0, "... none of them changed the mappings", ctl_list())


def delete(sid, csrf):
    a = post("/api/delete", {"protocol": "tcp", "external_port": "8500", "remote_host": ""},
             sid)
    result(a.status == 403 and has_mapping("tcp", 8500), "a delete without the token: 403, kept")
    a = post("/api/delete", {"protocol": "tcp", "external_port": "8500", "remote_host": ""},
             sid, csrf)
    result(a.status == 200 and not has_mapping("tcp", 8500), "POST /api/delete: 200, gone", a)
    result(not reach(8500, "tok-admin"), "... and the traffic stops")
    a = post("/api/delete", {"protocol": "tcp", "external_port": "8500", "remote_host": ""},
             sid, csrf)
    result(a.status == 404 and "no mapping" in a.json().get("error", ""),
           "deleting it again: 404, said", a)


def metrics(sid):
    a = req("GET", "/metrics", {"Authorization": "Bearer " + E["ADMIN_TOKEN"]})
    result(a.status == 200 and b"igdd_mappings" in a.body and
           a.h.get("content-type", "").startswith("text/plain; version=0.0.4"),
           "/metrics with the bearer token: the Prometheus text", a)
    names = lambda t: sorted({l.split()[0].split("{")[0] for l in t.splitlines()
                              if l and not l.startswith("#")})
    r = sh('"%s" -s "%s" metrics' % (E["IGDDCTL"], E["CTL_SOCK"]))
    mine = names(a.body.decode())
    result(mine and mine == names(r.stdout),
           "... the same metrics as igddctl metrics (%d names)" % len(mine),
           "%s\n%s" % (mine, names(r.stdout)))
    a = req("GET", "/metrics", {"Authorization": "Bearer " + "x" * 24})
    result(a.status == 401, "/metrics with a wrong token: 401", a)
    a = req("GET", "/metrics", sid=sid)
    result(a.status == 200 and b"igdd_" in a.body, "/metrics with a session: 200", a)


def assets():
    a = req("GET", "/admin.js", {"Accept-Encoding": "gzip, br"})
    tag = a.h.get("etag", "")
    plain = req("GET", "/admin.js")
    ok = a.status == 200 and a.h.get("content-encoding") == "gzip" and tag.endswith('-gz"')
    result(ok and gzip.decompress(a.body) == plain.body and
           "content-encoding" not in plain.h and len(a.body) < len(plain.body) / 2,
           "/admin.js: gzip to who takes it (%d of %d bytes), the same text" %
           (len(a.body), len(plain.body)), a.h)
    b = req("GET", "/admin.js", {"Accept-Encoding": "gzip", "If-None-Match": tag})
    result(b.status == 304 and not b.body, "... revalidated by its ETag: 304", b)
    result("'unsafe-inline'" not in plain.body.decode() and b"innerHTML" not in plain.body,
           "the script never writes markup (no innerHTML)")


def presentation():
    r = sh("curl -s --max-time 3 '%s/rootDesc.xml'" % E["UPNP_BASE"])
    want = "<presentationURL>http://%s:%d/</presentationURL>" % (HOST, PORT)
    result(want in r.stdout, "the description's presentationURL is the page", r.stdout[-400:])


def sessions():
    sid, csrf = session()
    r = sh("ip netns exec %s curl -s -o /dev/null -w '%%{http_code}' -H 'Cookie: igdd_sid=%s' "
           "http://%s:%d/api/state" % (E["NS_C2"], sid, HOST, PORT))
    result(r.stdout == "401", "a session id used from another host (%s): 401" % E["C2"],
           r.stdout)
    a = req("GET", "/api/state", sid=sid)
    result(a.status == 200, "... still good from its own", a)
    # idle: the page's background requests (?since=) do not keep it alive
    # (an old generation: answered at once)
    idle = float(E["ADMIN_IDLE"])
    gen = a.json().get("generation", 0) + 1000
    t0 = time.monotonic()
    codes, times = [], []
    while time.monotonic() - t0 < idle + 1.5:
        codes.append(req("GET", "/api/state?since=%d" % gen, sid=sid, timeout=8).status)
        times.append(time.monotonic())
        time.sleep(0.3)
    # the updates came often enough to have kept it alive had they counted:
    # judged by the gaps between them, not by their number (a loaded
    # machine answers each more slowly)
    gap = max(b - a for a, b in zip(times, times[1:])) if len(times) > 1 else idle
    alive = max([t for t, c in zip(times, codes) if c == 200] or [t0]) - t0
    result(codes[0] == 200 and codes[-1] == 401 and gap < idle / 2 and alive >= idle / 2,
           "idle for %.0f s (only background updates, %.1f s apart at most): the session ends (%s)"
           % (idle, gap, codes))
    a = req("GET", "/", sid=sid)
    result(a.status == 303, "... and its page leads to the login", a)
    # absolute: however busy
    sid, csrf = session()
    t0, last = time.monotonic(), 200
    while time.monotonic() - t0 < float(E["ADMIN_MAX"]) + 1.5 and last == 200:
        last = req("GET", "/api/state", sid=sid).status
        time.sleep(0.5)
    took = time.monotonic() - t0
    result(last == 401 and float(E["ADMIN_MAX"]) - 1 <= took,
           "a session in use ends at its absolute timeout (%.1f s)" % took)
    sid, csrf = session()
    a = post("/logout", {}, sid, csrf)
    result(a.status == 303 and "Max-Age=0" in a.h.get("set-cookie", ""),
           "logout: 303, the cookie cleared", a)
    a = req("GET", "/api/state", sid=sid)
    result(a.status == 401, "... the old session id no longer works", a)


def brute_force():
    before = log_text()
    codes, slow = [], 0
    for i in range(20):
        a = login("guess-%d" % i, timeout=0.5)
        codes.append(a.status)
        slow += a.status is None or a.elapsed >= 0.9
    result(codes.count(429) >= 10 and slow >= 1 and codes.count(401) <= 5,
           "20 wrong passwords in a row: slowed down (answers held, then 429 while waiting): "
           "%s" % codes)
    a = login()
    result(a.status == 429 and "retry-after" in a.h and "set-cookie" not in a.h,
           "... the right password right after: 429 too, no session", a)
    time.sleep(0.3)
    after = log_text()[len(before):]
    n = after.count("wrong password from %s" % E["C1"])
    result(n >= 3 and "in a row" in after and "next attempt is checked in" in after and
           "guess-" not in after, "... logged: %d lines, with the delay, no password" % n,
           after)
    time.sleep(int(a.h.get("retry-after", "1")) + 0.2)
    a = login()
    result(a.status == 303, "after the wait the right password logs in", a)


def main():
    anonymous()
    logins()
    sid, _ = session()
    csrf = state_checks(sid)
    csrf_origin(sid, csrf)
    forward(sid, csrf)
    field_errors(sid, csrf)
    delete(sid, csrf)
    metrics(sid)
    assets()
    presentation()
    sessions()
    brute_force()
    sys.exit(1 if failed else 0)


main()
