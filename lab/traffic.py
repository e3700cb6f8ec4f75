"""The lab's client: steady HTTP requests to the VIP from the client namespace, each outcome recorded.

One request at a time at a fixed rate; bounded by a request budget and by the lab's lifetime. `hold()` adds
a few slow requests that keep their connections active for a while (what a drain waits for). Outcomes are
kept in a ring (the last MAX_KEPT) so the tests can ask "who answered, and any errors, since time T".
"""

from __future__ import annotations

import collections
import socket
import threading
import time

from lab.realserver import MAX_SLOW
from lab.netns import enter

MAX_KEPT = 200_000
MAX_HELD = 50


class TrafficClient:
    def __init__(self, netns: str, address: str, port: int, rate: float = 10.0, timeout: float = 1.0,
                 max_requests: int = 2_000_000):
        self.netns, self.address, self.port = netns, address, port
        self.interval, self.timeout, self.max_requests = 1.0 / rate, timeout, max_requests
        self.outcomes: collections.deque[tuple[float, str]] = collections.deque(maxlen=MAX_KEPT)
        self.sent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 2)

    def _run(self) -> None:
        enter(self.netns)
        next_at = time.monotonic()
        while not self._stop.is_set() and self.sent < self.max_requests:
            outcome = self._request()
            with self._lock:
                self.outcomes.append((time.time(), outcome))
                self.sent += 1
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at, time.monotonic() - self.interval)

    def hold(self, count: int, seconds: int) -> int:
        """Open `count` connections answered after `seconds` (each recorded like any request)."""
        if not 1 <= count <= MAX_HELD or not 1 <= seconds <= MAX_SLOW:
            raise ValueError(f"hold: count 1-{MAX_HELD} and seconds 1-{MAX_SLOW}, not {count} and {seconds}")

        def one() -> None:
            enter(self.netns)
            outcome = self._request(f"/slow/{seconds}", seconds + 5)
            with self._lock:
                self.outcomes.append((time.time(), outcome))

        for index in range(count):
            threading.Thread(target=one, name=f"held-{index}", daemon=True).start()
        return count

    def _request(self, path: str = "/", timeout: float | None = None) -> str:
        """The answering server's name, or 'error: ...'."""
        timeout = timeout or self.timeout
        try:
            with socket.create_connection((self.address, self.port), timeout=self.timeout) as conn:
                conn.settimeout(timeout)
                conn.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
        except OSError as exc:
            return f"error: {exc.strerror or exc}"
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.0 200"):
            return f"error: bad answer {data[:60]!r}"
        return body.decode(errors="replace").strip()

    def summary(self, since: float = 0.0) -> dict:
        """Answers per server and errors since `since` (epoch seconds), with the longest error run."""
        with self._lock:
            recent = [(t, o) for t, o in self.outcomes if t >= since]
            sent = self.sent
        by_server: dict[str, int] = {}
        errors: list[tuple[float, str]] = []
        outage, run_start, last_error = 0.0, None, None
        for t, outcome in recent:
            if outcome.startswith("error"):
                errors.append((t, outcome))
                run_start = t if run_start is None else run_start
                last_error = t
                continue
            by_server[outcome] = by_server.get(outcome, 0) + 1
            if run_start is not None:
                outage = max(outage, t - run_start)
                run_start = None
        if run_start is not None:
            outage = max(outage, recent[-1][0] - run_start)
        return {"since": since, "requests": len(recent), "total_sent": sent, "by_server": by_server,
                "errors": len(errors), "last_error": last_error, "error_samples": [e[1] for e in errors[-5:]],
                "longest_outage_s": round(outage, 2), "last": recent[-1][1] if recent else None}
