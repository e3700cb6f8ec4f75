"""lvsd's status JSON (and the console's status document built from it) against `ipvsadm -Ln --stats` in a
real IPVS table, and the operator's drain on real connections, inside User-Mode Linux.

This file is both the host-side test and the driver run inside UML (`python test_status_ipvs.py WORKDIR`):
one boot runs every step in order and writes WORKDIR/results.json; each test below checks one step.
Inside UML: tests/kernel/drivers/lab.py's namespaces (client, director, rs1..rs3), the real lvsd and nanny,
HTTP traffic from the client and long-lived echo connections for the drain.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if __name__ != "__main__":
    from tests.kernel.uml import available, run_driver

    pytestmark = pytest.mark.slow

STEPS = ["counters_match_ipvsadm", "document_matches_ipvsadm", "drain_waits_for_connections",
         "drained_server_stays_out_across_reload", "disabled_server_stays_out_across_restart", "enable",
         "failed_server_shown_quiesced_or_down"]


# ---- host side ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if available():
        pytest.skip(available())
    workdir = tmp_path_factory.mktemp("status-ipvs")
    run = run_driver(Path(__file__).relative_to(REPO), workdir, str(workdir), timeout=300)
    path = workdir / "results.json"
    if not path.exists():
        pytest.fail(f"the driver wrote no results (exit status {run.exit_status}):\n{run.log[-4000:]}")
    data = json.loads(path.read_text())
    data["_log"] = (workdir / "lvsd.log").read_text(errors="replace") if (workdir / "lvsd.log").exists() else ""
    return data


@pytest.mark.parametrize("step", STEPS)
def test_step(results, step):
    assert step in results, f"{step} did not run: {sorted(results)}"
    outcome = results[step]
    print(step, json.dumps(outcome.get("figures", {}), sort_keys=True))
    assert outcome["ok"], f"{outcome['detail']}\n--- lvsd log (tail) ---\n{results['_log'][-3000:]}"


# ---- inside UML ---------------------------------------------------------------------------------------
def _ipvsadm_stats(text: str) -> dict:
    """{(service, dest or None): {conns, inpkts, outpkts, inbytes, outbytes}} from `ipvsadm -Ln --stats --exact`."""
    table, service = {}, None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 7 and fields[0] in ("TCP", "UDP"):
            service = fields[1]
            table[(service, None)] = dict(zip(("conns", "inpkts", "outpkts", "inbytes", "outbytes"),
                                              map(int, fields[2:])))
        elif len(fields) == 7 and fields[0] == "->":
            table[(service, fields[1])] = dict(zip(("conns", "inpkts", "outpkts", "inbytes", "outbytes"),
                                                   map(int, fields[2:])))
    return table


def _ipvsadm_dests(text: str) -> dict:
    """{(service, dest): (forward, weight, active, inactive)} from `ipvsadm -Ln`."""
    table, service = {}, None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] in ("TCP", "UDP"):
            service = fields[1]
        elif len(fields) == 6 and fields[0] == "->" and re.match(r"\d", fields[1]):
            table[(service, fields[1])] = (fields[2], int(fields[3]), int(fields[4]), int(fields[5]))
    return table


def _status_stats(status: dict) -> dict:
    table = {}
    for service in status["table"]:
        name = f"{service['address']}:{service['port']}"
        table[(name, None)] = {k: service["stats"][k] for k in ("conns", "inpkts", "outpkts", "inbytes", "outbytes")}
        for dest in service["dests"]:
            table[(name, f"{dest['address']}:{dest['port']}")] = {
                k: dest["stats"][k] for k in ("conns", "inpkts", "outpkts", "inbytes", "outbytes")}
    return table


def _status_dests(status: dict) -> dict:
    forward = {"nat": "Masq", "dr": "Route", "tun": "Tunnel"}
    return {(f"{s['address']}:{s['port']}", f"{d['address']}:{d['port']}"):
            (forward[d["forwarding"]], d["weight"], d["active_conns"], d["inactive_conns"])
            for s in status["table"] for d in s["dests"]}


class Driver:
    def __init__(self, workdir: Path):
        sys.path.insert(0, str(REPO))
        from piranha.control.client import ControlClient
        from tests.kernel.drivers.lab import Lab, wait_for
        from tests.kernel.drivers.scenarios import ADDR, lvs_cf

        self.wait_for, self.addr = wait_for, ADDR
        self.workdir = workdir
        self.lab = Lab("mo")
        self.cf = workdir / "lvs.cf"
        self.cf.write_text(lvs_cf(1, {"scheduler": "rr"}))
        self.sock = str(workdir / "lvsd.sock")
        self.state = workdir / "operator.json"
        self.log = open(workdir / "lvsd.log", "a")
        self.ctl = ControlClient(self.sock, timeout=10)
        self.lvsd: subprocess.Popen | None = None
        self.start_lvsd()

    def start_lvsd(self) -> None:
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.lvsd = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.director.name, str(REPO / ".venv/bin/lvsd"), "-c", str(self.cf),
             "--nodaemon", "--socket", self.sock, "--socket-group", "", "--state-file", str(self.state)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_for(lambda: os.path.exists(self.sock), 30)

    def stop_lvsd(self) -> None:
        if self.lvsd is not None and self.lvsd.poll() is None:
            self.lvsd.send_signal(signal.SIGTERM)
            self.lvsd.wait(20)

    def status(self) -> dict:
        return self.ctl.call("status")

    def ipvsadm(self, *args: str) -> str:
        return self.lab.director.run("ipvsadm", "-Ln", *args)

    def server(self, ident: str) -> dict:
        return next(s for s in self.status()["servers"] if s["id"] == ident)

    def close(self) -> None:
        self.stop_lvsd()
        self.log.close()
        self.lab.close()


def counters_match_ipvsadm(d: Driver, figures: dict) -> None:
    d.wait_for(lambda: all(s["health"] == "up" and s["in_ipvs"] for s in d.status()["servers"]), 30)
    figures["answers"] = d.lab.count(30)
    held = [d.lab.open_echo() for _ in range(3)]
    for conn in held:
        conn.sendall(b"ping")
        assert conn.recv(16) == b"ping"
    time.sleep(3.0)                       # the kernel's byte and packet counters lag up to ~2 s
    before, stats, dests, after = d.status(), d.ipvsadm("--stats", "--exact"), d.ipvsadm(), d.status()
    kernel = _ipvsadm_stats(stats)
    figures["services"] = {k[0]: v for k, v in kernel.items() if k[1] is None}
    assert set(kernel) == set(_status_stats(before)), (sorted(kernel), sorted(_status_stats(before)))
    for key, counted in kernel.items():
        assert counted in (_status_stats(before)[key], _status_stats(after)[key]), (key, counted, before)
    assert figures["services"][f"{d.lab.VIP}:80"]["conns"] >= 30
    kernel_dests = _ipvsadm_dests(dests)
    assert kernel_dests in (_status_dests(before), _status_dests(after)), (kernel_dests, _status_dests(before))
    assert sum(v[2] for k, v in kernel_dests.items() if k[0].endswith(":9000")) == 3, kernel_dests
    d.held = held


def document_matches_ipvsadm(d: Driver, figures: dict) -> None:
    from piranha_web.status.document import live_virtual_servers
    status, dests, stats = d.status(), _ipvsadm_dests(d.ipvsadm()), _ipvsadm_stats(d.ipvsadm("--stats", "--exact"))
    virtuals = {v["name"]: v for v in live_virtual_servers(status)}
    assert set(virtuals) == {"web", "echo"}
    for name, port in (("web", 80), ("echo", 9000)):
        service = f"{d.lab.VIP}:{port}"
        assert virtuals[name]["state"] == "up" and virtuals[name]["scheduler"] == "rr"
        assert virtuals[name]["conns"] == stats[(service, None)]["conns"]
        for server in virtuals[name]["servers"]:
            dest = f"{server['address']}:{port}"
            assert server["health"] == "up" and server["in_ipvs"], server
            assert (server["current_weight"], server["active_conns"], server["inactive_conns"]) == dests[
                (service, dest)][1:], (server, dests[(service, dest)])
            assert server["conns"] == stats[(service, dest)]["conns"]
            assert server["inbytes"] == stats[(service, dest)]["inbytes"]
    figures["echo_active"] = {s["name"]: s["active_conns"] for s in virtuals["echo"]["servers"]}


def drain_waits_for_connections(d: Driver, figures: dict) -> None:
    echo = f"{d.lab.VIP}:9000"
    rs1 = f"{d.addr['rs1']}:9000"
    assert _ipvsadm_dests(d.ipvsadm())[(echo, rs1)][2] == 1, "rr gave rs1 one of the three held connections"
    reply = d.ctl.call("drain", server="echo/rs1", timeout=60)
    assert reply["admin"]["state"] == "draining" and reply["admin"]["start_conns"] == 1, reply
    d.wait_for(lambda: _ipvsadm_dests(d.ipvsadm())[(echo, rs1)][1] == 0, 10)
    newer = [d.lab.open_echo() for _ in range(4)]
    time.sleep(1.0)
    table = _ipvsadm_dests(d.ipvsadm())
    figures["while_draining"] = {k[1]: v for k, v in table.items() if k[0] == echo}
    assert table[(echo, rs1)][1:3] == (0, 1), "weight 0, the old connection still served, no new one"
    assert d.server("echo/rs1")["admin"]["state"] == "draining"
    started = time.monotonic()
    for conn in d.held:
        conn.close()
    d.wait_for(lambda: (echo, rs1) not in _ipvsadm_dests(d.ipvsadm()), 15)
    figures["out_after_s"] = round(time.monotonic() - started, 2)
    admin = d.server("echo/rs1")["admin"]
    assert admin["state"] == "disabled" and admin["reason"] == "drained: no active connections left", admin
    for conn in newer:
        conn.close()


def drained_server_stays_out_across_reload(d: Driver, figures: dict) -> None:
    d.ctl.call("reload")
    time.sleep(2.0)
    assert (f"{d.lab.VIP}:9000", f"{d.addr['rs1']}:9000") not in _ipvsadm_dests(d.ipvsadm())
    assert d.server("echo/rs1")["health"] == "up", "healthy, yet out: the operator's decision holds"


def disabled_server_stays_out_across_restart(d: Driver, figures: dict) -> None:
    d.ctl.call("disable", server="web/rs2")
    d.wait_for(lambda: (f"{d.lab.VIP}:80", f"{d.addr['rs2']}:80") not in _ipvsadm_dests(d.ipvsadm()), 10)
    d.stop_lvsd()
    figures["after_stop"] = d.ipvsadm().strip().splitlines()[2:]
    d.start_lvsd()
    d.wait_for(lambda: d.server("web/rs1")["in_ipvs"] and d.server("web/rs2")["health"] == "up", 30)
    time.sleep(1.5)
    table = _ipvsadm_dests(d.ipvsadm())
    figures["after_restart"] = sorted(f"{k[0]} {k[1]}" for k in table)
    assert (f"{d.lab.VIP}:80", f"{d.addr['rs2']}:80") not in table
    assert (f"{d.lab.VIP}:9000", f"{d.addr['rs1']}:9000") not in table
    assert {s["id"]: (s["admin"] or {}).get("state") for s in d.status()["servers"]
            if s["admin"]} == {"web/rs2": "disabled", "echo/rs1": "disabled"}


def enable(d: Driver, figures: dict) -> None:
    for ident in ("web/rs2", "echo/rs1"):
        d.ctl.call("enable", server=ident)
    d.wait_for(lambda: len(_ipvsadm_dests(d.ipvsadm())) == 6, 10)
    table = _ipvsadm_dests(d.ipvsadm())
    assert table[(f"{d.lab.VIP}:80", f"{d.addr['rs2']}:80")][1] == 2, "back at its configured weight"
    assert json.loads(d.state.read_text()) == {"servers": {}}
    figures["answers"] = d.lab.count(12)
    assert "rs2" in figures["answers"]


def failed_server_shown_quiesced_or_down(d: Driver, figures: dict) -> None:
    from piranha_web.status.document import live_virtual_servers
    from tests.kernel.drivers.scenarios import lvs_cf

    def health(name: str) -> str:
        web = next(v for v in live_virtual_servers(d.status()) if v["name"] == "web")
        return next(s["health"] for s in web["servers"] if s["name"] == name)

    d.cf.write_text(lvs_cf(2, {"scheduler": "rr", "quiesce_server": 1}))
    d.ctl.call("reload")
    d.lab.http["rs3"].stop()
    try:
        d.wait_for(lambda: health("rs3") == "quiesced", 15)
        web, rs3 = f"{d.lab.VIP}:80", f"{d.addr['rs3']}:80"
        assert _ipvsadm_dests(d.ipvsadm())[(web, rs3)][1] == 0, "kept in the table at weight 0"
        d.cf.write_text(lvs_cf(3, {"scheduler": "rr", "quiesce_server": 0}))
        d.ctl.call("reload")
        d.wait_for(lambda: (web, rs3) not in _ipvsadm_dests(d.ipvsadm()), 15)
        figures["without_quiesce"] = health("rs3")
        assert health("rs3") == "down"
    finally:
        d.lab.http["rs3"].start()


def main(workdir: Path) -> int:
    results: dict[str, dict] = {}
    driver = Driver(workdir)
    try:
        for name in STEPS:
            figures: dict = {}
            started = time.monotonic()
            try:
                globals()[name](driver, figures)
                results[name] = {"ok": True, "detail": "", "figures": figures}
            except Exception as exc:
                results[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
                                 "figures": figures}
            results[name]["seconds"] = round(time.monotonic() - started, 2)
            print(name, results[name], flush=True)
            (workdir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    finally:
        driver.close()
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
