"""UDP probe (Piranha §3.6.2): send the send string, then a reply is required.

Any reply is up when there is no expect; with an expect the reply must match it. An ICMP port unreachable
arrives as ECONNREFUSED on the connected socket: down at once. Piranha sent nothing when no send string was
set, so such a check could never pass; we send an empty datagram instead, which an echo-style service answers
and a closed port refuses.
"""

from __future__ import annotations

import asyncio
import socket

from piranha.nanny.probes.base import (
    READ_LIMIT, Expect, Result, endpoint, judge_reply, show, sockaddr, unescape, wait_fd,
)
from piranha.nanny.spec import CheckSpec

_DGRAM = socket.SOCK_DGRAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC


class UdpProbe:
    def __init__(self, spec: CheckSpec):
        self.family, self.addr = sockaddr(spec.address, spec.port)
        self.where = endpoint(spec.address, spec.port)
        self.timeout = spec.timeout
        self.send = unescape(spec.send).encode() if spec.send else b""
        self.expect = Expect(spec.expect, spec.use_regex) if spec.expect else None

    async def check(self) -> Result:
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + self.timeout
        with socket.socket(self.family, _DGRAM) as sock:
            try:
                sock.connect(self.addr)
                sock.send(self.send)
                while True:
                    try:
                        reply = sock.recv(READ_LIMIT)
                        break
                    except BlockingIOError:
                        if not await wait_fd(loop, sock, deadline, writable=False):
                            return Result(False, f"READ to {self.where} timed out", loop.time() - start)
            except ConnectionRefusedError:
                return Result(False, f"{self.where} refused (ICMP port unreachable)", loop.time() - start)
            except OSError as err:
                return Result(False, f"UDP to {self.where} failed: {err.strerror or err}", loop.time() - start)
        latency = loop.time() - start
        if self.expect is None:
            return Result(True, f"reply {show(reply, 30)}", latency)
        return judge_reply(self.expect, reply, False, self.where, latency)
