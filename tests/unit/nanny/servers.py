"""Real listeners on 127.0.0.1:0 for the probe tests; each one is closed when its context ends."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager, contextmanager


@asynccontextmanager
async def tcp_server(reply: bytes | None = None, delay: float = 0.0, read_first: bool = True,
                     hold: float = 0.0):
    """Accept connections; optionally read a request, wait ``delay``, send ``reply``, keep open ``hold`` s."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if read_first:
                await asyncio.wait_for(reader.read(1024), 2.0)
            await asyncio.sleep(delay)
            if reply is not None:
                writer.write(reply)
                await writer.drain()
            await asyncio.sleep(hold)
        except (ConnectionError, TimeoutError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


@asynccontextmanager
async def udp_server(reply: bytes | None = None, silent: bool = False):
    """A UDP service on 127.0.0.1: echoes (empty datagrams too) or answers ``reply``, or stays silent."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)
    sock.bind(("127.0.0.1", 0))

    def answer():
        data, addr = sock.recvfrom(2048)
        sock.sendto(data if reply is None else reply, addr)

    if not silent:
        loop.add_reader(sock.fileno(), answer)
    try:
        yield sock.getsockname()[1]
    finally:
        if not silent:
            loop.remove_reader(sock.fileno())
        sock.close()


_held: list[socket.socket] = []


def closed_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that refuses: TCP stays bound without listening until the test ends (so no other
    process can take it meanwhile); UDP is bound and released (a bound UDP socket would swallow datagrams)."""
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if kind == socket.SOCK_STREAM:
        _held.append(sock)
    else:
        sock.close()
    return port


def release_held() -> None:
    while _held:
        _held.pop().close()


@contextmanager
def full_backlog():
    """A listener whose accept queue is full, so new SYNs are dropped and connects time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        yield port
    finally:
        filler.close()
        listener.close()
