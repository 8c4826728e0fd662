#!/usr/bin/env python3
"""Browser tests of the customer portal (/portal) and the operator console (/console).

Assumes the local stack is up (`scripts/up --no-demo`). Drives Debian's headless Chromium
through Debian's chromedriver (explicit paths: nothing is downloaded), runs a verifying receiver
of its own on 127.0.0.2 (the one private address the local stack allows), and prints one line per
scenario. Screenshots of every main screen go to target/browser/. Exit status 1 if any fails.

Environment: HOOKRELAY_API (default http://127.0.0.1:9000/lambda-url/ingest),
HOOKRELAY_ADMIN_KEY (default local-admin-key).
"""

import json
import os
import re
import secrets
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch anything

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402
from standardwebhooks.webhooks import Webhook, WebhookVerificationError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
API = os.environ.get("HOOKRELAY_API", "http://127.0.0.1:9000/lambda-url/ingest").rstrip("/")
ADMIN_KEY = os.environ.get("HOOKRELAY_ADMIN_KEY", "local-admin-key")
OUT = ROOT / "target" / "browser"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("HOOKRELAY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOOKRELAY_CHROMEDRIVER", "/usr/bin/chromedriver")
RECEIVER_HOST = "127.0.0.2"
ASSET_BUDGET = 150 * 1024
XSS_PAYLOAD = '<img src=x onerror="window.__xss=1">'
XSS_EXCERPT = "<script>window.__xss=2</script>"
XSS_DESCRIPTION = 'Orders <b>bold</b> <img src=x onerror="window.__xss=3">'


# ------------------------------------------------------------------ the API, as the SaaS uses it
def call(method, path, body=None, key=ADMIN_KEY, expect=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{API}/{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    parsed = json.loads(raw) if raw else None
    if expect is not None and status not in expect:
        raise AssertionError(f"{method} {path}: HTTP {status} {raw[:300]!r}")
    return status, parsed


def portal_link(tenant, ttl):
    """A portal link, opened at the API base this test reaches (the token is in the fragment)."""
    _, session = call("POST", f"v1/tenants/{tenant}/portal-sessions", {"ttl_seconds": ttl}, expect=(201,))
    url = session["url"]
    assert "#" in url and "/portal" in url, "the link keeps its token in the fragment"
    return f"{API}/portal#{url.split('#', 1)[1]}", session["expires_at"]


# ------------------------------------------------------------------ the verifying receiver
class Receiver:
    """Takes deliveries on 127.0.0.2; verifies each with the official Standard Webhooks library
    against the secret the page showed. `failing` makes it answer 500 with markup in the body."""

    def __init__(self):
        self.secret = None
        self.failing = False
        self.received = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified, error = None, None
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError as e:
                        verified, error = False, str(e)
                with receiver.lock:
                    receiver.received.append({"id": headers.get("webhook-id"), "body": body,
                                              "verified": verified, "error": error})
                status, answer = (500, XSS_EXCERPT) if receiver.failing else (200, "ok")
                raw = answer.encode()
                self.send_response(status)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer((RECEIVER_HOST, 0), Handler)
        self.url = f"http://{RECEIVER_HOST}:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of_event(self, event_id):
        with self.lock:
            return [r for r in self.received if r["id"] == event_id]


# ------------------------------------------------------------------ the browser
def browser(width=1280, height=800):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
                "--disable-default-apps", "--disable-extensions", "--lang=en-US",
                # Names never resolve: nothing but the loopback addresses used here is reachable.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE 127.0.0.2"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_window_size(width, height)
    driver.set_script_timeout(30)
    return driver


def wait(driver, cond, timeout=20, what="the page"):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2,
                             ignored_exceptions=[StaleElementReferenceException]).until(lambda d: cond(d))
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}") from None


