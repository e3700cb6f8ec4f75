"""Benchmark of lvsd's reload on the real kernel: a 1,000-service table, 10% of the services changed.

Boots User-Mode Linux (tests/kernel/uml.py) and, inside it, runs the real lvsd and nanny in a director
namespace with 1,000 NAT services (VIP ports 10000-10999, two real servers each). A client namespace keeps
opening connections to *unchanged* services throughout; then lvs.cf changes the scheduler and the weights of
100 services and lvsd is told to reload. Prints: time for the reload request to return, time until the
kernel table shows every change, operations applied, and the client's failed connections on unchanged
services (goal 0). Needs root and /usr/bin/linux. Run: .venv/bin/python bench/bench_reload.py
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SERVICES, CHANGED, FIRST_PORT = 1000, 100, 10000
ADDR = ("10.1.0.11", "10.1.0.12")


def lvs_cf(serial: int, changed: bool) -> str:
    parts = [f"serial_no = {serial}\nprimary = 10.0.0.1\nservice = lvs\nnetwork = nat\n"
             "nat_router = 10.1.0.254 eth1\nhard_shutdown = 0\n"]
    for index in range(SERVICES):
        altered = changed and index % (SERVICES // CHANGED) == 0
        scheduler, weights = ("wrr", (3, 1)) if altered else ("rr", (1, 1))
        servers = "".join(f"    server rs{n} {{\n        address = {address}\n        active = 1\n"
                          f"        weight = {weights[n]}\n        port = 80\n    }}\n"
                          for n, address in enumerate(ADDR))
        parts.append(f"virtual v{index} {{\n    active = 1\n    address = 10.0.0.100 eth0\n"
                     f"    port = {FIRST_PORT + index}\n    scheduler = {scheduler}\n    timeout = 2\n"
                     f"    check_interval = 2\n{servers}}}\n")
    return "".join(parts)


def inside(workdir: Path) -> int:
    """The part that runs in UML: topology, lvsd, client load, reload, figures → workdir/figures.json."""
    from piranha.control.client import ControlClient
    from piranha.net.ipvs import KernelIPVS
    from tests.kernel.drivers.lab import Lab, wait_for

    lab = Lab("lv")
    cf, sock = workdir / "lvs.cf", str(workdir / "lvsd.sock")
    cf.write_text(lvs_cf(1, changed=False))
    log = open(workdir / "lvsd.log", "w")
    lvsd = subprocess.Popen(["ip", "netns", "exec", lab.director.name, str(REPO / ".venv/bin/lvsd"), "-c",
                             str(cf), "--nodaemon", "--socket", sock, "--socket-group", ""],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    figures: dict = {}
    try:
        ipvs = KernelIPVS(netns=lab.director.name)

        def dest_count():
            return sum(len(live.dests) for live in ipvs.table())
        started = time.monotonic()
        wait_for(lambda: dest_count() == 2 * SERVICES, 300, step=0.5)
        figures["initial_convergence_s"] = round(time.monotonic() - started, 2)

        unchanged = [FIRST_PORT + i for i in range(SERVICES) if i % (SERVICES // CHANGED) != 0]
        stop, counts = threading.Event(), {"ok": 0, "failed": 0}

        def load():
            n = 0
            while not stop.is_set():
                answer = lab.request(unchanged[n % len(unchanged)], timeout=2.0)
                counts["failed" if answer.startswith("error") else "ok"] += 1
                n += 7
        client = threading.Thread(target=load)
        client.start()
        time.sleep(1.0)
        before_ok = counts["ok"]
        cf.write_text(lvs_cf(2, changed=True))
        control = ControlClient(sock, timeout=120)
        began = time.monotonic()
        control.call("reload")
        figures["reload_call_s"] = round(time.monotonic() - began, 3)

        def reconciled():
            brief = control.call("status", brief=True)
            return brief["last_reconcile"].get("serial") == 2 and not brief["pending"] and brief["last_reconcile"]
        last, _ = wait_for(reconciled, 120, step=0.02)
        figures["converge_s"] = round(time.monotonic() - began, 3)
        figures["reconcile_s"], figures["operations"] = last["seconds"], last["operations"]

        def converged():
            table = ipvs.table()
            changed = [s for s in table if (s.service.key.port - FIRST_PORT) % (SERVICES // CHANGED) == 0]
            return len(changed) == CHANGED and all(
                s.service.scheduler == "wrr" and sorted(d.dest.weight for d in s.dests) == [1, 3] for s in changed)
        wait_for(converged, 30, step=0.5)      # the kernel's table agrees with what lvsd reported
        time.sleep(1.0)
        stop.set()
        client.join(10)
        figures["client_connections_during_run"] = counts["ok"] + counts["failed"]
        figures["client_connections_around_reload"] = counts["ok"] - before_ok + counts["failed"]
        figures["failed_connections_unchanged_services"] = counts["failed"]
        figures["services"], figures["changed_services"] = SERVICES, CHANGED
        ipvs.close()
    finally:
        lvsd.send_signal(signal.SIGTERM)
        try:
            lvsd.wait(60)
        except subprocess.TimeoutExpired:
            lvsd.kill()
            lvsd.wait()
        log.close()
        lab.close()
        (workdir / "figures.json").write_text(json.dumps(figures))
    return 0


def main() -> int:
    from tests.kernel.uml import available, run_driver

    reason = available()
    if reason:
        print(f"bench_reload: cannot run: {reason}")
        return 2
    with tempfile.TemporaryDirectory(prefix="lvbench") as tmp:
        workdir = Path(tmp)
        result = run_driver(Path(__file__).resolve(), workdir, "--inside", str(workdir), timeout=900)
        figures_path = workdir / "figures.json"
        figures = json.loads(figures_path.read_text()) if figures_path.exists() else {}
        if result.exit_status != 0 or "converge_s" not in figures:
            print(result.log[-4000:])
            tail = (workdir / "lvsd.log").read_text(errors="replace")[-2000:] if (workdir / "lvsd.log").exists() else ""
            print(tail)
            return 1
    print(f"lvsd reload benchmark (real IPVS in UML): {figures['services']} services, "
          f"{figures['changed_services']} changed (scheduler rr->wrr, weights 1,1->3,1)")
    print(f"  initial table built (all checks passed):  {figures['initial_convergence_s']:8.2f} s")
    print(f"  reload request answered:                  {figures['reload_call_s']:8.3f} s")
    print(f"  table converged after reload:             {figures['converge_s']:8.3f} s "
          f"({figures['operations']} operations, reconcile {figures['reconcile_s']:.3f} s)")
    print(f"  client connections to unchanged services: {figures['client_connections_during_run']:8d}")
    print(f"  failed connections (goal 0):              {figures['failed_connections_unchanged_services']:8d}")
    return 0 if figures["failed_connections_unchanged_services"] == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        os.chdir(REPO)
        sys.exit(inside(Path(sys.argv[2])))
    sys.exit(main())
