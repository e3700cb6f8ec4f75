"""Operator decisions in lvsd: drain (weight 0 until no active connection or a timeout, then out), disable,
enable; kept across reloads and restarts (state file); refused with clear messages when they make no sense."""

from __future__ import annotations

import json
import signal

import pytest

from piranha.control.client import ControlError
from piranha.lvsd.desired import desired_table
from piranha.lvsd.health import HealthBook
from piranha.lvsd.operator import OperatorBook
from piranha.net.ipvs_model import ServiceKey
from tests.unit.lvsd.cfgen import config, server, virtual
from tests.unit.lvsd.test_daemon import Harness, _web, listeners

pytestmark = pytest.mark.timeout(60)

KEY = ServiceKey.inet("tcp", "192.0.2.10", 80)


def _harness(tmp_path, cfg_text, state_file):
    harness = Harness(tmp_path, cfg_text)
    harness.lvsd.operator = OperatorBook(str(state_file))
    harness.lvsd.operator.load()
    return harness


def _admin(lvsd, name):
    return {s["server"]: s for s in lvsd.call("status")["servers"]}[name]["admin"]


def test_drain_holds_weight_zero_until_connections_end_then_takes_the_server_out(tmp_path):
    state = tmp_path / "operator.json"
    with listeners(2) as (one, two), _harness(tmp_path, _web([one.port, two.port]), state) as lvsd:
        lvsd.wait(lambda: len(lvsd.dests()) == 2, "both real servers in IPVS")
        lvsd.ipvs.set_counters(KEY, "127.0.0.1", one.port, active=3)
        reply = lvsd.call("drain", server="web/s0", timeout=60)
        assert reply["admin"]["state"] == "draining" and reply["admin"]["start_conns"] == 3
        lvsd.wait(lambda: lvsd.dests().get(("127.0.0.1", one.port)) == 0, "weight 0 while draining")
        assert lvsd.dests()[("127.0.0.1", two.port)] == 2, "the other server is untouched"
        assert _admin(lvsd, "s0")["state"] == "draining"
        lvsd.ipvs.set_counters(KEY, "127.0.0.1", one.port, active=1)
        lvsd.wait(lambda: _admin(lvsd, "s0").get("active_conns") == 1, "progress seen")
        assert ("127.0.0.1", one.port) in lvsd.dests(), "still in while a connection is active"
        lvsd.ipvs.set_counters(KEY, "127.0.0.1", one.port, active=0)
        lvsd.wait(lambda: ("127.0.0.1", one.port) not in lvsd.dests(), "drained server taken out")
        admin = _admin(lvsd, "s0")
        assert admin["state"] == "disabled" and admin["reason"] == "drained: no active connections left"
        assert json.loads(state.read_text())["servers"]["web/s0"]["state"] == "disabled"

        lvsd.call("reload")
        lvsd.signal(signal.SIGHUP)
        lvsd.wait(lambda: lvsd.lvsd.last_reconcile.get("serial") == 1, "reconciled after the reloads")
        assert ("127.0.0.1", one.port) not in lvsd.dests(), "a reload does not undo the operator's decision"

        lvsd.call("enable", server="web/s0")
        lvsd.wait(lambda: lvsd.dests().get(("127.0.0.1", one.port)) == 1, "enabled server back at its weight")
        assert _admin(lvsd, "s0") is None
        assert json.loads(state.read_text()) == {"servers": {}}


def test_drain_times_out_with_connections_still_active(tmp_path):
    with listeners(1) as (one,), _harness(tmp_path, _web([one.port]), tmp_path / "op.json") as lvsd:
        lvsd.wait(lambda: len(lvsd.dests()) == 1, "server in IPVS")
        lvsd.ipvs.set_counters(KEY, "127.0.0.1", one.port, active=2)
        lvsd.call("drain", server="web/s0", timeout=1)
        lvsd.wait(lambda: not lvsd.dests(), "out after the timeout", timeout=5)
        admin = _admin(lvsd, "s0")
        assert admin["state"] == "disabled"
        assert admin["reason"] == "drain timed out after 1 s with 2 active connections"


