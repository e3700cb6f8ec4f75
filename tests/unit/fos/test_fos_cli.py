"""The real fos program against listeners on 127.0.0.1, with start/stop commands that write marker files."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

FOS = str(Path(sys.executable).parent / "fos")

CONFIG = """serial_no = 1
primary = 127.0.0.1
service = fos
backup_active = 1
backup = 127.0.0.2
heartbeat = 1
keepalive = 1
deadtime = 3
failover web {{
    address = 127.0.0.1 lo:1
    active = 1
    port = {port}
    timeout = 0.2
    start_cmd = "{start}"
    stop_cmd = "{stop}"
}}
"""


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


def setup(tmp_path, port, start_ok=True):
    marker = tmp_path / "markers"
    script = tmp_path / "svc"
    script.write_text(f"#!/bin/sh\necho \"$1\" >> {marker}\n")
    script.chmod(0o755)
    start = f"{script} start" if start_ok else "/bin/false"
    (tmp_path / "lvs.cf").write_text(CONFIG.format(port=port, start=start, stop=f"{script} stop"))
    return marker


def fos(tmp_path, mode):
    return subprocess.Popen([FOS, mode, "-c", str(tmp_path / "lvs.cf"), "--nodaemon"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_active_stops_then_starts_and_stops_again_on_sigterm(tmp_path, listener):
    marker = setup(tmp_path, listener.getsockname()[1])
    proc = fos(tmp_path, "--active")
    try:
        assert wait_for(lambda: marker.exists() and marker.read_text() == "stop\nstart\n")
        time.sleep(0.6)                                         # several healthy checks of the service
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert marker.read_text() == "stop\nstart\nstop\n"
    assert "Stopping local services (if any)" in out


def test_active_reports_a_service_that_cannot_start(tmp_path, listener):
    marker = setup(tmp_path, listener.getsockname()[1], start_ok=False)
    out, _ = fos(tmp_path, "--active").communicate(timeout=30)
    assert f"Failed to start service 127.0.0.1:{listener.getsockname()[1]}! (/bin/false exited with status 1)" in out
    assert "will now exit to notify pulse" in out
    assert marker.read_text() == "stop\nstop\n"


def test_active_exits_3_when_its_running_service_dies(tmp_path, listener):
    setup(tmp_path, listener.getsockname()[1])
    proc = fos(tmp_path, "--active")
    time.sleep(0.5)
    listener.close()
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 3 and "Local service 127.0.0.1:" in out and "failed" in out


def test_monitor_exits_0_when_an_available_partner_service_fails(tmp_path, listener):
    port = listener.getsockname()[1]
    setup(tmp_path, port)
    proc = fos(tmp_path, "--monitor")
    seen = []
    for line in proc.stdout:                       # bounded: fos exits within two checks if nothing listens
        seen.append(line)
        if f"Remote service 127.0.0.1:{port} is available" in line:
            break
    listener.close()
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Exiting due to connection failure" in out
    assert any("is available" in line for line in seen)


def test_monitor_exits_1_when_the_partner_service_never_comes_up(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                                  # nothing listens there
    setup(tmp_path, port)
    out, _ = (proc := fos(tmp_path, "--monitor")).communicate(timeout=10)
    assert proc.returncode == 1 and "Timeout waiting for remote service" in out


def test_fos_refuses_an_lvs_configuration(tmp_path):
    (tmp_path / "lvs.cf").write_text(CONFIG.format(port=80, start="/bin/true", stop="/bin/true")
                                     .replace("service = fos", "service = lvs"))
    result = subprocess.run([FOS, "--active", "-c", str(tmp_path / "lvs.cf"), "-n"], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2 and "fos runs only with service = fos" in result.stderr
    assert os.path.exists(tmp_path / "lvs.cf")
