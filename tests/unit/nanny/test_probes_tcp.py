"""TCP probes against real listeners on 127.0.0.1."""

import asyncio

import pytest

from piranha.nanny.probes import check, make_probe
from piranha.nanny.spec import CheckSpec

from .servers import closed_port, full_backlog, tcp_server

pytestmark = pytest.mark.timeout(20)

HTTP_GET = "GET / HTTP/1.0\\r\\n\\r\\n"


def spec(port, **kw):
    return CheckSpec(id="vs/rs", address="127.0.0.1", port=port, **{"timeout": 1.0, **kw})


def run(coro):
    return asyncio.run(coro)


def test_connect_up():
    async def go():
        async with tcp_server(read_first=False) as port:
            return await check(spec(port))
    result = run(go())
    assert result.up and result.ok
    assert result.message == "connected"
    assert 0 < result.latency < 1


def test_connect_refused_is_down():
    result = run(check(spec(closed_port())))
    assert not result.up
    assert "refused" in result.message and result.message.startswith("CONNECT to 127.0.0.1:")


def test_connect_timeout_is_down_within_timeout():
    with full_backlog() as port:
        result = run(check(spec(port, timeout=0.3)))
    assert not result.up
    assert result.message == f"CONNECT to 127.0.0.1:{port} timed out"
    assert 0.29 < result.latency < 1.5


def test_send_expect_prefix_matches():
    async def go():
        async with tcp_server(b"HTTP/1.1 200 OK\r\n\r\n") as port:
            return await check(spec(port, send=HTTP_GET, expect="HTTP"))
    result = run(go())
    assert result.up, result.message


def test_wrong_reply_is_down():
    async def go():
        async with tcp_server(b"SSH-2.0-OpenSSH\r\n") as port:
            return await check(spec(port, send=HTTP_GET, expect="HTTP"))
    result = run(go())
    assert not result.up
    assert "does not match 'HTTP'" in result.message


def test_short_reply_then_close_is_too_short():
    async def go():
        async with tcp_server(b"HT") as port:
            return await check(spec(port, send="x", expect="HTTP"))
    result = run(go())
    assert not result.up and "too short" in result.message


def test_silent_server_read_times_out():
    async def go():
        async with tcp_server(None, hold=3.0) as port:
            return await check(spec(port, send="hello", expect="*", timeout=0.3))
    result = run(go())
    assert not result.up
    assert result.message.startswith("READ to 127.0.0.1:") and result.message.endswith("timed out")


@pytest.mark.parametrize("timeout, up", [(0.2, False), (1.5, True)])
def test_slow_reply_counts_against_the_timeout(timeout, up):
    async def go():
        async with tcp_server(b"HTTP/1.0 200 OK\r\n", delay=0.5) as port:
            return await check(spec(port, send="GET", expect="HTTP", timeout=timeout))
    assert run(go()).up is up


def test_reply_split_over_segments_is_reassembled():
    async def go():
        async def handle(reader, writer):
            await reader.read(100)
            for part in (b"HT", b"TP/1.0 200"):
                writer.write(part)
                await writer.drain()
                await asyncio.sleep(0.05)
            writer.close()
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        async with server:
            return await check(spec(server.sockets[0].getsockname()[1], send="GET", expect="HTTP/1.0"))
    assert run(go()).up


def test_star_accepts_any_reply_but_not_silence_then_close():
    async def go():
        async with tcp_server(b"?") as port:
            any_reply = await check(spec(port, send="x", expect="*"))
        async with tcp_server(None) as port:
            closed = await check(spec(port, send="x", expect="*"))
        return any_reply, closed
    any_reply, closed = run(go())
    assert any_reply.up
    assert not closed.up and "without a reply" in closed.message


@pytest.mark.parametrize("pattern, up", [
    (r"^HTTP/1\.[01] (200|302)", True),
    (r"Server: [a-z]+", True),
    (r"^HTTP/1\.[01] 5[0-9]{2}", False),
])
def test_regex_expect(pattern, up):
    async def go():
        async with tcp_server(b"HTTP/1.1 302 Found\r\nServer: nginx\r\n\r\n") as port:
            return await check(spec(port, send=HTTP_GET, expect=pattern, use_regex=True))
    assert run(go()).up is up


def test_send_without_expect_is_up_once_sent():
    async def go():
        async with tcp_server(None) as port:
            return await check(spec(port, send="PING\\r\\n"))
    result = run(go())
    assert result.up and result.message == "sent"


def test_escapes_reach_the_wire():
    seen = []

    async def go():
        async def handle(reader, writer):
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"OK")
            await writer.drain()
            writer.close()
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        async with server:
            return await check(spec(server.sockets[0].getsockname()[1], send=HTTP_GET, expect="OK"))
    assert run(go()).up
    assert seen == [b"GET / HTTP/1.0\r\n\r\n"]


def test_ipv6_loopback():
    async def go():
        server = await asyncio.start_server(lambda r, w: w.close(), "::1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            return await check(CheckSpec(id="v6", address="::1", port=port, timeout=1))
    result = run(go())
    assert result.up


def test_bad_regex_is_refused_when_the_probe_is_made():
    with pytest.raises(ValueError, match="not a valid regular expression"):
        make_probe(spec(80, expect="(unclosed", use_regex=True))


def test_many_concurrent_connects_share_one_engine_that_closes_when_idle():
    from piranha.nanny.probes import connect

    async def go():
        async with tcp_server(read_first=False) as port:
            refused = closed_port()
            loop = asyncio.get_running_loop()
            tasks = [loop.create_task(check(spec(port if i % 3 else refused))) for i in range(120)]
            await asyncio.sleep(0)                       # every check has started its connect
            engine = connect._engines.get(loop)
            in_flight = len(engine.inflight)
            results = await asyncio.gather(*tasks)
            await asyncio.sleep(3 * connect.SWEEP + 0.05)
            return results, engine, in_flight, connect._engines.get(loop)
    results, engine, in_flight, after = run(go())
    assert in_flight > 50
    assert [r.up for r in results] == [bool(i % 3) for i in range(120)]
    assert engine is not None and engine.epoll.closed and after is None


def test_an_ipv6_scope_naming_a_missing_interface_is_refused_when_the_probe_is_made():
    with pytest.raises(ValueError, match="address 'fe80::1%nnbogus0' cannot be used"):
        make_probe(CheckSpec(id="a", address="fe80::1%nnbogus0", port=80))


def test_a_cancelled_connect_check_closes_its_socket():
    from piranha.nanny.probes import connect

    async def go():
        with full_backlog() as port:
            loop = asyncio.get_running_loop()
            task = loop.create_task(check(spec(port, timeout=5)))
            await asyncio.sleep(0.05)
            engine = connect._engines[loop]
            (in_flight,) = engine.inflight.values()
            sock = in_flight.sock
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return engine.inflight, sock
    inflight, sock = run(go())
    assert inflight == {} and sock.fileno() == -1


def test_a_reset_while_waiting_for_the_reply_is_down_with_the_reason():
    import socket
    import struct

    async def go():
        async def handle(reader, writer):
            await reader.read(100)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()                   # RST instead of a reply
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            return port, await check(spec(port, send="GET", expect="HTTP"))
    port, result = run(go())
    assert not result.up
    assert result.message == f"I/O with 127.0.0.1:{port} failed: Connection reset by peer"
