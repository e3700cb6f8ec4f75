"""An IPv6 VIP moves too: added without a label or duplicate detection, announced by unsolicited neighbour
advertisements (Override set), which move a client's existing neighbour entry at once."""

import time

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip")

from tests.integration.pulse_support import VIP, VIP6, Cluster  # noqa: E402


@pytest.fixture
def cluster():
    with Cluster() as c:
        c.write_config(virtuals=[("web", VIP, 1), ("web6", VIP6, 1)])
        c.start("d1")
        c.start("d2")
        c.wait_for(lambda: c.active() == {"d1"}, 5, "d1 alone active")
        yield c


def mac(cluster, name):
    return cluster.ns[name].run(["cat", "/sys/class/net/eth0/address"]).stdout.strip()


def test_ipv6_vip_is_held_and_answers(cluster):
    assert f"{VIP6}/128" in cluster.ns["d1"].run(["ip", "-6", "-o", "addr", "show", "dev", "eth0"]).stdout
    assert {v["address"] for v in cluster.status("d1")["vips"]} == {VIP, VIP6}
    assert cluster.ask(VIP6) == "d1"


def test_ipv6_vip_fails_over_and_the_client_follows_the_advertisement(cluster):
    assert cluster.ask(VIP6) == "d1"
    assert mac(cluster, "d1") in cluster.client.run(["ip", "-6", "neigh", "show", VIP6]).stdout
    killed = time.monotonic()
    cluster.kill("d1")              # its VIP stays behind on d1: only the advertisement can move the client
    cluster.wait_for(lambda: mac(cluster, "d2") in cluster.client.run(["ip", "-6", "neigh", "show", VIP6]).stdout,
                     3, "the client's neighbour entry moving to d2")
    assert time.monotonic() - killed < 0.6 + 1.0
    assert cluster.ask(VIP6) == "d2" and cluster.ask(VIP) == "d2"
