"""The lab agent: PID 1's only child inside UML. Builds the cluster, runs it, answers lab controls, tears down.

    python -m lab.agent --state var/lab --max-seconds 14400

It serves the JSON-lines control protocol (piranha.control.protocol) on a Unix socket for the console's lab
blueprint and on TCP TAP_UML_ADDRESS:AGENT_PORT for the host (`scripts/lab status|stop`, the tests). Both are
reachable only from inside UML or from the host's pl-lab namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

from piranha.control.client import ControlClient, ControlError
from piranha.control.protocol import serve

from lab import AGENT_PORT, CLIENT, CONSOLE_PORT, DIRECTORS, REAL_SERVERS, SERVICE_PORT, TAP_UML_ADDRESS, VIP
from lab.commands import Commands
from lab.paths import REPO, UML_RUN, VENV_BIN, LabPaths, console_environment
from lab.processes import Managed
from lab.realserver import RealServerService
from lab.tcp_control import serve_tcp
from lab.topology import Topology
from lab.traffic import TrafficClient

log = logging.getLogger("lab-agent")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(0.2)


class Cluster:
    """Everything running in the lab; `stop()` ends it in reverse order."""

    def __init__(self, paths: LabPaths):
        self.paths = paths
        self.started_at = time.time()
        self.topology = Topology()
        self.services = {name: RealServerService(self.topology[name], name, address, SERVICE_PORT)
                         for name, address in REAL_SERVERS.items()}
        self.pulses = {name: self._pulse(name) for name in DIRECTORS}
        self.sshd = {name: Managed(f"sshd-{name}", self.topology[name].argv(
            "/usr/sbin/sshd", "-D", "-f", str(paths.ssh / f"sshd_config-{name}"),
            "-E", str(paths.logs / f"sshd-{name}.log")), paths.logs / f"sshd-{name}.out") for name in DIRECTORS}
        self.console = Managed("console", self.topology["dir1"].argv(
            str(VENV_BIN / "gunicorn"), "--bind", f"{DIRECTORS['dir1'][0]}:{CONSOLE_PORT}", "--workers", "1",
            "--threads", "8", "--timeout", "120", "--worker-tmp-dir", str(UML_RUN),
            "--no-control-socket", "--access-logfile", str(paths.logs / "console-access.log"),
            "lab.wsgi:app"), paths.logs / "console.log", cwd=str(REPO),
            # TMPDIR on UML's tmpfs: ssh's ControlPath socket must not live on the hostfs /tmp.
            env={**console_environment(paths), "TMPDIR": str(UML_RUN / "tmp")})
        self.traffic = TrafficClient(self.topology["client"].name, VIP, SERVICE_PORT)

    def _pulse(self, director: str) -> Managed:
        p = self.paths
        return Managed(f"pulse-{director}", self.topology[director].argv(
            str(VENV_BIN / "pulse"), "-c", str(p.lvs_cf(director)), "--nodaemon",
            "--socket", p.pulse_socket(director), "--pidfile", p.pulse_pidfile(director),
            "--lvsd-command", str(VENV_BIN / "lvsd"), "--lvsd-socket", p.lvsd_socket(director),
            "--arp-repeats", "3", "--arp-interval", "0.5", "--child-backoff", "5"),
            p.logs / f"pulse-{director}.log")

    def start(self) -> None:
        for folder in (*DIRECTORS, "tmp"):
            (UML_RUN / folder).mkdir(parents=True, exist_ok=True)
        for service in self.services.values():
            service.start()
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation folder
        for sshd in self.sshd.values():
            sshd.start()
        self.console.start()
        # The primary first, so the backup starts by hearing an active partner (no start-up flap).
        self.pulses["dir1"].start()
        wait_for(lambda: self.is_active("dir1"), 60, "pulse active on dir1")
        self.pulses["dir2"].start()
        self.traffic.start()

    def is_active(self, director: str) -> bool:
        try:
            return bool(ControlClient(self.paths.pulse_socket(director), timeout=2).call("status").get("active"))
        except ControlError:
            return False

    def stop(self) -> None:
        self.traffic.stop()
        self.console.stop()
        for pulse in self.pulses.values():
            pulse.stop(grace=25)
        for sshd in self.sshd.values():
            sshd.stop()
        for service in self.services.values():
            service.stop()
        self.topology.close()


async def run(paths: LabPaths, max_seconds: float) -> int:
    UML_RUN.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(paths)
    cluster.start()
    log.info("cluster started: client %s, VIP %s, console on %s:%d", CLIENT, VIP, DIRECTORS["dir1"][0], CONSOLE_PORT)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, done.set)
    commands = Commands(cluster, paths, on_halt=done.set)
    unix = await serve(paths.agent_socket(), commands.handle, mode=0o600)
    tcp = await serve_tcp(TAP_UML_ADDRESS, AGENT_PORT, commands.handle)
    try:
        await asyncio.wait_for(done.wait(), max_seconds)
        log.info("halt requested")
    except asyncio.TimeoutError:
        log.warning("the lab reached its %g s lifetime: stopping", max_seconds)
    finally:
        tcp.close()
        unix.close()
        await asyncio.to_thread(cluster.stop)
    log.info("cluster stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab-agent", description=__doc__.splitlines()[0])
    parser.add_argument("--state", default=str(LabPaths.default().root), help="the lab's state folder (var/lab)")
    parser.add_argument("--max-seconds", type=float, default=4 * 3600, help="stop on its own after this long")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s lab-agent: %(message)s")
    return asyncio.run(run(LabPaths(Path(args.state)), args.max_seconds))


if __name__ == "__main__":
    sys.exit(main())
