"""Blocking client of a daemon's control socket.

    >>> ControlClient("/run/piranha/pulse.sock", timeout=2).call("reload")   # doctest: +SKIP
"""

from __future__ import annotations

import socket
from typing import Any

from piranha.control.protocol import MAX_LINE, decode, request


class ControlError(Exception):
    """The daemon answered, but refused or failed the request."""


class NotRunning(ControlError):
    """Nothing listens on the control socket: the daemon is not running (or we may not reach it)."""


class ControlClient:
    def __init__(self, path: str, timeout: float = 5.0):
        self.path = path
        self.timeout = timeout

    def call(self, command: str, **args: Any) -> Any:
        """Send one request and return its result, or raise NotRunning / ControlError."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                sock.sendall(request(command, **args))
                reply = _read_line(sock)
        except FileNotFoundError:
            raise NotRunning(f"not running (no control socket at {self.path})") from None
        except ConnectionRefusedError:
            raise NotRunning(f"not running (nothing listens on {self.path})") from None
        except PermissionError:
            raise ControlError(f"permission denied on {self.path} (need group piranha or root)") from None
        except socket.timeout:
            raise ControlError(f"no answer on {self.path} within {self.timeout:g} s") from None
        except OSError as exc:
            raise ControlError(f"{self.path}: {exc.strerror or exc}") from None
        try:
            message = decode(reply)
        except ValueError as exc:
            raise ControlError(f"garbled reply on {self.path}: {exc}") from None
        if not message.get("ok"):
            raise ControlError(message.get("error") or "request failed")
        return message.get("result")


def _read_line(sock: socket.socket) -> bytes:
    chunks = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if chunk.endswith(b"\n") or size > MAX_LINE * 64:
            break
    if not chunks:
        raise ConnectionResetError("connection closed without a reply")
    return b"".join(chunks)
