"""send_program probe: run an external check without a shell; its exit status and its output both count.

The template is split like a shell would split it (``shlex``: quotes group words) but never run by one; then
``%h`` becomes the real server's address and ``%p`` its port inside each argument, so a substituted value is
always exactly one argument. stdin and stderr are /dev/null, stdout is read (first 4096 bytes kept).

Verdict — fixing Piranha's "program failed but expect was set = up" bug: a non-zero exit, a signal or the
timeout is down; with exit 0, the output (one trailing newline removed) must equal expect (or match it when
use_regex, or be non-empty for ``*``); with no expect, exit 0 is up.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
from dataclasses import dataclass

from piranha.nanny.probes.base import READ_LIMIT, Expect, Result, show
from piranha.nanny.spec import CheckSpec


def build_argv(template: str, host: str, port: int) -> list[str]:
    """Split the template into words and substitute %h / %p in each word; raise ValueError if it cannot split."""
    try:
        words = shlex.split(template)
    except ValueError as err:
        raise ValueError(f"send_program {template!r} cannot be split into arguments: {err}") from None
    if not words:
        raise ValueError("send_program is empty")
    return [word.replace("%h", host).replace("%p", str(port)) for word in words]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a program run ended: ``failure`` says why it did not exit 0 (None if it did)."""

    failure: str | None
    output: bytes


async def run_program(argv: list[str], timeout: float) -> Outcome:
    """Run argv (no shell) with a timeout; kill its whole process group on timeout or cancellation."""
    name = argv[0]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
    except OSError as err:
        return Outcome(f"cannot run {name}: {err.strerror or err}", b"")
    try:
        async with asyncio.timeout(timeout):
            output = await _read_output(proc.stdout)
            status = await proc.wait()
    except TimeoutError:
        return Outcome(f"{name} did not finish within {timeout:g} s (killed)", b"")
    finally:
        if proc.returncode is None:
            _kill_group(proc.pid)
            await asyncio.shield(proc.wait())
    if status < 0:
        return Outcome(f"{name} was killed by signal {-status}", output)
    if status != 0:
        return Outcome(f"{name} exited with status {status}", output)
    return Outcome(None, output)


class ProgramProbe:
    def __init__(self, spec: CheckSpec):
        self.argv = build_argv(spec.send_program or "", spec.address, spec.port)
        self.timeout = spec.timeout
        self.expect = Expect(spec.expect, spec.use_regex) if spec.expect else None

    async def check(self) -> Result:
        loop = asyncio.get_running_loop()
        start = loop.time()
        outcome = await run_program(self.argv, self.timeout)
        latency = loop.time() - start
        if outcome.failure:
            return Result(False, outcome.failure, latency)
        name = self.argv[0]
        output = outcome.output[:-1] if outcome.output.endswith(b"\n") else outcome.output
        if self.expect is None:
            return Result(True, f"{name} exited with status 0", latency)
        if self.expect.matches_output(output):
            return Result(True, f"{name} printed {show(output, 30)}", latency)
        return Result(False, f"{name} printed {show(output)}, expected {self.expect.text!r}", latency)


async def _read_output(stream: asyncio.StreamReader) -> bytes:
    """Read to end of output, keeping only the first READ_LIMIT bytes (a chatty program cannot fill memory)."""
    kept = b""
    while chunk := await stream.read(65536):
        if len(kept) < READ_LIMIT:
            kept += chunk[:READ_LIMIT - len(kept)]
    return kept


def _kill_group(pid: int) -> None:
    """Kill the program and anything it started (it leads its own session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
