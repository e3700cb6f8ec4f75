"""Inside UML: the real lvsd and nanny in a director namespace, and what a client namespace sees.

Usage: python scenarios.py WORKDIR. Writes WORKDIR/results.json: {scenario: {"ok", "detail", "figures"}}.
Scenarios run in order against one lvsd (each reconfigures it by reload); a failed one is recorded and the
rest still run. Exit status 0 when every scenario passed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from piranha.control.client import ControlClient, ControlError  # noqa: E402
from tests.kernel.drivers.lab import Lab, wait_for  # noqa: E402

INTERVAL, TIMEOUT, REENTRY, FAILURES = 0.5, 1, 2, 1
RAMP_STEP = 1.0     # seconds between weight doublings after re-entry (Piranha: about 20)
ADDR = {"rs1": "10.1.0.11", "rs2": "10.1.0.12", "rs3": "10.1.0.13"}


def lvs_cf(serial: int, web: dict, weights=(1, 2, 3), extra: str = "") -> str:
    servers = "".join(
        f"    server {name} {{\n        address = {ADDR[name]}\n        active = 1\n        weight = {w}\n    }}\n"
        for name, w in zip(ADDR, weights))
    web_keys = "".join(f"    {k} = {v}\n" for k, v in web.items())
    echo_servers = "".join(
        f"    server {name} {{\n        address = {ADDR[name]}\n        active = 1\n    }}\n" for name in ADDR)
    return (f"serial_no = {serial}\nprimary = 10.0.0.1\nservice = lvs\nnetwork = nat\n"
            f"nat_router = 10.1.0.254 eth1\nhard_shutdown = 0\nsyncdaemon = 1\nsyncd_iface = eth1\nsyncd_id = 9\n"
            f"virtual web {{\n    active = 1\n    address = {Lab.VIP} eth0\n    port = 80\n"
            f"    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n    expect = \"HTTP\"\n    timeout = {TIMEOUT}\n"
            f"    check_interval = {INTERVAL}\n    reentry = {REENTRY}\n    failures = {FAILURES}\n"
            f"{web_keys}{servers}}}\n"
            f"virtual echo {{\n    active = 1\n    address = {Lab.VIP} eth0\n    port = 9000\n    scheduler = rr\n"
            f"    timeout = {TIMEOUT}\n    check_interval = {INTERVAL}\n{echo_servers}}}\n{extra}")


class Run:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.lab = Lab("lv")
        self.cf = workdir / "lvs.cf"
        self.sock = str(workdir / "lvsd.sock")
        self.serial = 1
        self.cf.write_text(lvs_cf(1, {"scheduler": "rr"}))
        self.log = open(workdir / "lvsd.log", "w")
        self.lvsd = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.director.name, str(REPO / ".venv/bin/lvsd"), "-c", str(self.cf),
             "--nodaemon", "--socket", self.sock, "--socket-group", "", "-v", "--ramp-step", str(RAMP_STEP)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.sock), 30)
        self.ctl = ControlClient(self.sock, timeout=10)

    def reload(self, web: dict, weights=(1, 2, 3), extra: str = "") -> None:
        self.serial += 1
        self.cf.write_text(lvs_cf(self.serial, web, weights, extra))
        self.ctl.call("reload")

    def servers(self, virtual: str = "web") -> dict[str, dict]:
        return {s["server"]: s for s in self.ctl.call("status")["servers"] if s["virtual"] == virtual}

    def in_ipvs(self, virtual: str = "web") -> set[str]:
        return {name for name, s in self.servers(virtual).items() if s["in_ipvs"] and s["current_weight"]}

    def table(self) -> list:
        return [(s["key"], s["scheduler"], s["persistent"],
                 [(d["address"], d["port"], d["forwarding"], d["weight"]) for d in s["dests"]])
                for s in self.ctl.call("status")["table"]]

    def close(self) -> int | None:
        if self.lvsd.poll() is None:
            self.lvsd.send_signal(signal.SIGTERM)
            try:
                self.lvsd.wait(20)
            except subprocess.TimeoutExpired:
                self.lvsd.kill()
                self.lvsd.wait()
        self.log.close()
        self.lab.close()
        return self.lvsd.returncode


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


# -- scenarios, in order -----------------------------------------------------------------------------
def nat_rr(run: Run, figures: dict) -> None:
    wait_for(lambda: run.in_ipvs() == {"rs1", "rs2", "rs3"}, 20)
    seen = figures["rr"] = run.lab.count(30)
    check(seen == {"rs1": 10, "rs2": 10, "rs3": 10}, f"rr over weights 1,2,3: {seen}")
    ipvsadm = run.lab.director.run("ipvsadm", "-Ln")
    check(f"{ADDR['rs2']}:80" in ipvsadm and "Masq" in ipvsadm, f"ipvsadm cross-check:\n{ipvsadm}")

    def web_counters():
        (web,) = [s for s in run.ctl.call("status")["table"] if s["name"] == "web"]
        return web
    # the stats (connections, bytes, packets) are summed by the kernel's estimator and lag up to ~2 s behind
    # the traffic (the ACTIVE/INACT connection states do not): wait for them to settle
    try:
        web, _ = wait_for(lambda: (w := web_counters())["stats"]["conns"] >= 30 and w["stats"]["inpkts"] > 0 and w, 8)
    except TimeoutError:
        web = web_counters()      # the check below says what the counters were
    conns = [d["stats"]["conns"] for d in web["dests"]]
    figures["conns_per_server"] = conns
    check(conns == [10, 10, 10] and web["stats"]["conns"] == 30, f"connection counters: {web}")
    check(sum(d["inactive_conns"] + d["active_conns"] for d in web["dests"]) > 0, f"conn states: {web}")
    check(web["stats"]["inbytes"] > 0 and web["stats"]["outbytes"] > 0, f"byte counters: {web['stats']}")


def nat_wrr(run: Run, figures: dict) -> None:
    run.reload({"scheduler": "wrr"})
    wait_for(lambda: run.table()[0][1] == "wrr", 5)
    seen = figures["wrr"] = run.lab.count(60)
    check(seen == {"rs1": 10, "rs2": 20, "rs3": 30}, f"wrr 1,2,3 over 60: {seen}")


def nat_wlc(run: Run, figures: dict) -> None:
    run.reload({"scheduler": "wlc"})
    wait_for(lambda: run.table()[0][1] == "wlc", 5)
    seen = figures["wlc"] = run.lab.count(60)
    check("error" not in seen and len(seen) == 3, f"wlc served by all three without errors: {seen}")
    check(seen["rs3"] > seen["rs1"], f"wlc favours weight 3 over weight 1: {seen}")


def reload_keeps_long_connection(run: Run, figures: dict) -> None:
    conn = run.lab.open_echo()
    failures, rounds, stop = [], [0], threading.Event()

    def talk():
        while not stop.is_set():
            message = f"ping {rounds[0]}\n".encode()
            try:
                conn.sendall(message)
                got = b""
                while len(got) < len(message):
                    got += conn.recv(4096) or b"<closed>"
                    if got.endswith(b"<closed>"):
                        break
                if got != message:
                    failures.append(got)
            except OSError as exc:
                failures.append(str(exc))
            rounds[0] += 1
            time.sleep(0.05)
    talker = threading.Thread(target=talk)
    talker.start()
    try:
        time.sleep(0.5)
        before = [row for row in run.table() if row[0].endswith(":9000")]
        run.reload({"scheduler": "wrr"}, weights=(3, 2, 1))
        wait_for(lambda: run.table()[0][3] and sorted(d[3] for d in run.table()[0][3]) == [1, 2, 3] and
                 {d[0]: d[3] for d in run.table()[0][3]}[ADDR["rs1"]] == 3, 10)
        seen = figures["wrr_after_reload"] = run.lab.count(60)
        time.sleep(0.5)
    finally:
        stop.set()
        talker.join(10)
    after = [row for row in run.table() if row[0].endswith(":9000")]
    conn.close()
    figures["echo_rounds"], figures["echo_failures"] = rounds[0], len(failures)
    check(not failures, f"the long-lived connection broke during reload: {failures[:3]}")
    check(rounds[0] > 20, f"too few echo rounds: {rounds[0]}")
    check(before == after, f"the unchanged echo service was modified: {before} -> {after}")
    check(seen == {"rs1": 30, "rs2": 20, "rs3": 10}, f"new scheduler/weights not applied: {seen}")


def persistence(run: Run, figures: dict) -> None:
    run.reload({"scheduler": "rr", "persistent": 60})
    wait_for(lambda: run.table()[0][2] == 60, 5)
    seen = figures["persistent"] = run.lab.count(20)
    check(len(seen) == 1 and "error" not in seen, f"persistence sends one client to one server: {seen}")


def fwmark(run: Run, figures: dict) -> None:
    run.lab.director.run("iptables-legacy", "-t", "mangle", "-A", "PREROUTING", "-d", Lab.VIP, "-p", "tcp",
                         "--dport", "8080", "-j", "MARK", "--set-mark", "5")
    marked = "".join(
        f"    server {name} {{\n        address = {ADDR[name]}\n        active = 1\n        port = 80\n    }}\n"
        for name in ADDR)
    extra = (f"virtual marked {{\n    active = 1\n    address = {Lab.VIP} eth0\n    port = 8080\n    fwmark = 5\n"
             f"    scheduler = rr\n    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n    expect = \"HTTP\"\n"
             f"    timeout = {TIMEOUT}\n    check_interval = {INTERVAL}\n{marked}}}\n")
    run.reload({"scheduler": "rr"}, extra=extra)
    wait_for(lambda: run.in_ipvs("marked") == {"rs1", "rs2", "rs3"}, 15)
    seen = figures["fwmark"] = run.lab.count(30, port=8080)
    check(seen == {"rs1": 10, "rs2": 10, "rs3": 10}, f"fwmark rr: {seen}")
    check(any(row[0] == "FWM 5" for row in run.table()), f"no FWM 5 service: {run.table()}")
    run.reload({"scheduler": "rr"})
    wait_for(lambda: not any(row[0] == "FWM 5" for row in run.table()), 5)


def server_killed(run: Run, figures: dict) -> None:
    run.reload({"scheduler": "rr"})
    wait_for(lambda: run.in_ipvs() == {"rs1", "rs2", "rs3"}, 20)
    run.lab.http["rs2"].stop()
    _, took = wait_for(lambda: "rs2" not in run.in_ipvs(), 15, step=0.05)
    figures["removal_seconds"] = round(took, 2)
    limit = (INTERVAL + TIMEOUT) * FAILURES + 1.5
    check(took <= limit, f"rs2 removed after {took:.2f} s, more than {limit} s")
    seen = figures["after_kill"] = run.lab.count(30)
    check(seen == {"rs1": 15, "rs3": 15}, f"client after the kill: {seen}")


def server_restarted(run: Run, figures: dict) -> None:
    check(run.lab.http["rs2"].sock is None, "rs2 should still be down from server_killed")
    run.lab.http["rs2"].start()
    _, took = wait_for(lambda: "rs2" in run.in_ipvs(), 20, step=0.05)
    figures["reentry_seconds"] = round(took, 2)
    first = run.servers()["rs2"]["current_weight"]
    _, ramped = wait_for(lambda: run.servers()["rs2"]["current_weight"] == 2, 5, step=0.05)
    figures["ramp"] = {"entry_weight": first, "full_weight_after_s": round(ramped, 2)}
    check(first == 1, f"rs2 (weight 2) re-entered at weight {first}, not max(1, 2 >> 5) = 1")
    check(ramped <= RAMP_STEP + 1, f"rs2 reached its weight after {ramped:.2f} s")
    # reentry / interval good checks in a row (4 here): the first may come at once, the last 1.5 s later;
    # without the re-entry wait it would be back within one interval.
    check(took >= REENTRY - 2 * INTERVAL, f"rs2 back after {took:.2f} s, before reentry {REENTRY} s")
    check(took <= REENTRY + 3 * INTERVAL + 2, f"rs2 back only after {took:.2f} s")
    seen = figures["after_restart"] = run.lab.count(30)
    check(seen == {"rs1": 10, "rs2": 10, "rs3": 10}, f"client after the restart: {seen}")


def quiesce(run: Run, figures: dict) -> None:
    run.reload({"scheduler": "rr", "quiesce_server": 1})
    run.lab.http["rs3"].stop()
    wait_for(lambda: run.servers()["rs3"]["health"] == "down", 10)
    rs3 = run.servers()["rs3"]
    check(rs3["in_ipvs"] and rs3["current_weight"] == 0, f"quiesced rs3: {rs3}")
    line = [ln for ln in run.lab.director.run("ipvsadm", "-Ln").splitlines() if f"{ADDR['rs3']}:80" in ln]
    check(line and line[0].split()[3] == "0", f"ipvsadm shows rs3 weight: {line}")
    seen = figures["quiesced"] = run.lab.count(20)
    check(seen == {"rs1": 10, "rs2": 10}, f"client while rs3 is quiesced: {seen}")
    run.lab.http["rs3"].start()
    wait_for(lambda: "rs3" in run.in_ipvs(), 20)


def sorry_server(run: Run, figures: dict) -> None:
    run.reload({"scheduler": "rr", "sorry_server": "10.1.0.50"})
    for name in ADDR:
        run.lab.http[name].stop()
    _, took = wait_for(lambda: run.lab.request() == "sorry", 20, step=0.2)
    figures["sorry_seconds"] = round(took, 2)
    seen = figures["sorry"] = run.lab.count(10)
    check(seen == {"sorry": 10}, f"client with every real server down: {seen}")
    run.lab.http["rs1"].start()
    wait_for(lambda: run.lab.request() == "rs1", 20, step=0.2)
    seen = figures["sorry_after_recovery"] = run.lab.count(10)
    check(seen == {"rs1": 10}, f"client after rs1 recovered: {seen}")
    check(not any(d[0] == "10.1.0.50" for d in run.table()[0][3]), f"sorry server left in: {run.table()[0]}")
    for name in ("rs2", "rs3"):
        run.lab.http[name].start()


def invalid_reload(run: Run, figures: dict) -> None:
    run.reload({"scheduler": "rr"})
    wait_for(lambda: run.in_ipvs() == {"rs1", "rs2", "rs3"}, 20)
    before = [row[:3] + ([d[:3] for d in row[3]],) for row in run.table()]
    run.cf.write_text(lvs_cf(run.serial + 1, {"scheduler": "fastest"}))
    try:
        run.ctl.call("reload")
        raise AssertionError("an invalid file was accepted")
    except ControlError as exc:
        figures["refusal"] = str(exc)[:200]
        check("fastest" in str(exc), f"refusal does not name the bad value: {exc}")
    run.lvsd.send_signal(signal.SIGHUP)
    time.sleep(1)
    after = [row[:3] + ([d[:3] for d in row[3]],) for row in run.table()]
    check(before == after, f"table changed by an invalid file: {before} -> {after}")
    check(run.lvsd.poll() is None, "lvsd died on an invalid reload")
    seen = run.lab.count(9)
    check("error" not in seen, f"client after invalid reload: {seen}")


def sync_daemon(run: Run, figures: dict) -> None:
    run.ctl.call("syncd", state="backup")
    shown = run.lab.director.run("ipvsadm", "-L", "--daemon")
    check("backup sync daemon" in shown and "eth1" in shown and "syncid=9" in shown, f"after backup: {shown}")
    run.ctl.call("syncd", state="master")
    shown = figures["master"] = run.lab.director.run("ipvsadm", "-L", "--daemon").strip()
    check("master sync daemon" in shown and "backup" not in shown, f"after master: {shown}")
    run.ctl.call("syncd", state="stop")
    shown = run.lab.director.run("ipvsadm", "-L", "--daemon")
    check(shown.strip() == "", f"after stop: {shown}")
    # The one-shot pulse runs on a standby node, where no lvsd serves: same result, then exit.
    lvsd = str(REPO / ".venv/bin/lvsd")
    standby_cf = run.workdir / "standby.cf"      # run.cf holds the invalid file of the scenario before
    standby_cf.write_text(lvs_cf(1, {"scheduler": "rr"}))
    run.lab.director.run(lvsd, "--syncd", "backup", "-c", str(standby_cf))
    shown = figures["one-shot"] = run.lab.director.run("ipvsadm", "-L", "--daemon").strip()
    check("backup sync daemon" in shown and "syncid=9" in shown, f"after lvsd --syncd backup: {shown}")
    run.lab.director.run(lvsd, "--syncd", "stop", "-c", str(standby_cf))
    shown = run.lab.director.run("ipvsadm", "-L", "--daemon")
    check(shown.strip() == "", f"after lvsd --syncd stop: {shown}")


def clean_stop(run: Run, figures: dict) -> None:
    run.lvsd.send_signal(signal.SIGTERM)
    code = run.lvsd.wait(20)
    check(code == 0, f"lvsd exit status {code}")
    left = run.lab.director.run("ipvsadm", "-Ln")
    check("10.0.0.100" not in left, f"services left after a clean stop:\n{left}")


SCENARIOS = [nat_rr, nat_wrr, nat_wlc, reload_keeps_long_connection, persistence, fwmark, server_killed,
             server_restarted, quiesce, sorry_server, invalid_reload, sync_daemon, clean_stop]


def main() -> int:
    workdir = Path(sys.argv[1])
    results: dict[str, dict] = {}
    run = Run(workdir)
    try:
        for scenario in SCENARIOS:
            figures: dict = {}
            started = time.monotonic()
            try:
                scenario(run, figures)
                results[scenario.__name__] = {"ok": True, "detail": "", "figures": figures}
            except Exception as exc:
                detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
                results[scenario.__name__] = {"ok": False, "detail": detail, "figures": figures}
            results[scenario.__name__]["seconds"] = round(time.monotonic() - started, 2)
            print(scenario.__name__, results[scenario.__name__], flush=True)
            (workdir / "results.json").write_text(json.dumps(results, indent=1))
    finally:
        run.close()
    return 0 if all(r["ok"] for r in results.values()) and len(results) == len(SCENARIOS) else 1


if __name__ == "__main__":
    sys.exit(main())
