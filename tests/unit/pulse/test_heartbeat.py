"""Heartbeat packets: legacy magics bit for bit, and the authenticated format's drop rules."""

import os
import struct

import pytest

from piranha.pulse.heartbeat import (
    LEGACY_MAGIC, MAX_CLOCK_SKEW, HeartbeatCodec, KeyFileError, ReplayWindow, read_key_file,
)
from piranha.pulse.state import PeerState

KEY = b"0123456789abcdef0123456789abcdef"


class Clock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def pair(mode="lvs", key=KEY, clock=None):
    clock = clock or Clock()
    a = HeartbeatCodec(mode, "10.213.0.1", "10.213.0.2", key=key, clock=clock)
    b = HeartbeatCodec(mode, "10.213.0.2", "10.213.0.1", key=key, clock=clock)
    return a, b, clock


@pytest.mark.parametrize("mode,state,magic", [
    ("lvs", PeerState.RUNNING, 0xBDADDBDA), ("lvs", PeerState.STOPPED, 0xADBDDABD),
    ("fos", PeerState.RUNNING, 0xBEEFBABE), ("fos", PeerState.STOPPED, 0xDEADBEEF),
    ("fos", PeerState.STOPME, 0xDEADDADA),
])
def test_legacy_packets_are_piranhas_4_byte_host_order_magic(mode, state, magic):
    a, b, _ = pair(mode, key=None)
    packet = a.encode(state)
    assert packet == struct.pack("=I", magic)
    assert b.decode(packet) is state
    assert b.decode(packet[::-1]) is state        # a peer of the other byte order is understood too


def test_legacy_mode_mismatch_is_incompatible_and_garbage_is_malformed():
    lvs, _, _ = pair("lvs", key=None)
    assert lvs.decode(struct.pack("=I", LEGACY_MAGIC[("fos", PeerState.RUNNING)])) is None
    assert lvs.decode(b"\x01\x02\x03\x04") is None
    assert lvs.decode(b"\x01\x02\x03") is None
    assert lvs.counters["incompatible"] == 1 and lvs.counters["malformed"] == 2


def test_authenticated_round_trip_and_sequence_grows():
    a, b, clock = pair()
    for state in PeerState:
        clock.now += 0.2
        assert b.decode(a.encode(state)) is state
    assert b.counters["accepted"] == 3


def test_forged_packet_with_the_wrong_key_is_dropped():
    a, b, _ = pair()
    mallory = HeartbeatCodec("lvs", "10.213.0.1", "10.213.0.2", key=b"x" * 32)
    assert b.decode(mallory.encode(PeerState.STOPME)) is None
    assert b.counters["forged"] == 1 and b.counters["accepted"] == 0


def test_flipped_bit_is_forged():
    a, b, _ = pair()
    packet = bytearray(a.encode(PeerState.RUNNING))
    packet[6] ^= 1                                   # RUNNING -> STOPPED without the key
    assert b.decode(bytes(packet)) is None
    assert b.counters["forged"] == 1


def test_own_packet_reflected_back_is_forged():
    a, _, _ = pair()
    assert a.decode(a.encode(PeerState.RUNNING)) is None
    assert a.counters["forged"] == 1


def test_replayed_packet_is_dropped():
    a, b, clock = pair()
    packet = a.encode(PeerState.STOPPED)
    assert b.decode(packet) is PeerState.STOPPED
    clock.now += 1
    assert b.decode(packet) is None
    assert b.counters["replayed"] == 1


def test_stale_packet_is_dropped_even_by_a_receiver_that_never_saw_it():
    a, _, clock = pair()
    packet = a.encode(PeerState.STOPPED)
    fresh = HeartbeatCodec("lvs", "10.213.0.2", "10.213.0.1", key=KEY, clock=clock)
    clock.now += MAX_CLOCK_SKEW + 1
    assert fresh.decode(packet) is None
    assert fresh.counters["stale"] == 1


def test_reordered_packets_within_the_window_are_accepted():
    a, b, _ = pair()
    first, second = a.encode(PeerState.RUNNING), a.encode(PeerState.RUNNING)
    assert b.decode(second) is PeerState.RUNNING
    assert b.decode(first) is PeerState.RUNNING


def test_restarted_sender_is_accepted():
    a, b, clock = pair()
    b.decode(a.encode(PeerState.RUNNING))
    clock.now += 0.5
    restarted = HeartbeatCodec("lvs", "10.213.0.1", "10.213.0.2", key=KEY, clock=clock)
    assert b.decode(restarted.encode(PeerState.STOPPED)) is PeerState.STOPPED


def test_keyed_node_refuses_legacy_and_keyless_node_refuses_authenticated():
    keyed, _, _ = pair()
    legacy, _, _ = pair(key=None)
    assert keyed.decode(struct.pack("=I", 0xBDADDBDA)) is None
    assert keyed.counters["unauthenticated"] == 1
    assert legacy.decode(keyed.encode(PeerState.RUNNING)) is None
    assert legacy.counters["incompatible"] == 1


def test_truncated_authenticated_packet_is_malformed():
    a, b, _ = pair()
    assert b.decode(a.encode(PeerState.RUNNING)[:-1]) is None
    assert b.counters["malformed"] == 1


def test_replay_window_rejects_old_numbers():
    window = ReplayWindow()
    assert window.check_and_add(1000)
    assert not window.check_and_add(1000 - 64)
    assert window.check_and_add(999)
    assert not window.check_and_add(999)


def test_key_file_rules(tmp_path):
    good = tmp_path / "key"
    good.write_bytes(KEY + b"\n")
    os.chmod(good, 0o600)
    assert read_key_file(str(good)) == KEY
    os.chmod(good, 0o644)
    with pytest.raises(KeyFileError, match="accessible by others"):
        read_key_file(str(good))
    short = tmp_path / "short"
    short.write_bytes(b"abc")
    os.chmod(short, 0o600)
    with pytest.raises(KeyFileError, match="holds 3 bytes"):
        read_key_file(str(short))
    with pytest.raises(KeyFileError, match="No such file"):
        read_key_file(str(tmp_path / "missing"))
