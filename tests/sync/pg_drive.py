#!/usr/bin/env python3
"""pg_drive.py - raw protocol load for the tests of several linkbookd
processes on one database: devices are plain HTTP clients with real tokens;
envelopes are random bytes (the server never opens them).

  pg_drive.py team URL CODE N OUT.json
      enrol a supervisor with CODE, invite and enrol N more supervisors
      (each a device), assign one person to the first supervisor's caseload
      C (an assignment envelope), and write tokens, C and the person to OUT.

  pg_drive.py load TEAM.json OUT.json URL [URL...] [--pushers 8] [--pullers 4]
                   [--batches 20] [--batch 5] [--deadline 90] [--progress F]
                   [--kill PID --kill-after ACKS]
      pushers (devices 1..P of TEAM) push batches for the person, each batch
      to the next URL in turn; pullers (the next Q devices) pull C over and
      over from the URLs in turn, logging every answer: the cursor before,
      the cursor after, the ids.  A request that fails (connection refused
      or cut, HTTP 5xx) is logged and sent again to the next URL, the same
      batch (pushes are idempotent).  With --kill, PID gets SIGKILL once
      ACKS envelopes are acknowledged (mid-push: other pushes are in
      flight).  Pullers stop when every pusher is done and a pull brings
      nothing.  OUT.json is the report: what was acknowledged (id -> seq),
      every pull, the failures seen, and the checks' findings.

Every loop is bounded by --deadline seconds; only the URLs given (loopback)
are contacted.
"""
import base64
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lbwire  # noqa: E402  (the binary push and pull bodies, sync/lb_proto.h)

BINARY = "application/vnd.linkbook.v2"


def answer(raw, ctype):
    """An answer as one document: a binary one's control frame with its
    envelopes, acks and refusals beside it."""
    if not ctype.startswith(BINARY):
        return json.loads(raw or b"null")
    return lbwire.flatten(raw)


def call(url, path, token=None, body=None, timeout=20):
    """(status, document or None, error text or None)."""
    ctype = BINARY if path == "/v1/push" else "application/json"
    data = None if body is None else (lbwire.push_doc(body) if ctype == BINARY
                                      else json.dumps(body).encode())
    req = urllib.request.Request(url + path, data=data, method="POST" if data else "GET")
    if data is not None:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, answer(r.read(), r.headers.get("Content-Type", "")), None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        return e.code, doc, "HTTP %d" % e.code
    except (OSError, ValueError) as e:
        return 0, None, type(e).__name__ + ": " + str(e)[:120]


def must(what, status, doc):
    if status != 200:
        sys.exit("pg_drive: %s: HTTP %s %s" % (what, status, doc))
    return doc


def enrol(url, code, name):
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    st, doc, _ = call(url, "/v1/enrol", body={"code": code, "device_key": key,
                                               "device_name": name})
    return must("enrol " + name, st, doc)


def envelope(person, assign=None):
    e = {"id": secrets.token_hex(16), "person": person, "key": 1,
         "body": base64.b64encode(secrets.token_bytes(64)).decode()}
    if assign:
        e["assign"] = {"caseload": assign, "active": True}
    return e


def team(url, code, n, out):
    sup = enrol(url, code, "sup0")
    devices = [{"token": sup["token"], "device": sup["device"]}]
    for i in range(1, n + 1):
        st, doc, _ = call(url, "/v1/team/invite", sup["token"],
                          {"role": "supervisor", "name": "sup%d" % i})
        doc = must("invite", st, doc)
        d = enrol(url, doc["code"], "sup%d" % i)
        devices.append({"token": d["token"], "device": d["device"]})
    person = secrets.token_hex(16)
    first = envelope(person, sup["caseload"])
    st, doc, _ = call(url, "/v1/push", sup["token"], {"envelopes": [first]})
    doc = must("assign", st, doc)
    seq = doc["acks"][0]["seq"][sup["caseload"]]
    json.dump({"caseload": sup["caseload"], "person": person, "team": sup["team"],
               "devices": devices, "setup": {first["id"]: seq}}, open(out, "w"))


