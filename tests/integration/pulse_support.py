"""A two-director cluster in namespaces for pulse's integration tests and the failover benchmark.

    switch ── d1 (10.213.0.1, primary)  runs pulse + a TCP service answering "d1"
           ├─ d2 (10.213.0.2, backup)   runs pulse + a TCP service answering "d2"
           └─ client (10.213.0.10)       asks VIP 10.213.0.100:8080 who answers

Every address lives inside namespaces this code creates; everything is removed on close().
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.netns import Lab  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PULSE = str(VENV_BIN / "pulse")
PORT = 8080
NET = "10.213.0"
VIP = f"{NET}.100"
NET6 = "fd00:213::"
PRIVATE_NET = "10.214.0"
VIP6 = f"{NET6}100"
CLIENT = f"{NET}.10"
DIRECTORS = {"d1": f"{NET}.1", "d2": f"{NET}.2"}

# Answers every connection with the director's name; bound to every address so it answers on the VIPs too.
NAME_SERVER = """
import socket, sys
name = sys.argv[1].encode()
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)          # IPv4 and IPv6 on one socket
s.bind(("::", int(sys.argv[2]))); s.listen(64)
while True:
    c, _ = s.accept()
    try: c.sendall(name + b"\\n")
    except OSError: pass      # a health check that connects and resets at once
    finally: c.close()
"""

# Connects to VIP:PORT every INTERVAL s for at most DURATION s; prints "monotonic-time answer" per try.
PROBER = """
import socket, sys, time
vip, port, interval, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
end = time.monotonic() + duration
while time.monotonic() < end:
    t = time.monotonic()
    try:
        with socket.create_connection((vip, port), timeout=interval) as c:
            c.settimeout(interval)
            answer = c.recv(64).decode().strip() or "-"
    except OSError:
        answer = "-"
    print(f"{t:.4f} {answer}", flush=True)
    time.sleep(max(0.0, interval - (time.monotonic() - t)))
"""

# Prints the UDP payload (hex) of the first packet from argv[1] to port argv[2] seen on any interface.
SNIFFER = """
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.settimeout(5)
while True:
    data = s.recv(4096)
    ihl = (data[0] & 15) * 4
    if data[9] == 17 and socket.inet_ntoa(data[12:16]) == sys.argv[1]:
        if struct.unpack("!H", data[ihl + 2:ihl + 4])[0] == int(sys.argv[2]):
            print(data[ihl + 8:].hex())
            break
"""

# Sends one UDP datagram (hex payload) from address argv[1] to argv[2]:argv[3].
SENDER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(bytes.fromhex(sys.argv[4]), (sys.argv[2], int(sys.argv[3])))
"""

CONFIG = """serial_no = {serial}
primary = {NET}.1
service = {service}
backup_active = 1
backup = {NET}.2
heartbeat = 1
heartbeat_port = 539
keepalive = {keepalive}
deadtime = {deadtime}
network = direct
monitor_links = {monitor_links}
{extra_global}
{virtuals}
"""

VIRTUAL = """virtual {name} {{
    active = {active}
    address = {address} eth0:{label}
{nmask}    port = {port}
    protocol = tcp
    server self {{
        address = {real}
        active = 1
        weight = 1
    }}
}}
"""


def render_config(keepalive=0.2, deadtime=0.6, virtuals=None, serial=1, monitor_links=0, extra_global="",
                  service="lvs", failover="") -> str:
    if service == "fos":
        virtuals = []
    virtuals = virtuals if virtuals is not None else [("web", VIP, 1)]
    text = "".join(VIRTUAL.format(name=name, active=active, address=address, label=n + 1, port=PORT,
                                  nmask="" if ":" in address else "    vip_nmask = 255.255.255.0\n",
                                  real=f"{NET6}1" if ":" in address else f"{NET}.1")
                   for n, (name, address, active) in enumerate(virtuals))
    return CONFIG.format(serial=serial, NET=NET, keepalive=keepalive, deadtime=deadtime, service=service,
                         monitor_links=monitor_links, extra_global=extra_global, virtuals=text + failover)


