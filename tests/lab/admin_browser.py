#!/usr/bin/python3
"""admin_browser.py - the admin page in headless Chromium (t_admin_browser.sh).

Runs in the LAN client namespace c1 (so that the browser reaches the
gateway's LAN address) with Debian's chromium, chromium-driver and
python3-selenium; settings from the environment.  Prints "PASS lab/TEST:"
/ "FAIL lab/TEST:" lines and exits 1 when any failed; screenshots of the
main states go to $SHOTS.

A person logs in (a wrong password first); a mapping upnpc makes on this
client appears in the table within 2 s, with the client's host name; a
manual forward added through the form (its description markup) is a row
whose markup is shown as text, and carries real traffic from the outside
host; a bad form value shows its error beside the field; Delete asks
first (dismissed: kept), then removes the row, the mapping and the
traffic; the page on a phone's width; logout ends the session (the old
cookie is refused); the browser's console shows no error (no CSP
violation)."""
import http.client
import os
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException,
                                        StaleElementReferenceException, TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

E = os.environ
TEST = E.get("LAB_TEST", "t_admin_browser")
BASE = "http://%s:%s" % (E["ADMIN_HOST"], E["ADMIN_PORT"])
SHOTS = E["SHOTS"]
MARKUP = '<img src=x id=pwned onerror="document.title=\'pwned\'">web'
failed = False


def result(ok, what, detail=""):
    global failed
    print(("PASS" if ok else "FAIL") + " lab/%s: %s" % (TEST, what))
    if not ok:
        failed = True
        for line in str(detail).splitlines()[:10]:
            print("    " + line)
    sys.stdout.flush()
    return ok


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True)


def reach(port, token):
    r = sh('ip netns exec "%s" "%s" connect tcp "%s" %d 1500' %
           (E["NS_OUT"], E["PROBE"], E["GW_WAN"], port))
    return r.stdout.strip() == token


def has_mapping(port):
    r = sh('"%s" -s "%s" list --json' % (E["IGDDCTL"], E["CTL_SOCK"]))
    return '"external_port":%d,' % port in r.stdout


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--user-data-dir=" + tempfile.mkdtemp(prefix="igdd-chromium."),
              "--window-size=1280,1000"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def shot(d, name):
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))


def wait(d, cond, secs=5.0):
    """cond's first true value within secs (a page being replaced is
    looked at again), or None."""
    try:
        return WebDriverWait(d, secs, poll_frequency=0.05, ignored_exceptions=(
            NoSuchElementException, StaleElementReferenceException)).until(cond)
    except TimeoutException:
        return None


def row(d, port):
    """The table row of external port `port`, or None."""
    for _ in range(5):
        try:
            for tr in d.find_elements(By.CSS_SELECTOR, "#maps tbody tr"):
                cells = tr.find_elements(By.TAG_NAME, "td")
                if len(cells) > 2 and cells[2].text == str(port):
                    return tr
            return None
        except StaleElementReferenceException:
            time.sleep(0.05)
    return None


def login(d):
    d.get(BASE + "/")
    result(d.current_url == BASE + "/login" and
           d.find_element(By.CSS_SELECTOR, "label[for=password]").text == "Password",
           "the page without a session leads to the login form", d.current_url)
    shot(d, "01-login")
    d.find_element(By.ID, "password").send_keys("not the password")
    d.find_element(By.ID, "login-button").click()
    msg = wait(d, lambda x: x.find_element(By.ID, "err-form").text)
    result(msg == "Wrong password.", "a wrong password: said on the login page", msg)
    shot(d, "02-login-wrong")
    d.find_element(By.ID, "password").send_keys(E["ADMIN_PASSWORD"])
    d.find_element(By.ID, "login-button").click()
    ok = wait(d, lambda x: "Live" in x.find_element(By.ID, "live").text)
    result(ok and d.current_url == BASE + "/", "logged in: the page, live", d.current_url)
    shot(d, "03-page")
    dl = d.find_element(By.ID, "status-list").text
    result(all(w in dl for w in ("1.2.3.4 (ext_ip in the configuration)", "Link", "Uptime",
                                 "Requests", "UPnP ")),
           "the status block: the external address and how it was learnt, link, uptime, "
           "counters", dl)


def upnp_row(d):
    r = sh('upnpc -u "%s/rootDesc.xml" -e "game console" -a "%s" 9700 8700 UDP' %
           (E["UPNP_BASE"], E["C1"]))
    t0 = time.monotonic()
    ok = wait(d, lambda x: row(x, 8700), 3.0)
    took = time.monotonic() - t0
    result(ok is not None and took <= 2.0,
           "a mapping made by upnpc appears in the table in %.2f s (at most 2)" % took,
           r.stdout + r.stderr)
    if ok is None:
        return
    cells = [td.text for td in row(d, 8700).find_elements(By.TAG_NAME, "td")]
    result(cells[0] == "UPnP" and cells[1] == "UDP" and
           cells[3] == "client-one (%s)" % E["C1"] and cells[4] == "9700" and
           cells[6] == "game console" and cells[7] != "permanent",
           "... its source, protocol, host name from the DHCP leases, port, description, lease",
           cells)
    shot(d, "04-upnpc-mapping")