def test_disabled_server_stays_out_after_lvsd_restarts(tmp_path):
    state = tmp_path / "op.json"
    with listeners(2) as (one, two):
        cfg = _web([one.port, two.port])
        with _harness(tmp_path, cfg, state) as lvsd:
            lvsd.wait(lambda: len(lvsd.dests()) == 2, "both in")
            lvsd.call("disable", server="web/s1")
            lvsd.wait(lambda: list(lvsd.dests()) == [("127.0.0.1", one.port)], "disabled server out")
        restarted = tmp_path / "restarted"       # a fresh socket path: the first one may linger
        restarted.mkdir()
        with _harness(restarted, cfg, state) as lvsd:
            lvsd.wait(lambda: _admin(lvsd, "s0") is None and len(lvsd.dests()) == 1, "restarted, s0 in")
            lvsd.wait(lambda: lvsd.lvsd.health.servers["web/s1"].up is True, "s1 checked healthy")
            lvsd.wait(lambda: not lvsd.call("status")["pending"], "the check's reconcile done")
            assert ("127.0.0.1", two.port) not in lvsd.dests(), "healthy but disabled: stays out"
            assert _admin(lvsd, "s1")["state"] == "disabled"
            lvsd.call("enable", server="web/s1")
            lvsd.wait(lambda: len(lvsd.dests()) == 2, "enabled server back")


def test_decisions_about_a_server_that_left_lvs_cf_are_forgotten(tmp_path):
    state = tmp_path / "op.json"
    with listeners(2) as (one, two), _harness(tmp_path, _web([one.port, two.port]), state) as lvsd:
        lvsd.call("disable", server="web/s1")
        lvsd.path.write_text(_web([one.port]).replace("serial_no = 1", "serial_no = 2"))
        lvsd.call("reload")
        assert json.loads(state.read_text()) == {"servers": {}}


@pytest.mark.parametrize("command, args, message", [
    ("drain", {"server": "web/nope"}, "no active real server 'web/nope' in lvs.cf"),
    ("drain", {"server": "web/s0", "timeout": 0}, "timeout 0 must be a number of seconds from 1 to 86400"),
    ("drain", {"server": "web/s0", "timeout": "soon"}, "timeout 'soon' must be"),
    ("enable", {"server": "web/s0"}, "enable: web/s0 is neither draining nor disabled"),
    ("disable", {}, "no active real server None"),
])
def test_operator_requests_that_make_no_sense_are_refused(tmp_path, command, args, message):
    with listeners(1) as (one,), _harness(tmp_path, _web([one.port]), tmp_path / "op.json") as lvsd:
        with pytest.raises(ControlError) as refused:
            lvsd.call(command, **args)
        assert message in str(refused.value)


def test_drain_of_a_server_already_out_is_refused(tmp_path):
    with listeners(1) as (one,), _harness(tmp_path, _web([one.port]), tmp_path / "op.json") as lvsd:
        lvsd.call("disable", server="web/s0")
        with pytest.raises(ControlError, match="already out .*enable it first"):
            lvsd.call("drain", server="web/s0")


def test_an_unreadable_state_file_starts_with_no_decisions(tmp_path, caplog):
    state = tmp_path / "op.json"
    state.write_text("{not json")
    book = OperatorBook(str(state))
    book.load()
    assert book.entries == {}
    assert "unreadable" in caplog.text


def test_desired_table_keeps_draining_at_zero_removes_disabled_and_serves_the_sorry_server():
    cfg = config(virtual("web", "192.0.2.10", [server("a", "10.1.0.1"), server("b", "10.1.0.2", weight=3)],
                         sorry_server="10.1.0.50"))
    health = HealthBook()
    health.plan({"web/a": 1, "web/b": 3})
    for ident in ("web/a", "web/b"):
        health.state(ident, True, "ok", 1.0, 0.0, 0.0)
    service = desired_table(cfg, health, {"web/a": "draining"}).services[KEY]
    assert ("10.1.0.1", 80) in service.quiesce and ("10.1.0.1", 80) not in service.dests
    assert service.dests[("10.1.0.2", 80)].weight == 3 and service.sorry is None
    service = desired_table(cfg, health, {"web/a": "disabled", "web/b": "disabled"}).services[KEY]
    assert service.sorry == ("10.1.0.50", 80) and list(service.dests) == [("10.1.0.50", 80)]
    assert not service.quiesce and not service.keep


@pytest.mark.parametrize("socket_path, state", [
    ("/run/piranha/lvsd.sock", "/run/piranha/lvsd-operator.json"),
    ("/tmp/x/d1-lvsd.sock", "/tmp/x/d1-lvsd-operator.json"),
    ("/tmp/x/control", "/tmp/x/control-operator.json"),
])
def test_the_state_file_sits_beside_the_control_socket(socket_path, state):
    from piranha.lvsd.main import state_file_beside
    assert state_file_beside(socket_path) == state