class Cluster:
    """The namespaces, the services, and helpers to start, kill and ask the two pulses."""

    def __init__(self, prefix: str = "pu", services: bool = True, gateway: bool = False, show_logs: bool = True,
                 private: bool = False, **config) -> None:
        """`private`: a second network (10.214.0.0/24, eth1) joins the directors for the private heartbeat."""
        self.show_logs = show_logs
        self.lab = Lab(prefix)
        self.tmp = Path(tempfile.mkdtemp(prefix="pulse-test-"))
        try:
            self.switch = self.lab.switch()
            self.ns = {name: self.lab.netns(name) for name in DIRECTORS}
            self.ports = {name: self.lab.plug(self.switch, ns, f"{addr}/24") for (name, ns), addr
                          in zip(self.ns.items(), DIRECTORS.values())}
            if private:
                self.private_switch = self.lab.switch("sw2")
                self.private_ports = {name: self.lab.plug(self.private_switch, ns, f"{PRIVATE_NET}.{n}/24", "eth1")
                                      for n, (name, ns) in enumerate(self.ns.items(), start=1)}
            self.client = self.lab.netns("client")
            self.lab.plug(self.switch, self.client, f"{CLIENT}/24")
            for ns, address in ((self.ns["d1"], NET6 + "1"), (self.ns["d2"], NET6 + "2"), (self.client, NET6 + "10")):
                ns.run(["ip", "-6", "addr", "add", f"{address}/64", "dev", "eth0", "nodad"])
            for name, ns in self.ns.items():
                if services:
                    ns.popen([sys.executable, "-c", NAME_SERVER, name, str(PORT)])
                if gateway:   # the client doubles as the default gateway that fos's check pings
                    ns.run(["ip", "route", "add", "default", "via", CLIENT])
            self.write_config(**config)
        except BaseException:
            self.close()
            raise
        self.pulses: dict[str, subprocess.Popen] = {}

    @property
    def config_path(self) -> Path:
        return self.tmp / "lvs.cf"

    def write_config(self, **config) -> None:
        self.config_path.write_text(render_config(**config))

    def socket(self, name: str) -> str:
        return str(self.tmp / f"{name}.sock")

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def start(self, name: str, *extra: str, wait: bool = True, lvsd: str | None = None) -> subprocess.Popen:
        """Start pulse in `name`'s namespace; without `lvsd` (a program path) it runs with --no-lvsd."""
        children = (["--lvsd-command", lvsd, "--lvsd-socket", str(self.tmp / f"{name}-lvsd.sock")] if lvsd
                    else ["--no-lvsd"])
        argv = [PULSE, "-c", str(self.config_path), "--nodaemon", *children, "--socket", self.socket(name),
                "--pidfile", str(self.tmp / f"{name}.pid"), "--arp-interval", "0.2", *extra]
        out = open(self.tmp / f"{name}.log", "a")
        env = {**os.environ, "DIRECTOR": name}          # fos start/stop commands in the tests use it
        proc = self.ns[name].popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        out.close()
        self.pulses[name] = proc
        if wait:
            self.wait_for(lambda: self.status(name) is not None, 10, f"{name}'s control socket")
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.pulses.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=10)

    def ctl(self, name: str, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / "piranha-ctl"), "--socket", self.socket(name), *command],
                              capture_output=True, text=True, timeout=20)

    def status(self, name: str) -> dict | None:
        result = self.ctl(name, "status")
        return json.loads(result.stdout) if result.returncode == 0 else None

    def active(self) -> set[str]:
        return {name for name in self.pulses if (self.status(name) or {}).get("active")}

    def ask(self, vip: str = VIP, timeout: float = 1.0) -> str:
        """Who answers on the VIP, from the client namespace ('-' when nobody does)."""
        code = ("import socket,sys\ntry:\n c=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=1)\n"
                " print(c.recv(64).decode().strip())\nexcept OSError:\n print('-')")
        return self.client.run([sys.executable, "-c", code, vip, str(PORT)], timeout=timeout + 10).stdout.strip()

    def prober(self, interval: float, duration: float) -> subprocess.Popen:
        return self.client.popen([sys.executable, "-c", PROBER, VIP, str(PORT), str(interval), str(duration)],
                                 stdout=subprocess.PIPE, text=True)

    def capture_heartbeat(self, at: str, sender: str) -> bytes:
        """A real heartbeat from `sender`'s address, captured as it arrives in namespace `at`."""
        out = self.ns[at].run([sys.executable, "-c", SNIFFER, DIRECTORS[sender], "539"], timeout=15).stdout
        return bytes.fromhex(out.strip())

    def send_as(self, name: str, to: str, payload: bytes, port: int = 539) -> None:
        """Send a datagram from director `name`'s namespace and address (a forger on the partner's address)."""
        self.ns[name].run([sys.executable, "-c", SENDER, DIRECTORS[name], DIRECTORS[to], str(port), payload.hex()],
                          timeout=15)

    def vips_in(self, name: str) -> str:
        return self.ns[name].run(["ip", "-4", "-o", "addr", "show", "dev", "eth0"]).stdout

    @staticmethod
    def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def close(self) -> None:
        for name in list(self.pulses):
            proc = self.pulses.pop(name)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
        self.lab.close()
        for path in sorted(self.tmp.glob("*.log")) if self.show_logs else ():   # pytest shows it on failure
            print(f"===== {path.name}\n{path.read_text()}")
        for path in sorted(self.tmp.glob("*"), reverse=True):
            path.unlink()
        self.tmp.rmdir()

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
