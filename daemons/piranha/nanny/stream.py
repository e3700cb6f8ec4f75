"""``nanny --stream``: plans arrive on stdin, events leave on stdout, both as JSON lines (see spec.py).

A plan that does not parse or validate is refused with a message on stderr, and the running plan stays.
nanny exits 0 when stdin reaches end of file (lvsd has gone) or on SIGTERM/SIGINT; the signal handlers only
record the request and the loop then stops every check cleanly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import stat
import sys
from typing import Callable

from piranha.nanny.scheduler import Scheduler
from piranha.nanny.spec import CheckSpec

log = logging.getLogger("nanny")

MAX_PLAN_BYTES = 256 * 1024 * 1024     # one plan line; 10,000 checks take about 4 MB


class EventWriter:
    """Batches the events of one loop iteration into one write on stdout."""

    def __init__(self, fd: int, on_broken: Callable[[], None]):
        self.fd = fd
        self.lines: list[bytes] = []
        self.loop = asyncio.get_running_loop()
        self.on_broken = on_broken

    def emit(self, event: dict) -> None:
        if not self.lines:
            self.loop.call_soon(self.flush)
        self.lines.append(json.dumps(event, separators=(",", ":")).encode() + b"\n")

    def flush(self) -> None:
        data = memoryview(b"".join(self.lines))
        self.lines = []
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except BrokenPipeError:
            log.error("stdout closed (lvsd has gone): stopping")
            self.on_broken()


def parse_plan(line: bytes) -> list[CheckSpec]:
    """The checks of one plan line; ValueError naming what is wrong."""
    try:
        message = json.loads(line)
    except ValueError as err:
        raise ValueError(f"not JSON: {err}") from None
    if not isinstance(message, dict) or message.get("op") != "plan":
        raise ValueError(f"expected {{\"op\": \"plan\", ...}}, got {line[:80]!r}")
    checks = message.get("checks")
    if not isinstance(checks, list):
        raise ValueError("\"checks\" must be a list of check specs")
    specs = []
    for index, data in enumerate(checks):
        if not isinstance(data, dict):
            raise ValueError(f"checks[{index}] is not an object")
        try:
            specs.append(CheckSpec.from_json(data))
        except TypeError as err:          # a missing required field
            raise ValueError(f"checks[{index}]: {err}") from None
        except ValueError as err:
            raise ValueError(f"checks[{index}]: {err}") from None
    return specs


async def _read_plans(reader: asyncio.StreamReader, scheduler: Scheduler) -> None:
    while True:
        try:
            line = await reader.readline()
        except ValueError:
            log.error("plan refused, the running plan stays: line longer than %d bytes", MAX_PLAN_BYTES)
            continue
        if not line:
            return
        if not line.strip():
            continue
        try:
            scheduler.apply_plan(parse_plan(line))
        except ValueError as err:
            log.error("plan refused, the running plan stays: %s", err)


async def serve(resync_every: float) -> int:
    """Run until stdin ends or a signal asks to stop; return the exit status."""
    mode = os.fstat(0).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
        log.error("--stream needs a pipe on stdin (lvsd writes plans to it)")
        return 2
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    writer = EventWriter(sys.stdout.fileno(), stop.set)
    scheduler = Scheduler(writer.emit, resync_every)
    reader = asyncio.StreamReader(limit=MAX_PLAN_BYTES)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    reading = asyncio.create_task(_read_plans(reader, scheduler))
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if reading in done:
            reading.result()             # a failure here is a bug: let it show
            log.info("stdin closed: stopping")
        else:
            log.info("signal received: stopping")
    finally:
        for task in (reading, stopping):
            task.cancel()
        await asyncio.gather(reading, stopping, return_exceptions=True)
        await scheduler.close()
        transport.close()
        if writer.lines:
            writer.flush()           # the last events (e.g. a resync) must not be lost
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("%d checks run", scheduler.checks_run)
    return 0
