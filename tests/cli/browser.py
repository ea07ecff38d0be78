#!/usr/bin/env python3
"""browser.py FILE.html [SCRIPT.js] - load a local HTML file in headless
Chromium and print what happened as one JSON document on stdout.

Chromium is driven over the DevTools protocol through a pipe
(--remote-debugging-pipe: commands on fd 3, answers on fd 4, each message
JSON ended by a NUL byte), so nothing but Chromium itself is needed.
Every request the page makes is seen through the Network domain and held
by the Fetch domain: the file itself is let through, anything else is
failed and reported.

Output:
  {"requests":  [every URL requested, the file first],
   "blocked":   [requests other than the file],
   "console":   [{"level", "text"}, ...] every console message, exception
                and browser log entry,
   "errors":    the console entries of level "error",
   "loaded":    true once the load event fired,
   "result":    what SCRIPT.js (an expression) evaluated to, JSON-valued,
   "print_result": the same with the print media emulated,
   "pdf_bytes": size of the page printed to PDF (print CSS applied)}

Exit 0 when the page loaded (whatever it did), 3 when Chromium is absent
(the caller decides whether that is a skip), 1 on any other failure.
The browser runs with a fresh empty profile and no network services;
the whole run is bounded by a deadline.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 60
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions",
         "--mute-audio", "--remote-debugging-pipe")


def find_chromium():
    want = os.environ.get("LINKBOOK_CHROMIUM")
    if want:
        return want if os.access(want, os.X_OK) else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Pipe:
    """The DevTools protocol over Chromium's fd 3/4 pipe."""

    def __init__(self, proc, wr, rd, deadline):
        self.proc, self.wr, self.rd = proc, wr, rd
        self.deadline = deadline
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.wr, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read_one(self):
        while b"\0" not in self.buf:
            if time.monotonic() > self.deadline:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self.rd, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        while True:
            msg = self.read_one()
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method):
        for i, msg in enumerate(self.events):
            if msg.get("method") == method:
                return self.events.pop(i)
        while True:
            msg = self.read_one()
            if msg.get("method") == method:
                return msg
            self.events.append(msg)


def console_text(params):
    parts = []
    for arg in params.get("args", []):
        parts.append(str(arg.get("value", arg.get("description", ""))))
    return " ".join(parts)


class Report:
    def __init__(self, file_url):
        self.file_url = file_url
        self.requests, self.blocked, self.console = [], [], []

    def note(self, pipe, session, msg):
        """Record one event; answer the held requests."""
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])
        elif method == "Fetch.requestPaused":
            url = p["request"]["url"]
            if url == self.file_url:
                pipe.send("Fetch.continueRequest", {"requestId": p["requestId"]}, session)
            else:
                self.blocked.append(url)
                pipe.send("Fetch.failRequest", {"requestId": p["requestId"],
                                                "errorReason": "BlockedByClient"}, session)
        elif method == "Runtime.consoleAPICalled":
            level = "error" if p.get("type") in ("error", "assert") else p.get("type")
            self.console.append({"level": level, "text": console_text(p)})
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            self.console.append({"level": "error", "text": text})
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            self.console.append({"level": e.get("level"), "text": e.get("text", "")})


def drain(pipe, session, report, seconds):
    """Handle events for a moment after load (late requests, late errors)."""
    end = min(pipe.deadline, time.monotonic() + seconds)
    # A trivial round trip per slice: answers come after earlier events.
    while time.monotonic() < end:
        pipe.call("Runtime.evaluate", {"expression": "1"}, session)
        for msg in pipe.events:
            report.note(pipe, session, msg)
        pipe.events = []
        time.sleep(0.05)


def open_page(pipe):
    targets = pipe.call("Target.getTargets")["targetInfos"]
    pages = [t for t in targets if t.get("type") == "page"]
    if pages:
        target = pages[0]["targetId"]
    else:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    return pipe.call("Target.attachToTarget",
                     {"targetId": target, "flatten": True})["sessionId"]


def load(pipe, path, script):
    url = "file://" + os.path.abspath(path)
    report = Report(url)
    session = open_page(pipe)
    for domain in ("Network", "Runtime", "Log", "Page"):
        pipe.call(domain + ".enable", {}, session)
    pipe.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session)
    pipe.send("Page.navigate", {"url": url}, session)
    loaded = False
    while not loaded:
        msg = pipe.read_one()
        if msg.get("method") == "Page.loadEventFired":
            loaded = True
        elif "id" not in msg:
            report.note(pipe, session, msg)
    drain(pipe, session, report, 0.5)
    out = {"requests": report.requests, "blocked": report.blocked,
           "console": report.console, "loaded": loaded,
           "errors": [c for c in report.console if c["level"] == "error"]}
    if script:
        r = pipe.call("Runtime.evaluate", {"expression": script, "returnByValue": True},
                      session)
        if "exceptionDetails" in r:
            raise RuntimeError("script failed: %s" % r["exceptionDetails"])
        out["result"] = r["result"].get("value")
        pipe.call("Emulation.setEmulatedMedia", {"media": "print"}, session)
        r = pipe.call("Runtime.evaluate", {"expression": script, "returnByValue": True},
                      session)
        out["print_result"] = r["result"].get("value")
        pipe.call("Emulation.setEmulatedMedia", {"media": ""}, session)
    pdf = pipe.call("Page.printToPDF", {"printBackground": True}, session)
    out["pdf_bytes"] = len(base64.b64decode(pdf["data"]))
    for msg in pipe.events:
        report.note(pipe, session, msg)
    out["blocked"] = report.blocked
    out["errors"] = [c for c in report.console if c["level"] == "error"]
    return out


def run(chromium, path, script):
    profile = tempfile.mkdtemp(prefix="linkbook-chromium.")
    to_chrome, from_us = os.pipe()     # fd 3 in chromium: it reads commands
    to_us, from_chrome = os.pipe()     # fd 4 in chromium: it writes answers
    # Above 9 first, so that moving them onto 3 and 4 cannot clobber either.
    hi_in = fcntl.fcntl(to_chrome, fcntl.F_DUPFD_CLOEXEC, 10)
    hi_out = fcntl.fcntl(from_chrome, fcntl.F_DUPFD_CLOEXEC, 10)
    args = [chromium, *FLAGS, "--user-data-dir=" + profile, "about:blank"]

    def child_fds():
        os.dup2(hi_in, 3)      # dup2 clears close-on-exec on 3 and 4 only
        os.dup2(hi_out, 4)

    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, close_fds=False,
                            preexec_fn=child_fds)
    for fd in (hi_in, hi_out):
        os.close(fd)
    os.close(to_chrome)
    os.close(from_chrome)
    pipe = Pipe(proc, from_us, to_us, time.monotonic() + DEADLINE_S)
    try:
        return load(pipe, path, script)
    finally:
        try:
            pipe.send("Browser.close")
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        os.close(from_us)
        os.close(to_us)
        shutil.rmtree(profile, ignore_errors=True)


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: browser.py FILE.html [SCRIPT.js]", file=sys.stderr)
        return 2
    chromium = find_chromium()
    if not chromium:
        print("browser.py: no chromium found (Debian package: chromium)", file=sys.stderr)
        return 3
    script = None
    if len(sys.argv) == 3:
        with open(sys.argv[2], encoding="utf-8") as f:
            script = f.read()
    try:
        out = run(chromium, sys.argv[1], script)
    except (OSError, RuntimeError, TimeoutError, EOFError, ValueError) as e:
        print("browser.py: %s" % e, file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
