"""pulse's start-up options in namespaces: --forceactive and --test-start."""

import os
import signal

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip")

from tests.integration.pulse_support import PULSE, VIP, Cluster  # noqa: E402


@pytest.fixture
def cluster():
    with Cluster() as c:
        yield c


def test_forceactive_backup_serves_and_the_primary_joins_as_standby(cluster):
    cluster.start("d2", "--forceactive")
    assert cluster.status("d2")["active"]
    assert "Forced active on startup: activating lvs" in cluster.log("d2")
    cluster.start("d1")
    cluster.wait_for(lambda: cluster.status("d1")["partner"]["state"] == "running", 3, "d1 hearing d2")
    assert cluster.active() == {"d2"} and cluster.ask() == "d2"


def test_test_start_runs_the_role_logic_but_touches_nothing(cluster):
    cluster.start("d1", "--test-start")
    cluster.wait_for(lambda: cluster.status("d1")["active"], 3, "d1 active (on paper)")
    assert VIP not in cluster.vips_in("d1")
    assert cluster.ask() == "-"
    log = cluster.log("d1")
    assert "test-start: would add VIP 10.213.0.100/24 on eth0:1" in log
    assert "test-start: would send gratuitous ARP" in log
    assert cluster.status("d1")["lvsd"]["state"] == "disabled"


def test_without_nodaemon_pulse_daemonises_and_runs(cluster):
    pidfile = cluster.tmp / "daemon.pid"
    result = cluster.ns["d1"].run([PULSE, "-c", str(cluster.config_path), "--no-lvsd", "--socket",
                                   cluster.socket("d1"), "--pidfile", str(pidfile)], check=False, timeout=30)
    assert result.returncode == 0 and result.stdout == ""               # the parent returns at once
    cluster.wait_for(pidfile.exists, 10, "the daemon's PID file")
    pid = int(pidfile.read_text())
    try:
        status = cluster.wait_for(lambda: cluster.status("d1"), 10, "the daemon's control socket")
        assert status["role"] == "master"
        cluster.wait_for(lambda: cluster.status("d1")["active"], 5, "the daemon activating alone")
        assert cluster.ask() == "d1"
    finally:
        os.kill(pid, signal.SIGTERM)
    cluster.wait_for(lambda: not pidfile.exists(), 10, "the daemon to exit and remove its PID file")
    assert VIP not in cluster.vips_in("d1")


def test_a_second_pulse_on_the_same_address_is_refused(cluster):
    cluster.start("d1")
    result = cluster.ns["d1"].run([PULSE, "-c", str(cluster.config_path), "--nodaemon", "--no-lvsd", "--socket",
                                   str(cluster.tmp / "second.sock"), "--pidfile", str(cluster.tmp / "second.pid")],
                                  check=False, timeout=30)
    assert result.returncode == 1
    assert "cannot create heartbeat socket on 10.213.0.1:539: Address already in use" in result.stdout
    assert cluster.status("d1")["role"] == "master"                     # the first one is untouched
