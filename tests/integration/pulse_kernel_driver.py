"""Inside UML (real IPVS): two directors running the real pulse, which starts the real lvsd and nanny.

Usage: python pulse_kernel_driver.py WORKDIR. Run by tests/kernel/test_pulse_failover.py through
tests/kernel/uml.py. Writes WORKDIR/results.json with each check's verdict and the measured outage.

    client 10.0.0.2 ── front bridge ── d1 eth0 10.0.0.11 ┐ VIP 10.0.0.100 (eth0:1), NAT router 10.1.0.254 (eth1:1)
                                    └─ d2 eth0 10.0.0.12 ┘ held by the active director
    rs1 10.1.0.21, rs2 10.1.0.22 ── back bridge ── d1 eth1 10.1.0.11, d2 eth1 10.1.0.12

The client opens a new HTTP connection to the VIP every 50 ms; the active director then dies (every process in its namespace
SIGKILLed, both its links cut) and the other must take over: VIP and NAT router address, gratuitous ARPs, lvsd, IPVS.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from piranha.control.client import ControlClient, ControlError  # noqa: E402
from lab.netns import Namespace, sh  # noqa: E402
from tests.kernel.drivers.lab import Listener, wait_for  # noqa: E402

BIN = REPO / ".venv" / "bin"
VIP = "10.0.0.100"
DIRECTORS = {"d1": ("10.0.0.11", "10.1.0.11"), "d2": ("10.0.0.12", "10.1.0.12")}
SERVERS = {"rs1": "10.1.0.21", "rs2": "10.1.0.22"}
KEEPALIVE, DEADTIME = 0.2, 0.6

LVS_CF = f"""serial_no = 1
primary = {DIRECTORS['d1'][0]}
service = lvs
backup_active = 1
backup = {DIRECTORS['d2'][0]}
heartbeat = 1
heartbeat_port = 539
keepalive = {KEEPALIVE}
deadtime = {DEADTIME}
network = nat
nat_router = 10.1.0.254 eth1:1
nat_nmask = 255.255.255.0
hard_shutdown = 0
syncdaemon = 1
syncd_iface = eth1
syncd_id = 7
virtual web {{
    active = 1
    address = {VIP} eth0:1
    vip_nmask = 255.255.255.0
    port = 80
    scheduler = rr
    send = "GET / HTTP/1.0\\r\\n\\r\\n"
    expect = "HTTP"
    timeout = 1
    check_interval = 0.5
""" + "".join(f"""    server {name} {{
        address = {address}
        active = 1
        weight = 1
    }}
""" for name, address in SERVERS.items()) + "}\n"


VIP2 = "10.0.0.101"
VIRTUAL2 = f"""virtual web2 {{
    active = 1
    address = {VIP2} eth0:2
    vip_nmask = 255.255.255.0
    port = 80
    scheduler = rr
    timeout = 1
    check_interval = 0.5
    server rs1 {{
        address = {SERVERS['rs1']}
        active = 1
        weight = 1
    }}
}}
"""


class Cluster:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.spaces: list[Namespace] = []
        self.ports: dict[str, list[str]] = {}
        sw = self.sw = self.ns("sw")
        for bridge in ("front", "back"):
            sw.ip("link", "add", bridge, "type", "bridge")
            sw.ip("link", "set", bridge, "up")
        self.client = self.ns("client")
        self.plug(self.client, "eth0", "10.0.0.2/24", "front")
        self.d = {}
        for name, (front, back) in DIRECTORS.items():
            ns = self.d[name] = self.ns(name)
            self.plug(ns, "eth0", f"{front}/24", "front")
            self.plug(ns, "eth1", f"{back}/24", "back")
            ns.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.listeners = []
        for name, address in SERVERS.items():
            ns = self.ns(name)
            self.plug(ns, "eth0", f"{address}/24", "back")
            ns.ip("route", "add", "default", "via", "10.1.0.254")
            self.listeners.append(Listener(ns, address, 80, name.encode()).start())
        self.config = workdir / "lvs.cf"
        self.config.write_text(LVS_CF)
        self.pulses: dict[str, subprocess.Popen] = {}

    def ns(self, role: str) -> Namespace:
        space = Namespace(f"pk-{role}")
        self.spaces.append(space)
        return space

    def plug(self, ns: Namespace, name: str, address: str, bridge: str) -> None:
        port = f"p{len(self.spaces)}{name}"
        sh("ip", "link", "add", port, "netns", self.sw.name, "type", "veth", "peer", "name", name, "netns", ns.name)
        ns.ip("addr", "add", address, "dev", name)
        ns.ip("link", "set", name, "up")
        self.sw.ip("link", "set", port, "master", bridge)
        self.sw.ip("link", "set", port, "up")
        self.ports.setdefault(ns.name, []).append(port)

    def start(self, name: str) -> None:
        log = open(self.workdir / f"{name}.log", "w")
        self.pulses[name] = subprocess.Popen(
            ["ip", "netns", "exec", self.d[name].name, str(BIN / "pulse"), "-c", str(self.config), "--nodaemon",
             "--socket", self.sock(name), "--pidfile", str(self.workdir / f"{name}.pid"),
             "--lvsd-command", str(BIN / "lvsd"), "--lvsd-socket", str(self.workdir / f"{name}-lvsd.sock"),
             "--arp-interval", "0.3"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def sock(self, name: str) -> str:
        return str(self.workdir / f"{name}.sock")

    def status(self, name: str) -> dict:
        try:
            return ControlClient(self.sock(name), timeout=10).call("status")
        except ControlError:
            return {}

    def serving(self, name: str) -> bool:
        """Active, lvsd running, and both real servers in its IPVS table."""
        status = self.status(name)
        lvsd = (status.get("lvsd") or {}).get("status") or {}
        in_ipvs = {s["server"] for s in lvsd.get("servers", []) if s.get("in_ipvs") and s.get("current_weight")}
        return bool(status.get("active")) and in_ipvs == set(SERVERS)

    def die(self, name: str) -> None:
        """The director dies: its links go and every process in its namespace is killed."""
        for port in self.ports[self.d[name].name]:
            self.sw.ip("link", "set", port, "down")
        for pid in sh("ip", "netns", "pids", self.d[name].name, check=False).split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.pulses.pop(name).wait(10)

    def close(self) -> None:
        for proc in self.pulses.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for listener in self.listeners:
            listener.stop()
        for space in reversed(self.spaces):
            for pid in sh("ip", "netns", "pids", space.name, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            space.close()


def stream(stop: threading.Event, record: list) -> None:
    """New connections to the VIP every 50 ms (runs inside the client namespace)."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            with socket.create_connection((VIP, 80), timeout=0.3) as conn:
                conn.settimeout(0.5)
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
            who = data.split(b"\r\n\r\n", 1)[1].decode() if b"\r\n\r\n" in data else "error"
        except OSError:
            who = "error"
        record.append((started, who))
        time.sleep(max(0.0, 0.05 - (time.monotonic() - started)))


def until_serving(cluster: Cluster, name: str, results: dict) -> float:
    """Seconds until `name` serves (active, lvsd up, both real servers in IPVS); status kept on a timeout."""
    try:
        return wait_for(lambda: cluster.serving(name), 90)[1]
    except TimeoutError:
        results["last_status"] = {n: cluster.status(n) for n in cluster.pulses}
        raise


def scenario(cluster: Cluster, results: dict) -> None:
    cluster.start("d1")
    cluster.start("d2")
    # Whichever pulse is up first may win (Python starts slowly in UML, and there is no failback): the test
    # kills the one that serves and expects the other to take over.
    (active, took) = wait_for(lambda: next((n for n in ("d1", "d2") if cluster.serving(n)), None), 90)
    standby = "d2" if active == "d1" else "d1"
    results["first_active"], results["serving_after_start_s"] = active, round(took, 2)
    other = cluster.status(standby)
    results["standby_ok"] = not other.get("active") and (other.get("lvsd") or {}).get("state") == "stopped"
    record: list = []
    stop = threading.Event()
    streamer = cluster.client._pool.submit(stream, stop, record)
    time.sleep(2.0)
    killed = time.monotonic()
    cluster.die(active)
    results["takeover_serving_after_kill_s"] = round(until_serving(cluster, standby, results), 2)
    time.sleep(2.0)
    stop.set()
    streamer.result(30)
    ok = [t for t, who in record if who != "error"]
    failed = [t for t, who in record if t >= killed and who == "error"]
    results["answers_before"] = sum(1 for t in ok if t < killed)
    if failed:   # the outage: from the last answer before the first failure to the first answer after it
        last_good = max((t for t in ok if t < failed[0]), default=None)
        recovered = min((t for t in ok if t > failed[0]), default=None)
    else:
        last_good = recovered = None
    results["answers_after"] = sum(1 for t in ok if recovered is not None and t >= recovered)
    results["outage_s"] = round(recovered - last_good, 3) if last_good and recovered else None
    results["errors_after_recovery"] = sum(1 for t in failed if recovered is not None and t > recovered)
    status = cluster.status(standby)
    results["takeover_vips"] = sorted(v["address"] for v in status.get("vips", []))
    results["takeover_lvsd_state"] = (status.get("lvsd") or {}).get("state")
    results["takeover_partner"] = (status.get("partner") or {}).get("state")
    results["sync_daemon"] = cluster.d[standby].run("ipvsadm", "-L", "--daemon", check=False).strip()
    reload_adds_a_virtual_server(cluster, standby, results)


def reload_adds_a_virtual_server(cluster: Cluster, name: str, results: dict) -> None:
    """Reload on the serving director: pulse raises and ARPs the new VIP, lvsd adds the service to IPVS."""
    cluster.config.write_text(LVS_CF.replace("serial_no = 1", "serial_no = 2") + VIRTUAL2)
    results["reload"] = ControlClient(cluster.sock(name), timeout=30).call("reload")

    def answer():
        def once():
            try:
                with socket.create_connection((VIP2, 80), timeout=1) as conn:
                    conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    return conn.recv(4096).split(b"\r\n\r\n", 1)[-1].decode()
            except OSError:
                return ""
        return cluster.client.call(once)
    who, took = wait_for(answer, 30)
    results["vip2_answer"], results["vip2_after_reload_s"] = who, round(took, 2)


def main() -> int:
    workdir = Path(sys.argv[1])
    results: dict = {}
    cluster = None
    try:
        cluster = Cluster(workdir)
        scenario(cluster, results)
    except Exception as exc:
        results["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
    finally:
        if cluster is not None:
            cluster.close()
        (workdir / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results), flush=True)
    return 0 if "error" not in results else 1


if __name__ == "__main__":
    sys.exit(main())
