"""desired_table + operations against FakeIPVS: what reaches the table, and that nothing else is touched."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piranha.lvsd.desired import check_specs, desired_table, targets
from piranha.lvsd.diff import operations
from piranha.lvsd.health import HealthBook
from piranha.net.ipvs_fake import FakeIPVS
from piranha.net.ipvs_model import Dest, Service, ServiceKey
from tests.unit.lvsd.cfgen import config, server, virtual, web

WEB = ServiceKey.inet("tcp", "192.0.2.10", 80)
DNS = ServiceKey.inet("udp", "192.0.2.20", 53)


class World:
    """A config, nanny's verdicts and a fake kernel, reconciled the way lvsd does it."""

    def __init__(self, cfg):
        self.ipvs = FakeIPVS()
        self.health = HealthBook(ramp_step=20.0)
        self.owned: set[ServiceKey] = set()
        self.load(cfg)

    def load(self, cfg) -> None:
        self.config = cfg
        self.health.plan(targets(cfg))

    def verdict(self, ident: str, up: bool, now: float = 0.0) -> None:
        self.health.state(ident, up, "ok" if up else "CONNECT timed out", 1.0, 1.0, now)

    def reconcile(self) -> list:
        desired = desired_table(self.config, self.health)
        ops = operations(self.ipvs.table(), desired, self.owned)
        for op in ops:
            op.apply(self.ipvs)
        self.owned = set(desired.services)
        return ops

    def dests(self, key: ServiceKey = WEB) -> dict:
        for live in self.ipvs.table():
            if live.service.key == key:
                return {d.dest.address: (d.dest.port, d.dest.forwarding, d.dest.weight) for d in live.dests}
        raise KeyError(key)


def test_service_is_created_before_any_check_and_real_servers_wait_for_a_good_one():
    world = World(config(web(scheduler="wrr")))
    world.reconcile()
    assert [live.service for live in world.ipvs.table()] == [Service(WEB, "wrr")]
    assert world.dests() == {}
    world.verdict("web/a", True)
    world.verdict("web/c", True)
    world.reconcile()
    assert world.dests() == {"10.1.0.1": (80, "nat", 1), "10.1.0.3": (8080, "nat", 3)}


def test_second_reconcile_does_nothing():
    world = World(config(web()))
    for ident in ("web/a", "web/b", "web/c"):
        world.verdict(ident, True)
    assert world.reconcile()
    assert world.reconcile() == []


def test_failed_server_is_removed_or_quiesced():
    world = World(config(web()))
    for ident in ("web/a", "web/b"):
        world.verdict(ident, True)
    world.reconcile()
    world.verdict("web/a", False)
    world.reconcile()
    assert set(world.dests()) == {"10.1.0.2"}

    quiet = World(config(web(quiesce_server=1)))
    quiet.verdict("web/a", True)
    quiet.verdict("web/b", False)          # never up: not added at weight 0
    quiet.reconcile()
    quiet.verdict("web/a", False)
    quiet.reconcile()
    assert quiet.dests() == {"10.1.0.1": (80, "nat", 0)}


def test_unchecked_servers_already_in_the_table_are_kept():
    world = World(config(web()))
    world.ipvs.add_service(Service(WEB, "wlc"))
    world.ipvs.add_dest(WEB, Dest("10.1.0.2", 80, "nat", 2))
    world.ipvs.add_dest(WEB, Dest("10.1.0.99", 80, "nat", 1))      # not in lvs.cf: removed
    ops = world.reconcile()
    assert [(op.verb, op.ident) for op in ops] == [("delete_dest", ("10.1.0.99", 80))]
    assert world.dests() == {"10.1.0.2": (80, "nat", 2)}


def test_sorry_server_while_no_real_server_is_up():
    world = World(config(web(sorry_server="10.1.0.50")))
    world.verdict("web/a", False)
    world.verdict("web/b", False)
    world.reconcile()
    assert world.dests() == {}, "not every server has been checked yet: no sorry server"
    world.verdict("web/c", False)
    world.reconcile()
    assert world.dests() == {"10.1.0.50": (80, "nat", 1)}
    world.verdict("web/b", True)
    world.reconcile()
    assert world.dests() == {"10.1.0.2": (80, "nat", 2)}
    world.verdict("web/b", False)
    world.reconcile()
    assert world.dests() == {"10.1.0.50": (80, "nat", 1)}


