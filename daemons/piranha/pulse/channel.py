"""Heartbeat transport: UDP from our public (and private) address to the partner's, on heartbeat_port.

Source and destination port are the same, as in Piranha. Only packets from the partner's addresses are
decoded; anything else is counted as ``unexpected_source`` and dropped.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Callable

from piranha.pulse.heartbeat import HeartbeatCodec
from piranha.pulse.state import PeerState

log = logging.getLogger("pulse")


class ChannelError(Exception):
    pass


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, channel: "HeartbeatChannel") -> None:
        self.channel = channel

    def datagram_received(self, data: bytes, addr) -> None:
        self.channel.received(data, addr[0])

    def error_received(self, exc: Exception) -> None:
        self.channel.send_errors += 1   # e.g. ICMP port unreachable while the partner's pulse is down


class HeartbeatChannel:
    def __init__(self, codec: HeartbeatCodec, port: int, paths: list[tuple[str, str | None]],
                 on_state: Callable[[PeerState], None]) -> None:
        """`paths`: (own address, partner address or None) for the public and, if set, the private pair."""
        self.codec = codec
        self.port = port
        self.paths = paths
        self.on_state = on_state
        self.partners = {partner for _, partner in paths if partner}
        self.transports: list[tuple[asyncio.DatagramTransport, str | None]] = []
        self.send_errors = 0
        self.sent = 0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for own, partner in self.paths:
            sock = socket.socket(socket.AF_INET6 if ":" in own else socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind((own, self.port))     # no SO_REUSEADDR: a second pulse on this address must fail
            except OSError as exc:
                sock.close()
                self.close()
                raise ChannelError(f"cannot create heartbeat socket on {own}:{self.port}: "
                                   f"{exc.strerror or exc}. running as root?") from None
            transport, _ = await loop.create_datagram_endpoint(lambda: _Endpoint(self), sock=sock)
            self.transports.append((transport, partner))

    def send(self, state: PeerState) -> None:
        for transport, partner in self.transports:
            if partner is None:
                continue
            try:
                transport.sendto(self.codec.encode(state), (partner, self.port))
                self.sent += 1
            except OSError as exc:
                self.send_errors += 1
                log.debug("heartbeat to %s failed: %s", partner, exc)

    def received(self, data: bytes, source: str) -> None:
        if source not in self.partners:
            self.codec.count("unexpected_source")
            log.debug("Unexpected heartbeat from %s", source)
            return
        state = self.codec.decode(data)
        if state is None:
            log.debug("bad heartbeat packet from %s dropped", source)
            return
        self.on_state(state)

    def close(self) -> None:
        for transport, _ in self.transports:
            transport.close()
        self.transports.clear()

    async def aclose(self) -> None:
        """Close and return once the sockets are really closed (so their addresses can be bound again)."""
        self.close()
        await asyncio.sleep(0)    # transports close their socket in a call_soon callback: let it run
