"""TCP checks in bulk (connect, and send/expect): the hot path of a large cluster.

Each check is a bare non-blocking socket: connect, wait until writable, read SO_ERROR; then optionally send
and read until the reply can be judged; close (SO_LINGER 0, so the check ends with a reset and leaves no
TIME_WAIT entry on the director). In-flight sockets sit in one private epoll that the event loop watches as a
single reader, and timeouts are swept from one deque per timeout value (deadlines in each deque are in order),
so a check costs no Task, no Future, no loop timer and no selector bookkeeping — only its own system calls
and a callback. One deadline bounds the whole check, as Piranha's ``timeout`` did.

    >>> ConnectEngine.for_loop(loop).start(socket.AF_INET, ("10.0.0.5", 80), "10.0.0.5:80", 2.0, on_result)

``on_result(Result)`` is called exactly once, from the event loop, unless the engine is closed first.
"""

from __future__ import annotations

import _socket                # the C socket type: socket.socket's Python __init__ costs more than the syscall
import asyncio
import errno
import os
import select
import socket
import struct
import weakref
from collections import deque
from time import monotonic
from typing import Callable

from piranha.nanny.probes.base import READ_LIMIT, Expect, Result, judge_reply

_BATCH = 1024                 # epoll events fetched per poll() call
SWEEP = 0.01                  # how often timeouts are looked for while checks are in flight, seconds

_LINGER_RESET = struct.pack("ii", 1, 0)
_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
_SOL_SOCKET, _SO_LINGER, _SO_ERROR = socket.SOL_SOCKET, socket.SO_LINGER, socket.SO_ERROR
_EINPROGRESS = errno.EINPROGRESS
_EPOLLOUT, _EPOLLIN = select.EPOLLOUT, select.EPOLLIN
_CONNECTED = "connected"

_last: "ConnectEngine | None" = None
_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, "ConnectEngine"] = weakref.WeakKeyDictionary()


class _Check:
    """One TCP check in flight: its socket, what is left to send, and the reply so far."""

    __slots__ = ("sock", "start", "where", "on_result", "send", "expect", "reply", "phase")

    def __init__(self, sock, start: float, where: str, on_result, send: bytes, expect: Expect | None):
        self.sock, self.start, self.where, self.on_result = sock, start, where, on_result
        self.send, self.expect, self.reply, self.phase = send, expect, b"", _CONNECT


_CONNECT, _SEND, _READ = "CONNECT", "WRITE", "READ"     # the phases, named as Piranha's timeout messages


