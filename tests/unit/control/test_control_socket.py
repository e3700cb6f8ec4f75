"""The control-socket protocol end to end: a real asyncio server on a temporary Unix socket, the blocking client."""

import asyncio
import os
import stat
import threading

import pytest

from piranha.control.client import ControlClient, ControlError, NotRunning
from piranha.control.protocol import CommandError, serve


@pytest.fixture
def server(tmp_path):
    """Serve a small handler in a background event loop; yields the socket path and the list of calls."""
    path = str(tmp_path / "run" / "test.sock")
    calls = []

    async def handler(command, args):
        calls.append((command, args))
        if command == "status":
            return {"role": "master", "active": True}
        if command == "refuse":
            raise CommandError("refused: invalid lvs.cf line 3")
        if command == "crash":
            raise RuntimeError("boom")
        if command == "echo":
            return args
        raise CommandError(f"unknown command {command!r}")

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    def run():
        asyncio.set_event_loop(loop)
        holder["server"] = loop.run_until_complete(serve(path, handler, mode=0o660))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(5)
    yield path, calls

    async def shut_down():
        holder["server"].close()
        await holder["server"].wait_closed()

    asyncio.run_coroutine_threadsafe(shut_down(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_status_round_trip(server):
    path, calls = server
    assert ControlClient(path).call("status") == {"role": "master", "active": True}
    assert calls == [("status", {})]


def test_arguments_reach_the_handler(server):
    path, _ = server
    assert ControlClient(path).call("echo", server="web/r1", weight=0) == {"server": "web/r1", "weight": 0}


def test_socket_mode_is_0660(server):
    path, _ = server
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660


def test_refusal_carries_the_daemons_message(server):
    path, _ = server
    with pytest.raises(ControlError, match="invalid lvs.cf line 3"):
        ControlClient(path).call("refuse")


def test_handler_crash_is_reported_and_the_server_survives(server):
    path, _ = server
    with pytest.raises(ControlError, match="internal error: boom"):
        ControlClient(path).call("crash")
    assert ControlClient(path).call("status")["active"] is True


def test_missing_socket_means_not_running(tmp_path):
    with pytest.raises(NotRunning, match="no control socket"):
        ControlClient(str(tmp_path / "absent.sock")).call("status")


def test_stale_socket_file_means_not_running(tmp_path):
    import socket

    path = str(tmp_path / "stale.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    sock.close()  # the file stays, nobody listens
    with pytest.raises(NotRunning, match="nothing listens"):
        ControlClient(path).call("status")


def test_garbage_request_gets_an_error_reply(server):
    import json
    import socket

    path, calls = server
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(b"[1, 2]\n")
        reply = json.loads(sock.makefile().readline())
    assert reply["ok"] is False and "bad request" in reply["error"]
    assert calls == []
