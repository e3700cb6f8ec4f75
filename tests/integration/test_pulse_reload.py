"""Live reload of two running pulses: VIPs added and removed, timing changed, bad files refused."""

import signal
import time

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip")

from tests.integration.pulse_support import NET, VIP, Cluster  # noqa: E402

VIP2 = f"{NET}.101"


@pytest.fixture
def cluster():
    with Cluster() as c:
        c.start("d1")
        c.start("d2")
        c.wait_for(lambda: c.active() == {"d1"}, 5, "d1 alone active")
        yield c


def held(cluster, name):
    return [v["address"] for v in cluster.status(name)["vips"]]


def reload_both(cluster):
    for name in ("d1", "d2"):
        result = cluster.ctl(name, "reload")
        assert result.returncode == 0, result.stderr


def test_reload_adds_a_vip_and_arps_it(cluster):
    assert cluster.ask(VIP2) == "-"
    cluster.write_config(virtuals=[("web", VIP, 1), ("web2", VIP2, 1)], serial=2)
    reload_both(cluster)
    assert held(cluster, "d1") == [VIP, VIP2] and held(cluster, "d2") == []
    assert cluster.status("d1")["config"]["serial_no"] == 2
    assert cluster.ask(VIP2) == "d1" and cluster.ask(VIP) == "d1"
    assert "configuration reloaded (serial_no 2): 1 VIP(s) added, 0 removed" in cluster.log("d1")


def test_reload_deactivating_a_virtual_server_drops_its_vip(cluster):
    cluster.write_config(virtuals=[("web", VIP, 0), ("web2", VIP2, 1)], serial=2)
    reload_both(cluster)
    assert held(cluster, "d1") == [VIP2]
    assert VIP not in cluster.vips_in("d1")
    assert cluster.ask(VIP) == "-" and cluster.ask(VIP2) == "d1"


def test_reload_applies_new_heartbeat_timing_live(cluster):
    cluster.write_config(keepalive=0.1, deadtime=0.4, serial=2)
    reload_both(cluster)
    beat = cluster.status("d2")["heartbeat"]
    assert (beat["keepalive"], beat["deadtime"]) == (0.1, 0.4)
    sent_before = cluster.status("d1")["heartbeat"]["sent"]
    time.sleep(1.0)
    assert cluster.status("d1")["heartbeat"]["sent"] - sent_before >= 8       # about 10 a second now
    killed = time.monotonic()
    cluster.kill("d1")
    cluster.wait_for(lambda: cluster.status("d2")["active"], 3, "d2 active")
    assert time.monotonic() - killed < 0.4 + 0.5


def test_an_invalid_file_is_refused_and_the_node_keeps_running(cluster):
    cluster.config_path.write_text(cluster.config_path.read_text().replace("keepalive = 0.2", "keepalive = soon"))
    result = cluster.ctl("d1", "reload")
    assert result.returncode == 1
    assert "configuration refused" in result.stderr and "soon" in result.stderr
    status = cluster.status("d1")
    assert status["active"] and held(cluster, "d1") == [VIP] and status["heartbeat"]["keepalive"] == 0.2
    assert cluster.ask() == "d1"


def test_sighup_reloads_too(cluster):
    cluster.write_config(virtuals=[("web", VIP, 1), ("web2", VIP2, 1)], serial=3)
    cluster.pulses["d1"].send_signal(signal.SIGHUP)
    cluster.wait_for(lambda: held(cluster, "d1") == [VIP, VIP2], 3, "the new VIP after SIGHUP")
    assert cluster.pulses["d1"].poll() is None


def test_reload_switches_both_nodes_to_authenticated_heartbeats(cluster):
    key_file = cluster.tmp / "heartbeat.key"
    key_file.write_bytes(b"a-key-added-by-reload-0123456789")
    key_file.chmod(0o600)
    cluster.write_config(extra_global=f"heartbeat_key_file = {key_file}", serial=2)
    reload_both(cluster)
    cluster.wait_for(lambda: all(cluster.status(n)["heartbeat"]["authenticated"] for n in ("d1", "d2")), 3,
                     "both nodes authenticated")
    accepted = cluster.status("d2")["heartbeat"]["counters"]["accepted"]
    time.sleep(1.0)
    status = cluster.status("d2")
    assert status["heartbeat"]["counters"]["accepted"] > accepted and status["partner"]["state"] == "running"
    assert cluster.active() == {"d1"}


def test_reload_to_an_address_this_node_does_not_have_is_refused(cluster):
    cluster.config_path.write_text(cluster.config_path.read_text().replace("10.213.0.1\n", "10.213.0.9\n", 1))
    result = cluster.ctl("d1", "reload")
    assert result.returncode == 1 and "neither primary = 10.213.0.9 nor backup = 10.213.0.2" in result.stderr
    assert cluster.status("d1")["active"] and cluster.ask() == "d1"


def test_reload_moves_the_heartbeat_to_a_new_port(cluster):
    cluster.write_config(serial=2)
    cluster.config_path.write_text(cluster.config_path.read_text().replace("heartbeat_port = 539",
                                                                           "heartbeat_port = 1050"))
    reload_both(cluster)
    listening = cluster.ns["d2"].run(["ss", "-uln"]).stdout
    assert "10.213.0.2:1050" in listening and "10.213.0.2:539" not in listening
    accepted = cluster.status("d2")["heartbeat"]["counters"]["accepted"]
    time.sleep(1.0)
    status = cluster.status("d2")
    assert status["heartbeat"]["port"] == 1050 and status["heartbeat"]["counters"]["accepted"] > accepted
    assert cluster.active() == {"d1"}
