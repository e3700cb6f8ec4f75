"""Two real pulse processes in namespaces joined by a bridge; a client asks the VIP who answers.

keepalive 0.2 s / deadtime 0.6 s throughout, so every scenario takes a few seconds.
"""

import signal
import time

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip")

from tests.integration.pulse_support import VIP, Cluster  # noqa: E402

DEADTIME = 0.6


@pytest.fixture
def cluster():
    with Cluster() as c:
        yield c


def started(cluster, *names):
    for name in names:
        cluster.start(name)
    cluster.wait_for(lambda: cluster.active() == {"d1"}, 5, "d1 alone active")


def first_answer_after(lines, since, who):
    for line in lines:
        t, answer = line.split()
        if float(t) >= since and answer == who:
            return float(t)
    return None


def test_start_up_master_active_backup_standby(cluster):
    started(cluster, "d1", "d2")
    assert cluster.ask() == "d1"
    d1, d2 = cluster.status("d1"), cluster.status("d2")
    assert (d1["role"], d1["active"], d2["role"], d2["active"]) == ("master", True, "backup", False)
    assert d1["vips"] == [{"address": VIP, "prefixlen": 24, "device": "eth0:1"}] and d2["vips"] == []
    assert d2["partner"]["state"] == "running" and d1["partner"]["state"] == "stopped"
    assert d2["partner"]["last_heartbeat_age"] < DEADTIME
    assert d1["lvsd"]["state"] == "disabled"
    assert f"{VIP}/24" in cluster.vips_in("d1") and "eth0:1" in cluster.vips_in("d1")
    assert VIP not in cluster.vips_in("d2")
    log = cluster.log("d1")
    assert "STARTING PULSE AS MASTER" in log
    assert "backup inactive: activating lvs" in log or "partner dead: activating lvs" in log
    cluster.wait_for(lambda: "gratuitous lvs arps finished" in cluster.log("d1"), 3, "the ARP rounds")
    assert "STARTING PULSE AS BACKUP" in cluster.log("d2")


def test_sigkill_of_the_active_pulse_moves_the_vip_within_deadtime(cluster):
    started(cluster, "d1", "d2")
    prober = cluster.prober(interval=0.02, duration=4.0)
    time.sleep(1.0)
    killed_at = time.monotonic()
    cluster.kill("d1")
    out, _ = prober.communicate(timeout=15)
    lines = out.split()
    lines = [f"{t} {a}" for t, a in zip(lines[::2], lines[1::2])]
    assert first_answer_after(lines, 0, "d1") is not None            # d1 answered before the kill
    took_over = first_answer_after(lines, killed_at, "d2")
    assert took_over is not None, "the client never reached d2"
    outage = took_over - killed_at
    assert outage <= DEADTIME + 0.5, f"client reached d2 {outage:.2f} s after the kill"
    assert "partner dead: activating lvs" in cluster.log("d2")
    status = cluster.status("d2")
    assert status["active"] and status["partner"]["state"] == "dead" and status["arps_sent"] >= 1


def test_returning_primary_stays_standby_until_takeover(cluster):
    started(cluster, "d1", "d2")
    cluster.kill("d1")
    cluster.wait_for(lambda: cluster.active() == {"d2"}, 3, "d2 active")
    cluster.start("d1")
    assert "removed stale VIP" in cluster.wait_for(lambda: cluster.log("d1").count("removed stale VIP") and
                                                   cluster.log("d1"), 3, "stale VIP removal")
    time.sleep(3 * DEADTIME)
    assert cluster.active() == {"d2"}                                # no failback
    assert VIP not in cluster.vips_in("d1")
    assert cluster.ask() == "d2"
    assert cluster.ctl("d1", "takeover").returncode == 0
    cluster.wait_for(lambda: cluster.active() == {"d1"}, 3, "d1 active after takeover")
    cluster.wait_for(lambda: cluster.ask() == "d1", 3, "the client reaching d1")
    assert "PARTNER HAS TOLD US TO GO INACTIVE!" in cluster.log("d2")
    time.sleep(3 * DEADTIME)
    assert cluster.active() == {"d1"}                                # and it stays put
    refused = cluster.ctl("d1", "takeover")
    assert refused.returncode == 1 and "already active" in refused.stderr


def test_release_hands_the_vip_to_the_partner(cluster):
    started(cluster, "d1", "d2")
    assert cluster.ctl("d1", "release").returncode == 0
    cluster.wait_for(lambda: cluster.active() == {"d2"}, 3, "d2 active after release")
    cluster.wait_for(lambda: cluster.ask() == "d2", 3, "the client reaching d2")
    time.sleep(3 * DEADTIME)
    assert cluster.active() == {"d2"}
    refused = cluster.ctl("d1", "release")
    assert refused.returncode == 1 and "not active" in refused.stderr


