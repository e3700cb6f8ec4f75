"""Benchmark of Apply: a 1,000-virtual-server x 10-real-server lvs.cf applied to a backup over real ssh.

The backup is a network namespace with its own sshd and a control socket answering the remote
`piranha-ctl reload` (the integration tests' harness, tests/integration/apply_support.py); the engine runs
in this process with its thread moved into a "primary" namespace, so nothing leaves the machine's
namespaces. Each run changes one weight so every apply really copies a new file.

Prints median and max of validate, write, sync (copy + remote SHA-256), remote reload and total; goal:
total <= 2 s median. Needs root. Run: .venv/bin/python bench/bench_apply.py [--runs 10] [--sync rsync|ssh]
"""

from __future__ import annotations

import argparse
import ipaddress
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piranha_web.apply import engine  # noqa: E402
from piranha_web.apply.settings import ApplySettings  # noqa: E402
from tests.integration.apply_support import BACKUP_ADDR, PRIMARY_ADDR, inside_netns, running_backup  # noqa: E402

GOAL_SECONDS = 2.0
COLUMNS = ("validate", "write", "sync", "remote reload", "total")


def generate(virtual_count: int, real_count: int, weight: int) -> str:
    lines = ["serial_no = 1", f"primary = {PRIMARY_ADDR}", "service = lvs", "backup_active = 1",
             f"backup = {BACKUP_ADDR}", "heartbeat_port = 539", "keepalive = 2", "deadtime = 6", "network = direct"]
    vip_base = int(ipaddress.IPv4Address("172.16.0.0"))
    rip_base = int(ipaddress.IPv4Address("10.0.0.0"))
    for v in range(virtual_count):
        lines += [f"virtual vs{v} {{", "     active = 1",
                  f"     address = {ipaddress.IPv4Address(vip_base + v + 1)} eth0:{v % 100}", "     port = 80",
                  '     send = "GET / HTTP/1.0\\r\\n\\r\\n"', '     expect = "HTTP"', "     scheduler = wlc",
                  "     protocol = tcp", "     timeout = 6"]
        for r in range(real_count):
            server_weight = weight if (v, r) == (0, 0) else 1 + r % 5
            lines += [f"     server rs{r} {{", f"         address = {ipaddress.IPv4Address(rip_base + v * 16 + r + 1)}",
                      "         active = 1", f"         weight = {server_weight}", "     }"]
        lines.append("}")
    return "\n".join(lines) + "\n"


def run(runs: int, virtual_count: int, real_count: int, sync: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in COLUMNS}
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp_name:
        tmp = Path(tmp_name)
        with running_backup(tmp) as director:
            lvs_cf = tmp / "lvs.cf"
            settings = ApplySettings.from_mapping(director.settings(lvs_cf, PIRANHA_SYNC=sync), environ={})
            with inside_netns(director.primary.name):
                for n in range(runs):
                    draft = generate(virtual_count, real_count, weight=10 + n)
                    running = lvs_cf.read_text() if lvs_cf.exists() else None
                    started = time.perf_counter()
                    result = engine.apply_text(settings, draft, running)
                    total = time.perf_counter() - started
                    if not result.ok:
                        raise SystemExit(f"apply {n} failed: {[s.as_dict() for s in result.steps if not s.ok]}")
                    for name in COLUMNS[:-1]:
                        times[name].append(result.step(name).duration)
                    times["total"].append(total)
            if director.remote_lvs_cf.read_text() != lvs_cf.read_text() or len(director.reloads()) != runs:
                raise SystemExit("the backup does not hold the last file or missed a reload")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--virtual", type=int, default=1000)
    parser.add_argument("--real", type=int, default=10)
    parser.add_argument("--sync", choices=("rsync", "ssh"), default="rsync")
    args = parser.parse_args()
    size = len(generate(args.virtual, args.real, 10).encode())
    print(f"Apply of {args.virtual} virtual x {args.real} real servers ({size / 1e6:.2f} MB), "
          f"{args.runs} runs, sync {args.sync} over ssh to a backup namespace")
    times = run(args.runs, args.virtual, args.real, args.sync)
    print(f"{'step':<14}{'median s':>10}{'max s':>10}")
    for name in COLUMNS:
        print(f"{name:<14}{statistics.median(times[name]):>10.3f}{max(times[name]):>10.3f}")
    median_total = statistics.median(times["total"])
    print(f"total median / goal {GOAL_SECONDS:g} s = {median_total / GOAL_SECONDS:.2f} "
          f"({'met' if median_total <= GOAL_SECONDS else 'NOT met'})")
    return 0 if median_total <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
