"""`./scripts/lab start|stop|status` on the host: the pl-lab namespace with the TAP, UML, the forwarder.

start prepares var/lab/ (lvs.cf for both directors, the lab's ssh keys, the console's database and admin),
boots UML inside pl-lab, starts the forwarder, waits (bounded) until the cluster is up and prints the URL
and the one-time admin password. stop halts UML through its agent, ends the forwarder and deletes pl-lab
(the TAP goes with it); nothing of the lab runs afterwards and nothing is left outside var/lab/.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import time
import urllib.request

from lab import AGENT_PORT, CONSOLE_PORT, DIRECTORS, HOST_NAMESPACE, TAP_UML_ADDRESS
from lab.paths import LabPaths
from lab.prepare import prepare_state, console_init
from lab.tcp_control import AgentClient, AgentError
from lab.uml import UmlBoot, alive, ensure_host_namespace, kill_uml, remove_host_namespace, start_forwarder, \
    stop_pid, uml_running, wait_gone

DEFAULT_PORT = 8636
START_TIMEOUT = 300
STOP_TIMEOUT = 90


class LabError(Exception):
    """The lab cannot start or stop; the message says why and what to look at."""


def agent() -> AgentClient:
    return AgentClient(TAP_UML_ADDRESS, AGENT_PORT, netns=HOST_NAMESPACE, timeout=15)


def read_state(paths: LabPaths) -> dict | None:
    try:
        return json.loads(paths.state_file.read_text())
    except (FileNotFoundError, ValueError):
        return None


def start(paths: LabPaths, port: int, timeout: float, max_seconds: int) -> int:
    state = read_state(paths)
    if state and (uml_running(state.get("uml_pid"), state.get("umid"))
                  or alive(state.get("forwarder_pid"), "lab.forwarder")):
        raise LabError(f"the lab is already running ({state['url']}); `./scripts/lab stop` first")
    if state:
        stop(paths, quiet=True)
    print(f"==> preparing {paths.root} (lvs.cf of both directors, lab ssh keys)", flush=True)
    prepare_state(paths)
    print("==> console database and first admin", flush=True)
    try:
        password = console_init(paths)
    except RuntimeError as exc:
        raise LabError(f"{exc}; see {paths.logs / 'init-console.log'}") from None
    print(f"==> namespace {HOST_NAMESPACE} with the TAP link; booting User-Mode Linux", flush=True)
    state = {"uml_pid": None, "forwarder_pid": None, "port": port, "url": f"http://127.0.0.1:{port}/",
             "started": time.time()}
    try:
        ensure_host_namespace()
        boot = UmlBoot(paths, max_seconds)
        state["umid"] = boot.umid
        state["uml_pid"] = boot.start()
        paths.state_file.write_text(json.dumps(state))
        state["forwarder_pid"] = start_forwarder(paths, port, f"{DIRECTORS['dir1'][0]}:{CONSOLE_PORT}")
        paths.state_file.write_text(json.dumps(state))
        wait_until_ready(paths, state, timeout)
    except (LabError, AgentError, RuntimeError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        print(f"lab: logs are in {paths.logs}; stopping what started", file=sys.stderr)
        stop(paths, quiet=True)
        return 1
    print("")
    print("=" * 68)
    print(f"  Piranha lab is up: {state['url']}")
    print(f"  Log in as admin with the one-time password: {password}")
    print("  dir1 active, dir2 standby, rs1-rs3 serving the VIP 10.0.0.100, client traffic flowing")
    print("  `./scripts/lab status` shows it; `./scripts/lab stop` ends it")
    print("=" * 68, flush=True)
    return 0


def wait_until_ready(paths: LabPaths, state: dict, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = ["the lab agent to answer"]
    last_report = 0.0
    while time.monotonic() < deadline:
        if not uml_running(state["uml_pid"], state["umid"]):
            raise LabError(f"User-Mode Linux ended during start-up; see {paths.logs / 'agent.log'}")
        try:
            status = agent().call("status")
            waiting = status["waiting_for"]
            if status["ready"] and console_answers(state["port"]):
                return
            if status["ready"]:
                waiting = ["the console behind the forwarder"]
        except AgentError:
            pass
        if time.monotonic() - last_report > 15:
            print(f"    waiting for: {'; '.join(waiting)}", flush=True)
            last_report = time.monotonic()
        time.sleep(1)
    raise LabError(f"not up within {timeout:g} s; still waiting for: {'; '.join(waiting)}")


def console_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as reply:
            return reply.status == 200
    except OSError:
        return False


def stop(paths: LabPaths, quiet: bool = False) -> int:
    state = read_state(paths) or {}
    uml_pid, forwarder_pid = state.get("uml_pid"), state.get("forwarder_pid")
    if uml_running(uml_pid, state.get("umid")):
        try:
            agent().call("halt")
            say(quiet, "==> asked the lab agent to stop the cluster")
            wait_gone(uml_pid, "linux", STOP_TIMEOUT)
        except AgentError as exc:
            say(quiet, f"==> the lab agent did not answer ({exc}); killing User-Mode Linux")
    if state.get("umid"):
        kill_uml(uml_pid, state["umid"])
    stop_pid(forwarder_pid, "lab.forwarder", 10)
    remove_host_namespace()
    shutil.rmtree(paths.uml_dir, ignore_errors=True)
    paths.state_file.unlink(missing_ok=True)
    say(quiet, "==> lab stopped: no UML, no forwarder, no pl-lab namespace")
    return 0


def status(paths: LabPaths) -> int:
    state = read_state(paths)
    if not state:
        print("lab: not running")
        return 3
    uml = uml_running(state.get("uml_pid"), state.get("umid"))
    forwarder = alive(state.get("forwarder_pid"), "lab.forwarder")
    print(f"lab: {state['url']}  UML pid {state['uml_pid']} {'running' if uml else 'NOT running'}, "
          f"forwarder pid {state['forwarder_pid']} {'running' if forwarder else 'NOT running'}")
    if not uml:
        return 1
    try:
        report = agent().call("status")
    except AgentError as exc:
        print(f"lab agent: {exc}")
        return 1
    for name, director in report["directors"].items():
        s = director["status"] or {}
        role = "active" if s.get("active") else "standby" if s else "pulse not running"
        print(f"  {name}: pulse {'running' if director['pulse']['running'] else 'stopped'}, {role}")
    for name, service in report["services"].items():
        print(f"  {name}: service {'running' if service['running'] else 'stopped'}, {service['served']} answers")
    traffic = report["traffic"]
    print(f"  client, last 5 s: {traffic['by_server']} errors {traffic['errors']}")
    print(f"  directors' link: {'up' if report['link']['directors_connected'] else 'CUT'}")
    waiting = "" if report["ready"] else f" (waiting for {'; '.join(report['waiting_for'])})"
    print(f"  ready: {report['ready']}{waiting}")
    return 0


@contextlib.contextmanager
def exclusive(paths: LabPaths, wait: bool):
    """One start or stop at a time (var/lab/.lock); a second start fails at once, a stop waits its turn."""
    paths.root.mkdir(parents=True, exist_ok=True)
    with open(paths.root / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LabError("another `lab start` or `lab stop` is running") from None
        yield


def say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab", description="A virtual LVS cluster in User-Mode Linux.")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PIRANHA_LAB_PORT", DEFAULT_PORT)),
                        help=f"loopback port of the console on the host (default {DEFAULT_PORT}, $PIRANHA_LAB_PORT)")
    parser.add_argument("--timeout", type=float, default=START_TIMEOUT, help="seconds start waits for the cluster")
    parser.add_argument("--max-hours", type=float, default=4.0, help="the lab stops on its own after this long")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `lab status | head` ends quietly
    if os.geteuid() != 0:
        print("lab: needs root (network namespaces, a TAP device, UML's hostfs root)", file=sys.stderr)
        return 1
    paths = LabPaths.default()
    try:
        if args.action == "status":
            return status(paths)
        with exclusive(paths, wait=args.action == "stop"):
            if args.action == "start":
                return start(paths, args.port, args.timeout, int(args.max_hours * 3600))
            return stop(paths)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
