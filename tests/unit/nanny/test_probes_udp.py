"""UDP probes: a reply is required; ICMP port unreachable is down at once."""

import asyncio
import socket

import pytest

from piranha.nanny.probes import check
from piranha.nanny.spec import CheckSpec

from .servers import closed_port, udp_server

pytestmark = pytest.mark.timeout(20)


def spec(port, **kw):
    return CheckSpec(id="dns/rs", address="127.0.0.1", port=port, protocol="udp", **{"timeout": 1.0, **kw})


def test_echo_reply_is_up():
    async def go():
        async with udp_server() as port:
            return await check(spec(port, send="ping"))
    result = asyncio.run(go())
    assert result.up and "ping" in result.message


def test_no_send_string_sends_an_empty_datagram_that_an_echo_answers():
    async def go():
        async with udp_server() as port:
            return await check(spec(port))
    assert asyncio.run(go()).up


def test_icmp_port_unreachable_is_down_fast():
    result = asyncio.run(check(spec(closed_port(socket.SOCK_DGRAM), send="ping", timeout=5)))
    assert not result.up
    assert "refused (ICMP port unreachable)" in result.message
    assert result.latency < 2.5                 # well before the 5 s timeout


def test_silence_is_down_after_the_timeout():
    async def go():
        async with udp_server(silent=True) as port:
            return await check(spec(port, send="ping", timeout=0.3))
    result = asyncio.run(go())
    assert not result.up and result.message.endswith("timed out")
    assert result.latency >= 0.29


@pytest.mark.parametrize("expect, use_regex, up", [
    ("PONG", False, True), ("PING", False, False), ("*", False, True), (r"^PO[N]G\b", True, True),
])
def test_udp_expect(expect, use_regex, up):
    async def go():
        async with udp_server(reply=b"PONG 1") as port:
            return await check(spec(port, send="PING", expect=expect, use_regex=use_regex))
    assert asyncio.run(go()).up is up
