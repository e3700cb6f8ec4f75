"""PID file and sd_notify: the small process conventions pulse keeps."""

import os
import socket
import subprocess
import sys

import pytest

from piranha.pulse.pidfile import PidFile, PidFileError
from piranha.pulse.systemd import notify


def test_pidfile_is_written_and_removed(tmp_path):
    path = tmp_path / "run" / "pulse.pid"
    with PidFile(str(path)):
        assert path.read_text() == f"{os.getpid()}\n"
    assert not path.exists()


def test_pidfile_of_a_live_process_refuses_a_second_copy(tmp_path):
    path = tmp_path / "pulse.pid"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path.write_text(f"{other.pid}\n")
        with pytest.raises(PidFileError, match=f"already running as pid {other.pid}"):
            with PidFile(str(path)):
                pass
        assert path.read_text() == f"{other.pid}\n"
    finally:
        other.kill()
        other.wait()


def test_stale_pidfile_is_replaced(tmp_path):
    path = tmp_path / "pulse.pid"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path.write_text(f"{dead.pid}\n")
    with PidFile(str(path)):
        assert path.read_text() == f"{os.getpid()}\n"


def test_notify_sends_to_notify_socket(tmp_path, monkeypatch):
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        assert notify("READY=1")
        assert sock.recv(64) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not notify("READY=1")
