"""FOS's gateway check (PIRANHA-REFERENCE §3.7): before forcing a takeover because a partner service failed,
make sure it is not our own network that is broken: the default gateway must answer a ping."""

from __future__ import annotations

import asyncio
import logging
import shutil

from piranha.net.addresses import Addresses
from piranha.net.routes import default_gateways

log = logging.getLogger("pulse")

TRIES = 3


async def ping_once(address: str) -> bool:
    ping = shutil.which("ping") or "/bin/ping"
    try:
        proc = await asyncio.create_subprocess_exec(ping, "-n", "-c", "1", "-w", "1", address,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
    except OSError as exc:
        log.error("cannot run ping: %s", exc.strerror or exc)
        return False
    return await proc.wait() == 0


async def gateway_reachable(net: Addresses) -> bool:
    gateways = default_gateways(net)
    if not gateways:
        log.error("no default gateway to check: assuming a local network fault")
        return False
    for _ in range(TRIES):
        if await ping_once(gateways[0]):
            return True
    log.warning("default gateway %s did not answer %d pings", gateways[0], TRIES)
    return False
