"""FOS's gateway check (PIRANHA-REFERENCE §3.7): before forcing a takeover because a partner service failed,
make sure it is not our own network that is broken: the default gateway must answer a ping.

Piranha ran ``/bin/ping -n -c 1 -w 1 GW`` up to 3 times; we send the ICMP echo ourselves on a raw socket
(pulse runs as root), so the check needs no ping binary.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct

from piranha.net.addresses import Addresses

log = logging.getLogger("pulse")

TRIES = 3
WAIT = 1.0


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident: int, seq: int, payload: bytes = b"piranha-gw-check") -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload


def _is_reply(packet: bytes, address: str, ident: int, seq: int) -> bool:
    ihl = (packet[0] & 0x0F) * 4
    if len(packet) < ihl + 8 or socket.inet_ntoa(packet[12:16]) != address:
        return False
    kind, _, _, r_ident, r_seq = struct.unpack("!BBHHH", packet[ihl:ihl + 8])
    return kind == 0 and r_ident == ident and r_seq == seq


async def ping_once(address: str, seq: int, wait: float = WAIT) -> bool:
    loop = asyncio.get_running_loop()
    ident = os.getpid() & 0xFFFF
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.setblocking(False)
        await loop.sock_sendto(sock, echo_request(ident, seq), (address, 0))
        deadline = loop.time() + wait
        while (left := deadline - loop.time()) > 0:
            try:
                packet = await asyncio.wait_for(loop.sock_recv(sock, 2048), left)
            except asyncio.TimeoutError:
                return False
            if _is_reply(packet, address, ident, seq):
                return True
    return False


async def gateway_reachable(net: Addresses) -> bool:
    gateways = net.default_gateways()
    if not gateways:
        log.error("no default gateway to check: assuming a local network fault")
        return False
    for attempt in range(1, TRIES + 1):
        try:
            if await ping_once(gateways[0], attempt):
                return True
        except OSError as exc:
            log.error("cannot ping gateway %s: %s", gateways[0], exc.strerror or exc)
            return False
    log.warning("default gateway %s did not answer %d pings", gateways[0], TRIES)
    return False