def wait_refreshing(driver, cond, what, timeout=45):
    """Waits for `cond`, clicking the screen's Refresh button meanwhile (as a user would)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = cond(driver)
        except Exception:  # a redraw between find and read
            found = None
        if found:
            return found
        click_button(driver, "Refresh", required=False)
        wait(driver, lambda d: d.execute_script(
            "return !document.querySelector('[aria-busy=\"true\"]')"), 10, "the refresh")
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def h1(driver):
    return wait(driver, lambda d: d.execute_script("const e = document.querySelector('main h1'); return e && e.textContent"),
                what="a heading")


def reload(driver):
    """A reload, as a person presses F5. Chromium aborts a reload that meets the page's own
    navigation (a hash change at start-up); that one is retried once as a plain load."""
    try:
        driver.refresh()
    except TimeoutException:
        driver.get(driver.current_url)


def wait_h1(driver, text, timeout=20):
    return wait(driver, lambda d: text in (d.execute_script(
        "const e = document.querySelector('main h1'); return e ? e.textContent : ''") or ""), timeout, f"the heading {text!r}")


def buttons(driver, label):
    return [b for b in driver.find_elements(By.CSS_SELECTOR, "button, a.btn")
            if b.text.strip() == label and b.is_displayed()]


def click_button(driver, label, required=True, timeout=15):
    if not required:
        found = buttons(driver, label)
        try:
            if found:
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", found[0])
                found[0].click()
        except StaleElementReferenceException:
            return False
        return bool(found)
    for _ in range(3):  # a screen may redraw between finding the button and clicking it
        b = wait(driver, lambda d: next((x for x in buttons(d, label) if x.is_enabled()), None),
                 timeout, f"the button {label!r}")
        try:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", b)
            b.click()
            return True
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"the button {label!r} kept being redrawn")


def click(driver, element):
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def confirm(driver, label):
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "dialog[open]"), 10, "the confirmation")
    dialog = driver.find_element(By.CSS_SELECTOR, "dialog[open]")
    next(b for b in dialog.find_elements(By.TAG_NAME, "button") if b.text == label).click()


STYLED = ("return [...document.styleSheets].some(s => { try { return s.href && s.href.includes('ui/app.css')"
          " && s.cssRules.length > 50; } catch (e) { return false; } })"
          " && getComputedStyle(document.querySelector('.topbar') || document.body).display !== 'inline'")


def screenshot(driver, name):
    """A picture of the screen as a person sees it: the page's own stylesheet must be applied
    (a page drawn without it fails here rather than being saved as if it were the product)."""
    OUT.mkdir(parents=True, exist_ok=True)
    if not driver.execute_script(STYLED):
        # Seen locally only: `cargo lambda watch` runs one invocation at a time and now and then
        # answers one of a page's parallel asset requests with a 500 the function never saw.
        print(f"     note: {name}: the stylesheet did not arrive; reloading once", flush=True)
        reload(driver)
        wait(driver, lambda d: d.execute_script(STYLED), 15, f"the stylesheet applied on {name}")
    driver.execute_script("window.scrollTo(0, 0); document.querySelectorAll('.toast').forEach(t => t.remove())")
    time.sleep(0.3)  # let the last paint land (no condition to wait for: it is a picture)
    driver.save_screenshot(str(OUT / f"{name}.png"))


def axe(driver, screen):
    """axe-core in the page: no serious or critical violation."""
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe on {screen}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in bad)
    return [v for v in result if v not in bad]


def xss_fired(driver):
    return driver.execute_script("return window.__xss")


def session_token(driver):
    raw = driver.execute_script("return sessionStorage.getItem('hookrelay.portal.session')")
    return json.loads(raw)["session_token"] if raw else None


def page_fetch(driver, path):
    """A fetch from the page's own JS, with the portal's session as the bearer."""
    return driver.execute_async_script(
        "const [path, done] = [arguments[0], arguments[arguments.length - 1]];"
        "const s = JSON.parse(sessionStorage.getItem('hookrelay.portal.session') || '{}');"
        "fetch(path, {headers: {Authorization: 'Bearer ' + s.session_token}})"
        ".then(async r => done({status: r.status, body: await r.text()}))"
        ".catch(e => done({status: 0, body: String(e)}));", path)


# ------------------------------------------------------------------ the scenarios
class Run:
    """What the scenarios share: tenants, the receiver, the browser and what the page made."""

    def __init__(self):
        suffix = secrets.token_hex(3)
        self.tenant = f"ui-{suffix}"
        self.other = f"ui-{suffix}-b"
        self.receiver = Receiver()
        self.driver = None
        self.endpoint_id = None
        self.endpoint_url = None
        self.failed_delivery = None
        self.notes = []
        self.console_problems = []

    def drain_console(self):
        """CSP violations and uncaught errors from the browser's console so far."""
        for entry in self.driver.get_log("browser"):
            msg = entry.get("message", "")
            if "Content Security Policy" in msg or "Uncaught" in msg or "Refused to" in msg:
                self.console_problems.append(msg[:300])

    def no_csp_violation_or_script_error(self):
        self.drain_console()
        assert not self.console_problems, " | ".join(self.console_problems[:5])

    def console_tenant_form(self):
        d = self.driver
        # A signed-out console: storage cleared, then a fresh load (a refresh right after a load
        # can race the page's own start-up navigation and be aborted by Chromium).
        d.get(f"{API}/console")
        d.execute_script("sessionStorage.clear()")
        d.get(f"{API}/console?signed-out=1")
        wait_h1(d, "Sign in")
        d.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(ADMIN_KEY, Keys.ENTER)
        wait_h1(d, "Tenants")
        click_button(d, "New tenant")
        wait_h1(d, "New tenant")
        new_id = f"{self.tenant}-c"
        field = lambda label: d.find_element(By.XPATH, f"//label[starts-with(normalize-space(), '{label}')]/following-sibling::input")  # noqa: E731
        field("Tenant ID").send_keys(new_id)
        field("Name").send_keys("Made in the console")
        click_button(d, "Create tenant")
        wait_h1(d, "Made in the console")
        click_button(d, "Edit tenant")
        wait_h1(d, "Edit tenant")
        name = wait(d, lambda d: (e := field("Name")) and e.get_attribute("value") == "Made in the console" and e, 10, "the tenant's name")
        name.clear()
        name.send_keys("Renamed in the console")
        click_button(d, "Save tenant")
        wait_h1(d, "Renamed in the console")
        _, t = call("GET", f"v1/tenants/{new_id}", expect=(200,))
        assert t["name"] == "Renamed in the console"

    def setup(self):
        # Failed deliveries are not retried on a schedule here (one attempt), so "failed" is
        # reached at once and the page's retry and recover are what brings them back.
        call("PUT", f"v1/tenants/{self.tenant}", {"name": "Acme Analytics", "defaults": {"retry_schedule_seconds": []}},
             expect=(200, 201))
        call("PUT", f"v1/tenants/{self.other}", {"name": "Other Company"}, expect=(200, 201))
        for name, desc, example in [
            ("invoice.paid", "An invoice was paid in full.", {"invoice_id": "inv_1042", "amount": 12900, "currency": "EUR"}),
            ("invoice.refunded", "A payment was refunded, fully or in part.", {"invoice_id": "inv_1042", "refund": 2500}),
            ("customer.created", "A customer account was created.", {"customer_id": "cus_77", "plan": "team"}),
        ]:
            call("PUT", f"v1/event-types/{name}", {"description": desc, "schema": {"type": "object"}, "example": example},
                 expect=(200, 201))
        # Two more endpoints of tenant A, on the receiver's address, for events this run never sends
        # (so the lists look like a customer's; nothing is delivered to them).
        base = self.receiver.url.rsplit("/", 1)[0]
        call("POST", f"v1/tenants/{self.tenant}/endpoints",
             {"url": f"{base}/crm/sync", "event_types": ["customer.created"], "description": "CRM sync (staging)"}, expect=(201,))
        call("POST", f"v1/tenants/{self.tenant}/endpoints",
             {"url": f"{base}/legacy/refunds", "event_types": ["invoice.refunded"], "description": "Old refunds hook",
              "enabled": False}, expect=(201,))
        _, other_ep = call("POST", f"v1/tenants/{self.other}/endpoints",
                           {"url": self.receiver.url, "event_types": ["*"], "description": "tenant B's"}, expect=(201,))
        self.other_endpoint = other_ep["id"]
        self.driver = browser()

    # -- portal
    def open_portal_link(self):
        d = self.driver
        link, _ = portal_link(self.tenant, 3600)
        d.get(link)
        wait_h1(d, "Webhooks")
        href = d.execute_script("return location.href")
        token = link.split("token=", 1)[1]
        assert token not in href and "token" not in href, "the token is gone from the address bar"
        assert d.execute_script("return document.cookie") == "", "no cookie"
        assert d.get_cookies() == [], "no cookie in the browser"
        assert session_token(d), "the session is in sessionStorage"
        reload(d)
        wait_h1(d, "Webhooks")
        assert d.find_elements(By.XPATH, "//*[normalize-space()='Add endpoint']"), "a reload keeps the session"

    def portal_sign_out(self):
        d = self.driver
        link, _ = portal_link(self.tenant, 600)
        d.get(link)
        wait_h1(d, "Webhooks")
        token = session_token(d)
        assert call("GET", f"v1/tenants/{self.tenant}", key=token)[0] == 200, "the session works"
        click_button(d, "Sign out")
        wait_h1(d, "You signed out")
        assert session_token(d) is None, "the session left sessionStorage"
        assert call("GET", f"v1/tenants/{self.tenant}", key=token)[0] == 401, "the server ended it too"

    def create_endpoint_from_the_form(self):
        d = self.driver
        click_button(d, "Add endpoint")
        wait_h1(d, "Add endpoint")
        screenshot(d, "portal-create-form")
        axe(d, "create form")
        form = d.find_element(By.TAG_NAME, "form")
        url = form.find_element(By.CSS_SELECTOR, "input[type=url]")
        # a 422 from the API shows next to the field it names
        url.send_keys("ftp://nowhere.invalid/x")
        d.find_element(By.XPATH, "//label[.//span[normalize-space()='invoice.paid']]").click()
        click_button(d, "Create endpoint")
        err = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".field-error"), 10, "the field error")[0]
        assert err.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "input[type=url]"), "error next to the URL"
        assert url.get_attribute("aria-invalid") == "true"
        url.clear()
        url.send_keys(self.receiver.url)
        d.find_element(By.XPATH, "//label[normalize-space()='Description (optional)']/following-sibling::input").send_keys(XSS_DESCRIPTION)
        click_button(d, "Create endpoint")
        wait(d, lambda d: "/endpoints/ep_" in d.current_url, 15, "the endpoint page")
        self.endpoint_id = re.search(r"/endpoints/(ep_[^/?#]+)", d.current_url).group(1)
        wait_h1(d, self.receiver.url)
        main = d.find_element(By.TAG_NAME, "main").text
        assert XSS_DESCRIPTION in main, "the description with markup shows as text"
        assert "invoice.paid" in main

    def secret_verifies_what_the_receiver_gets(self):
        d = self.driver
        secret_el = d.find_element(By.ID, "endpoint-secret")
        assert "whsec_" in secret_el.text and "•" in secret_el.text, "hidden by default"
        click_button(d, "Show")
        wait(d, lambda d: "•" not in secret_el.text, 5, "the secret")
        self.receiver.secret = secret_el.text.strip()
        _, ep = call("GET", f"v1/tenants/{self.tenant}/endpoints/{self.endpoint_id}", expect=(200,))
        assert ep["secret"] == self.receiver.secret, "the page shows the endpoint's secret"
        click_button(d, "Hide")
        wait(d, lambda d: "•" in secret_el.text, 5, "the secret hidden again")

    def send_test_event(self, event_type="invoice.paid"):
        d = self.driver
        Select(d.find_element(By.XPATH, "//label[normalize-space()='Event type']/following-sibling::select")).select_by_value(event_type)
        before = d.execute_script("const r = document.querySelector('.result[role=status] .alert'); return r ? r.textContent : ''")
        click_button(d, "Send test event")
        text = wait(d, lambda d: next((e.text for e in d.find_elements(By.CSS_SELECTOR, ".alert-ok, .alert-error")
                                        if e.text and e.text != before), None), 15, "the test event's result")
        m = re.search(r"(evt_\w+)", text)
        assert m, f"the test event was not sent: {text}"
        return m.group(1)

    def delivery_row(self, event_id):
        rows = self.driver.find_elements(By.CSS_SELECTOR, f"tr[data-event='{event_id}']")
        return rows[0] if rows else None

    def row_status(self, event_id):
        return self.driver.execute_script(
            "const p = document.querySelector(`tr[data-event='${arguments[0]}'] .pill`); return p && p.textContent", event_id)

    def test_event_is_delivered(self):
        d = self.driver
        event_id = self.send_test_event()
        wait(d, lambda _: self.receiver.of_event(event_id), 30, "the receiver to get the test event")
        got = self.receiver.of_event(event_id)[0]
        assert got["verified"] is True, f"the secret shown verifies the delivery: {got['error']}"
        assert json.loads(got["body"]) == {"invoice_id": "inv_1042", "amount": 12900, "currency": "EUR"}, "the catalog's example"
        wait_refreshing(d, lambda _: self.row_status(event_id) == "Delivered", "the test event Delivered in Events")

    def failure_then_retry_from_the_page(self):
        d = self.driver
        self.receiver.failing = True
        event_id = self.send_test_event()
        wait_refreshing(d, lambda _: self.row_status(event_id) in ("Failed", "Pending") and self.receiver.of_event(event_id),
                        "the failed test event in Events")
        wait_refreshing(d, lambda _: self.row_status(event_id) == "Failed", "the delivery to be Failed (no retries here)")
        click(d, self.delivery_row(event_id).find_element(By.CSS_SELECTOR, "a"))
        wait(d, lambda d: "/deliveries/dlv_" in d.current_url, 10, "the delivery page")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "li.attempt"), 15, "the attempts")
        main = d.find_element(By.TAG_NAME, "main").text
        assert XSS_EXCERPT in main, "the response excerpt with a <script> shows as text"
        assert "HTTP 500" in main
        assert xss_fired(d) is None
        self.receiver.failing = False
        click_button(d, "Retry now")
        wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "li.attempt")) >= 2, 45, "the new attempt")
        newest = d.find_elements(By.CSS_SELECTOR, "li.attempt")[0]
        assert newest.get_attribute("data-outcome") == "delivered", newest.text
        assert "Manual retry" in newest.text and "#2" in newest.text
        wait(d, lambda d: "Delivered" in d.find_element(By.CSS_SELECTOR, ".title-meta .pill").text, 15, "Delivered")
        assert len(self.receiver.of_event(event_id)) == 2
        screenshot(d, "portal-delivery-detail")

    def recover_failed_deliveries(self):
        d = self.driver
        d.get(f"{API}/portal#/endpoints/{self.endpoint_id}")
        wait_h1(d, self.receiver.url)
        self.receiver.failing = True
        event_id = self.send_test_event("invoice.paid")
        wait_refreshing(d, lambda _: self.row_status(event_id) == "Failed", "a failed delivery to recover")
        self.receiver.failing = False
        since = d.find_element(By.XPATH, "//label[normalize-space()='Failed since']/following-sibling::input")
        # one hour ago, typed as the user's local time
        d.execute_script(
            "const t = new Date(Date.now() - 3600e3); const p = n => String(n).padStart(2, '0');"
            "arguments[0].value = `${t.getFullYear()}-${p(t.getMonth()+1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;", since)
        click_button(d, "Recover")
        job = wait(d, lambda d: next((j for j in d.find_elements(By.CSS_SELECTOR, ".job") if j.get_attribute("data-status") == "done"), None),
                   60, "the recovery job to be done")
        m = re.search(r"Done: (\d+) deliver\w+ checked, (\d+) put back", job.text)
        assert m, job.text
        assert int(m.group(2)) >= 1, f"the failed delivery was put back: {job.text}"
        wait(d, lambda _: len(self.receiver.of_event(event_id)) >= 2, 45, "the recovered delivery at the receiver")
        wait_refreshing(d, lambda _: self.row_status(event_id) == "Delivered", "the recovered delivery Delivered")

    def filter_and_paging(self):
        d = self.driver
        self.receiver.failing = True
        _, failed = call("POST", f"v1/tenants/{self.tenant}/events",
                         {"event_type": "invoice.paid", "payload": {"invoice_id": "inv_f"}}, expect=(202,))
        failed_event = failed["id"]
        wait(d, lambda _: self.receiver.of_event(failed_event), 30, "the failing delivery's attempt")
        self.receiver.failing = False
        for i in range(22):
            call("POST", f"v1/tenants/{self.tenant}/events",
                 {"event_type": "invoice.paid", "payload": {"invoice_id": f"inv_p{i}"}}, expect=(202,))
        d.get(f"{API}/portal#/endpoints/{self.endpoint_id}")
        wait_h1(d, self.receiver.url)
        rows = lambda: d.execute_script("return document.querySelectorAll('tr[data-event]').length")  # noqa: E731
        wait(d, lambda _: rows() == 20, 15, "the first page of 20")
        wait(d, lambda d: buttons(d, "Load more"), 10, "Load more")
        click_button(d, "Load more")
        wait(d, lambda _: rows() > 20, 15, "the next page appended")
        status = Select(d.find_element(By.XPATH, "//label[normalize-space()='Status']/following-sibling::select"))
        pills = lambda: set(d.execute_script(  # noqa: E731
            "return [...document.querySelectorAll('tr[data-event] .pill')].map(p => p.textContent)"))
        status.select_by_value("failed")
        wait_refreshing(d, lambda _: self.row_status(failed_event) == "Failed" and pills() == {"Failed"},
                        "only failed deliveries, the new one among them")
        status.select_by_value("delivered")
        wait(d, lambda _: self.row_status(failed_event) is None and pills() == {"Delivered"}, 15, "only delivered ones")

    def payload_markup_is_inert(self):
        d = self.driver
        _, evt = call("POST", f"v1/tenants/{self.tenant}/events",
                      {"event_type": "invoice.paid", "payload": {"note": XSS_PAYLOAD, "invoice_id": "inv_x"}}, expect=(202,))
        dlv = evt["deliveries"][0]["id"]
        d.get(f"{API}/portal#/deliveries/{dlv}")
        pre = wait(d, lambda d: d.find_elements(By.ID, "payload"), 15, "the payload")[0]
        assert XSS_PAYLOAD.replace('"', '\\"') in pre.text, pre.text
        assert not d.find_elements(By.CSS_SELECTOR, "main img"), "no element made from the payload"
        wait_refreshing(d, lambda d: "Delivered" in d.find_element(By.CSS_SELECTOR, ".title-meta .pill").text,
                        "the delivery delivered")
        screenshot(d, "portal-delivery-payload")
        d.get(f"{API}/portal#/")
        wait(d, lambda d: XSS_DESCRIPTION in d.find_element(By.TAG_NAME, "main").text, 10, "the description as text")
        assert xss_fired(d) is None, "window.__xss stays undefined"

    def tenant_a_cannot_read_tenant_b(self):
        d = self.driver
        for path in (f"v1/tenants/{self.other}/endpoints", f"v1/tenants/{self.other}",
                     f"v1/tenants/{self.other}/endpoints/{self.other_endpoint}"):
            r = page_fetch(d, path)
            assert r["status"] == 404, f"{path}: {r['status']}"
        assert page_fetch(d, f"v1/tenants/{self.tenant}/endpoints")["status"] == 200
        d.get(f"{API}/portal#/endpoints/{self.other_endpoint}")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".alert-error"), 10, "the not-found message")

    def link_expires_and_works_once(self):
        d = self.driver
        link, expires_at = portal_link(self.tenant, 5)
        until = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        while datetime.now(timezone.utc) <= until:  # the link's own lifetime: nothing to poll
            time.sleep(0.5)
        time.sleep(1)
        d.get(link)
        wait(d, lambda d: d.find_elements(By.ID, "expired"), 15, "the expired screen")
        assert "expired or was already used" in h1(d)
        assert "token" not in d.current_url
        assert d.execute_script("return sessionStorage.getItem('hookrelay.portal.session')") is None
        screenshot(d, "portal-expired")
        axe(d, "expired screen")
        # a used link cannot be exchanged a second time
        link, _ = portal_link(self.tenant, 3600)
        d.get(link)
        wait_h1(d, "Webhooks")
        d.execute_script("sessionStorage.clear()")
        d.get(link)
        wait(d, lambda d: d.find_elements(By.ID, "expired"), 15, "the expired screen for a used link")
        # and any 401 later shows the same screen
        fresh, _ = portal_link(self.tenant, 3600)
        d.get(fresh)
        wait_h1(d, "Webhooks")
        d.execute_script("const s = JSON.parse(sessionStorage.getItem('hookrelay.portal.session'));"
                         "s.session_token = 'not-a-session'; sessionStorage.setItem('hookrelay.portal.session', JSON.stringify(s));")
        reload(d)
        wait(d, lambda d: d.find_elements(By.ID, "expired"), 15, "the expired screen after a 401")

    def keyboard_only_create(self):
        d = self.driver
        link, _ = portal_link(self.tenant, 3600)
        d.get(link)
        wait_h1(d, "Webhooks")
        d.get(f"{API}/portal#/endpoints/new")
        wait_h1(d, "Add endpoint")
        focused = lambda what: d.execute_script(  # noqa: E731
            "const e = document.activeElement; return e ? " + what + " : null")
        keys = lambda *k: ActionChains(d).send_keys(*k).perform()  # noqa: E731
        wait(d, lambda d: focused("e.type") == "url", 10, "focus in the URL field")
        keys(self.receiver.url.replace("/hooks", "/keyboard"))
        for _ in range(30):  # Tab to the patterns field and type a pattern
            keys(Keys.TAB)
            if "patterns" in (focused("(e.labels && e.labels[0] ? e.labels[0].textContent : '')") or ""):
                break
        else:
            raise AssertionError("Tab never reached the patterns field")
        keys("invoice.*")
        for _ in range(10):
            keys(Keys.TAB)
            if focused("e.textContent") == "Create endpoint":
                break
        else:
            raise AssertionError("Tab never reached the submit button")
        outline = d.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", ""), "focus is visible"
        keys(Keys.ENTER)
        wait(d, lambda d: "/endpoints/ep_" in d.current_url, 15, "the endpoint made by keyboard")
        wait(d, lambda d: "invoice.*" in d.find_element(By.TAG_NAME, "main").text, 10, "the pattern")

    def edit_rotate_disable_delete(self):
        d = self.driver
        ep_path = d.current_url.split("#", 1)[1]  # the endpoint made by keyboard
        ep_id = re.search(r"(ep_[^/?#]+)", ep_path).group(1)
        secret = lambda: d.execute_script("return document.getElementById('endpoint-secret').textContent")  # noqa: E731
        click_button(d, "Edit")
        wait_h1(d, "Edit endpoint")
        desc = wait(d, lambda d: d.find_elements(By.XPATH, "//label[normalize-space()='Description (optional)']/following-sibling::input"),
                    10, "the description field")[0]
        assert d.find_element(By.CSS_SELECTOR, "input[type=url]").get_attribute("value").endswith("/keyboard"), "the form is filled in"
        desc.send_keys("Edited from the portal")
        click_button(d, "Save changes")
        wait(d, lambda d: "Edited from the portal" in d.find_element(By.TAG_NAME, "main").text, 15, "the edited description")
        click_button(d, "Show")
        before = wait(d, lambda _: (s := secret()) and "•" not in s and s, 5, "the secret")
        click_button(d, "Rotate secret")
        confirm(d, "Rotate secret")
        wait(d, lambda _: "•" in (secret() or ""), 15, "the page redrawn after rotating")
        click_button(d, "Show")
        after = wait(d, lambda _: (s := secret()) and "•" not in s and s, 5, "the new secret")
        assert after != before and after.startswith("whsec_"), "a new secret"
        click_button(d, "Disable")
        confirm(d, "Disable")
        wait(d, lambda d: buttons(d, "Enable"), 15, "the endpoint disabled")
        _, ep = call("GET", f"v1/tenants/{self.tenant}/endpoints/{ep_id}", expect=(200,))
        assert ep["enabled"] is False and ep["description"] == "Edited from the portal"
        click_button(d, "Enable")
        wait(d, lambda d: buttons(d, "Disable"), 15, "the endpoint enabled again")
        click_button(d, "Delete")
        confirm(d, "Delete endpoint")
        wait_h1(d, "Webhooks")
        assert call("GET", f"v1/tenants/{self.tenant}/endpoints/{ep_id}")[0] == 404

    def main_screens_pass_axe(self):
        d = self.driver
        screens = []
        d.get(f"{API}/portal#/")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "main table tbody tr"), 15, "the endpoints list")
        screenshot(d, "portal-endpoints")
        screens.append(("portal endpoints list", axe(d, "portal endpoints list")))
        d.get(f"{API}/portal#/endpoints/{self.endpoint_id}")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-event]"), 15, "the deliveries")
        screenshot(d, "portal-endpoint-detail")
        screens.append(("endpoint detail", axe(d, "endpoint detail")))
        click(d, d.find_element(By.CSS_SELECTOR, "tr[data-event] a"))
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "li.attempt"), 15, "a delivery")
        screens.append(("delivery detail", axe(d, "delivery detail")))
        d.get(f"{API}/portal#/endpoints/new")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "form input[type=checkbox]"), 15, "the form")
        screens.append(("create form", axe(d, "create form")))
        # the same list on a phone
        narrow = browser(390, 844)
        try:
            link, _ = portal_link(self.tenant, 600)
            narrow.get(link)
            wait(narrow, lambda d: d.find_elements(By.CSS_SELECTOR, "main table tbody tr"), 15, "the narrow list")
            screenshot(narrow, "portal-endpoints-narrow")
            screens.append(("portal list, 390 px", axe(narrow, "portal list, 390 px")))
        finally:
            narrow.quit()
        self.notes.append(f"axe: {len(screens)} portal screens, minor/moderate findings: "
                          + str(sum(len(v) for _, v in screens)))

    # -- console
    def console_sign_in_and_screens(self):
        d = self.driver
        d.execute_script("sessionStorage.clear()")
        d.get(f"{API}/console")
        wait_h1(d, "Sign in")
        screenshot(d, "console-sign-in")
        axe(d, "console sign-in")
        key = d.find_element(By.CSS_SELECTOR, "input[type=password]")
        key.send_keys("wrong-key", Keys.ENTER)
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".field-error"), 10, "the refusal")
        key.clear()
        key.send_keys(ADMIN_KEY, Keys.ENTER)
        wait_h1(d, "Tenants")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-id='{self.tenant}']"), 15, "the tenant in the list")
        assert d.get_cookies() == [] and d.execute_script("return document.cookie") == ""
        screenshot(d, "console-tenants")
        axe(d, "console tenants")
        # the catalog
        d.find_element(By.LINK_TEXT, "Event types").click()
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-id='invoice.paid']"), 15, "the catalog")
        screenshot(d, "console-catalog")
        axe(d, "console catalog")
        d.find_element(By.LINK_TEXT, "invoice.paid").click()
        ta = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "textarea"), 10, "the event type form")
        assert json.loads(ta[1].get_attribute("value"))["invoice_id"] == "inv_1042"
        axe(d, "console event type form")
        d.get(f"{API}/console#/event-types/new")
        wait_h1(d, "New event type")
        field = lambda label: d.find_element(By.XPATH, f"//label[starts-with(normalize-space(), '{label}')]/following-sibling::*[1]")  # noqa: E731
        field("Name").send_keys("ui.probe.created")
        field("Description").send_keys("A <i>probe</i> type made by the browser test")
        field("Example payload").send_keys("{not json")
        click_button(d, "Create event type")
        err = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".field-error"), 10, "the JSON error")[0]
        assert "JSON" in err.text and field("Example payload").get_attribute("aria-invalid") == "true"
        field("Example payload").clear()
        field("Example payload").send_keys('{"probe": true}')
        click_button(d, "Create event type")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-id='ui.probe.created']"), 15, "the new type in the catalog")
        assert "A <i>probe</i> type" in d.find_element(By.TAG_NAME, "main").text
        _, et = call("GET", "v1/event-types/ui.probe.created", expect=(200,))
        assert et["example"] == {"probe": True}
        d.find_element(By.LINK_TEXT, "ui.probe.created").click()
        click_button(d, "Delete")
        confirm(d, "Delete event type")
        wait(d, lambda d: not d.find_elements(By.CSS_SELECTOR, "tr[data-id='ui.probe.created']")
             and d.find_elements(By.CSS_SELECTOR, "tr[data-id='invoice.paid']"), 15, "the type gone")
        # the DLQ
        d.find_element(By.LINK_TEXT, "Dead-letter queue").click()
        wait(d, lambda d: re.fullmatch(r"\d+", d.find_element(By.ID, "dlq-depth").text or ""), 15, "the DLQ depth")
        screenshot(d, "console-dlq")
        axe(d, "console DLQ")
        click_button(d, "Redrive all")
        confirm(d, "Redrive")
        wait(d, lambda d: re.search(r"Moved \d+ messages? back", d.find_element(By.TAG_NAME, "main").text), 30, "the redrive's result")
        # a disabled endpoint across tenants
        _, ep = call("POST", f"v1/tenants/{self.other}/endpoints",
                     {"url": self.receiver.url.replace("/hooks", "/disabled"), "event_types": ["invoice.paid"],
                      "description": "Switched off"}, expect=(201,))
        call("PATCH", f"v1/tenants/{self.other}/endpoints/{ep['id']}", {"enabled": False}, expect=(200,))
        d.find_element(By.LINK_TEXT, "Failing & disabled").click()
        wait_h1(d, "Failing")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "main table tbody tr"), 15, "the failing list")
        screenshot(d, "console-failing-endpoints")
        axe(d, "console failing endpoints")
        d.find_element(By.LINK_TEXT, "Disabled").click()
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-id='{ep['id']}']"), 15, "the disabled endpoint")
        screenshot(d, "console-disabled-endpoints")
        axe(d, "console disabled endpoints")
        # a tenant: the portal's screens with the admin key, and a portal link
        d.get(f"{API}/console#/tenants/{self.tenant}")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "main table tbody tr"), 15, "the tenant's endpoints")
        click_button(d, "Copy portal link")
        link = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "input[readonly].mono"), 15, "the portal link")[0]
        assert "/portal#" in link.get_attribute("value")
        screenshot(d, "console-tenant")
        axe(d, "console tenant")
        d.get(f"{API}/console#/tenants/{self.tenant}/endpoints/{self.endpoint_id}")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-event]"), 15, "the tenant's deliveries in the console")
        click_button(d, "Sign out")
        wait_h1(d, "Sign in")
        assert d.execute_script("return sessionStorage.length") == 0

    def asset_budget(self):
        total = {"js": 0, "css": 0, "html": 0}
        seen = set()
        for page in ("portal", "console"):
            with urllib.request.urlopen(f"{API}/{page}", timeout=10) as res:
                html = res.read()
                assert res.headers["content-security-policy"].startswith("default-src 'none'")
            total["html"] += len(html)
            self.driver.get(f"{API}/{page}")
            urls = self.driver.execute_script(
                "return [...document.scripts].map(s => s.src).filter(Boolean)"
                ".concat([...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href))")
            for url in urls:
                if url in seen:
                    continue
                seen.add(url)
                with urllib.request.urlopen(url, timeout=10) as res:
                    body = res.read()
                    kind = "js" if "javascript" in res.headers["content-type"] else "css"
                total[kind] += len(body)
        assert total["js"] and total["css"], total
        assert total["js"] + total["css"] <= ASSET_BUDGET, total
        self.notes.append(f"assets: JS {total['js']} B, CSS {total['css']} B (budget {ASSET_BUDGET} B); "
                          f"HTML {total['html']} B for both pages")


