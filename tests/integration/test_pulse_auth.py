"""Authenticated heartbeats between two real pulses: forged, replayed, stale and unauthenticated packets
change nothing and are counted."""

import os
import struct
import time

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip")

from piranha.pulse.heartbeat import HeartbeatCodec  # noqa: E402
from piranha.pulse.state import PeerState  # noqa: E402
from tests.integration.pulse_support import DIRECTORS, Cluster  # noqa: E402

KEY = b"integration-test-key-0123456789abcdef"


@pytest.fixture
def cluster():
    with Cluster() as c:
        key_file = c.tmp / "heartbeat.key"
        key_file.write_bytes(KEY + b"\n")
        os.chmod(key_file, 0o600)
        c.write_config(extra_global=f"heartbeat_key_file = {key_file}")
        c.start("d1")
        c.start("d2")
        c.wait_for(lambda: c.active() == {"d1"}, 5, "d1 alone active")
        yield c


def counters(cluster, name):
    return cluster.status(name)["heartbeat"]["counters"]


def test_keyed_cluster_elects_and_counts_accepted_packets(cluster):
    status = cluster.status("d2")
    assert status["heartbeat"]["authenticated"] and status["partner"]["state"] == "running"
    assert counters(cluster, "d2")["accepted"] > 0
    assert sum(v for k, v in counters(cluster, "d2").items() if k != "accepted") == 0


def test_attacks_change_nothing_and_are_counted(cluster):
    replay = cluster.capture_heartbeat(at="d2", sender="d1")       # a genuine RUNNING heartbeat
    wrong_key = HeartbeatCodec("lvs", DIRECTORS["d2"], DIRECTORS["d1"], key=b"not-the-key-" * 3)
    old_clock = HeartbeatCodec("lvs", DIRECTORS["d2"], DIRECTORS["d1"], key=KEY, clock=lambda: time.time() - 120)
    time.sleep(0.3)

    cluster.send_as("d1", to="d2", payload=replay)                                   # replay to the backup
    cluster.send_as("d2", to="d1", payload=wrong_key.encode(PeerState.STOPME))       # forged "go inactive"
    cluster.send_as("d2", to="d1", payload=old_clock.encode(PeerState.STOPME))       # stale, with the right key
    cluster.send_as("d2", to="d1", payload=struct.pack("=I", 0xDEADDADA))            # Piranha's STOPME, no MAC
    time.sleep(0.5)

    assert counters(cluster, "d2")["replayed"] >= 1
    d1 = counters(cluster, "d1")
    assert (d1["forged"], d1["stale"], d1["unauthenticated"]) == (1, 1, 1)
    for _ in range(10):
        assert cluster.active() == {"d1"}
        time.sleep(0.1)
    assert cluster.ask() == "d1"
    assert "PARTNER HAS TOLD US TO GO INACTIVE!" not in cluster.log("d1")


def test_a_datagram_from_a_stranger_is_counted_as_unexpected(cluster):
    cluster.client.run(["python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                        f".sendto(b'x' * 4, ('{DIRECTORS['d1']}', 539))"])
    cluster.wait_for(lambda: counters(cluster, "d1")["unexpected_source"] == 1, 3, "the stranger counted")
    assert cluster.active() == {"d1"}
