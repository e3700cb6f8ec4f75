"""The control protocol (piranha.control.protocol, JSON lines) over TCP, for the agent's port on the TAP link.

    reply = AgentClient("172.31.255.2", 7373, netns="pl-lab").call("status")

The host reaches UML only from inside the pl-lab namespace: the client opens its socket there (a thread
that entered the namespace), so nothing crosses the host's own interfaces.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading

from piranha.control.protocol import MAX_LINE, CommandError, decode, encode, request


async def serve_tcp(host: str, port: int, handler) -> asyncio.AbstractServer:
    async def answer(line: bytes) -> dict:
        try:
            message = decode(line)
            command, args = message.get("command"), message.get("args") or {}
            if not isinstance(command, str) or not isinstance(args, dict):
                raise ValueError("expected {\"command\": str, \"args\": object}")
        except ValueError as exc:
            return {"ok": False, "error": f"bad request: {exc}"}
        try:
            return {"ok": True, "result": await handler(command, args)}
        except CommandError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # the agent must survive a failing request
            return {"ok": False, "error": f"internal error: {exc}"}

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(encode(await answer(line)))
                await writer.drain()
        except (ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(on_connect, host, port, limit=MAX_LINE, reuse_address=True)


class AgentError(Exception):
    """The agent refused a request, or could not be reached."""


class AgentClient:
    def __init__(self, host: str, port: int, netns: str | None = None, timeout: float = 30.0):
        self.host, self.port, self.netns, self.timeout = host, port, netns, timeout

    def call(self, command: str, **args) -> dict:
        if self.netns is None:
            return self._call(command, args)
        box: dict = {}

        def in_namespace() -> None:
            from lab.netns import enter
            try:
                enter(self.netns)
                box["result"] = self._call(command, args)
            except BaseException as exc:  # handed back to the calling thread
                box["error"] = exc

        worker = threading.Thread(target=in_namespace, name=f"agent-client-{self.netns}")
        worker.start()
        worker.join(self.timeout + 5)
        if "error" in box:
            raise box["error"]
        if "result" not in box:
            raise AgentError(f"no answer from the lab agent within {self.timeout:g} s")
        return box["result"]

    def _call(self, command: str, args: dict) -> dict:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                sock.sendall(request(command, **args))
                data = b""
                while not data.endswith(b"\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError as exc:
            raise AgentError(f"lab agent at {self.host}:{self.port} unreachable: {exc.strerror or exc}") from None
        if not data:
            raise AgentError("the lab agent closed the connection without answering")
        reply = json.loads(data)
        if not reply.get("ok"):
            raise AgentError(reply.get("error", "refused"))
        return reply["result"]
