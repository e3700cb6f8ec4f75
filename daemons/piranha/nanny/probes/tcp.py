"""TCP probe: connect, then optionally send a string and judge the reply.

A plain connect check (no send, no expect) goes through the shared ConnectEngine (connect.py), and the
scheduler may start it with ``start(on_result)`` without a Task. With send/expect, the check is a coroutine on
a bare non-blocking socket. Sockets close with SO_LINGER 0, so a check ends with a reset instead of leaving a
TIME_WAIT entry on the director for every check.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct
from typing import Callable

from piranha.nanny.probes.base import READ_LIMIT, Expect, Result, endpoint, show, sockaddr, unescape, wait_fd
from piranha.nanny.probes.connect import ConnectEngine
from piranha.nanny.spec import CheckSpec

_LINGER_RESET = struct.pack("ii", 1, 0)
_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC


class TcpProbe:
    def __init__(self, spec: CheckSpec):
        self.family, self.addr = sockaddr(spec.address, spec.port)
        self.where = endpoint(spec.address, spec.port)
        self.timeout = spec.timeout
        self.send = unescape(spec.send).encode() if spec.send else b""
        self.expect = Expect(spec.expect, spec.use_regex) if spec.expect else None
        self.plain = not self.send and self.expect is None

    def start(self, on_result: Callable[[Result], None]) -> None:
        """Start a plain connect check; on_result(Result) is called from the loop when it ends."""
        loop = asyncio.get_running_loop()
        ConnectEngine.for_loop(loop).start(self.family, self.addr, self.where, self.timeout, on_result)

    async def check(self) -> Result:
        loop = asyncio.get_running_loop()
        if self.plain:
            done = loop.create_future()
            engine = ConnectEngine.for_loop(loop)
            token = engine.start(self.family, self.addr, self.where, self.timeout,
                                 lambda result: done.done() or done.set_result(result))
            try:
                return await done
            except asyncio.CancelledError:
                engine.abandon(token)       # a cancelled check must not leave its socket behind
                raise
        start = loop.time()
        deadline = start + self.timeout
        sock = socket.socket(self.family, _STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            err = sock.connect_ex(self.addr)
            if err == errno.EINPROGRESS:
                if not await wait_fd(loop, sock, deadline, writable=True):
                    return Result(False, f"CONNECT to {self.where} timed out", loop.time() - start)
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                return Result(False, f"CONNECT to {self.where} failed: {os.strerror(err)}", loop.time() - start)
            return await self._converse(loop, sock, start, deadline)
        finally:
            sock.close()

    async def _converse(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, start: float,
                        deadline: float) -> Result:
        try:
            if self.send and not await _send_all(loop, sock, self.send, deadline):
                return Result(False, f"WRITE to {self.where} timed out", loop.time() - start)
            if self.expect is None:
                return Result(True, "sent", loop.time() - start)
            reply, timed_out = await _read_reply(loop, sock, self.expect, deadline)
        except OSError as err:
            return Result(False, f"I/O with {self.where} failed: {err.strerror or err}", loop.time() - start)
        latency = loop.time() - start
        if self.expect.matches(reply):
            return Result(True, f"reply {show(reply, 30)} matched", latency)
        if timed_out and not reply:
            return Result(False, f"READ to {self.where} timed out", latency)
        if not reply:
            return Result(False, f"READ to {self.where}: connection closed without a reply", latency)
        if not self.expect.any and self.expect.pattern is None and len(reply) < len(self.expect.prefix):
            return Result(False, f"READ to {self.where} was too short: {show(reply)}", latency)
        return Result(False, f"reply {show(reply)} does not match {self.expect.text!r}", latency)


async def _send_all(loop: asyncio.AbstractEventLoop, sock: socket.socket, data: bytes, deadline: float) -> bool:
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view):]
        except BlockingIOError:
            if not await wait_fd(loop, sock, deadline, writable=True):
                return False
    return True


async def _read_reply(loop: asyncio.AbstractEventLoop, sock: socket.socket, expect: Expect,
                      deadline: float) -> tuple[bytes, bool]:
    """Read until the reply can be judged, the peer closes, or the deadline passes: (reply, timed_out)."""
    reply = b""
    while not expect.complete(reply):
        try:
            chunk = sock.recv(READ_LIMIT - len(reply))
        except BlockingIOError:
            if not await wait_fd(loop, sock, deadline, writable=False):
                return reply, True
            continue
        if not chunk:
            break
        reply += chunk
    return reply, False