class Load:
    def __init__(self, t, urls, opts):
        self.t, self.urls, self.o = t, urls, opts
        self.mu = threading.Lock()
        self.acked = dict(t["setup"])        # id -> seq under C
        self.rejected = []
        self.failures = []                    # [who, url, status, code, error]
        self.pulls = {}                       # puller -> [{from, to, ids}]
        self.pushers_left = opts["pushers"]
        self.killed = False
        self.start = time.monotonic()

    def late(self):
        return time.monotonic() - self.start > self.o["deadline"]

    def failed(self, who, url, st, doc, err):
        code = doc.get("code") if isinstance(doc, dict) else None
        msg = doc.get("error") if isinstance(doc, dict) else None
        with self.mu:
            self.failures.append({"who": who, "url": url, "status": st, "code": code,
                                  "error": msg or err})

    def maybe_kill(self):
        pid = self.o.get("kill")
        if pid and not self.killed and len(self.acked) >= self.o["kill_after"]:
            self.killed = True
            os.kill(pid, signal.SIGKILL)

    def progress(self):
        if self.o.get("progress"):
            with open(self.o["progress"] + ".tmp", "w") as f:
                f.write("%d\n" % len(self.acked))
            os.replace(self.o["progress"] + ".tmp", self.o["progress"])

    def push(self, i):
        dev = self.t["devices"][1 + i]
        k = i
        for b in range(self.o["batches"]):
            batch = [envelope(self.t["person"]) for _ in range(self.o["batch"])]
            while not self.late():
                url = self.urls[k % len(self.urls)]
                k += 1
                st, doc, err = call(url, "/v1/push", dev["token"], {"envelopes": batch})
                if st == 200:
                    with self.mu:
                        for a in doc["acks"]:
                            self.acked[a["id"]] = a["seq"].get(self.t["caseload"])
                        self.rejected += doc["rejected"]
                        self.maybe_kill()
                        self.progress()
                    break
                self.failed("pusher%d" % i, url, st, doc, err)
                time.sleep(0.05)
        with self.mu:
            self.pushers_left -= 1

    def pull(self, j):
        dev = self.t["devices"][1 + self.o["pushers"] + j]
        c = self.t["caseload"]
        cursor, k, log = 0, j, []
        self.pulls["puller%d" % j] = log
        while not self.late():
            with self.mu:
                done = self.pushers_left == 0
            url = self.urls[k % len(self.urls)]
            k += 1
            st, doc, err = call(url, "/v1/pull", dev["token"], {"cursors": {c: cursor}})
            if st != 200:
                self.failed("puller%d" % j, url, st, doc, err)
                time.sleep(0.05)
                continue
            ids = [e["id"] for e in doc["envelopes"]]
            to = doc["cursors"].get(c, cursor)
            log.append({"from": cursor, "to": to, "ids": ids})
            cursor = to
            if done and not ids and not doc.get("more"):
                break
            if not ids:
                time.sleep(0.01)

    def run(self):
        threads = [threading.Thread(target=self.push, args=(i,))
                   for i in range(self.o["pushers"])]
        threads += [threading.Thread(target=self.pull, args=(j,))
                    for j in range(self.o["pullers"])]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    def findings(self):
        """What the checks found: every list empty means all held."""
        seqs = sorted(s for s in self.acked.values() if s is not None)
        order = [i for i, _ in sorted(self.acked.items(), key=lambda kv: kv[1] or 0)]
        f = {"acked_without_seq": [i for i, s in self.acked.items() if s is None],
             "seqs_not_contiguous": seqs != list(range(1, len(seqs) + 1)),
             "gap_reads": [], "pullers_wrong": {}}
        for who, log in self.pulls.items():
            got = [i for p in log for i in p["ids"]]
            if got != order:
                missing = len(set(order) - set(got))
                f["pullers_wrong"][who] = {"got": len(got), "want": len(order),
                                          "missing": missing,
                                          "doubled": len(got) - len(set(got))}
            for p in log:
                ps = [self.acked.get(i) for i in p["ids"]]
                want = list(range(p["from"] + 1, p["from"] + 1 + len(ps)))
                if ps != want or (ps and p["to"] != ps[-1]):
                    f["gap_reads"].append({"who": who, "from": p["from"], "to": p["to"],
                                           "seqs": ps[:20]})
        return f

    def report(self, out):
        doc = {"acked": len(self.acked), "rejected": len(self.rejected),
               "failures": self.failures,
               "failures_503": sum(1 for x in self.failures if x["status"] == 503),
               "failures_conn": sum(1 for x in self.failures if x["status"] == 0),
               "pulls": {w: len(l) for w, l in self.pulls.items()},
               "pull_log": self.pulls, "seqs": self.acked,
               "findings": self.findings(), "killed": self.killed,
               "seconds": round(time.monotonic() - self.start, 2),
               "late": self.late()}
        json.dump(doc, open(out, "w"), indent=1)


def load(argv):
    opts = {"pushers": 8, "pullers": 4, "batches": 20, "batch": 5, "deadline": 90,
            "progress": None, "kill": None, "kill_after": 0}
    t = json.load(open(argv[0]))
    out, rest, urls = argv[1], argv[2:], []
    while rest:
        a = rest.pop(0)
        if a.startswith("--"):
            key = a[2:].replace("-", "_")
            v = rest.pop(0)
            opts[key] = v if key == "progress" else int(v)
        else:
            urls.append(a)
    need = 1 + opts["pushers"] + opts["pullers"]
    if len(t["devices"]) < need:
        sys.exit("pg_drive: the team has %d devices, the load needs %d"
                 % (len(t["devices"]), need))
    ld = Load(t, urls, opts)
    ld.run()
    ld.report(out)


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "team":
        team(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) >= 5 and sys.argv[1] == "load":
        load(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