def test_both_start_at_once_exactly_one_active(cluster):
    cluster.start("d1", wait=False)
    cluster.start("d2", wait=False)
    cluster.wait_for(lambda: cluster.status("d1") and cluster.status("d2"), 10, "both control sockets")
    # Usually the tie rule leaves the master; if the backup's first heartbeat reached a primary that was not
    # listening yet, the backup activates alone. Either way exactly one, and it stays so.
    winner = cluster.wait_for(lambda: len(cluster.active()) == 1 and cluster.active(), 5, "exactly one active")
    for _ in range(10):
        assert cluster.active() == winner
        time.sleep(0.1)
    assert cluster.ask() == next(iter(winner))


def test_link_cut_gives_visible_split_brain_and_healing_leaves_one_active(cluster):
    started(cluster, "d1", "d2")
    port = cluster.ports["d2"]
    cluster.switch.run(["ip", "link", "set", port, "down"])
    cluster.wait_for(lambda: cluster.active() == {"d1", "d2"}, 3, "both active while cut")
    for name in ("d1", "d2"):
        status = cluster.status(name)
        assert status["active"] and status["partner"]["state"] == "dead"
    cluster.switch.run(["ip", "link", "set", port, "up"])
    healed = time.monotonic()
    cluster.wait_for(lambda: cluster.active() == {"d1"}, 5, "one active after healing")
    assert time.monotonic() - healed <= DEADTIME + 1.0
    assert "partner active: deactivating lvs" in cluster.log("d2")
    # clients that followed d2 come back to d1
    cluster.wait_for(lambda: "resending arps" in cluster.log("d1"), 3, "d1 re-announcing the VIP")
    cluster.wait_for(lambda: cluster.ask() == "d1", 3, "the client reaching d1")


def test_monitor_links_deactivates_on_link_loss_and_blocks_until_restored(cluster):
    cluster.write_config(monitor_links=1)
    started(cluster, "d1", "d2")
    cluster.ns["d1"].run(["ip", "link", "set", "eth0", "down"])
    cluster.wait_for(lambda: cluster.active() == {"d2"}, 3, "d2 active after d1's link loss")
    status = cluster.status("d1")
    assert status["link_failure"] and status["link_problems"][0].startswith("Primary NIC: link down")
    assert "Local NIC link failure: Pulse disabled" in cluster.log("d1")
    cluster.ns["d1"].run(["ip", "link", "set", "eth0", "up"])
    cluster.wait_for(lambda: "Local NIC link(s) restored: Pulse enabled" in cluster.log("d1"), 3, "link restored")
    time.sleep(3 * DEADTIME)
    assert cluster.active() == {"d2"} and not cluster.status("d1")["link_failure"]
    cluster.wait_for(lambda: cluster.ask() == "d2", 3, "the client reaching d2")


def test_sigterm_deactivates_cleanly_and_exits(cluster):
    started(cluster, "d1", "d2")
    proc = cluster.pulses["d1"]
    cluster.kill("d1", signal.SIGTERM)
    assert proc.returncode == 0
    assert VIP not in cluster.vips_in("d1")
    log = cluster.log("d1")
    assert "Terminating due to signal 15" in log and "VIP 10.213.0.100/24 on eth0:1 down" in log
    cluster.wait_for(lambda: cluster.active() == {"d2"}, 3, "d2 active")
    cluster.wait_for(lambda: cluster.ask() == "d2", 3, "the client reaching d2")


@pytest.mark.parametrize("keyed", [False, True], ids=["legacy", "authenticated"])
def test_private_heartbeat_path_keeps_the_pair_together_when_the_public_one_is_cut(keyed):
    with Cluster(private=True) as cluster:
        extra = "primary_private = 10.214.0.1\nbackup_private = 10.214.0.2"
        if keyed:
            key = cluster.tmp / "key"
            key.write_bytes(b"two-paths-one-key-0123456789abcdef")
            key.chmod(0o600)
            extra += f"\nheartbeat_key_file = {key}"
        cluster.write_config(extra_global=extra)
        started(cluster, "d1", "d2")
        time.sleep(1.0)
        counters = cluster.status("d2")["heartbeat"]["counters"]
        assert counters["replayed"] == 0 and counters["accepted"] >= 8     # both copies of each beat count
        assert cluster.status("d2")["partner"]["private_address"] == "10.214.0.1"
        cluster.switch.run(["ip", "link", "set", cluster.ports["d2"], "down"])      # public path cut
        time.sleep(4 * DEADTIME)
        assert cluster.active() == {"d1"}                                            # no split brain
        status = cluster.status("d2")
        assert status["partner"]["state"] == "running" and status["partner"]["last_heartbeat_age"] < DEADTIME
        cluster.private_switch.run(["ip", "link", "set", cluster.private_ports["d2"], "down"])   # both cut
        cluster.wait_for(lambda: cluster.active() == {"d1", "d2"}, 3, "split brain once both paths are cut")
