#!/usr/bin/env python3
"""interactive.py LINKBOOK PASSPHRASE PERSON OTHER - drive 'linkbook' with no
arguments through a pseudo-terminal, as a person at a keyboard would.

PERSON and OTHER are the full ids of two people in the store named by
LINKBOOK_STORE; PERSON's family name is Quillfeather.  Prints one line per
check, "ok - test_interactive: NAME" or "not ok - test_interactive: NAME"
followed by "#" lines of detail; exits 1 if any check failed.

Every wait has a generous deadline (60 s) and ends as soon as what it waits
for appears: nothing here asserts how long anything takes.
"""
import os
import pty
import re
import select
import signal
import sys
import time

NAME = "test_interactive"
DEADLINE = 60
SANITIZER = re.compile(rb"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")
failed = 0


def report(good, name, detail=b""):
    global failed
    if good:
        print(f"ok - {NAME}: {name}")
    else:
        failed += 1
        print(f"not ok - {NAME}: {name}")
        text = detail.decode("utf-8", "replace")[-1500:]
        for line in text.replace("\r", "").splitlines():
            print(f"#   {line}")
    sys.stdout.flush()


class Session:
    """One linkbook process on a pseudo-terminal."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.buf = b""
        self.pos = 0
        self.eof = False
        self.broken = False  # a wait failed: later ones fail at once

    def send(self, text):
        os.write(self.fd, text.encode())

    def _read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        if data:
            self.buf += data
        else:
            self.eof = True

    def expect(self, pattern, timeout=DEADLINE):
        """Wait for pattern (a regular expression) after what earlier waits
        matched; the match, or None at the deadline or the end."""
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        end = time.monotonic() + timeout
        while not self.broken:
            m = regex.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0 or self.eof:
                self.broken = True
            else:
                self._read(min(left, 1.0))
        return None

    def since(self, start):
        return self.buf[start:]

    def wait(self, timeout=DEADLINE):
        """The exit status, reading on meanwhile; None (and killed) at the
        deadline, or at once when an earlier wait failed."""
        end = time.monotonic() + (0 if self.broken else timeout)
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while not self.eof:
                    self._read(0.2)
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            self._read(0.2)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        return None


def environment(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("LINKBOOK_PASSPHRASE", "LINKBOOK_IDLE_LOCK")}
    env.update(extra)
    env.setdefault("TERM", "xterm")
    return env


def step(s, name, pattern, timeout=DEADLINE):
    """A check that pattern appears next."""
    m = s.expect(pattern, timeout)
    report(m is not None, name, s.buf[max(0, s.pos - 200):] + b"\n(waited for: " +
           pattern.encode() + b")")
    return m is not None


PROMPT = r"linkbook> \x1b\[K"


def session_main(lb, pw, person, other):
    s = Session([lb], environment())
    step(s, "the session asks for the passphrase on the terminal", r"Passphrase: ")
    s.send("not the passphrase\r")
    step(s, "a wrong passphrase at the prompt is refused", r"wrong passphrase")
    step(s, "and asked for again", r"Passphrase: ")
    s.send(pw + "\r")
    step(s, "the right one unlocks: the prompt", PROMPT)
    s.send("person list\r")
    step(s, "a first command runs (person list)", r"Quillfeather")
    step(s, "the prompt comes back", PROMPT)
    s.send("per\t")
    step(s, "Tab completes a command name", r"linkbook> person \x1b\[K")
    s.send("l\t")
    step(s, "Tab completes a subcommand", r"linkbook> person list \x1b\[K")
    s.send("\x15")
    step(s, "Ctrl-U clears the line", PROMPT)
    s.send("show " + person[:6] + "\t")
    step(s, "Tab completes a person id prefix to the whole id",
         r"linkbook> show " + person + r" \x1b\[K")
    s.send("\r")
    step(s, "a second command runs on the completed id (show)", r"Zephyrine Quillfeather")
    step(s, "the prompt comes back after show", PROMPT)
    start = len(s.buf)
    s.send("show \t\t")
    # the listing comes after the line is echoed: wait until it has both ids
    both = s.expect(r"(?s)(?=.*" + person + r")(?=.*" + other + r").*linkbook> show \x1b\[K") \
        is not None
    out = s.since(start)
    report(both and person.encode() in out and other.encode() in out,
           "Tab on an empty id lists every person's id", out)
    s.send("\x15")
    s.send('note add ' + person[:8] + ' "Two words, one note"\r')
    step(s, "a quoted argument reaches the command as one word", r"\n" + r"[0-9a-f]{32}\r?\n")
    s.send("frobnicate\r")
    step(s, "an unknown command is refused", r"not a linkbook command")
    step(s, "and the session goes on", PROMPT)
    s.send("help\r")
    step(s, "help lists the commands and the session's keys", r"Tab completes commands and ids")
    s.send("exit\r")
    code = s.wait()
    report(code == 0, "exit leaves with status 0", s.buf + f"\nexit status {code}".encode())
    report(s.buf.count(b"Passphrase: ") == 2,
           "the passphrase was asked for once (and once more after the wrong one)", s.buf)
    report(not SANITIZER.search(s.buf), "no sanitizer report in the first session", s.buf)


def session_idle(lb, pw):
    s = Session([lb], environment(LINKBOOK_IDLE_LOCK="1"))
    step(s, "idle session: passphrase asked", r"Passphrase: ")
    s.send(pw + "\r")
    step(s, "idle session: unlocked", PROMPT)
    step(s, "after the idle limit the session locks itself", r"locked after 1 idle second")
    step(s, "the prompt says it is locked", r"linkbook \(locked\)> ")
    start = len(s.buf)
    s.send("person list\r")
    step(s, "after the lock, a command asks for the passphrase again", r"Passphrase: ")
    s.send("wrong\r")
    step(s, "a wrong passphrase after the lock is refused", r"wrong passphrase")
    step(s, "and the command is not run", r"the command was not run")
    report(b"Quillfeather" not in s.since(start), "nothing of the record was shown while locked",
           s.since(start))
    s.send("person list\r")
    step(s, "the next command asks again", r"Passphrase: ")
    s.send(pw + "\r")
    step(s, "with the right passphrase the command runs", r"Quillfeather")
    s.expect(r"linkbook(?: \(locked\))?> ")
    s.send("\x04")
    code = s.wait()
    report(code == 0, "Ctrl-D leaves with status 0", s.buf + f"\nexit status {code}".encode())
    report(not SANITIZER.search(s.buf), "no sanitizer report in the idle session", s.buf)


def session_refused(lb):
    s = Session([lb], environment())
    for i in range(3):
        s.expect(r"Passphrase: ")
        s.send("wrong %d\r" % i)
    code = s.wait()
    report(code == 3, "three wrong passphrases at the start: exit 3",
           s.buf + f"\nexit status {code}".encode())
    s = Session(["/bin/sh", "-c", '"$0" >/dev/null', lb], environment())
    code = s.wait()
    report(code == 2 and b"usage: linkbook" in s.buf,
           "stdin a terminal but stdout not: usage, exit 2", s.buf + f"\nexit status {code}".encode())
    s = Session([lb], environment(LINKBOOK_STORE=os.environ["LINKBOOK_STORE"] + "-missing"))
    code = s.wait()
    report(code == 4 and b"no store" in s.buf, "no store: says so, exit 4",
           s.buf + f"\nexit status {code}".encode())


def main():
    lb, pw, person, other = sys.argv[1:5]
    session_main(lb, pw, person, other)
    session_idle(lb, pw)
    session_refused(lb)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
