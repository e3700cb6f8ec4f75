"""send_arp in namespaces: the frame on the wire, and a client's neighbour entry that follows it."""

import subprocess
import sys

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip")

from tests.integration.pulse_support import CLIENT, DIRECTORS, VENV_BIN, Cluster  # noqa: E402

# Prints the first ARP frame (hex) that arrives on eth0.
ARP_SNIFFER = """
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind(("eth0", 0))
s.settimeout(10)
print("ready", flush=True)
print(s.recv(2048).hex())
"""


@pytest.fixture
def cluster():
    with Cluster() as c:
        yield c


def mac(cluster, name):
    return cluster.ns[name].run(["cat", "/sys/class/net/eth0/address"]).stdout.strip()


def neighbour(cluster, address):
    return cluster.client.run(["ip", "neigh", "show", address]).stdout


def test_send_arp_puts_a_gratuitous_request_on_the_wire(cluster):
    sniffer = cluster.client.popen([sys.executable, "-c", ARP_SNIFFER], stdout=subprocess.PIPE, text=True)
    assert sniffer.stdout.readline().strip() == "ready"
    d1 = mac(cluster, "d1")
    result = cluster.ns["d1"].run([str(VENV_BIN / "send_arp"), "-i", "eth0", DIRECTORS["d1"], d1, CLIENT,
                                   "ffffffffffff"], check=False)
    assert result.returncode == 0, result.stderr
    frame = bytes.fromhex(sniffer.stdout.readline().strip())
    sniffer.wait(timeout=10)
    sniffer.stdout.close()
    sha = bytes.fromhex(d1.replace(":", ""))
    assert frame[0:6] == b"\xff" * 6 and frame[6:12] == sha and frame[12:14] == b"\x08\x06"
    assert frame[20:22] == b"\x00\x01"                                   # request
    assert frame[22:28] == sha and frame[28:32] == bytes(map(int, DIRECTORS["d1"].split(".")))
    assert frame[38:42] == frame[28:32]                                 # target IP = sender IP


def test_client_neighbour_entry_follows_a_gratuitous_arp(cluster):
    cluster.client.run([sys.executable, "-c", "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
                        f"s.sendto(b'x', ('{DIRECTORS['d1']}', 9))"])
    cluster.wait_for(lambda: mac(cluster, "d1") in neighbour(cluster, DIRECTORS["d1"]), 3, "the client learning d1")
    d2 = mac(cluster, "d2")
    cluster.ns["d2"].run([str(VENV_BIN / "send_arp"), "-i", "eth0", DIRECTORS["d1"], d2, CLIENT, "ffffffffffff"])
    cluster.wait_for(lambda: d2 in neighbour(cluster, DIRECTORS["d1"]), 3, "the client's entry moving to d2's MAC")


def test_send_arp_on_a_missing_device_fails_clearly(cluster):
    result = cluster.ns["d1"].run([str(VENV_BIN / "send_arp"), "-i", "nosuch0", DIRECTORS["d1"], "020000000001",
                                   CLIENT, "ffffffffffff"], check=False)
    assert result.returncode == 1 and "cannot send on nosuch0" in result.stderr
