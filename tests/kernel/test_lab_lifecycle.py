"""`./scripts/lab start|status|stop` as a user runs them: one lab at a time, loopback only, nothing left behind.

The browser tier (tests/browser/test_lab.py) drives the running cluster; this checks the command itself.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from lab import HOST_NAMESPACE, TAP_NAME
from tests.conftest import require_root_and_tools
from tests.kernel.uml import available

require_root_and_tools("ip", "ssh-keygen", "sshd", "rsync", "ss")
if available():
    pytest.skip(available(), allow_module_level=True)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / "var" / "lab"


def lab(*args: str, port: int | None = None, timeout: float = 400) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"PIRANHA_LAB_PORT": str(port)} if port else {})}
    return subprocess.run([str(REPO / "scripts" / "lab"), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=env)


def leftovers() -> list[str]:
    found = subprocess.run(["pgrep", "-af", "umid=pl-lab-|lab.forwarder|lab.agent"], capture_output=True,
                           text=True).stdout.splitlines()
    if Path(f"/run/netns/{HOST_NAMESPACE}").exists():
        found.append(f"namespace {HOST_NAMESPACE}")
    for path in (STATE / "uml", STATE / "state.json"):
        if path.exists():
            found.append(str(path))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab_port():
    assert not leftovers(), f"a lab is already running here: {leftovers()}"
    port = free_port()
    yield port
    if leftovers():
        lab("stop", timeout=200)


def test_start_status_refuse_second_start_then_stop_leaves_nothing(lab_port):
    started = lab("start", port=lab_port)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"Piranha lab is up: http://127.0.0.1:{lab_port}/" in started.stdout
    assert re.search(r"one-time password: \S{16,}", started.stdout)

    listening = subprocess.run(["ss", "-Hltnp", f"sport = :{lab_port}"], capture_output=True, text=True).stdout
    local_addresses = [line.split()[3] for line in listening.splitlines()]
    assert local_addresses == [f"127.0.0.1:{lab_port}"], f"the forwarder must listen on loopback only: {listening}"
    host_link = subprocess.run(["ip", "link", "show", TAP_NAME], capture_output=True, text=True)
    assert host_link.returncode != 0, "the TAP device must live in the lab's namespace, not the host's"
    assert subprocess.run(["ip", "-n", HOST_NAMESPACE, "link", "show", TAP_NAME], capture_output=True).returncode == 0

    status = lab("status", timeout=60)
    assert status.returncode == 0, status.stderr
    assert "dir1: pulse running, active" in status.stdout and "dir2: pulse running, standby" in status.stdout
    assert "ready: True" in status.stdout

    again = lab("start", port=free_port(), timeout=60)
    assert again.returncode == 1 and "already running" in again.stderr
    assert "ready: True" in lab("status", timeout=60).stdout, "a refused second start disturbed the lab"

    stopped = lab("stop", timeout=200)
    assert stopped.returncode == 0, stopped.stderr
    assert leftovers() == []
    assert not Path("/root/.gunicorn").exists()
    gone = lab("status", timeout=60)
    assert gone.returncode == 3 and "not running" in gone.stdout


def test_a_busy_port_fails_clearly_and_cleans_up(lab_port):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", lab_port))
        taken.listen(1)
        started = lab("start", port=lab_port, timeout=200)
    assert started.returncode == 1
    assert f"cannot listen on 127.0.0.1:{lab_port}" in started.stderr, started.stderr
    assert leftovers() == []