SCENARIOS = [
    ("portal link opens; token leaves the URL; no cookie; reload keeps the session", Run.open_portal_link),
    ("create an endpoint from the form (422 shown at its field; description with markup)", Run.create_endpoint_from_the_form),
    ("the secret the page shows is the endpoint's", Run.secret_verifies_what_the_receiver_gets),
    ("test event verified by the receiver, Delivered in View Events", Run.test_event_is_delivered),
    ("receiver fails -> Failed; retry from the page -> new delivered attempt", Run.failure_then_retry_from_the_page),
    ("recover failed deliveries since a time: job reaches done with totals", Run.recover_failed_deliveries),
    ("View Events: status filter and Load more paging", Run.filter_and_paging),
    ("XSS: payload, response excerpt and description render as text", Run.payload_markup_is_inert),
    ("tenant A's session cannot read tenant B (404)", Run.tenant_a_cannot_read_tenant_b),
    ("links expire, work once, and a 401 shows the expired screen", Run.link_expires_and_works_once),
    ("keyboard only: Tab and Enter create an endpoint", Run.keyboard_only_create),
    ("edit, rotate the secret, disable, enable and delete from the page", Run.edit_rotate_disable_delete),
    ("axe-core: no serious or critical violation on the portal's screens", Run.main_screens_pass_axe),
    ("portal sign-out ends the session on the server", Run.portal_sign_out),
    ("console: sign in, tenants, catalog, DLQ, disabled endpoints, tenant view, axe", Run.console_sign_in_and_screens),
    ("console: create and rename a tenant with its form", Run.console_tenant_form),
    ("asset budget: JS + CSS served <= 150 KB", Run.asset_budget),
    ("no CSP violation or uncaught script error in the browser's console", Run.no_csp_violation_or_script_error),
]


def main():
    if not AXE.exists():
        print(f"axe-core is missing ({AXE}); run scripts/bootstrap", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    run = Run()
    passed, failed = 0, 0
    try:
        run.setup()
    except Exception:
        traceback.print_exc()
        print("FAIL setup: the stack, the API or the browser is not usable")
        if run.driver:
            run.driver.quit()
        return 1
    try:
        for name, scenario in SCENARIOS:
            started = time.monotonic()
            try:
                run.drain_console()
                scenario(run)
                print(f"ok   {name} ({time.monotonic() - started:.1f}s)", flush=True)
                passed += 1
            except Exception as e:
                failed += 1
                print(f"FAIL {name}: {e}", flush=True)
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
                try:
                    screenshot(run.driver, "failure-" + re.sub(r"\W+", "-", name)[:40])
                except Exception:
                    pass
        assert run.driver.execute_script("return window.__xss") is None
    finally:
        run.driver.quit()
        run.receiver.server.shutdown()
    for note in run.notes:
        print(f"     {note}")
    print(f"browser: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
