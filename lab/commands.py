"""What the lab agent answers: status, the traffic record, and the lab controls (each a small, named action).

| command | args | does |
|---|---|---|
| status | | directors (pulse status JSON), real-server services, the directors' link, recent traffic, ready |
| traffic | since (epoch s) | the client's answers per server, errors and longest outage since then |
| clock | | the lab's time (UML keeps its own clock: compare `since` against this one) |
| service | server, action stop/start | stop or start a real server's HTTP service |
| pulse | director, action stop/start | SIGTERM a director's pulse (it releases its VIPs) or start it again |
| link | action cut/restore | take dir2's port on the public LAN down (the directors' heartbeat path) or up |
| hold | count, seconds | the client opens `count` requests answered only after `seconds` (long connections) |
| halt | | stop everything; UML then powers off |
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time

from piranha.control.client import ControlClient, ControlError
from piranha.control.protocol import CommandError

from lab import DIRECTORS

log = logging.getLogger("lab-agent")
LINK_PORT = "pdir2"
ACTIONS = {"service": ("stop", "start"), "pulse": ("stop", "start"), "link": ("cut", "restore")}


class Commands:
    def __init__(self, cluster, paths, on_halt):
        self.cluster, self.paths, self.on_halt = cluster, paths, on_halt

    async def handle(self, command: str, args: dict):
        if command == "halt":
            self.on_halt()
            return {"halting": True}
        method = getattr(self, f"do_{command}", None)
        if method is None:
            known = ", ".join(sorted(n[3:] for n in dir(self) if n.startswith("do_")) + ["halt"])
            raise CommandError(f"unknown command {command!r}; the lab agent answers {known}")
        unknown = set(args) - set(inspect.signature(method).parameters)
        if unknown:
            raise CommandError(f"{command}: unknown argument(s) {', '.join(sorted(unknown))}")
        return await asyncio.to_thread(method, **args)

    # -- reads -----------------------------------------------------------------------------------
    def director_status(self, director: str) -> dict:
        pulse = self.cluster.pulses[director]
        answer = {"pulse": pulse.describe(), "status": None, "error": None}
        if pulse.running:
            try:
                answer["status"] = ControlClient(self.paths.pulse_socket(director), timeout=5).call("status")
            except ControlError as exc:
                answer["error"] = str(exc)
        return answer

    def do_status(self) -> dict:
        directors = {name: self.director_status(name) for name in DIRECTORS}
        traffic = self.cluster.traffic.summary(since=time.time() - 5)
        result = {
            "uptime": round(time.time() - self.cluster.started_at, 1),
            "directors": directors,
            "services": {name: s.describe() for name, s in self.cluster.services.items()},
            "link": {"directors_connected": self.cluster.topology.port_is_up(LINK_PORT)},
            "console": self.cluster.console.describe(),
            "sshd": {name: sshd.describe() for name, sshd in self.cluster.sshd.items()},
            "traffic": traffic,
        }
        result["ready"], result["waiting_for"] = readiness(directors, traffic, result["sshd"])
        return result

    def do_clock(self) -> dict:
        return {"now": time.time()}

    def do_traffic(self, since: float = 0.0) -> dict:
        return self.cluster.traffic.summary(since=float(since))

    def do_hold(self, count: int = 0, seconds: int = 0) -> dict:
        try:
            return {"held": self.cluster.traffic.hold(int(count), int(seconds))}
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    # -- lab controls ------------------------------------------------------------------------------
    def do_service(self, server: str = "", action: str = "") -> dict:
        service = self.cluster.services.get(server)
        if service is None:
            raise CommandError(f"no real server {server!r}; the lab has {', '.join(self.cluster.services)}")
        _check_action("service", action)
        if action == "start":
            service.start()
        else:
            service.stop()
        log.info("lab control: %s service of %s", action, server)
        return service.describe()

    def do_pulse(self, director: str = "", action: str = "") -> dict:
        pulse = self.cluster.pulses.get(director)
        if pulse is None:
            raise CommandError(f"no director {director!r}; the lab has {', '.join(self.cluster.pulses)}")
        _check_action("pulse", action)
        if action == "start":
            pulse.start()
        else:
            pulse.stop(grace=25)
        log.info("lab control: %s pulse on %s", action, director)
        return pulse.describe()

    def do_link(self, action: str = "") -> dict:
        _check_action("link", action)
        self.cluster.topology.set_port(LINK_PORT, up=action == "restore")
        log.info("lab control: link between the directors %s", "restored" if action == "restore" else "cut")
        return {"directors_connected": self.cluster.topology.port_is_up(LINK_PORT)}


def _check_action(control: str, action: str) -> None:
    if action not in ACTIONS[control]:
        raise CommandError(f"{control}: action {action!r} is not one of {', '.join(ACTIONS[control])}")


def readiness(directors: dict, traffic: dict, sshd: dict) -> tuple[bool, list[str]]:
    """The lab is up when dir1 is active, dir2 standby, three servers up in IPVS, the client is answered and
    both directors' sshd run."""
    waiting = [f"sshd on {name}" for name, state in sshd.items() if not state["running"]]
    primary, backup = directors["dir1"]["status"], directors["dir2"]["status"]
    if not primary or not primary.get("active"):
        waiting.append("pulse active on dir1")
    if not backup or backup.get("active") or backup.get("partner", {}).get("state") in (None, "unknown", "dead"):
        waiting.append("pulse standby on dir2, hearing dir1")
    lvsd = ((primary or {}).get("lvsd") or {}).get("status") or {}
    up = [s for s in lvsd.get("servers", []) if s.get("health") == "up" and s.get("in_ipvs")]
    if len(up) < 3:
        waiting.append(f"three real servers up (now {len(up)})")
    if not traffic["by_server"] or traffic["errors"]:
        waiting.append(f"client traffic without errors ({traffic['requests']} requests, {traffic['errors']} errors "
                       f"in the last 5 s)")
    return not waiting, waiting
