"""pulse supervising lvsd when lvsd cannot run: the node reports it, steps down, and the partner serves.

On the host kernel (no IPVS) the real lvsd exits at start-up, which is exactly the failure pulse must
survive. lvsd running for real under pulse is covered by the kernel tier (tests/kernel/test_pulse_failover*.py).
"""

import time

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip")

from tests.integration.pulse_support import VENV_BIN, Cluster  # noqa: E402


@pytest.fixture
def cluster():
    with Cluster() as c:
        yield c


@pytest.mark.parametrize("lvsd,error", [
    ("/nonexistent/lvsd", "cannot start /nonexistent/lvsd: No such file or directory"),
    (str(VENV_BIN / "lvsd"), "(lvsd) exited with status 1"),
])
def test_lvsd_that_cannot_run_is_reported_and_the_partner_takes_over(cluster, lvsd, error):
    cluster.start("d1", "--child-backoff", "30", lvsd=lvsd)
    cluster.start("d2")
    cluster.wait_for(lambda: cluster.active() == {"d2"}, 10, "d2 active after d1's lvsd failed")
    status = cluster.status("d1")
    assert status["lvsd"]["state"] == "failed" and error in status["lvsd"]["error"]
    assert status["child_failure"] and not status["active"] and status["vips"] == []
    log = cluster.log("d1")
    assert error in log and "failure 1: not activating again for 30 s (backing off" in log
    assert "failure 2" not in log                                      # one failure, counted once
    cluster.wait_for(lambda: cluster.ask() == "d2", 3, "the client reaching d2")
    time.sleep(1.0)
    assert cluster.active() == {"d2"}                                # no ping-pong while backing off
    assert cluster.pulses["d1"].poll() is None                       # pulse itself keeps running
