"""What every probe shares: the Result it returns, lvs.cf escapes, expect matching and socket waits."""

from __future__ import annotations

import asyncio
import re
import socket
from functools import lru_cache
from typing import NamedTuple

READ_LIMIT = 4096          # bytes of a reply (or a program's output) that are ever looked at
_ESCAPES = {"\\": "\\", "r": "\r", "n": "\n", "t": "\t", "'": "'", '"': '"'}


class Result(NamedTuple):
    """The verdict of one check: up or down, why, and how long the check took (seconds).

    Immutable (one Result may feed several ids) and a tuple because it is made for every check: it costs
    about half of a frozen dataclass.
    """

    up: bool
    message: str
    latency: float = 0.0

    @property
    def ok(self) -> bool:
        return self.up


def unescape(text: str) -> str:
    r"""Piranha's escapes: \\ \r \n \t \' \" become the real characters; any other backslash stays as written."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


class Expect:
    """How a reply is judged: a prefix, ``*`` (any non-empty reply) or a regular expression.

    ``use_regex`` patterns are Python ``re`` patterns searched anywhere in the reply (Piranha used POSIX ERE
    with ``regexec``; the common subset — classes, anchors, ``| * + ? {m,n}`` and groups — means the same).
    """

    def __init__(self, expect: str, use_regex: bool = False):
        self.text = unescape(expect)
        self.any = self.text == "*" and not use_regex
        self.pattern = _compile(self.text) if use_regex else None
        self.prefix = self.text.encode()

    def complete(self, reply: bytes) -> bool:
        """True once enough of the reply has arrived to judge it (more bytes cannot change the verdict)."""
        if self.any:
            return bool(reply)
        if self.pattern is not None:
            return self.pattern.search(reply) is not None or len(reply) >= READ_LIMIT
        return len(reply) >= len(self.prefix)

    def matches(self, reply: bytes) -> bool:
        if self.any:
            return bool(reply)
        if self.pattern is not None:
            return self.pattern.search(reply[:READ_LIMIT]) is not None
        return reply[:len(self.prefix)] == self.prefix

    def matches_output(self, output: bytes) -> bool:
        """A send_program's output: the whole output (one trailing newline removed) equals expect, or the regex matches."""
        if self.any:
            return bool(output)
        if self.pattern is not None:
            return self.pattern.search(output) is not None
        return output == self.prefix


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[bytes]:
    try:
        return re.compile(pattern.encode())
    except re.error as err:
        raise ValueError(f"expect {pattern!r} is not a valid regular expression: {err}") from None


def judge_reply(expect: Expect, reply: bytes, timed_out: bool, where: str, latency: float) -> Result:
    """The verdict on a TCP/UDP reply, with Piranha's messages where it had them."""
    if expect.matches(reply):
        return Result(True, f"reply {show(reply, 30)} matched", latency)
    if timed_out and not reply:
        return Result(False, f"READ to {where} timed out", latency)
    if not reply:
        return Result(False, f"READ to {where}: connection closed without a reply", latency)
    if not expect.any and expect.pattern is None and len(reply) < len(expect.prefix):
        return Result(False, f"READ to {where} was too short: {show(reply)}", latency)
    return Result(False, f"reply {show(reply)} does not match {expect.text!r}", latency)


def show(data: bytes, limit: int = 60) -> str:
    """A reply as it may appear in a log line: printable, quoted and short."""
    text = repr(data[:limit])[1:]
    return text + ("…" if len(data) > limit else "")


def endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def sockaddr(address: str, port: int) -> tuple[int, tuple]:
    """Family and socket address of a numeric IP (never resolves a name, so it never blocks)."""
    try:
        info = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror as err:      # e.g. an IPv6 scope naming an interface this host lacks
        raise ValueError(f"address {address!r} cannot be used: {err.strerror}") from None
    family, _, _, _, addr = info[0]
    return family, addr


async def wait_fd(loop: asyncio.AbstractEventLoop, sock: socket.socket, deadline: float, writable: bool) -> bool:
    """Wait until the socket is writable (or readable); False if the deadline passes first."""
    fut = loop.create_future()
    fd = sock.fileno()
    if writable:
        loop.add_writer(fd, _wake, fut, True)
    else:
        loop.add_reader(fd, _wake, fut, True)
    timer = loop.call_at(deadline, _wake, fut, False)
    try:
        return await fut
    finally:
        timer.cancel()
        if writable:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


def _wake(fut: asyncio.Future, value: bool) -> None:
    if not fut.done():
        fut.set_result(value)