class ConnectEngine:
    """All TCP checks of one event loop. It closes itself after a sweep finds nothing in flight."""

    @classmethod
    def for_loop(cls, loop: asyncio.AbstractEventLoop) -> "ConnectEngine":
        global _last
        if _last is not None and _last.loop is loop:     # the common case, without a weak-dict lookup
            return _last
        engine = _engines.get(loop)
        if engine is None:
            engine = _engines[loop] = cls(loop)
        _last = engine
        return engine

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.epoll = select.epoll()
        self.inflight: dict[int, _Check] = {}
        self.expiry: dict[float, deque] = {}           # timeout -> deque of (deadline, fd, check)
        loop.add_reader(self.epoll.fileno(), self._ready)
        self._sweeper = loop.call_later(SWEEP, self._sweep)

    def start(self, family: int, addr: tuple, where: str, timeout: float, on_result: Callable[[Result], None],
              send: bytes = b"", expect: Expect | None = None) -> object | None:
        """Begin one check: connect, then send ``send`` and judge the reply by ``expect`` if given.

        on_result gets the Result later (never synchronously). Returns a token for abandon() while the
        check is in flight (None if it ended at once).
        """
        start = monotonic()
        sock = _socket.socket(family, _STREAM)
        sock.setsockopt(_SOL_SOCKET, _SO_LINGER, _LINGER_RESET)
        err = sock.connect_ex(addr)
        check = _Check(sock, start, where, on_result, send, expect)
        if err and err != _EINPROGRESS:  # refused at once (or no route): report on the next loop turn
            self.loop.call_soon(self._failed_at_once, check, err)
            return None
        # In progress, or (rarely) connected already: either way the epoll reports it writable.
        fd = sock.fileno()
        self.epoll.register(fd, _EPOLLOUT)
        self.inflight[fd] = check
        queue = self.expiry.get(timeout)
        if queue is None:
            queue = self.expiry[timeout] = deque()
        queue.append((start + timeout, fd, check))
        return check

    def abandon(self, token: object | None) -> None:
        """Stop a check that nobody waits for any more: close its socket, never call its callback."""
        if token is None:
            return
        fd = token.sock.fileno()
        if self.inflight.get(fd) is token:
            del self.inflight[fd]
            token.sock.close()

    def _failed_at_once(self, check: _Check, err: int) -> None:
        self._end(check, Result(False, f"CONNECT to {check.where} failed: {os.strerror(err)}",
                                monotonic() - check.start), registered=False)

    def _ready(self) -> None:
        """Advance every check with an event (all of them, not one epoll batch)."""
        inflight = self.inflight
        while True:
            events = self.epoll.poll(0, _BATCH)
            for fd, _ in events:
                check = inflight.get(fd)
                if check is None:
                    continue
                if check.phase is _CONNECT:
                    err = check.sock.getsockopt(_SOL_SOCKET, _SO_ERROR)
                    if err:
                        self._end(check, Result(False, f"CONNECT to {check.where} failed: {os.strerror(err)}",
                                                monotonic() - check.start))
                    elif not check.send and check.expect is None:
                        self._end(check, Result(True, _CONNECTED, monotonic() - check.start))
                    else:
                        check.phase = _SEND
                        self._converse(fd, check)
                else:
                    self._converse(fd, check)
            if len(events) < _BATCH:
                return

    def _converse(self, fd: int, check: _Check) -> None:
        """Send what is left, then read until the reply can be judged; any socket error is down."""
        try:
            if check.phase is _SEND:
                if check.send:
                    try:
                        check.send = check.send[check.sock.send(check.send):]
                    except BlockingIOError:
                        return
                    if check.send:
                        return                         # the rest when the socket is writable again
                if check.expect is None:
                    self._end(check, Result(True, "sent", monotonic() - check.start))
                    return
                check.phase = _READ
                self.epoll.modify(fd, _EPOLLIN)
            while True:
                try:
                    chunk = check.sock.recv(READ_LIMIT - len(check.reply))
                except BlockingIOError:
                    return
                if not chunk:
                    break
                check.reply += chunk
                if check.expect.complete(check.reply):
                    break
        except OSError as err:
            self._end(check, Result(False, f"I/O with {check.where} failed: {err.strerror or err}",
                                    monotonic() - check.start))
            return
        self._end(check, judge_reply(check.expect, check.reply, False, check.where, monotonic() - check.start))

    def _end(self, check: _Check, result: Result, registered: bool = True) -> None:
        if registered:
            del self.inflight[check.sock.fileno()]
        check.sock.close()                             # also leaves the epoll set
        check.on_result(result)

    def _sweep(self) -> None:
        # Checks that progressed while the loop was busy must count, not time out.
        self._ready()
        now = monotonic()
        inflight = self.inflight
        for queue in self.expiry.values():
            while queue and queue[0][0] <= now:
                _, fd, check = queue.popleft()
                if inflight.get(fd) is not check:
                    continue                           # finished already (the fd may be reused since)
                if check.phase is _READ:
                    result = judge_reply(check.expect, check.reply, True, check.where, now - check.start)
                else:
                    result = Result(False, f"{check.phase} to {check.where} timed out", now - check.start)
                self._end(check, result)
        if not inflight:              # whatever the deques still hold is stale
            self.close()
        else:
            self._sweeper = self.loop.call_later(SWEEP, self._sweep)

    def close(self) -> None:
        """Abandon every check in flight (no callbacks) and release the epoll."""
        global _last
        if _last is self:
            _last = None
        if _engines.get(self.loop) is self:
            del _engines[self.loop]
        self._sweeper.cancel()
        if not self.epoll.closed:
            if not self.loop.is_closed():
                self.loop.remove_reader(self.epoll.fileno())
            self.epoll.close()
        for check in self.inflight.values():
            check.sock.close()
        self.inflight.clear()
        self.expiry.clear()


def close_engine(loop: asyncio.AbstractEventLoop) -> None:
    """Close the loop's engine if it has one (used when a scheduler shuts down)."""
    engine = _engines.get(loop)
    if engine is not None:
        engine.close()
