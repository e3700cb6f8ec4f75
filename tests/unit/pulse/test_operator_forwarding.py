"""pulse forwards the operator's server actions (drain, enable, disable) to its lvsd, and refuses them with the
reason when this node has no lvsd to carry them out. Behind pulse's real command handler and lvsd client
runs a real lvsd (FakeIPVS, real nanny checking a listener on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from piranha.control.protocol import CommandError
from piranha.lvsd.operator import OperatorBook
from piranha.pulse.children import Lvsd
from piranha.pulse.commands import handler
from tests.unit.lvsd.test_daemon import Harness, _web, listeners

pytestmark = pytest.mark.timeout(60)


def _pulse(lvsd_socket: str, active: bool = True, mode: str = "lvs", no_lvsd: bool = False):
    """pulse as the command handler sees it: settings, options, state machine and its lvsd child."""
    return SimpleNamespace(settings=SimpleNamespace(mode=mode),
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
    ({"active": False}, "drain: lvsd is not running on this node (standby); real servers are handled by the "
                        "active director's lvsd"),
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