def test_sorry_server_replaces_quiesced_servers():
    world = World(config(web(sorry_server="10.1.0.50", quiesce_server=1)))
    for ident in ("web/a", "web/b", "web/c"):
        world.verdict(ident, True)
    world.reconcile()
    for ident in ("web/a", "web/b", "web/c"):
        world.verdict(ident, False)
    world.reconcile()
    assert world.dests() == {"10.1.0.1": (80, "nat", 0), "10.1.0.2": (80, "nat", 0), "10.1.0.3": (8080, "nat", 0),
                             "10.1.0.50": (80, "nat", 1)}


def test_direct_routing_uses_the_virtual_port_and_fwmark_services():
    world = World(config(web(fwmark=5, servers=[server("c", "10.1.0.3", weight=3)]), network="direct"))
    world.verdict("web/c", True)
    world.reconcile()
    assert world.dests(ServiceKey.mark(5)) == {"10.1.0.3": (0, "dr", 3)}


def _everything_up(world):
    for spec in check_specs(world.config):
        world.verdict(spec.id, True)


def test_reload_applies_scheduler_persistence_and_weights_in_place():
    world = World(config(web(), virtual("dns", "192.0.2.20", [server("d1", "10.1.0.7")], port=53,
                                        protocol="udp", scheduler="rr")))
    _everything_up(world)
    world.reconcile()
    world.ipvs.calls.clear()
    world.load(config(web(scheduler="wrr", persistent=300, pmask="255.255.255.0",
                          servers=[server("a", "10.1.0.1", weight=5), server("b", "10.1.0.2", weight=2),
                                   server("c", "10.1.0.3", weight=3, port=8080)]),
                      virtual("dns", "192.0.2.20", [server("d1", "10.1.0.7")], port=53, protocol="udp",
                              scheduler="rr")))
    world.reconcile()
    assert world.ipvs.calls == [("edit_service", Service(WEB, "wrr", 300, "255.255.255.0")),
                                ("edit_dest", WEB, Dest("10.1.0.1", 80, "nat", 5))]
    assert not any(DNS in call for call in world.ipvs.calls), "an unchanged service is not touched"


def test_reload_adds_removes_and_rekeys_services():
    world = World(config(web(), virtual("dns", "192.0.2.20", [server("d1", "10.1.0.7")], port=53,
                                        protocol="udp")))
    _everything_up(world)
    world.reconcile()
    world.load(config(web(fwmark=9), virtual("dns", "192.0.2.20", [server("d1", "10.1.0.7")], port=53,
                                             protocol="udp", active=0),
                      virtual("mail", "192.0.2.30", [server("m1", "10.1.0.8")], port=25)))
    world.verdict("mail/m1", True)
    world.reconcile()
    keys = [live.service.key for live in world.ipvs.table()]
    assert keys == [ServiceKey.inet("tcp", "192.0.2.30", 25), ServiceKey.mark(9)]
    assert world.dests(ServiceKey.mark(9)) == {"10.1.0.1": (80, "nat", 1), "10.1.0.2": (80, "nat", 2),
                                               "10.1.0.3": (8080, "nat", 3)}, "health carried over"


def test_forwarding_method_change_edits_real_servers():
    world = World(config(web(servers=[server("a", "10.1.0.1")]), network="nat"))
    _everything_up(world)
    world.reconcile()
    world.load(config(web(servers=[server("a", "10.1.0.1")]), network="tunnel"))
    ops = world.reconcile()
    assert [str(op) for op in ops] == ["edit_dest TCP 192.0.2.10:80 -> 10.1.0.1:80 tun weight 1"]


