"""Running failover services' start_cmd and stop_cmd: argv split on spaces, no shell, waited for, bounded."""

from __future__ import annotations

import asyncio
import logging

from piranha.nanny.spec import CheckSpec

log = logging.getLogger("fos")

COMMAND_TIMEOUT = 60.0


def where(service) -> str:
    return f"{service.address}:{service.port}"


async def run(argv: list[str], timeout: float = COMMAND_TIMEOUT) -> str | None:
    """Run to completion; None on success, else why it failed."""
    try:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL)
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"
    try:
        returncode = await asyncio.wait_for(proc.wait(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return f"{argv[0]} did not finish within {timeout:g} s (killed)"
    if returncode:
        return f"{argv[0]} exited with status {returncode}" if returncode > 0 else \
            f"{argv[0]} terminated with signal {-returncode}"
    return None


async def stop_all(services, test_start: bool = False) -> None:
    log.info("Stopping local services (if any)")
    for service in services:
        if service.stop_cmd:
            await _command(service, "stop_cmd", test_start)


async def start_all(services, test_start: bool = False) -> list[str]:
    """Start every service; returns one line per service that failed to start."""
    failed = []
    for service in services:
        if service.start_cmd:
            problem = await _command(service, "start_cmd", test_start)
            if problem:
                failed.append(f"Failed to start service {where(service)}! ({problem})")
                log.error("%s", failed[-1])
    return failed


async def _command(service, keyword: str, test_start: bool) -> str | None:
    argv = getattr(service, keyword).split()
    if test_start:
        log.info("test-start: would run %s of %s: %s", keyword, service.name, " ".join(argv))
        return None
    problem = await run(argv)
    if problem:
        log.error("%s of %s: %s", keyword, service.name, problem)
    return problem


def check_spec(service) -> CheckSpec:
    """The nanny probe of a failover service: its address and port, with its send/expect or send_program."""
    return CheckSpec(id=service.name, address=service.address, port=int(service.port),
                     protocol=service.protocol or "tcp", send=service.send or None,
                     expect=service.expect or None, send_program=service.send_program or None, timeout=float(service.timeout),
                     interval=float(service.timeout))
