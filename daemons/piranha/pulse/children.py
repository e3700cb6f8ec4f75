"""The processes pulse starts: lvsd (LVS mode), fos (FOS mode), and active_cmd/inactive_cmd.

A supervised child reports an unexpected exit through a callback, so the daemon can turn it into a state
machine event; a child we stop ourselves is not a failure. Commands run without a shell and are reaped in the
background, their exit status logged.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Callable

from piranha.control.client import ControlClient, ControlError

log = logging.getLogger("pulse")

STOP_GRACE = 10.0


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        return f"terminated with signal {-returncode}"
    return f"exited with status {returncode}"


async def run_command(argv: tuple[str, ...], what: str) -> None:
    """Start a command (not waited for by the caller: schedule this as a task) and log how it ended."""
    try:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL)
    except OSError as exc:
        log.error("cannot run %s %s: %s", what, argv[0], exc.strerror or exc)
        return
    returncode = await proc.wait()
    if returncode:
        log.warning("%s %s %s", what, " ".join(argv), describe_exit(returncode))


class Child:
    """One supervised process. `on_failure(detail)` is called when it dies without being asked to."""

    def __init__(self, name: str, on_failure: Callable[[str], None]) -> None:
        self.name = name
        self.on_failure = on_failure
        self.proc: asyncio.subprocess.Process | None = None
        self.state = "stopped"       # stopped | starting | running | failed
        self.error: str | None = None
        self.argv: tuple[str, ...] = ()
        self._watch: asyncio.Task | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.returncode is None else None

    async def start(self, argv: tuple[str, ...]) -> bool:
        await self.stop()
        self.argv = argv
        self._stopping = False
        try:
            self.proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL)
        except OSError as exc:
            self.state, self.error = "failed", f"cannot start {argv[0]}: {exc.strerror or exc}"
            log.error("%s", self.error)
            return False
        self.state, self.error = "running", None
        log.info("started %s as pid %d", " ".join(argv), self.proc.pid)
        self._watch = asyncio.get_running_loop().create_task(self._wait(self.proc))
        return True

    async def _wait(self, proc: asyncio.subprocess.Process) -> None:
        returncode = await proc.wait()
        if self._stopping or proc is not self.proc:
            return
        self.state = "failed"
        self.error = f"Child process {proc.pid} ({self.name}) {describe_exit(returncode)}"
        log.error("%s", self.error)
        self.on_failure(self.error)

    async def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            if self.state == "running":
                self.state = "stopped"
            return
        self._stopping = True
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_GRACE)
        except asyncio.TimeoutError:
            log.warning("%s (pid %d) ignored SIGTERM for %g s: killing it", self.name, proc.pid, STOP_GRACE)
            proc.kill()
            await proc.wait()
        self.state = "stopped"
        log.info("%s (pid %d) stopped", self.name, proc.pid)

    def describe(self) -> dict:
        return {"state": self.state, "pid": self.pid, "error": self.error, "argv": list(self.argv)}


class Lvsd(Child):
    """lvsd as pulse's child: started on activation, told the sync-daemon state, asked for its status."""

    READY_TIMEOUT = 10.0

    def __init__(self, command: str, socket_path: str, on_failure: Callable[[str], None]) -> None:
        super().__init__("lvsd", on_failure)
        self.command = command
        self.socket_path = socket_path

    def _call(self, command: str, args: dict, timeout: float):
        return ControlClient(self.socket_path, timeout=timeout).call(command, **args)

    async def call(self, command: str, args: dict | None = None, timeout: float = 3.0):
        """One request to lvsd's control socket (`timeout` bounds the request, not an argument of it)."""
        return await asyncio.to_thread(self._call, command, args or {}, timeout)

    async def start_lvsd(self, config_path: str, verbose: bool) -> bool:
        """Start lvsd and wait until it answers; every failure is reported once through on_failure."""
        argv = (self.command, "-c", config_path, "--nodaemon", "--socket", self.socket_path)
        if not await self.start(argv + (("-v",) if verbose else ())):
            self.on_failure(self.error)
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.READY_TIMEOUT
        while loop.time() < deadline and self.pid is not None:
            try:
                await self.call("status", timeout=1.0)
                return True
            except ControlError:
                await asyncio.sleep(0.1)
        if self.pid is not None:       # alive but silent (a death is reported by the watcher)
            error = f"lvsd did not answer on {self.socket_path} within {self.READY_TIMEOUT:g} s"
            log.error("%s", error)
            await self.stop()
            self.state, self.error = "failed", error
            self.on_failure(error)
        return False

    async def syncd(self, state: str) -> None:
        try:
            await self.call("syncd", {"state": state})
            log.info("IPVS sync daemon -> %s", state)
        except ControlError as exc:
            log.error("lvsd refused sync daemon %s: %s", state, exc)

    async def status(self) -> dict:
        described = self.describe()
        if self.pid is not None:
            try:
                described["status"] = await self.call("status", timeout=2.0)
            except ControlError as exc:
                described["status"] = None
                described["status_error"] = str(exc)
        return described
