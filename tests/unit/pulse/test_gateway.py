"""The ICMP echo of the FOS gateway check: the packet, and a real ping of 127.0.0.1 (root only)."""

import asyncio
import os
import struct

import pytest

from piranha.pulse.gateway import _checksum, echo_request, ping_once


def test_echo_request_has_a_valid_checksum():
    packet = echo_request(0x1234, 7)
    kind, code, _, ident, seq = struct.unpack("!BBHHH", packet[:8])
    assert (kind, code, ident, seq) == (8, 0, 0x1234, 7)
    assert _checksum(packet) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMP sockets need root")
def test_loopback_answers_a_real_ping():
    assert asyncio.run(ping_once("127.0.0.1", 1, wait=1.0))
