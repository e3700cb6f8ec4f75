"""pulse in FOS mode with the real fos: a service started and stopped by commands that write marker files
fails over when the active director dies or when its service dies (the monitor path, with the gateway check)."""

import time

import pytest

from tests.conftest import require_root_and_tools

require_root_and_tools("ip")

from tests.integration.pulse_support import NAME_SERVER, PORT, VENV_BIN, VIP, Cluster  # noqa: E402

FAILOVER = """failover web {{
    address = {vip} eth0:1
    vip_nmask = 255.255.255.0
    active = 1
    port = {port}
    timeout = 1
    start_cmd = "{script} start"
    stop_cmd = "{script} stop"
}}
"""

# $DIRECTOR comes from the pulse the test started; the service is the same name server as in the LVS tests.
SCRIPT = """#!/bin/sh
echo "$1" >> {tmp}/$DIRECTOR.markers
case "$1" in
  start) setsid {python} -c '{server}' $DIRECTOR {port} </dev/null >/dev/null 2>&1 &
         echo $! > {tmp}/$DIRECTOR.service.pid ;;
  stop)  [ -f {tmp}/$DIRECTOR.service.pid ] && kill $(cat {tmp}/$DIRECTOR.service.pid) 2>/dev/null
         rm -f {tmp}/$DIRECTOR.service.pid ;;
esac
exit 0
"""


@pytest.fixture
def cluster():
    with Cluster(prefix="fo", services=False, gateway=True) as c:
        script = c.tmp / "service.sh"
        script.write_text(SCRIPT.format(tmp=c.tmp, python=VENV_BIN / "python", server=NAME_SERVER.replace("'", '"'),
                                        port=PORT))
        script.chmod(0o755)
        c.write_config(service="fos", failover=FAILOVER.format(vip=VIP, port=PORT, script=script))
        for name in ("d1", "d2"):
            c.start(name, "--fos-command", str(VENV_BIN / "fos"), "--child-backoff", "60")
        c.wait_for(lambda: c.active() == {"d1"}, 5, "d1 alone active")
        c.wait_for(lambda: c.ask() == "d1", 5, "d1's service answering on the VIP")
        yield c


def markers(cluster, name):
    path = cluster.tmp / f"{name}.markers"
    return path.read_text().split() if path.exists() else []


def test_start_up_runs_the_service_on_the_active_node_only(cluster):
    assert markers(cluster, "d1")[-1] == "start"
    assert "start" not in markers(cluster, "d2")
    status = cluster.status("d2")
    assert status["mode"] == "fos" and status["fos"]["state"] == "running" and "--monitor" in status["fos"]["argv"]
    assert "--active" in cluster.status("d1")["fos"]["argv"]


def test_killed_active_director_fails_the_service_over(cluster):
    cluster.kill("d1")
    cluster.wait_for(lambda: cluster.active() == {"d2"}, 3, "d2 active")
    cluster.wait_for(lambda: markers(cluster, "d2")[-2:] == ["stop", "start"], 5, "d2 starting the service")
    cluster.wait_for(lambda: cluster.ask() == "d2", 5, "the client reaching d2")
    assert "partner dead: activating failover services" in cluster.log("d2")


def test_dead_service_on_the_active_node_fails_over_once(cluster):
    pid = int((cluster.tmp / "d1.service.pid").read_text())
    cluster.ns["d1"].run(["kill", str(pid)])
    cluster.wait_for(lambda: cluster.active() == {"d2"}, 6, "d2 active")
    cluster.wait_for(lambda: cluster.ask() == "d2", 5, "the client reaching d2")
    cluster.wait_for(lambda: markers(cluster, "d1")[-1] == "stop", 5, "d1 stopping its service")
    assert markers(cluster, "d2")[-1] == "start"
    # d2's monitor sees the service go (checked every second) before d1's own watch needs its second failure
    assert "seems like a remote network fault; performing service failover" in cluster.log("d2")
    assert "PARTNER HAS TOLD US TO GO INACTIVE!" in cluster.log("d1")
    time.sleep(3.0)
    assert cluster.active() == {"d2"}                     # no ping-pong back to d1


def test_a_service_that_cannot_start_anywhere_is_reported_and_does_not_ping_pong():
    with Cluster(prefix="fo", services=False, gateway=True) as c:
        c.write_config(service="fos", failover=FAILOVER.format(vip=VIP, port=PORT, script="/bin/false"))
        for name in ("d1", "d2"):
            c.start(name, "--fos-command", str(VENV_BIN / "fos"), "--child-backoff", "60")
        c.wait_for(lambda: all(c.status(n)["child_failure"] for n in ("d1", "d2")), 15,
                   "both nodes reporting the failed start")
        time.sleep(3.0)
        assert c.active() == set()
        for name in ("d1", "d2"):
            log = c.log(name)
            assert "Failed to start service 10.213.0.100:8080! (/bin/false exited with status 1)" in log
            assert "backing off" in log
            assert log.count("VIP 10.213.0.100/24 on eth0:1 up") == 1      # tried once, then held off
