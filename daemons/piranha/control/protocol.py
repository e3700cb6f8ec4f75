"""Wire format of the control sockets, shared by every daemon and client.

A request is one line of JSON: ``{"command": "status", "args": {...}}``.
A reply is one line of JSON: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``.
A connection may carry several requests in turn; the server answers each before reading the next.
"""

from __future__ import annotations

import asyncio
import grp
import inspect
import json
import logging
import os
from typing import Any, Awaitable, Callable

MAX_LINE = 1 << 20  # a status reply of a 10,000-server table fits well inside 1 MiB per request line

log = logging.getLogger(__name__)

Handler = Callable[[str, dict], Any | Awaitable[Any]]


class CommandError(Exception):
    """Raised by a handler to refuse a request with a message the client shows as is."""


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def decode(line: bytes) -> dict:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("a control message must be a JSON object")
    return message


def request(command: str, **args: Any) -> bytes:
    return encode({"command": command, "args": args})


async def _answer(handler: Handler, line: bytes) -> dict:
    try:
        message = decode(line)
        command = message.get("command")
        args = message.get("args") or {}
        if not isinstance(command, str) or not isinstance(args, dict):
            raise ValueError("expected {\"command\": str, \"args\": object}")
    except ValueError as exc:
        return {"ok": False, "error": f"bad request: {exc}"}
    try:
        result = handler(command, args)
        if inspect.isawaitable(result):
            result = await result
    except CommandError as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # a daemon must survive a failing request
        log.exception("control command %r failed", command)
        return {"ok": False, "error": f"internal error: {exc}"}
    return {"ok": True, "result": result}


async def serve(path: str, handler: Handler, *, mode: int = 0o660, group: str | None = None) -> asyncio.AbstractServer:
    """Listen on the Unix socket `path` (replacing a stale one) and answer requests with `handler`."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(encode(await _answer(handler, line)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o755, exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    server = await asyncio.start_unix_server(on_connect, path=path, limit=MAX_LINE)
    if group:
        try:
            os.chown(path, -1, grp.getgrnam(group).gr_gid)
        except KeyError:
            log.warning("group %s does not exist; control socket %s keeps its default group", group, path)
    os.chmod(path, mode)
    return server
