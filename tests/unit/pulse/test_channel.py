"""The heartbeat transport on loopback: two channels (127.0.0.1 and 127.0.0.2) on a free port."""

import asyncio
import socket

import pytest

from piranha.pulse.channel import ChannelError, HeartbeatChannel
from piranha.pulse.heartbeat import HeartbeatCodec
from piranha.pulse.state import PeerState


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def exchange(key=None):
    port = free_udp_port()
    got_a, got_b = [], []
    a = HeartbeatChannel(HeartbeatCodec("lvs", "127.0.0.1", "127.0.0.2", key=key), port,
                         [("127.0.0.1", "127.0.0.2")], got_a.append)
    b = HeartbeatChannel(HeartbeatCodec("lvs", "127.0.0.2", "127.0.0.1", key=key), port,
                         [("127.0.0.2", "127.0.0.1")], got_b.append)
    await a.open()
    await b.open()
    try:
        a.send(PeerState.RUNNING)
        b.send(PeerState.STOPPED)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
            stranger.bind(("127.0.0.3", 0))
            stranger.sendto(b"\xda\xdb\xad\xbd", ("127.0.0.1", port))
        for _ in range(100):
            if got_a and got_b and a.codec.counters["unexpected_source"]:
                break
            await asyncio.sleep(0.01)
        return got_a, got_b, a
    finally:
        await a.aclose()
        await b.aclose()


@pytest.mark.parametrize("key", [None, b"k" * 32], ids=["legacy", "authenticated"])
def test_channels_exchange_states_and_count_strangers(key):
    got_a, got_b, a = asyncio.run(exchange(key))
    assert got_b == [PeerState.RUNNING] and got_a == [PeerState.STOPPED]
    assert a.codec.counters["unexpected_source"] == 1 and a.sent == 1


def test_a_busy_address_is_a_clear_error():
    async def scenario():
        port = free_udp_port()
        first = HeartbeatChannel(HeartbeatCodec("lvs", "127.0.0.1", "127.0.0.2"), port, [("127.0.0.1", None)],
                                 lambda state: None)
        await first.open()
        try:
            second = HeartbeatChannel(HeartbeatCodec("lvs", "127.0.0.1", "127.0.0.2"), port,
                                      [("127.0.0.1", None)], lambda state: None)
            with pytest.raises(ChannelError, match=f"cannot create heartbeat socket on 127.0.0.1:{port}"):
                await second.open()
        finally:
            await first.aclose()
    asyncio.run(scenario())
