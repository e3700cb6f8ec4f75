"""lvsd's side of `nanny --stream`: start it, send plans, read its events, notice when it dies.

One nanny process checks every real server. The link only reports: what to do about a dead nanny (restart
with backoff, or take LVS down when `hard_shutdown = 1`) is the daemon's decision.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
import time
from typing import Callable

from piranha.nanny.spec import CheckSpec, plan_line

log = logging.getLogger("lvsd")

MAX_EVENT_LINE = 64 * 1024 * 1024     # a resync of 10,000 servers is a few MB


def default_nanny_command() -> str:
    """The `nanny` installed beside this Python (the same virtual environment), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "nanny")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("nanny") or beside


class NannyLink:
    def __init__(self, argv: list[str], on_event: Callable[[dict], None], on_exit: Callable[[int], None]):
        self.argv = argv
        self.on_event = on_event
        self.on_exit = on_exit
        self.process: asyncio.subprocess.Process | None = None
        self.plan: list[CheckSpec] = []
        self.started_at: float | None = None
        self._reader: asyncio.Task | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.returncode is None else None

    @property
    def uptime(self) -> float | None:
        """Seconds since the running nanny started (None when none runs), for lvsd's status."""
        if self.pid is None or self.started_at is None:
            return None
        return round(time.monotonic() - self.started_at, 3)   # the event loop's clock is time.monotonic()

    async def start(self) -> None:
        self._stopping = False
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=MAX_EVENT_LINE,
            start_new_session=True)
        self.started_at = asyncio.get_running_loop().time()
        log.info("create_monitor for %d real servers running as pid %d", len(self.plan), self.process.pid)
        self._reader = asyncio.create_task(self._read(self.process))
        await self.send_plan(self.plan)

    async def send_plan(self, plan: list[CheckSpec]) -> None:
        self.plan = list(plan)
        process = self.process
        if process is None or process.returncode is not None or process.stdin is None:
            return
        try:
            process.stdin.write(plan_line(self.plan))
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            log.warning("nanny (pid %d) closed its input; it will be restarted", process.pid)

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError:
                log.error("nanny sent an event line longer than %d bytes; ignored", MAX_EVENT_LINE)
                continue
            if not line:
                break
            try:
                event = json.loads(line)
            except ValueError:
                log.error("nanny sent a line that is not JSON: %r", line[:200])
                continue
            if isinstance(event, dict):
                self.on_event(event)
        code = await process.wait()
        if not self._stopping:
            self.on_exit(code)

    async def stop(self, timeout: float = 5.0) -> None:
        """Close nanny's input (it exits at end of file), then SIGTERM, then SIGKILL."""
        self._stopping = True
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), timeout / 2)
            except asyncio.TimeoutError:
                try:
                    process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(process.wait(), timeout / 2)
                except (ProcessLookupError, asyncio.TimeoutError):
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        self.process = None
