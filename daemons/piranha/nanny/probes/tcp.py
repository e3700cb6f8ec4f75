"""TCP probe: connect, then optionally send a string and judge the reply (Piranha §3.6.2, made sturdier).

The whole check runs in the loop's shared ConnectEngine (connect.py): no Task per check, and the scheduler
starts it with ``start(on_result)``. ``check()`` wraps the same path for library users (fos).

Differences from Piranha's single ``read()``: the reply is read until it can be judged (a prefix needs
len(expect) bytes, ``*`` one byte, a regex a match or 4096 bytes), the peer closes, or the timeout — so a
reply split over several segments still matches. One timeout bounds connect, send and read together.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from piranha.nanny.probes.base import Expect, Result, endpoint, sockaddr, unescape
from piranha.nanny.probes.connect import ConnectEngine
from piranha.nanny.spec import CheckSpec


class TcpProbe:
    def __init__(self, spec: CheckSpec):
        self.family, self.addr = sockaddr(spec.address, spec.port)
        self.where = endpoint(spec.address, spec.port)
        self.timeout = spec.timeout
        self.send = unescape(spec.send).encode() if spec.send else b""
        self.expect = Expect(spec.expect, spec.use_regex) if spec.expect else None

    def start(self, on_result: Callable[[Result], None]) -> object | None:
        """Start one check; on_result(Result) is called from the loop when it ends."""
        engine = ConnectEngine.for_loop(asyncio.get_running_loop())
        return engine.start(self.family, self.addr, self.where, self.timeout, on_result, self.send, self.expect)

    async def check(self) -> Result:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        engine = ConnectEngine.for_loop(loop)
        token = engine.start(self.family, self.addr, self.where, self.timeout,
                             lambda result: done.done() or done.set_result(result), self.send, self.expect)
        try:
            return await done
        except asyncio.CancelledError:
            engine.abandon(token)           # a cancelled check must not leave its socket behind
            raise
