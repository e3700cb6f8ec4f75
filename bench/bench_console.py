"""Console server time with 1,000 virtual servers x 10 real servers (goal: p95 <= 150 ms per page).

Builds a temporary console (SQLite, managed lvs.cf) holding the large configuration as its running revision,
logs in, and times /virtual, /virtual/<name> and /virtual/<name>/real through the WSGI app (server time: no
network). Prints p50/p95 per page and the ratio to the goal.

    .venv/bin/python bench/bench_console.py [--requests 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from piranha import lvscf
from piranha.lvscf.model import RealServer, VirtualServer
from piranha_web import create_app
from piranha_web.cli import init_console
from piranha_web.users_service import set_user

GOAL_P95_MS = 150.0
VIRTUALS, REALS = 1000, 10
PASSWORD = "bench-admin-password"


def big_config_text() -> str:
    """1,000 active virtual servers on 203.0.113.x/198.51.100.x-style test addresses, 10 real servers each."""
    config = lvscf.loads("serial_no = 1\nprimary = 192.0.2.10\nservice = lvs\nnetwork = nat\n"
                         "nat_router = 192.0.2.254 eth1:1\n")
    for v in range(VIRTUALS):
        virtual = VirtualServer(name=f"vs{v:04d}", active=True, address=f"10.{v // 250}.{v % 250}.1",
                                device="eth0:1", port=80 + v % 3, send="GET / HTTP/1.0\\r\\n\\r\\n", expect="HTTP")
        virtual.servers = [RealServer(name=f"rs{v:04d}-{r}", address=f"10.{100 + v // 250}.{v % 250}.{10 + r}",
                                      active=True, weight=1 + r % 4) for r in range(REALS)]
        config.virtual_servers.append(virtual)
    problems = config.validate()
    if problems:
        raise SystemExit(f"benchmark configuration does not validate: {problems[:3]}")
    return lvscf.dumps(config)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page (default 60)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="piranha-bench-") as tmp:
        var_dir = Path(tmp)
        text = big_config_text()
        (var_dir / "lvs.cf").write_text(text)
        app = create_app({"PIRANHA_VAR_DIR": str(var_dir), "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
        with app.app_context():
            init_console()
            set_user("admin", PASSWORD, "admin")
        client = app.test_client()
        client.post("/login", data={"username": "admin", "password": PASSWORD})
        print(f"lvs.cf: {VIRTUALS} virtual servers x {REALS} real servers, {len(text.splitlines())} lines, "
              f"{len(text) // 1024} KiB")
        pages = {"/virtual": "/virtual", "/virtual/<name>": "/virtual/vs0500",
                 "/virtual/<name>/real": "/virtual/vs0500/real"}
        worst = 0.0
        for label, url in pages.items():
            started = time.perf_counter()
            first = client.get(url)
            cold_ms = (time.perf_counter() - started) * 1000
            assert first.status_code == 200, (url, first.status_code)
            samples = []
            for _ in range(args.requests):
                started = time.perf_counter()
                response = client.get(url)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            p50, p95 = statistics.median(samples), percentile(samples, 0.95)
            worst = max(worst, p95)
            print(f"{label:24s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (first request {cold_ms:.0f} ms, "
                  f"{args.requests} requests)")
        started = time.perf_counter()
        response = client.post("/virtual/vs0500/toggle")
        save_ms = (time.perf_counter() - started) * 1000
        assert response.status_code == 302 and "Saved to the draft" in client.get("/virtual").get_data(as_text=True)
        print(f"{'one edit saved (POST)':24s} {save_ms:7.0f} ms   (parse, validate, render, re-parse the whole file)")
        print(f"worst p95 {worst:.1f} ms vs goal {GOAL_P95_MS:.0f} ms: ratio {worst / GOAL_P95_MS:.2f} "
              f"({'met' if worst <= GOAL_P95_MS else 'NOT met'})")
        return 0 if worst <= GOAL_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