def timing(d):
    """The browser's view of its last requests (what waited, and where)."""
    return "\n".join("%(name)s start %(startTime).0f ms, request sent %(requestStart).0f, "
                     "answer %(responseStart).0f-%(responseEnd).0f" % e for e in d.execute_script(
                         "return performance.getEntriesByType('resource').slice(-8)"
                         ".map(function (e) { return e.toJSON(); })"))


def fill(d, fields):
    for k, v in fields.items():
        e = d.find_element(By.ID, k)
        if k == "protocol":
            Select(e).select_by_value(v)
        else:
            e.clear()
            e.send_keys(v)
    d.find_element(By.ID, "add-button").click()


def add_forward(d):
    for f in ("protocol", "external_port", "internal_client", "internal_port", "description",
              "lease"):
        lab = d.find_elements(By.CSS_SELECTOR, "label[for=%s]" % f)
        result(len(lab) == 1 and lab[0].text, "the form's field %s has a label (%s)" %
               (f, lab[0].text if lab else "none"))
    fill(d, {"protocol": "tcp", "external_port": "8500", "internal_client": E["C2"],
             "internal_port": "9500", "description": MARKUP, "lease": ""})
    t0 = time.monotonic()
    ok = wait(d, lambda x: row(x, 8500), 5.0)
    took = time.monotonic() - t0
    ok = ok and wait(d, lambda x: "Added TCP 8500" in x.find_element(By.ID, "add-done").text)
    result(ok, "the form adds TCP 8500 -> %s:9500: a new row in %.2f s" % (E["C2"], took),
           "" if ok else timing(d))
    if ok is None:
        return
    tds = row(d, 8500).find_elements(By.TAG_NAME, "td")
    result(tds[0].text == "Manual" and tds[7].text == "permanent",
           "... a permanent manual forward", [t.text for t in tds])
    html = tds[6].get_attribute("innerHTML")
    result(tds[6].text == MARKUP and "&lt;img" in html and
           not d.find_elements(By.ID, "pwned") and d.title != "pwned",
           "... its description's markup shown as text, never made an element", html)
    result(has_mapping(8500), "... igddctl list has it")
    result(reach(8500, "tok-browser"), "... it carries traffic from the outside host to c2")
    # the packet counter comes with a later update of the page: wait for it
    def counted(x):
        r = row(x, 8500)
        return r is not None and int(r.find_elements(By.TAG_NAME, "td")[8].text or 0) > 0
    wait(d, counted, 20.0)
    tds = row(d, 8500).find_elements(By.TAG_NAME, "td")
    result(int(tds[8].text or 0) > 0, "... and its packets are counted in the table (%s)" %
           tds[8].text)
    shot(d, "05-forward-added")


def bad_values(d):
    n = len(d.find_elements(By.CSS_SELECTOR, "#maps tbody tr"))
    fill(d, {"external_port": "99999", "internal_client": "<b>not-an-address</b>",
             "internal_port": "80", "description": "x" * 300})
    ok = wait(d, lambda x: x.find_element(By.ID, "err-external_port").text)
    ep = d.find_element(By.ID, "err-external_port").text
    ic = d.find_element(By.ID, "err-internal_client").text
    de = d.find_element(By.ID, "err-description").text
    result(ok and "1 to 65535" in ep and
           d.find_element(By.ID, "external_port").get_attribute("aria-invalid") == "true",
           "a bad port: its error beside the field (%s)" % ep)
    result("'<b>not-an-address</b>' is not an IPv4 address" in ic and
           not d.find_elements(By.CSS_SELECTOR, "#err-internal_client b"),
           "a bad address: its error beside the field, the markup quoted as text (%s)" % ic)
    result("at most 255 bytes" in de, "a 300-byte description: its error (%s)" % de)
    result(len(d.find_elements(By.CSS_SELECTOR, "#maps tbody tr")) == n and not has_mapping(99999),
           "... nothing added")
    shot(d, "06-form-errors")
    fill(d, {"protocol": "udp", "external_port": "8700", "internal_client": E["C2"],
             "internal_port": "9500", "description": "taken"})
    ep = wait(d, lambda x: "already mapped" in x.find_element(By.ID, "err-external_port").text
              and x.find_element(By.ID, "err-external_port").text)
    tr = row(d, 8700)
    cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")] if tr else [""] * 4
    result(ep and not d.find_element(By.ID, "err-internal_client").text and
           cells[3] == "client-one (%s)" % E["C1"],
           "upnpc's UDP 8700 again: 'in use' beside the port, upnpc's mapping kept (%s)" % ep,
           cells)
    shot(d, "06b-form-conflict")
    Select(d.find_element(By.ID, "protocol")).select_by_value("tcp")
    fill(d, {"external_port": "8600", "internal_client": E["C2"], "internal_port": "9500",
             "description": "ok"})
    wait(d, lambda x: row(x, 8600), 3.0)
    result(not d.find_element(By.ID, "err-external_port").text and row(d, 8600) is not None,
           "fixed: the errors go, the forward is added")


