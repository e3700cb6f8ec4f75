"""Client-observed failover time of two real pulse directors in network namespaces (needs root).

Each round "kills" the active director: SIGKILL of its pulse and its switch port down, so it neither
heartbeats nor answers. A client namespace connects to the VIP every 10 ms (50 ms connect timeout); the
outage is the time between the last answer from the old director and the first from the new one. The dead
director then comes back (link, then pulse, which drops the stale VIP) and stays standby;
the next round kills the other one.

Prints min/median/max at keepalive 0.2 s / deadtime 0.6 s (20 kills) and at Piranha's 6 s / 18 s
(3 kills, to keep the run near five minutes). Goals: median <= deadtime + 0.3 s; <= 1.0 s at 0.2/0.6.
Run: .venv/bin/python bench/bench_failover.py [--kills 20] [--slow-kills 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.pulse_support import Cluster  # noqa: E402

PROBE_INTERVAL = 0.01


def outage(lines: list[str], old: str, new: str, since: float) -> float | None:
    last_old, first_new = None, None
    for line in lines:
        t, answer = line.split()
        t = float(t)
        if answer == old:
            last_old = t
        elif answer == new and t >= since:
            first_new = t
            break
    if first_new is None or last_old is None:
        return None
    return first_new - last_old


def kill_round(cluster: Cluster, old: str, new: str, deadtime: float) -> float:
    prober = cluster.prober(interval=PROBE_INTERVAL, duration=deadtime + 2.5)
    time.sleep(0.5)
    killed = time.monotonic()
    os.killpg(cluster.pulses[old].pid, signal.SIGKILL)
    cluster.switch.run(["ip", "link", "set", cluster.ports[old], "down"])
    cluster.pulses.pop(old).wait(timeout=10)
    out, _ = prober.communicate(timeout=deadtime + 30)
    words = out.split()
    result = outage([f"{t} {a}" for t, a in zip(words[::2], words[1::2])], old, new, killed)
    if result is None:
        raise RuntimeError(f"the client never reached {new} after {old} died")
    # The director returns: link first (a pulse started while cut off would rightly declare its partner
    # dead and activate), then pulse, which drops the stale VIP the SIGKILL left behind and stands by.
    cluster.switch.run(["ip", "link", "set", cluster.ports[old], "up"])
    cluster.start(old)
    cluster.wait_for(lambda: cluster.active() == {new}, deadtime * 3 + 5, f"{old} back as standby")
    cluster.wait_for(lambda: cluster.status(old)["partner"]["state"] == "running", deadtime * 3 + 5,
                     f"{old} hearing {new}")
    return result


def run(keepalive: float, deadtime: float, kills: int) -> list[float]:
    results = []
    with Cluster(keepalive=keepalive, deadtime=deadtime, show_logs=False) as cluster:
        cluster.start("d1")
        cluster.start("d2")
        cluster.wait_for(lambda: cluster.active() == {"d1"}, deadtime * 2 + 5, "d1 active")
        active, standby = "d1", "d2"
        for n in range(kills):
            took = kill_round(cluster, active, standby, deadtime)
            results.append(took)
            print(f"  kill {n + 1:2d}: {active} -> {standby}: outage {took:.3f} s", flush=True)
            active, standby = standby, active
    return results


def report(keepalive: float, deadtime: float, results: list[float]) -> bool:
    median = statistics.median(results)
    goal = deadtime + 0.3 if deadtime > 0.6 else min(deadtime + 0.3, 1.0)
    print(f"keepalive {keepalive:g} s / deadtime {deadtime:g} s, {len(results)} kills: "
          f"min {min(results):.3f} s, median {median:.3f} s, max {max(results):.3f} s "
          f"(goal median <= {goal:.1f} s: {'met' if median <= goal else 'NOT met'})")
    return median <= goal


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="kills at 0.2/0.6 (default 20)")
    parser.add_argument("--slow-kills", type=int, default=3, help="kills at 6/18 (default 3; 0 to skip)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_failover needs root (network namespaces)", file=sys.stderr)
        return 2
    ok = True
    settings = [(0.2, 0.6, args.kills)] + ([(6.0, 18.0, args.slow_kills)] if args.slow_kills else [])
    summaries = []
    for keepalive, deadtime, kills in settings:
        print(f"keepalive {keepalive:g} s / deadtime {deadtime:g} s: {kills} kills", flush=True)
        summaries.append((keepalive, deadtime, run(keepalive, deadtime, kills)))
    print()
    for keepalive, deadtime, results in summaries:
        ok = report(keepalive, deadtime, results) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
