"""Plain TCP connect checks in bulk: the hot path of a large cluster.

Each check is a bare non-blocking socket: connect, wait until writable, read SO_ERROR, close (SO_LINGER 0, so
the check ends with a reset and leaves no TIME_WAIT entry on the director). In-flight sockets sit in one
private epoll that the event loop watches as a single reader, and timeouts are swept from one deque per
timeout value (deadlines in each deque are in order), so a check costs no Task, no Future, no loop timer and
no selector bookkeeping — only its own system calls and a callback.

    >>> ConnectEngine.for_loop(loop).start(socket.AF_INET, ("10.0.0.5", 80), "10.0.0.5:80", 2.0, on_result)

``on_result(Result)`` is called exactly once, from the event loop, unless the engine is closed first.
"""

from __future__ import annotations

import _socket
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

from piranha.nanny.probes.base import Result

_BATCH = 1024
SWEEP = 0.01                  # how often timeouts are looked for while checks are in flight, seconds

_LINGER_RESET = struct.pack("ii", 1, 0)
_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
_SOL_SOCKET, _SO_LINGER, _SO_ERROR = socket.SOL_SOCKET, socket.SO_LINGER, socket.SO_ERROR
_EINPROGRESS = errno.EINPROGRESS
_CONNECTED = "connected"

_last: "ConnectEngine | None" = None
_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, "ConnectEngine"] = weakref.WeakKeyDictionary()


class ConnectEngine:
    """All connect checks of one event loop. It closes itself after a sweep finds nothing in flight."""

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
        self.inflight: dict[int, tuple] = {}          # fd -> (socket, start, where, on_result)
        self.expiry: dict[float, deque] = {}           # timeout -> deque of (deadline, fd, socket)
        loop.add_reader(self.epoll.fileno(), self._ready)
        self._sweeper = loop.call_later(SWEEP, self._sweep)

    def start(self, family: int, addr: tuple, where: str, timeout: float,
              on_result: Callable[[Result], None]) -> object | None:
        """Begin one connect check; on_result gets its Result later (never synchronously).

        Returns a token for abandon() while the check is in flight (None if it ended at once).
        """
        start = monotonic()
        sock = _socket.socket(family, _STREAM)
        sock.setsockopt(_SOL_SOCKET, _SO_LINGER, _LINGER_RESET)
        err = sock.connect_ex(addr)
        if err != _EINPROGRESS:
            sock.close()
            result = Result(True, _CONNECTED, monotonic() - start) if err == 0 else \
                Result(False, f"CONNECT to {where} failed: {os.strerror(err)}", monotonic() - start)
            self.loop.call_soon(on_result, result)
            return None
        fd = sock.fileno()
        self.epoll.register(fd, select.EPOLLOUT)
        self.inflight[fd] = (sock, start, where, on_result)
        queue = self.expiry.get(timeout)
        if queue is None:
            queue = self.expiry[timeout] = deque()
        queue.append((start + timeout, fd, sock))
        return sock

    def abandon(self, token: object | None) -> None:
        """Stop a check that nobody waits for any more: close its socket, never call its callback."""
        if token is None:
            return
        fd = token.fileno()
        entry = self.inflight.get(fd)
        if entry is not None and entry[0] is token:
            del self.inflight[fd]
            token.close()

    def _ready(self) -> None:
        """Finish every check whose connect has completed (all of them, not one epoll batch)."""
        inflight = self.inflight
        while True:
            events = self.epoll.poll(0, _BATCH)
            for fd, _ in events:
                entry = inflight.pop(fd, None)
                if entry is None:
                    continue
                sock, start, where, on_result = entry
                err = sock.getsockopt(_SOL_SOCKET, _SO_ERROR)
                sock.close()                           # also leaves the epoll set
                if err == 0:
                    on_result(Result(True, _CONNECTED, monotonic() - start))
                else:
                    on_result(Result(False, f"CONNECT to {where} failed: {os.strerror(err)}",
                                     monotonic() - start))
            if len(events) < _BATCH:
                return

    def _sweep(self) -> None:
        # Connects that completed while the loop was busy must count as completed, not as timed out.
        self._ready()
        now = monotonic()
        inflight = self.inflight
        for queue in self.expiry.values():
            while queue and queue[0][0] <= now:
                _, fd, sock = queue.popleft()
                entry = inflight.get(fd)
                if entry is None or entry[0] is not sock:
                    continue                           # finished already (the fd may be reused since)
                del inflight[fd]
                sock.close()
                entry[3](Result(False, f"CONNECT to {entry[2]} timed out", now - entry[1]))
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
        for sock, *_ in self.inflight.values():
            sock.close()
        self.inflight.clear()
        self.expiry.clear()


def close_engine(loop: asyncio.AbstractEventLoop) -> None:
    """Close the loop's engine if it has one (used when a scheduler shuts down)."""
    engine = _engines.get(loop)
    if engine is not None:
        engine.close()