def confirm_dialog(d, accept):
    try:
        a = WebDriverWait(d, 3).until(lambda x: x.switch_to.alert)
    except TimeoutException:
        return None
    text = a.text
    a.accept() if accept else a.dismiss()
    return text


def delete(d):
    tr = row(d, 8500)
    tr.find_element(By.XPATH, ".//button[text()='Delete']").click()
    text = confirm_dialog(d, False)
    time.sleep(0.5)
    result(text is not None and "Delete the mapping TCP 8500" in text and
           row(d, 8500) is not None and has_mapping(8500),
           "Delete asks first; dismissed, the mapping stays", text)
    row(d, 8500).find_element(By.XPATH, ".//button[text()='Delete']").click()
    text = confirm_dialog(d, True)
    gone = wait(d, lambda x: row(x, 8500) is None, 3.0)
    result(gone and not has_mapping(8500), "confirmed: the row and the mapping are gone")
    result(not reach(8500, "tok-browser"), "... and the traffic from outside stops")
    shot(d, "07-deleted")


def reach6(port, token):
    r = sh('ip netns exec "%s" "%s" connect tcp "%s" %d 1500' %
           (E["NS_OUT"], E["PROBE"], E["C1_6"], port))
    return r.stdout.strip() == token


def pin_row(d):
    for tr in d.find_elements(By.CSS_SELECTOR, "#maps tbody tr"):
        cells = tr.find_elements(By.TAG_NAME, "td")
        if len(cells) > 3 and cells[0].text == "UPnP (IPv6)" and E["C1_6"] in cells[3].text:
            return tr
    return None


def pinhole(d):
    r = sh('timeout 20 upnpc -6 -u "%s/rootDesc.xml" -A "" 0 "%s" 9200 TCP 600' %
           (E["UPNP_BASE"], E["C1_6"]))
    ok = wait(d, pin_row, 3.0)
    result(ok is not None, "an IPv6 pinhole upnpc -6 opens is a row of the table",
           r.stdout + r.stderr)
    if ok is None:
        return
    cells = [td.text for td in pin_row(d).find_elements(By.TAG_NAME, "td")]
    result(cells[1] == "TCP" and cells[2] == "9200" and cells[4] == "9200",
           "... its protocol and port", cells)
    result(reach6(9200, "tok-pin"), "... traffic from outside reaches c1 over IPv6")
    shot(d, "08-pinhole")
    pin_row(d).find_element(By.XPATH, ".//button[text()='Delete']").click()
    text = confirm_dialog(d, True)
    gone = wait(d, lambda x: pin_row(x) is None, 3.0)
    result(text is not None and "pinhole" in text and gone,
           "Delete on it (confirmed): the row is gone", text)
    result(not reach6(9200, "tok-pin"), "... and the IPv6 traffic is refused again")


def phone(d):
    d.set_window_size(390, 844)
    time.sleep(0.3)
    w = d.execute_script("return document.documentElement.scrollWidth")
    lab = d.execute_script(
        "var td = document.querySelector('#maps tbody td');"
        "return td ? getComputedStyle(td, '::before').content : ''")
    result(w <= 390 and "Source" in lab,
           "on a phone's width: no sideways scrolling (%d px), cells labelled" % w, lab)
    shot(d, "09-phone")
    d.set_window_size(1280, 1000)


def logout(d):
    sid = d.get_cookie("igdd_sid")["value"]
    d.find_element(By.ID, "logout").click()
    ok = wait(d, lambda x: x.current_url == BASE + "/login")
    result(ok and d.get_cookie("igdd_sid") is None, "Log out: the login page, the cookie gone")
    shot(d, "10-logged-out")
    d.get(BASE + "/")
    result(d.current_url == BASE + "/login", "the page again: the login")
    c = http.client.HTTPConnection(E["ADMIN_HOST"], int(E["ADMIN_PORT"]), timeout=5)
    c.request("GET", "/api/state", headers={"Cookie": "igdd_sid=" + sid})
    st = c.getresponse().status
    result(st == 401, "the old session id: 401 (%s)" % st)


def console(d):
    # answers 4xx are the page's own doing (refused forms); anything else is not
    bad = [e for e in d.get_log("browser") if e["level"] == "SEVERE" and
           "Failed to load resource" not in e["message"]]
    result(not bad, "the console has no error (no CSP violation)", bad)


def main():
    d = browser()
    try:
        login(d)
        upnp_row(d)
        add_forward(d)
        bad_values(d)
        delete(d)
        if E.get("C1_6"):
            pinhole(d)
        phone(d)
        console(d)
        logout(d)
    finally:
        d.quit()
    sys.exit(1 if failed else 0)


main()
