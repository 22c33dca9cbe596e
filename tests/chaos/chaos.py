#!/usr/bin/env python3
"""chaos.py: smsup's fault harness (make chaos).

Two ledger machines (tests/machines/ledger.c) run under the real smsup
binary, each under a supervisor of its own: acct with --durability always,
its state directory on a small tmpfs (as root) so that the disk can fill,
and book with batch. Clients, each
with its own client id and sequence numbers, stream their inputs with
`smsup call -l` and `smsup send -l`; a poisoner now and then sends an
input that crashes or hangs its worker. Meanwhile, from a seed, random
faults strike: SIGKILL and SIGSTOP of workers and of the supervisor,
upgrades and downgrades (some failing on purpose: a migration that fails,
crashes, hangs or exits, a binary that is no worker, a timeout on a large
state, a new version that crashes on probation), the new worker killed at
a random moment of an upgrade, machines stopped and started again, a full
disk, a file size limit, a descriptor limit.

At the end every client's inputs are checked against what the machine
applied (its ledger: the last number applied per client, every number
skipped, a hash chain over the rest):

  - every acknowledged input (a call answered with its output, a send
    accepted) is applied, exactly once and in order, unless the
    supervisor dropped it because its worker died in it (the log says);
  - no input refused with an error is applied;
  - inputs whose answer was lost with the supervisor may be either;
  - the ledger saw nothing twice or out of order, and its chain and count
    agree with the numbers it applied.

It prints the faults injected and the violations found, and exits 1 if
there is any violation.

Usage: chaos.py BUILD_DIR [--seconds N] [--seed N]
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

CLIENTS = 4		# per machine and kind (call, send)
MACHINES = {"acct": "always", "book": "batch"}
MASK = (1 << 64) - 1
RUN = ["--snapshot-inputs", "300", "--step-timeout", "2",
       "--upgrade-timeout", "3", "--max-restarts", "32/1"]


def mix(x):
    """ledger.c's ledger_mix (splitmix64's finalizer)."""
    x = (x + 0x9e3779b97f4a7c15) & MASK
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & MASK
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & MASK
    return x ^ (x >> 31)


class Sup:
    """One machine under a supervisor of its own."""

    def __init__(self, h, name, durability):
        self.h = h
        self.name = name
        self.durability = durability
        self.dir = os.path.join(h.t, name)
        self.sock = os.path.join(self.dir, "control.sock")
        self.state = os.path.join(self.dir, "state")
        self.log = os.path.join(self.dir, "log")
        self.env = dict(os.environ, SMSUP_SOCKET=self.sock,
                        SMSUP_STATE_DIR=self.state, LC_ALL="C")
        self.proc = None
        self.up = threading.Event()	# it answers
        self.mounted = False
        self.degradable = threading.Event()	# a kill now is fair
        self.degradable.set()
        self.wedged = False	# not running after the faults

    def setup(self):
        os.mkdir(self.dir, 0o755)
        os.mkdir(self.state, 0o700)
        shutil.copy(os.path.join(self.h.t, "ledger-v1"),
                    os.path.join(self.dir, self.name))
        os.chmod(os.path.join(self.dir, self.name), 0o755)
        if self.h.root and self.durability == "always":
            r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                "size=128m,mode=0700", "tmpfs", self.state])
            self.mounted = r.returncode == 0

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen(
            [self.h.smsup, "run", "--durability", self.durability] + RUN +
            ["%s=%s/%s" % (self.name, self.dir, self.name)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=logf,
            start_new_session=True)
        logf.close()
        self.wait_running()
        self.up.set()

    def wait_running(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            st = self.status()
            if st is not None and st.get("state") == "running":
                return True
            if st is not None and st.get("state") == "failed":
                self.revive()
            time.sleep(0.05)
        return False

    def settled(self, timeout=10):
        """Its state once it is running or failed (None: neither)."""
        end = time.time() + timeout
        while time.time() < end:
            st = self.status()
            if st is not None and st.get("state") in ("running", "failed"):
                return st["state"]
            time.sleep(0.05)
        return None

    def revive(self):
        """A failed machine: restart it, and if its own binary cannot
        take the saved state (a fault armed in it makes every migration
        die), run it with each version in turn, as an operator would
        the binary that wrote that state."""
        self.run("restart", self.name)
        if self.settled() == "running":
            return
        for v in (3, 2, 1):
            self.run("stop", self.name)
            self.run(*(["run", "--durability", self.durability] + RUN +
                       ["%s=%s/ledger-v%d" % (self.name, self.h.t, v)]))
            if self.settled() == "running":
                self.h.count("machine failed, run with ledger-v%d" % v)
                return

    def run(self, *args, timeout=30):
        try:
            return subprocess.run([self.h.smsup] + list(args), env=self.env,
                                  capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def status(self):
        r = self.run("status", "--json", timeout=10)
        if r is None or r.returncode != 0:
            return None
        try:
            for m in json.loads(r.stdout)["machines"]:
                if m["name"] == self.name:
                    return m
        except (ValueError, KeyError):
            pass
        return None

    def worker(self):
        st = self.status()
        return st["pid"] if st else 0

    def workers(self):
        r = subprocess.run(["pgrep", "-f", "^" + self.dir + "/|^" +
                            self.h.t + "/ledger-v"], capture_output=True,
                           text=True)
        mine = []
        for p in r.stdout.split():
            try:
                env = open("/proc/%s/environ" % p, "rb").read()
            except OSError:
                continue
            if b"SMSUP_MACHINE=" + self.name.encode() + b"\0" in env:
                mine.append(int(p))
        return mine

    def kill(self):
        """SIGKILL the supervisor and its workers, start it again."""
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for pid in self.workers():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
        self.start()


class Harness:
    def __init__(self, build, seconds, seed):
        self.build = os.path.abspath(build)
        self.smsup = os.path.join(self.build, "smsup")
        self.seconds = seconds
        self.seed = seed
        self.rng = random.Random(seed)
        self.root = os.geteuid() == 0
        self.t = tempfile.mkdtemp(prefix="smsup-chaos.")
        self.sups = {m: Sup(self, m, d) for m, d in MACHINES.items()}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.faults = {}
        self.notes = []
        self.threads = []
        # (machine, client id) -> {seq: "acked" | "refused" | "unknown"}
        self.fate = {}
        # (machine, client id) -> [(first, last, began, ended, rc, err)]
        self.sessions = {}
        self.suspects = []	# (machine, client id, seq) to explain

    # -- setup -------------------------------------------------------

    def install(self):
        os.chmod(self.t, 0o755)
        for v in (1, 2, 3):
            shutil.copy(os.path.join(self.build, "tests", "ledger-v%d" % v),
                        os.path.join(self.t, "ledger-v%d" % v))
        with open(os.path.join(self.t, "notworker"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        for name in os.listdir(self.t):
            os.chmod(os.path.join(self.t, name), 0o755)
        for sup in self.sups.values():
            sup.setup()

    # -- clients -------------------------------------------------------

    def note(self, m, cid, seq, what):
        with self.lock:
            self.fate.setdefault((m, cid), {})[seq] = what

    def client(self, m, cid, kind):
        """One client: sessions of `smsup KIND -l M` until the end."""
        sup = self.sups[m]
        rng = random.Random("%d %s %d" % (self.seed, m, cid))
        seq = 0
        while not self.stop.is_set():
            if not sup.up.wait(0.5):
                continue
            n = rng.randint(20, 400)
            first = seq + 1
            seq += n
            self.session(sup, cid, kind, first, n, rng)
            time.sleep(rng.uniform(0, 0.05))

    def session(self, sup, cid, kind, first, n, rng):
        began = time.time()
        p = subprocess.Popen([self.smsup, kind, "-l", sup.name],
                             env=sup.env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = [], []
        to = threading.Thread(target=lambda: out.extend(
            p.stdout.read().decode("utf-8", "replace").splitlines()))
        te = threading.Thread(target=lambda: err.extend(
            p.stderr.read().decode("utf-8", "replace").splitlines()))
        to.start()
        te.start()
        sent = 0
        try:
            while sent < n and not self.stop.is_set():
                k = min(n - sent, rng.randint(1, 40))
                lines = "".join("%d %d\n" % (cid, first + sent + i)
                                for i in range(k))
                p.stdin.write(lines.encode())
                p.stdin.flush()
                sent += k
                time.sleep(rng.uniform(0, 0.02))
            p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            p.wait(timeout=180)
        except subprocess.TimeoutExpired:
            self.violation("%s client %d: a session hung" % (sup.name, cid))
            p.kill()
            p.wait()
        to.join()
        te.join()
        self.judge(sup.name, cid, kind, first, sent, p.returncode, out, err)
        with self.lock:
            self.sessions.setdefault((sup.name, cid), []).append(
                (first, first + n - 1, began, time.time(), p.returncode,
                 [e for e in err if not e.startswith("smsup: line ")][:3]))
        for s in range(first + sent, first + n):
            self.note(sup.name, cid, s, "unsent")

    def judge(self, m, cid, kind, first, n, rc, out, err):
        """What became of inputs first..first+n-1, as the client saw."""
        errors = {}
        # All answered, but for a lost supervisor; none if none answered.
        # A client killed by a signal said nothing: none is known, and
        # that it died so (not with an error) breaks a promise.
        answered = 0 if rc == 3 or rc < 0 else n
        if rc < 0:
            self.violation("%s client %d: killed by signal %d, its "
                           "answers unsaid" % (m, cid, -rc))
        for line in err:
            g = re.match(r"smsup: line (\d+): (.*)", line)
            if g:
                errors[int(g.group(1))] = g.group(2)
                continue
            g = re.match(r"smsup: (lost the supervisor|no answer within "
                         r"\S+) after (\d+) answers", line)
            if g:
                answered = int(g.group(2))
        oks = iter(out)
        for k in range(1, n + 1):
            s = first + k - 1
            if k > answered:
                self.note(m, cid, s, "unknown")
            elif k in errors:
                e = errors[k]
                self.note(m, cid, s, "unknown" if re.search(
                    r"\bmay\b", e) else "refused")
            elif kind == "call":
                o = next(oks, None)
                if o != "ok %d %d" % (cid, s):
                    self.violation("%s client %d: input %d answered %r" %
                                   (m, cid, s, o))
                self.note(m, cid, s, "acked")
            else:
                self.note(m, cid, s, "acked")

    def poisoner(self):
        rng = random.Random(self.seed * 7 + 1)
        while not self.stop.wait(rng.uniform(3, 8)):
            sup = self.sups[rng.choice(sorted(self.sups))]
            if sup.up.is_set():
                what = rng.choice(["boom", "boom", "hang"])
                sup.run("send", sup.name, what, timeout=10)
                self.count("poison " + what)

    # -- faults --------------------------------------------------------

    def trace(self, text):
        """A line of the run's timeline (kept with CHAOS_KEEP=1), to be
        read beside the supervisors' logs."""
        with self.lock, open(os.path.join(self.t, "timeline"), "a") as f:
            f.write("%s %s\n" % (self.stamp(time.time()), text))

    def count(self, kind):
        with self.lock:
            self.faults[kind] = self.faults.get(kind, 0) + 1

    def violation(self, text):
        with self.lock:
            self.notes.append(text)

    def fault(self):
        rng = self.rng
        sup = self.sups[rng.choice(sorted(self.sups))]
        m = sup.name
        kinds = ["kill worker", "stop worker", "kill supervisor",
                 "stop supervisor", "upgrade", "failing upgrade",
                 "kill new worker", "restart machine", "file size limit",
                 "descriptor limit"]
        if sup.mounted:
            kinds.append("full disk")
        kind = rng.choice(kinds)
        self.trace("%s: %s" % (m, kind))
        if kind == "kill worker":
            pid = sup.worker()
            if pid:
                os.kill(pid, signal.SIGKILL)
        elif kind == "stop worker":
            pid = sup.worker()
            if pid:
                os.kill(pid, signal.SIGSTOP)
                time.sleep(rng.uniform(0.1, 2.5))
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        elif kind == "kill supervisor":
            st = sup.status() or {}
            # batch: a degraded store may lose what it acknowledged.
            if sup.durability != "always" and st.get("degraded"):
                return
            sup.kill()
        elif kind == "stop supervisor":
            sup.proc.send_signal(signal.SIGSTOP)
            time.sleep(rng.uniform(0.1, 1.5))
            sup.proc.send_signal(signal.SIGCONT)
        elif kind == "upgrade":
            v = rng.choice([1, 2, 3])
            args = ["upgrade", "-f"]
            if rng.random() < 0.3:
                args += ["-p", "0.5"]
            sup.run(*(args + ["%s=%s/ledger-v%d" % (m, self.t, v)]))
        elif kind == "failing upgrade":
            self.failing_upgrade(sup)
            return
        elif kind == "kill new worker":
            before = set(sup.workers())
            v = rng.choice([1, 2, 3])
            up = subprocess.Popen([self.smsup, "upgrade", "-f",
                                   "%s=%s/ledger-v%d" % (m, self.t, v)],
                                  env=sup.env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, 0.05))
            for pid in set(sup.workers()) - before:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            up.wait()
        elif kind == "restart machine":
            sup.run("stop", m)
            sup.run(*(["run", "--durability", sup.durability] + RUN +
                      ["%s=%s/%s" % (m, sup.dir, m)]))
        elif kind == "full disk":
            self.full_disk(sup, rng.uniform(0.3, 2), rng.random() < 0.4)
        elif kind == "file size limit":
            self.prlimit(sup, "--fsize=%d:unlimited" % rng.choice([4096,
                         65536, 1 << 20]), "--fsize=unlimited:unlimited",
                         rng.uniform(0.3, 2))
        elif kind == "descriptor limit":
            n = len(os.listdir("/proc/%d/fd" % sup.proc.pid))
            cur = open("/proc/%d/limits" % sup.proc.pid).read()
            hard = re.search(r"Max open files\s+\d+\s+(\d+)", cur).group(1)
            self.prlimit(sup, "--nofile=%d:%s" % (n + rng.randint(0, 12),
                         hard), "--nofile=%s:%s" % (hard, hard),
                         rng.uniform(0.3, 1.5))
        if sup.proc.poll() is not None:
            self.violation("%s: the supervisor died (status %s)" %
                           (m, sup.proc.returncode))
            sup.start()
        st = sup.status()
        if st is not None and st.get("state") == "failed":
            self.count("machine failed, restarted")
            sup.revive()
        self.count(kind)

    def failing_upgrade(self, sup):
        rng = self.rng
        m = sup.name
        v = rng.choice([1, 2, 3])
        bin = "%s/ledger-v%d" % (self.t, v)
        how = rng.choice(["fail", "crash", "hang", "exit", "crashlater",
                          "savecrash", "notworker", "timeout"])
        self.trace("%s: failing upgrade: %s to ledger-v%d" % (m, how, v))
        args = ["upgrade", "-f", "-t", "1"]
        if how == "notworker":
            bin = self.t + "/notworker"
        elif how == "timeout":
            sup.run("call", m, "pad", "41943040")
            args = ["upgrade", "-f", "-t", "0.02"]
        else:
            sup.run("call", m, "arm", how)
            if how == "crashlater":
                args += ["-p", "2"]
        sup.run(*(args + ["%s=%s" % (m, bin)]))
        sup.run("call", m, "arm", "none")
        if how == "timeout":
            sup.run("call", m, "pad", "0")
        self.count("failing upgrade: " + how)

    def prlimit(self, sup, on, off, seconds):
        pid = str(sup.proc.pid)
        subprocess.run(["prlimit", "--pid", pid, on])
        time.sleep(seconds)
        subprocess.run(["prlimit", "--pid", pid, off])
        time.sleep(1.2)		# the store retries every second

    def full_disk(self, sup, seconds, kill):
        filler = os.path.join(sup.state, "filler")
        try:
            with open(filler, "wb") as f:
                chunk = b"\0" * (1 << 20)
                try:
                    while True:
                        f.write(chunk)
                        f.flush()
                except OSError:
                    pass
        except OSError:
            pass
        time.sleep(seconds)
        if kill:		# always: nothing acknowledged may be lost
            sup.kill()
            self.count("kill supervisor on a full disk")
        try:
            os.unlink(filler)
        except OSError:
            pass
        time.sleep(1.2)

    def injector(self):
        end = time.time() + self.seconds
        while time.time() < end and not self.stop.is_set():
            time.sleep(self.rng.uniform(0.2, 1.2))
            try:
                self.fault()
            except Exception as e:	# a fault that could not strike
                self.count("fault not injected")
                print("chaos: fault: %r" % e, file=sys.stderr)

    # -- the check -----------------------------------------------------

    def dropped(self):
        """(machine, client) -> seqs its workers died in (the logs)."""
        drops = {}
        pat = re.compile(r"smsup: warning: (\w+): dropped input #\d+.*"
                         r"\(input: (\d+) (\d+)\)$")
        for sup in self.sups.values():
            with open(sup.log, errors="replace") as f:
                for line in f:
                    g = pat.search(line.rstrip("\n"))
                    if g:
                        drops.setdefault((g.group(1), int(g.group(2))),
                                         set()).add(int(g.group(3)))
        return drops

    def check(self):
        drops = self.dropped()
        totals = {"acked": 0, "refused": 0, "unknown": 0, "dropped": 0,
                  "unsent": 0}
        for m, sup in self.sups.items():
            if sup.wedged:	# a violation already; its calls would hang
                continue
            r = sup.run("call", m, "check")
            if r is None or r.returncode != 0:
                self.violation("%s: no answer to check: %s" %
                               (m, r and r.stderr))
                continue
            if not r.stdout.startswith("violations=0 "):
                self.violation("%s: %s" % (m, r.stdout.strip()))
            for cid in range(2 * CLIENTS):
                fate = self.fate.get((m, cid), {})
                r = sup.run("call", m, "dump", str(cid))
                g = r and re.match(r"last=(\d+) count=(\d+) chain=(\w+) "
                                   r"skipped=([\d,]*)", r.stdout)
                if not g:
                    self.violation("%s client %d: dump %r" %
                                   (m, cid, r and r.stdout))
                    continue
                last, count = int(g.group(1)), int(g.group(2))
                chain = int(g.group(3), 16)
                skipped = set(int(x) for x in g.group(4).split(",") if x)
                applied = [s for s in range(1, last + 1) if s not in skipped]
                c = 0
                for s in applied:
                    c = mix(c ^ s)
                if c != chain or len(applied) != count:
                    self.violation("%s client %d: the ledger's chain or "
                                   "count disagrees with its numbers" %
                                   (m, cid))
                dropped = drops.get((m, cid), set())
                aset = set(applied)
                for s, what in fate.items():
                    totals[what] += 1
                    if what == "acked" and s not in aset:
                        if s in dropped:
                            totals["dropped"] += 1
                        else:
                            self.suspects.append((m, cid, s))
                            self.violation("%s client %d: input %d "
                                           "acknowledged, not applied" %
                                           (m, cid, s))
                    elif what in ("refused", "unsent") and s in aset:
                        self.violation("%s client %d: input %d %s, "
                                       "applied" % (m, cid, s, what))
                for s in aset:
                    if s not in fate:
                        self.violation("%s client %d: input %d applied, "
                                       "never sent" % (m, cid, s))
        return totals

    # -- the run -------------------------------------------------------

    def main(self):
        began = time.time()
        self.install()
        for sup in self.sups.values():
            sup.start()
        for m in MACHINES:
            for i in range(CLIENTS):
                for kind, base in (("call", 0), ("send", CLIENTS)):
                    t = threading.Thread(target=self.client,
                                         args=(m, base + i, kind),
                                         daemon=True)
                    t.start()
                    self.threads.append(t)
        threading.Thread(target=self.poisoner, daemon=True).start()
        end = time.time() + self.seconds
        while time.time() < end:
            time.sleep(self.rng.uniform(0, 0.5))
            try:
                self.fault()
            except Exception as e:	# a fault that could not strike
                self.count("fault not injected")
                print("chaos: fault: %r" % e, file=sys.stderr)
        # Faults over: let every client finish its session, in time.
        self.stop.set()
        deadline = time.time() + 300
        for t in self.threads:
            t.join(timeout=max(0, deadline - time.time()))
        if any(t.is_alive() for t in self.threads):
            self.violation("sessions still unanswered 300s after the "
                           "faults ended: a machine is wedged")
        for sup in self.sups.values():
            if sup.proc.poll() is not None or sup.status() is None:
                sup.start()
            if not sup.wait_running(30):
                self.violation("%s: not running after the faults" %
                               sup.name)
                sup.wedged = True
        totals = self.check()
        nfaults = sum(v for k, v in self.faults.items()
                      if not k.startswith("poison") and
                      not k.startswith("machine failed"))
        kinds = ", ".join("%d %s" % (v, k) for k, v in
                          sorted(self.faults.items()))
        print("chaos: seed %d, %.0fs: %d faults (%s); inputs: %d "
              "acknowledged, %d refused, %d with their answer lost, %d "
              "acknowledged and dropped with their worker; %d violations" %
              (self.seed, time.time() - began, nfaults, kinds,
               totals["acked"], totals["refused"], totals["unknown"],
               totals["dropped"], len(self.notes)))
        for n in self.notes[:20]:
            print("chaos: violation: " + n)
        self.explain()
        return 1 if self.notes else 0

    def explain(self):
        """For the first input lost: its session, and the faults and the
        supervisor's log over that time, so that a failed run in CI
        (where nothing is kept) says what happened."""
        if not self.suspects:
            return
        m, cid, seq = self.suspects[0]
        for first, last, began, ended, rc, err in self.sessions.get(
                (m, cid), []):
            if first <= seq <= last:
                break
        else:
            return
        print("chaos: input %d was in the session of %d..%d, %s to %s, "
              "exit %s: %s" % (seq, first, last, self.stamp(began),
                               self.stamp(ended), rc, err))
        lo, hi = self.stamp(began - 2), self.stamp(ended + 2)
        for path in (os.path.join(self.t, "timeline"), self.sups[m].log):
            try:
                lines = [x.rstrip("\n") for x in open(path, errors="replace")
                         if lo <= x[:23] <= hi]
            except OSError:
                continue
            print("chaos: %s over that time (%d lines):" %
                  (os.path.basename(path), len(lines)))
            for x in lines[:60]:
                print("chaos:   " + x)

    @staticmethod
    def stamp(t):
        return "%s.%03d" % (time.strftime("%Y-%m-%d %H:%M:%S",
                                          time.localtime(t)),
                            int(t * 1000) % 1000)

    def cleanup(self):
        self.stop.set()
        for sup in self.sups.values():
            if sup.proc is not None and sup.proc.poll() is None:
                sup.proc.send_signal(signal.SIGCONT)
                sup.proc.terminate()
                try:
                    sup.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    sup.proc.kill()
            for pid in sup.workers():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if sup.mounted:
                for _ in range(50):
                    if subprocess.run(["umount", sup.state]).returncode == 0:
                        break
                    time.sleep(0.1)
        if os.environ.get("CHAOS_KEEP"):
            print("chaos: kept " + self.t)
        else:
            shutil.rmtree(self.t, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    h = Harness(a.build, a.seconds, a.seed)
    try:
        rc = h.main()
    finally:
        h.cleanup()
    sys.exit(rc)


if __name__ == "__main__":
    main()