def test_services_lvsd_does_not_own_are_left_alone():
    world = World(config(web()))
    foreign = ServiceKey.inet("tcp", "198.51.100.1", 443)
    world.ipvs.add_service(Service(foreign, "rr"))
    world.reconcile()
    world.load(config(virtual("other", "192.0.2.40", [server("o", "10.1.0.9")])))
    world.reconcile()
    assert sorted(live.service.key.address for live in world.ipvs.table()) == ["192.0.2.40", "198.51.100.1"]


def test_weight_ramps_after_reentry_but_not_on_first_entry():
    world = World(config(web(servers=[server("a", "10.1.0.1", weight=64)])))
    world.verdict("web/a", True, now=0.0)
    world.reconcile()
    assert world.dests()["10.1.0.1"][2] == 64
    world.verdict("web/a", False, now=5.0)
    world.verdict("web/a", True, now=10.0)
    world.reconcile()
    seen = [world.dests()["10.1.0.1"][2]]
    now = 10.0
    while world.health.next_ramp() is not None:
        now = world.health.next_ramp()
        assert world.health.tick(now)
        world.reconcile()
        seen.append(world.dests()["10.1.0.1"][2])
    assert seen == [2, 4, 8, 16, 32, 64]
    assert now == pytest.approx(110.0)


def test_load_monitor_weight_and_a_new_configured_weight():
    world = World(config(web(servers=[server("a", "10.1.0.1", weight=10)])))
    world.verdict("web/a", True)
    world.health.load_weight("web/a", 14)
    world.reconcile()
    assert world.dests()["10.1.0.1"][2] == 14
    world.load(config(web(servers=[server("a", "10.1.0.1", weight=4)])))
    world.reconcile()
    assert world.dests()["10.1.0.1"][2] == 4


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["web/a", "web/b", "web/c"]), st.booleans()), max_size=12),
       st.booleans(), st.booleans())
def test_any_verdict_sequence_converges_to_the_rules(verdicts, quiesce, sorry):
    keys = {"quiesce_server": int(quiesce)}
    if sorry:
        keys["sorry_server"] = "10.1.0.50"
    world = World(config(web(**keys)))
    world.reconcile()
    for ident, up in verdicts:
        world.verdict(ident, up)
        world.reconcile()
    assert world.reconcile() == []
    dests = world.dests()
    addresses = {"web/a": "10.1.0.1", "web/b": "10.1.0.2", "web/c": "10.1.0.3"}
    states = {ident: world.health.servers[ident].up for ident in addresses}
    for ident, address in addresses.items():
        if states[ident]:
            assert dests[address][2] > 0
        elif states[ident] is False and not quiesce:
            assert address not in dests
        elif states[ident] is False and address in dests:
            assert dests[address][2] == 0
    all_known_down = all(state is False for state in states.values())
    assert ("10.1.0.50" in dests) == (sorry and all_known_down)


def test_reload_adds_and_removes_real_servers_keeping_the_others():
    world = World(config(web()))
    _everything_up(world)
    world.reconcile()
    world.ipvs.calls.clear()
    world.load(config(web(servers=[server("a", "10.1.0.1", weight=1), server("c", "10.1.0.3", weight=3, port=8080),
                                   server("d", "10.1.0.4", weight=4)])))
    world.reconcile()
    assert world.ipvs.calls == [("delete_dest", WEB, "10.1.0.2", 80)], "d waits for its first good check"
    world.verdict("web/d", True)
    world.reconcile()
    assert world.dests() == {"10.1.0.1": (80, "nat", 1), "10.1.0.3": (8080, "nat", 3), "10.1.0.4": (80, "nat", 4)}


def test_ipv6_virtual_and_real_servers():
    world = World(config(virtual("v6", "2001:db8::10", [server("a", "2001:db8:1::5", weight=2)], port=443,
                                 persistent=30)))
    world.verdict("v6/a", True)
    world.reconcile()
    key = ServiceKey.inet("tcp", "2001:db8::10", 443)
    (live,) = world.ipvs.table()
    assert live.service == Service(key, "wlc", 30, 128)
    assert world.dests(key) == {"2001:db8:1::5": (443, "nat", 2)}
