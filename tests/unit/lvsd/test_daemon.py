"""The lvsd daemon loop with FakeIPVS: real nanny checking listeners on 127.0.0.1, control socket, reload,
signals, nanny supervision and the sync daemon."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from piranha.control.client import ControlClient, ControlError
from piranha.lvsd.config import read_config
from piranha.lvsd.daemon import Lvsd, Options
from piranha.lvsd.nanny_link import default_nanny_command
from piranha.net.ipvs_fake import FakeIPVS
from piranha.net.ipvs_model import Service, ServiceKey
from tests.unit.lvsd.cfgen import server, text, virtual

pytestmark = pytest.mark.timeout(60)

FAST = {"timeout": 1, "check_interval": 0.1, "reentry": 0.2}


class Listener:
    """A TCP server on 127.0.0.1:0 answering "HTTP/1.0 200 OK" to every connection, until closed."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                try:
                    conn.recv(1024)
                    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nok")
                except OSError:
                    pass

    def close(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


@contextmanager
def listeners(count):
    made = [Listener() for _ in range(count)]
    try:
        yield made
    finally:
        for listener in made:
            listener.close()


class Harness:
    """lvsd running in its own thread's event loop, driven through its control socket like pulse does."""

    def __init__(self, tmp_path, cfg_text: str, nanny_argv=None, ipvs=None):
        self.path = tmp_path / "lvs.cf"
        self.path.write_text(cfg_text)
        self.socket = str(tmp_path / "lvsd.sock")
        self.ipvs = ipvs or FakeIPVS()
        argv = tuple(nanny_argv or (default_nanny_command(), "--stream", "--resync", "1"))
        self.lvsd = Lvsd(Options(str(self.path), self.socket, argv, ramp_step=20.0, restart_max=1.0,
                                 socket_group=None), self.ipvs, read_config(str(self.path)))
        self.result: int | None = None
        self.error: BaseException | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        try:
            self.result = self.loop.run_until_complete(self.lvsd.run(handle_signals=False))
        except BaseException as exc:      # surfaced by stop()
            self.error = exc
        finally:
            self.loop.close()

    def __enter__(self):
        self.thread.start()
        self.wait(lambda: os.path.exists(self.socket), "control socket")
        return self

    def call(self, command, **args):
        return ControlClient(self.socket, timeout=5).call(command, **args)

    def signal(self, signum):
        self.loop.call_soon_threadsafe(self.lvsd._record_signal, signum)

    def wait(self, predicate, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if not self.thread.is_alive() and self.thread.ident is not None:
                raise AssertionError(f"lvsd stopped while waiting for {what}: {self.error!r}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self):
        if self.thread.is_alive():
            self.signal(signal.SIGTERM)
        self.thread.join(15)
        assert not self.thread.is_alive(), "lvsd did not stop on SIGTERM"
        if self.error is not None:
            raise self.error
        return self.result

    def __exit__(self, *exc):
        self.stop()

    def dests(self):
        return {(d.dest.address, d.dest.port): d.dest.weight for live in self.ipvs.table() for d in live.dests}


def _web(ports, **keys):
    servers = [server(f"s{i}", "127.0.0.1", port=port, weight=i + 1) for i, port in enumerate(ports)]
    return text(virtual("web", "192.0.2.10", servers, **{**FAST, **keys}), hard_shutdown=0)


def _sleeper():
    return (sys.executable, "-c", "import sys\nfor line in sys.stdin: pass")


def test_servers_enter_after_a_good_check_and_leave_when_they_fail(tmp_path):
    with listeners(2) as (one, two), Harness(tmp_path, _web([one.port, two.port])) as lvsd:
        lvsd.wait(lambda: len(lvsd.dests()) == 2, "both real servers in IPVS")
        assert lvsd.dests() == {("127.0.0.1", one.port): 1, ("127.0.0.1", two.port): 2}
        one.close()
        lvsd.wait(lambda: list(lvsd.dests()) == [("127.0.0.1", two.port)], "failed server removed")
        status = lvsd.call("status")
        health = {s["server"]: (s["health"], s["in_ipvs"]) for s in status["servers"]}
        assert health == {"s0": ("down", False), "s1": ("up", True)}
        assert "CONNECT" in status["servers"][0]["result"]
        assert status["nanny"]["state"] == "running" and status["nanny"]["pid"] > 0
        assert 0 <= status["nanny"]["uptime"] <= status["uptime"] + 1
        assert status["table"][0]["name"] == "web" and status["table"][0]["scheduler"] == "wlc"
        assert set(status["table"][0]["dests"][0]) >= {"active_conns", "inactive_conns", "persistent_conns",
                                                       "stats", "weight", "forwarding"}
        assert status["config"]["serial"] == 1 and len(status["config"]["checksum"]) == 64
        assert lvsd.stop() == 0
    assert lvsd.ipvs.table() == [], "a clean stop removes the services lvsd owns"


def test_invalid_reload_is_refused_and_the_table_stays(tmp_path):
    with listeners(1) as (one,), Harness(tmp_path, _web([one.port])) as lvsd:
        lvsd.wait(lambda: lvsd.dests(), "real server in IPVS")
        before = lvsd.ipvs.table()
        lvsd.path.write_text(_web([one.port], scheduler="fastest"))
        with pytest.raises(ControlError, match=r"lvs.cf:\d+:.*fastest"):
            lvsd.call("reload")
        lvsd.signal(signal.SIGHUP)
        time.sleep(0.3)
        assert lvsd.ipvs.table() == before
        assert lvsd.call("status")["config"]["last_reload"]["ok"] is False


def test_reload_and_sighup_apply_changes(tmp_path):
    with listeners(1) as (one,), Harness(tmp_path, _web([one.port])) as lvsd:
        lvsd.wait(lambda: lvsd.dests(), "real server in IPVS")
        lvsd.path.write_text(_web([one.port], scheduler="rr").replace("serial_no = 1", "serial_no = 2"))
        assert lvsd.call("reload")["serial"] == 2
        lvsd.wait(lambda: lvsd.ipvs.table()[0].service.scheduler == "rr", "scheduler changed")
        lvsd.path.write_text(_web([one.port], scheduler="rr", persistent=60))
        lvsd.signal(signal.SIGHUP)
        lvsd.wait(lambda: lvsd.ipvs.table()[0].service.persistent == 60, "persistence set by SIGHUP")
        assert lvsd.dests() == {("127.0.0.1", one.port): 1}, "the healthy server stayed through both reloads"


def test_nanny_death_with_hard_shutdown_takes_lvs_down(tmp_path):
    cfg = text(virtual("web", "192.0.2.10", [server("a", "127.0.0.1")]), hard_shutdown=1)
    with Harness(tmp_path, cfg, nanny_argv=(sys.executable, "-c", "raise SystemExit(3)")) as lvsd:
        lvsd.thread.join(10)
        assert lvsd.stop() == 1
    assert lvsd.ipvs.table() == []


def test_nanny_death_without_hard_shutdown_restarts_it(tmp_path):
    starts = tmp_path / "starts"
    script = f"open({str(starts)!r}, 'a').write('x')\nraise SystemExit(3)"
    cfg = text(virtual("web", "192.0.2.10", [server("a", "127.0.0.1")]), hard_shutdown=0)
    with Harness(tmp_path, cfg, nanny_argv=(sys.executable, "-c", script)) as lvsd:
        lvsd.wait(lambda: starts.exists() and len(starts.read_text()) >= 3, "three nanny starts", timeout=15)
        assert lvsd.call("status")["nanny"]["restarts"] >= 2
        assert [live.service.key for live in lvsd.ipvs.table()] == [ServiceKey.inet("tcp", "192.0.2.10", 80)]


def test_syncd_command_starts_master_or_backup_from_lvs_cf(tmp_path):
    cfg = text(virtual("web", "192.0.2.10", [server("a", "127.0.0.1")]), syncdaemon=1, syncd_iface="eth1",
               syncd_id=7)
    with Harness(tmp_path, cfg, nanny_argv=_sleeper()) as lvsd:
        assert lvsd.call("syncd", state="backup")["sync_daemons"] == [
            {"state": "backup", "interface": "eth1", "syncid": 7}]
        assert lvsd.call("syncd", state="master")["sync_daemons"] == [
            {"state": "master", "interface": "eth1", "syncid": 7}]
        assert lvsd.call("syncd", state="stop")["sync_daemons"] == []
        with pytest.raises(ControlError, match="'primary'"):
            lvsd.call("syncd", state="primary")
        with pytest.raises(ControlError, match="unknown command 'flush'"):
            lvsd.call("flush")


def test_timeouts_set_at_start_and_when_changed(tmp_path):
    cfg = text(virtual("web", "192.0.2.10", [server("a", "127.0.0.1")]), tcp_timeout=600, udp_timeout=60)
    with Harness(tmp_path, cfg, nanny_argv=_sleeper()) as lvsd:
        assert lvsd.ipvs.timeouts().tcp == 600 and lvsd.ipvs.timeouts().udp == 60
        lvsd.path.write_text(cfg.replace("tcp_timeout = 600", "tcp_timeout = 700"))
        lvsd.call("reload")
        assert (lvsd.ipvs.timeouts().tcp, lvsd.ipvs.timeouts().tcpfin) == (700, 120)


def test_foreign_services_survive_start_and_stop(tmp_path):
    ipvs = FakeIPVS()
    foreign = ServiceKey.inet("tcp", "198.51.100.1", 443)
    ipvs.add_service(Service(foreign, "rr"))
    cfg = text(virtual("web", "192.0.2.10", [server("a", "127.0.0.1")]))
    with Harness(tmp_path, cfg, nanny_argv=_sleeper(), ipvs=ipvs) as lvsd:
        lvsd.wait(lambda: len(ipvs.table()) == 2, "web service created")
    assert [live.service.key for live in ipvs.table()] == [foreign]


def test_changes_behind_lvsds_back_are_repaired_at_the_next_full_read(tmp_path, monkeypatch):
    from piranha.lvsd import daemon

    monkeypatch.setattr(daemon, "RESYNC_EVERY", 0.5)
    with listeners(1) as (one,), Harness(tmp_path, _web([one.port])) as lvsd:
        lvsd.wait(lambda: lvsd.dests(), "real server in IPVS")
        lvsd.ipvs.delete_dest(ServiceKey.inet("tcp", "192.0.2.10", 80), "127.0.0.1", one.port)
        lvsd.wait(lambda: lvsd.dests() == {("127.0.0.1", one.port): 1}, "real server restored")
        brief = lvsd.call("status", brief=True)
        assert "table" not in brief and brief["last_reconcile"]["operations"] >= 1
