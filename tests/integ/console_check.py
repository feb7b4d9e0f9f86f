#!/usr/bin/env python3
"""Drives the web console in a real headless Chromium through chromedriver's
WebDriver HTTP API (no client library), for tests/integ/test_console.c.

    console_check.py BASE_URL USER TOKEN DONE_CAMPAIGN LIVE_CAMPAIGN SCREENSHOT.png

Signs in, checks that the figures the page shows equal the control API's
(the finished campaign's stats and the campaign list), clicks Pause on the
live campaign and waits for the page and the API to say paused, checks the
dead letters are listed with a Replay button, and saves a screenshot.
Prints "console: OK" and exits 0, or the first difference and exits 1.
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BASE, USER, TOKEN, DONE, LIVE, SHOT = sys.argv[1:7]
AUTH = "Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()


def api(path, method="GET", body=None):
    req = urllib.request.Request(BASE + path, method=method, headers={"Authorization": AUTH})
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class WebDriver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.sid = None

    def call(self, method, path, body=None):
        url = self.base + (f"/session/{self.sid}" if self.sid else "") + path
        req = urllib.request.Request(url, method=method)
        if body is not None or method == "POST":
            req.data = json.dumps(body or {}).encode()
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.load(r)["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"webdriver {method} {path}: {e.read().decode()[:500]}")

    def find(self, css):
        el = self.call("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(el.values()))

    def click(self, css, tries=20):
        """Finds css and clicks it; the page re-renders on every refresh, so an
        element found just before a refresh is stale: find it again."""
        for i in range(tries):
            try:
                return self.call("POST", f"/element/{self.find(css)}/click")
            except RuntimeError as e:
                if "stale element" not in str(e) or i == tries - 1:
                    raise
                time.sleep(0.1)

    def text(self, css):
        return self.call("GET", f"/element/{self.find(css)}/text")

    def wait(self, what, fn, timeout=45):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            try:
                v = fn()
                if v:
                    return v
            except RuntimeError as e:
                last = e
            time.sleep(0.2)
        fail(f"timed out waiting for {what} ({last})")


def fail(msg):
    print("console: FAILED: " + msg)
    sys.exit(1)


def main():
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chrome or not driver:
        fail("chromium / chromedriver missing: run scripts/deps.sh")
    port = free_port()
    profile = tempfile.mkdtemp(prefix="redial-console-")
    proc = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wd = WebDriver(port)
    try:
        for _ in range(300):
            try:
                if wd.call("GET", "/status").get("ready"):
                    break
            except Exception:
                pass
            time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chrome,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1280,1400",
                     f"--user-data-dir={profile}"]}}}}
        wd.sid = wd.call("POST", "/session", caps)["sessionId"]
        wd.call("POST", "/url", {"url": BASE + "/ui"})
        wd.call("POST", f"/element/{wd.find('[data-testid=login-user]')}/value", {"text": USER})
        wd.call("POST", f"/element/{wd.find('[data-testid=login-token]')}/value", {"text": TOKEN})
        wd.click('[data-testid=login-submit]')

        # The campaign list equals the API's.
        names = api("/v1/campaigns")["campaigns"]
        for n in names:
            wd.wait(f"row of {n}", lambda n=n: wd.find(f"[data-testid='campaign-row-{n}']"))
            want = str(api(f"/v1/campaigns/{n}")["finished"])
            got = wd.wait(f"finished of {n}", lambda n=n: wd.text(f"[data-testid='finished-{n}']"))
            if got != want:
                fail(f"campaign {n}: page shows {got} finished, the API {want}")

        # The finished campaign's monitoring table equals the API's stats.
        wd.click(f'[data-testid=campaign-row-{DONE}]')
        st = api(f"/v1/campaigns/{DONE}/stats")
        wd.wait("the monitoring table", lambda: wd.text("[data-testid=metric-attempts]"))
        checks = {"metric-attempts": str(st["attempts"]), "metric-connected": str(st["connected"]),
                  "metric-dialed": str(st["dialed"])}
        for k in ("first_attempt_connection_rate", "total_connection_rate"):
            checks["metric-" + ("first" if k.startswith("first") else "total")] = \
                "–" if st[k] is None else f"{100 * st[k]:.1f}%"
        for tid, want in checks.items():
            got = wd.wait(tid, lambda tid=tid: wd.text(f"[data-testid={tid}]"))
            if got != want:
                fail(f"{tid}: page shows {got!r}, the API {want!r}")
        heat = wd.call("POST", "/elements", {"using": "css selector", "value": "#d-heat rect"})
        if len(heat) != 168:
            fail(f"heatmap has {len(heat)} cells, want 168")
        dl = api("/v1/deadletter?limit=20")
        if dl["entries"]:
            e = dl["entries"][0]["id"]
            wd.wait("the dead letter's Replay button", lambda: wd.find(f"[data-testid='replay-{e}']"))

        # Pause the live campaign from the page: the page and the API say paused.
        wd.click(f'[data-testid=campaign-row-{LIVE}]')
        wd.wait("the live campaign's state", lambda: wd.text("[data-testid=state]") == "active")
        wd.wait("the live campaign's detail", lambda: wd.text("#d-name") == LIVE)
        wd.click('[data-testid=pause]')
        wd.wait("paused on the page", lambda: wd.text("[data-testid=state]") == "paused")
        if api(f"/v1/campaigns/{LIVE}")["state"] != "paused":
            fail("the page says paused, the API does not")
        wd.wait("the pause reason", lambda: "paused" in wd.text("[data-testid=pause-reason]"))

        # A screenshot of the finished campaign's page.
        wd.click(f'[data-testid=campaign-row-{DONE}]')
        wd.wait("the finished campaign again", lambda: wd.text("#d-name") == DONE)
        time.sleep(0.5)
        png = base64.b64decode(wd.call("GET", "/screenshot"))
        with open(SHOT, "wb") as f:
            f.write(png)
        print("console: OK")
    finally:
        try:
            if wd.sid:
                wd.call("DELETE", "")
        except Exception:
            pass
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # one line the C test shows, not a traceback
        fail(f"{type(e).__name__}: {e}")
