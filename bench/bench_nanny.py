"""Benchmark of the real ``nanny --stream`` daemon: 10,000 real servers checked every second.

The real servers are 10,000 TCP listeners on loopback addresses (100 addresses in 127.77.0.0/16, 100
listening sockets each, ports chosen by the kernel), accepted and closed by this process. nanny runs as a
subprocess exactly as lvsd runs it: a plan on stdin, events on stdout. Printed:

* checks per second, counted by the listeners (each check is one accepted connection);
* nanny's CPU seconds per 1,000 checks and its fraction of one core (from /proc/PID/stat over a steady
  window), compared with the goal (10,000 checks/s under 0.6 core) and keepalived's 36–58 µs per TCP check;
* detection latency p50/p99 when a tenth of the listeners are closed at once (goal p99 ≤ timeout + 0.2 s),
  from the closing to the time stamp of nanny's "down" event (and to when this process read it).

Everything stays on loopback; the whole run is bounded (about 40 s, hard limit 110 s).

    .venv/bin/python bench/bench_nanny.py [--servers 10000] [--window 15] [--nice -5] [--http]
    NN_PROFILE=/tmp/nn.prof .venv/bin/python bench/bench_nanny.py     # nanny under cProfile
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import select
import socket
import subprocess
import sys
import tempfile
import time

KEEPALIVED_US = (36.0, 58.0)     # keepalived's CPU per TCP check, microseconds
GOAL_CORE = 0.6
HARD_LIMIT = 110.0
HTTP_SEND = "GET / HTTP/1.0\\r\\n\\r\\n"          # as written in lvs.cf (nanny interprets the escapes)
HTTP_EXPECT = "HTTP/1.0 200"
HTTP_REPLY = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"


def listeners(count: int, per_address: int = 100) -> list[tuple[str, socket.socket]]:
    """``count`` listening sockets spread over 127.77.x.y addresses (loopback only)."""
    made = []
    for index in range(count):
        host = index // per_address + 1
        address = f"127.77.{host // 250}.{host % 250 + 1}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        sock.bind((address, 0))
        sock.listen(64)
        made.append((f"rs{index}", sock))
    return made


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    def __init__(self, servers: int, interval: float, timeout: float, http: bool = False):
        self.started = time.monotonic()
        self.http = http
        self.conns: dict[int, socket.socket] = {}     # --http: accepted, waiting for the request
        self.interval, self.timeout = interval, timeout
        self.servers = listeners(servers)
        self.by_fd = {sock.fileno(): sock for _, sock in self.servers}
        self.poll = select.epoll()
        for fd in self.by_fd:
            self.poll.register(fd, select.EPOLLIN)
        self.accepts = 0
        self.planned_at = time.monotonic()
        self.up: set[str] = set()
        self.down_at: dict[str, float] = {}           # when the bench read the down event
        self.detected_at: dict[str, float] = {}       # the event's own time: nanny's verdict
        self.check_ms: dict[str, float] = {}          # how long that failing check itself took
        self.down_why: dict[str, str] = {}
        self.buffer = b""
        self.stderr = tempfile.TemporaryFile()
        profile = ["-m", "cProfile", "-o", os.environ["NN_PROFILE"]] if os.environ.get("NN_PROFILE") else []
        self.nanny = subprocess.Popen([sys.executable, *profile, "-m", "piranha.nanny.main", "--stream",
                                       "--resync", "0"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        os.set_blocking(self.nanny.stdout.fileno(), False)
        self.poll.register(self.nanny.stdout.fileno(), select.EPOLLIN)

    def plan(self) -> None:
        probe = {"send": HTTP_SEND, "expect": HTTP_EXPECT} if self.http else {}
        checks = [{"id": id, "address": sock.getsockname()[0], "port": sock.getsockname()[1],
                   "interval": self.interval, "timeout": self.timeout, **probe} for id, sock in self.servers]
        self.nanny.stdin.write(json.dumps({"op": "plan", "checks": checks}).encode() + b"\n")
        self.nanny.stdin.flush()
        self.planned_at = time.monotonic()

    def pump(self, seconds: float) -> None:
        """Accept and close every connection, and read nanny's events, for ``seconds``."""
        end = time.monotonic() + seconds
        out_fd = self.nanny.stdout.fileno()
        while (left := end - time.monotonic()) > 0:
            if time.monotonic() - self.started > HARD_LIMIT:
                raise SystemExit("benchmark exceeded its time limit")
            time.sleep(min(left, 0.02))               # accept in batches: fewer wake-ups of this process
            for fd, _ in self.poll.poll(0):
                if fd == out_fd:
                    self._read_events()
                    continue
                conn = self.conns.pop(fd, None)
                if conn is not None:                  # --http: the request has arrived, answer it
                    self._answer(conn)
                    continue
                sock = self.by_fd[fd]
                while True:
                    try:
                        conn, _ = sock.accept()
                    except (BlockingIOError, ConnectionAbortedError):
                        break
                    self.accepts += 1
                    if self.http:
                        conn.setblocking(False)
                        self.conns[conn.fileno()] = conn
                        self.poll.register(conn.fileno(), select.EPOLLIN)
                    else:
                        conn.close()

    def _answer(self, conn: socket.socket) -> None:
        self.poll.unregister(conn.fileno())
        try:
            if conn.recv(1024):
                conn.send(HTTP_REPLY)
        except OSError:
            pass
        conn.close()

    def _read_events(self) -> None:
        try:
            chunk = os.read(self.nanny.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            raise SystemExit("nanny closed its stdout:\n" + self._stderr_text())
        now = time.time()
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            event = json.loads(line)
            if event["op"] != "state":
                continue
            if event["up"]:
                self.up.add(event["id"])
            else:
                self.up.discard(event["id"])
                self.down_at[event["id"]] = now
                self.detected_at[event["id"]] = event["time"]
                self.check_ms[event["id"]] = event["latency_ms"]
                self.down_why[event["id"]] = event["result"].split(" to ")[0] + " " + event["result"].split(": ")[-1]

    def _stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-2000:]

    def wait_until(self, predicate, limit: float) -> float:
        start = time.monotonic()
        while not predicate() and time.monotonic() - start < limit:
            self.pump(0.05)
        return time.monotonic() - start

    def stop(self) -> resource.struct_rusage:
        self.ran_for = time.monotonic() - self.planned_at
        self.poll.unregister(self.nanny.stdout.fileno())
        self.nanny.stdin.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(self.nanny.pid, os.WNOHANG)
            if pid:
                self.nanny.returncode = os.waitstatus_to_exitcode(status)
                break
            self.pump(0.05)
        else:
            self.nanny.kill()
            _, _, usage = os.wait4(self.nanny.pid, 0)
            self.nanny.returncode = -9
        self.nanny.stdout.close()
        self.poll.close()
        for sock in [*(s for _, s in self.servers), *self.conns.values()]:
            sock.close()
        return usage


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=15.0, help="steady-state measurement, seconds")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--http", action="store_true",
                        help="send/expect checks (GET / → HTTP/1.0 200) instead of plain connects")
    parser.add_argument("--nice", type=int, default=0,
                        help="run nanny at this nice value (e.g. -5 on a machine busy with other work; "
                             "keepalived's checker_priority does the same for its checker)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.servers + 200
    if hard < need:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} is below the {need} descriptors needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start; "
          f"nanny at nice {args.nice}")
    bench = Bench(args.servers, args.interval, args.timeout, args.http)
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, bench.nanny.pid, args.nice)
    try:
        t0 = time.monotonic()
        bench.plan()
        took = bench.wait_until(lambda: len(bench.up) == args.servers, 20)
        kind = f"send {HTTP_SEND!r} / expect {HTTP_EXPECT!r}" if args.http else "TCP connect"
        print(f"servers: {args.servers} listeners; {kind} checks; interval {args.interval:g} s, "
              f"timeout {args.timeout:g} s")
        print(f"all up after {time.monotonic() - t0:.2f} s ({len(bench.up)} up, warm-up {took:.2f} s)")
        bench.pump(2.0)                                   # let the staggered schedule settle

        accepts, cpu0, w0 = bench.accepts, cpu_seconds(bench.nanny.pid), time.monotonic()
        bench.pump(args.window)
        elapsed = time.monotonic() - w0
        checks = bench.accepts - accepts
        cpu = cpu_seconds(bench.nanny.pid) - cpu0
        rate = checks / elapsed
        per_check_us = cpu / checks * 1e6 if checks else float("inf")
        core = cpu / elapsed
        print(f"checks/s: {rate:,.0f} (goal {args.servers / args.interval:,.0f}: "
              f"{rate / (args.servers / args.interval):.1%})")
        print(f"CPU: {cpu * 1000 / checks * 1000:.1f} ms per 1,000 checks = {per_check_us:.1f} µs per check; "
              f"{core:.3f} of one core (goal < {GOAL_CORE}: {core / GOAL_CORE:.2f} of the budget)")
        print(f"vs keepalived's {KEEPALIVED_US[0]:g}-{KEEPALIVED_US[1]:g} µs per TCP check: "
              f"{per_check_us / KEEPALIVED_US[0]:.2f}x-{per_check_us / KEEPALIVED_US[1]:.2f}x")
        false_downs = len(bench.down_at)

        dropped = [id for id, _ in bench.servers[::10]]
        drop_time = time.time()
        for id, sock in bench.servers[::10]:
            bench.poll.unregister(sock.fileno())
            del bench.by_fd[sock.fileno()]
            sock.close()
        bench.wait_until(lambda: all(id in bench.down_at for id in dropped), args.interval + args.timeout + 5)
        latencies = [bench.detected_at[id] - drop_time for id in dropped if id in bench.detected_at]
        received = [bench.down_at[id] - drop_time for id in dropped if id in bench.down_at]
        goal = args.timeout + 0.2
        print(f"detection: {len(latencies)}/{len(dropped)} stopped listeners reported down; "
              f"p50 {percentile(latencies, 0.5):.3f} s, p99 {percentile(latencies, 0.99):.3f} s, "
              f"max {max(latencies):.3f} s (goal p99 <= {goal:.1f} s: "
              f"{percentile(latencies, 0.99) / goal:.2f} of it); read by the bench: "
              f"p99 {percentile(received, 0.99):.3f} s")
        took = [bench.check_ms[id] for id in dropped if id in bench.check_ms]
        print(f"  the failing checks themselves took p50 {percentile(took, 0.5):.1f} ms, "
              f"p99 {percentile(took, 0.99):.1f} ms (connect refused)")
        wrong = set(bench.down_at) - set(dropped)
        print(f"false downs: {false_downs} during the window, {len(wrong)} among the servers left running")
        if wrong:
            reasons = collections.Counter(bench.down_why[id] for id in wrong)
            print("  reasons: " + "; ".join(f"{why} ×{n}" for why, n in reasons.most_common(3)))
    finally:
        usage = bench.stop()
    counted = re.search(r"nanny: (\d+) checks run", bench._stderr_text())
    if counted:
        total = int(counted.group(1))
        print(f"nanny's own count: {total:,} checks in {bench.ran_for:.1f} s since the plan "
              f"({total / bench.ran_for:,.0f}/s, including start-up and the stopped tenth)")
    print(f"nanny exit status {bench.nanny.returncode}; whole run CPU {usage.ru_utime + usage.ru_stime:.2f} s "
          f"(user {usage.ru_utime:.2f}, system {usage.ru_stime:.2f}), max RSS {usage.ru_maxrss / 1024:.0f} MiB")
    return 0 if bench.nanny.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
