"""pulse forwards the operator's server actions (drain, enable, disable) to its lvsd, and refuses them with the
reason when this node has no lvsd to carry them out; a standby records them for the lvsd it starts on
takeover, so a drained server stays out across a failover. Behind pulse's real command handler and lvsd client
runs a real lvsd (FakeIPVS, real nanny checking a listener on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from piranha.control.protocol import CommandError
from piranha.lvsd.operator import OperatorBook, state_file_beside
from piranha.pulse.children import Lvsd
from piranha.pulse.commands import handler
from tests.unit.lvsd.test_daemon import Harness, _web, listeners

pytestmark = pytest.mark.timeout(60)


def _pulse(lvsd_socket: str, active: bool = True, mode: str = "lvs", no_lvsd: bool = False, path: str = ""):
    """pulse as the command handler sees it: settings, options, state machine and its lvsd child."""
    return SimpleNamespace(settings=SimpleNamespace(mode=mode, path=path),
                           options=SimpleNamespace(no_lvsd=no_lvsd, test_start=False),
                           machine=SimpleNamespace(active=active),
                           lvsd=Lvsd("lvsd", lvsd_socket, lambda detail: None))


def _ask(pulse, command: str, **args):
    return asyncio.run(handler(pulse)(command, args))


def test_drain_and_enable_reach_lvsd_through_pulse(tmp_path):
    with listeners(1) as (one,):
        harness = Harness(tmp_path, _web([one.port]))
        harness.lvsd.operator = OperatorBook(str(tmp_path / "op.json"))
        with harness as lvsd:
            lvsd.wait(lambda: len(lvsd.dests()) == 1, "server in IPVS")
            pulse = _pulse(lvsd.socket)
            reply = _ask(pulse, "drain", server="web/s0", timeout=30)
            assert reply["admin"]["state"] == "draining"
            lvsd.wait(lambda: not lvsd.dests(), "drained (no connections): out")
            assert _ask(pulse, "enable", server="web/s0")["admin"] is None
            lvsd.wait(lambda: len(lvsd.dests()) == 1, "back after enable")
            with pytest.raises(CommandError, match=r"lvsd refused disable: disable: no active real server 'x'"):
                _ask(pulse, "disable", server="x")


@pytest.mark.parametrize("pulse_args, message", [
    ({"no_lvsd": True}, "drain: this pulse runs without lvsd (--no-lvsd or --test-start)"),
    ({"mode": "fos"}, "drain: this cluster runs failover services (service = fos): it has no real servers"),
])
def test_a_node_without_lvsd_refuses_with_the_reason(tmp_path, pulse_args, message):
    pulse = _pulse(str(tmp_path / "no-lvsd.sock"), **pulse_args)
    with pytest.raises(CommandError) as refused:
        _ask(pulse, "drain", server="web/s0")
    assert str(refused.value) == message


def test_only_the_server_and_timeout_are_passed_on(tmp_path):
    pulse = _pulse(str(tmp_path / "no-lvsd.sock"))
    with pytest.raises(CommandError, match="unknown argument 'force'"):
        _ask(pulse, "disable", server="web/s0", force=True)


def test_a_standby_records_decisions_for_the_lvsd_it_starts_on_takeover(tmp_path):
    with listeners(2) as (one, two):
        cf, socket_path = tmp_path / "lvs.cf", str(tmp_path / "lvsd.sock")    # where Harness puts them
        cf.write_text(_web([one.port, two.port]))
        standby = _pulse(socket_path, active=False, path=str(cf))
        assert _ask(standby, "drain", server="web/s0", timeout=30)["admin"]["state"] == "disabled"
        assert _ask(standby, "disable", server="web/s1")["admin"]["state"] == "disabled"
        assert _ask(standby, "enable", server="web/s1")["admin"] is None
        with pytest.raises(CommandError, match=r"drain: no active real server 'web/nope'.*known: web/s0, web/s1"):
            _ask(standby, "drain", server="web/nope")
        book = OperatorBook(state_file_beside(socket_path))
        book.load()
        assert book.overrides() == {"web/s0": "disabled"}
        # Takeover: lvsd starts with the state file beside its socket and keeps the drained server out.
        takeover = Harness(tmp_path, _web([one.port, two.port]))
        takeover.lvsd.operator = book
        with takeover as lvsd:
            lvsd.wait(lambda: len(lvsd.dests()) == 1, "the server that was not drained in IPVS")
            assert lvsd.dests() == {("127.0.0.1", two.port): 2}
            assert lvsd.socket == socket_path
            active = _pulse(lvsd.socket, path=str(cf))
            _ask(active, "enable", server="web/s0")
            lvsd.wait(lambda: len(lvsd.dests()) == 2, "both in after enable")
