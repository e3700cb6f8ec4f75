"""The IPVS table contract: one suite, run against FakeIPVS here and against the real kernel in the kernel tier.

The kernel tier boots User-Mode Linux and runs this very module with PIRANHA_IPVS_BACKEND=kernel; each test
then gets a fresh network namespace (IPVS tables are per namespace) with a dummy interface for real servers and
the sync daemon.
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
import subprocess

import pytest

from piranha.net.ipvs_fake import FakeIPVS
from piranha.net.ipvs_model import Dest, IPVSError, Service, ServiceKey, SyncDaemon, Timeouts

BACKEND = os.environ.get("PIRANHA_IPVS_BACKEND", "fake")
_namespaces = itertools.count()

WEB = ServiceKey.inet("tcp", "192.0.2.10", 80)
DNS = ServiceKey.inet("udp", "192.0.2.10", 53)
MARK = ServiceKey.mark(7)
WEB6 = ServiceKey.inet("tcp", "2001:db8::10", 443)


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture
def ipvs():
    if BACKEND == "fake":
        yield FakeIPVS()
        return
    from piranha.net.ipvs import KernelIPVS

    name = f"lvc{os.getpid()}x{next(_namespaces)}"
    _sh("ip", "netns", "add", name)
    try:
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "lvsync0", "type", "dummy"],
                    ["ip", "link", "set", "lvsync0", "up"], ["ip", "addr", "add", "10.0.0.1/8", "dev", "lvsync0"],
                    ["ip", "addr", "add", "2001:db8::1/32", "dev", "lvsync0", "nodad"]):
            _sh("ip", "netns", "exec", name, *cmd)
        with KernelIPVS(netns=name) as table:
            yield table
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _errno(call, *args) -> int:
    with pytest.raises(IPVSError) as info:
        call(*args)
    return info.value.code


def _only(ipvs):
    (live,) = ipvs.table()
    return live


def test_empty_table(ipvs):
    assert ipvs.table() == []


def test_service_round_trip_keeps_every_attribute(ipvs):
    services = [Service(WEB, "wrr", persistent=300, pmask="255.255.255.0"), Service(DNS, "rr"),
                Service(MARK, "sh"), Service(WEB6, "lc", persistent=60, pmask=64)]
    for service in services:
        ipvs.add_service(service)
    read = {live.service.key: live.service for live in ipvs.table()}
    assert read == {s.key: s for s in services}


def test_table_is_sorted_and_stable(ipvs):
    for key in (WEB6, MARK, DNS, WEB):
        ipvs.add_service(Service(key))
    assert [live.service.key for live in ipvs.table()] == sorted((WEB6, MARK, DNS, WEB), key=ServiceKey.sort_key)


def test_edit_service_changes_scheduler_and_clears_persistence(ipvs):
    ipvs.add_service(Service(WEB, "wlc", persistent=300, pmask="255.255.0.0"))
    ipvs.edit_service(Service(WEB, "rr"))
    assert _only(ipvs).service == Service(WEB, "rr", persistent=0)


def test_edit_service_keeps_its_real_servers(ipvs):
    ipvs.add_service(Service(WEB, "wlc"))
    ipvs.add_dest(WEB, Dest("10.0.0.5", 8080, "nat", 3))
    ipvs.edit_service(Service(WEB, "wrr", persistent=30))
    assert [d.dest for d in _only(ipvs).dests] == [Dest("10.0.0.5", 8080, "nat", 3)]


def test_duplicate_service_is_eexist(ipvs):
    ipvs.add_service(Service(WEB))
    assert _errno(ipvs.add_service, Service(WEB, "rr")) == errno.EEXIST


def test_unknown_scheduler_is_enoent(ipvs):
    assert _errno(ipvs.add_service, Service(WEB, "nosuch")) == errno.ENOENT
    ipvs.add_service(Service(WEB, "mh"))
    assert _errno(ipvs.edit_service, Service(WEB, "nosuch")) == errno.ENOENT
    assert _only(ipvs).service.scheduler == "mh"


def test_missing_service_is_esrch(ipvs):
    assert _errno(ipvs.delete_service, WEB) == errno.ESRCH
    assert _errno(ipvs.edit_service, Service(WEB)) == errno.ESRCH
    assert _errno(ipvs.add_dest, WEB, Dest("10.0.0.5", 80)) == errno.ESRCH


def test_delete_service_removes_only_it(ipvs):
    ipvs.add_service(Service(WEB))
    ipvs.add_service(Service(DNS))
    ipvs.add_dest(DNS, Dest("10.0.0.5", 53))
    ipvs.delete_service(WEB)
    assert [live.service.key for live in ipvs.table()] == [DNS]
    assert len(_only(ipvs).dests) == 1


@pytest.mark.parametrize("forwarding", ["nat", "dr", "tun"])
def test_dest_forwarding_method_is_kept(ipvs, forwarding):
    ipvs.add_service(Service(WEB))
    ipvs.add_dest(WEB, Dest("10.0.0.5", 80, forwarding, 5))
    assert _only(ipvs).dests[0].dest == Dest("10.0.0.5", 80, forwarding, 5)


def test_edit_dest_changes_weight_and_forwarding(ipvs):
    ipvs.add_service(Service(WEB))
    ipvs.add_dest(WEB, Dest("10.0.0.5", 80, "nat", 1))
    ipvs.edit_dest(WEB, Dest("10.0.0.5", 80, "nat", 0))
    assert _only(ipvs).dests[0].dest.weight == 0
    ipvs.edit_dest(WEB, Dest("10.0.0.5", 80, "tun", 7))
    assert _only(ipvs).dests[0].dest == Dest("10.0.0.5", 80, "tun", 7)


def test_dests_identified_by_address_and_port(ipvs):
    ipvs.add_service(Service(WEB))
    ipvs.add_dest(WEB, Dest("10.0.0.5", 80))
    ipvs.add_dest(WEB, Dest("10.0.0.5", 8080))
    ipvs.add_dest(WEB, Dest("10.0.0.6", 80))
    assert _errno(ipvs.add_dest, WEB, Dest("10.0.0.5", 80, "nat", 9)) == errno.EEXIST
    ipvs.delete_dest(WEB, "10.0.0.5", 80)
    assert [d.dest.ident for d in _only(ipvs).dests] == [("10.0.0.5", 8080), ("10.0.0.6", 80)]


def test_missing_dest_is_enoent(ipvs):
    ipvs.add_service(Service(WEB))
    assert _errno(ipvs.delete_dest, WEB, "10.0.0.5", 80) == errno.ENOENT
    assert _errno(ipvs.edit_dest, WEB, Dest("10.0.0.5", 80)) == errno.ENOENT


def test_fwmark_service_with_nat_and_dr_real_servers(ipvs):
    ipvs.add_service(Service(MARK, "rr"))
    ipvs.add_dest(MARK, Dest("10.0.0.7", 8080, "nat", 1))
    ipvs.add_dest(MARK, Dest("10.0.0.8", 0, "dr", 2))
    live = _only(ipvs)
    assert live.service.key == MARK
    assert [d.dest for d in live.dests] == [Dest("10.0.0.7", 8080, "nat", 1), Dest("10.0.0.8", 0, "dr", 2)]


def test_ipv6_service_and_real_server(ipvs):
    ipvs.add_service(Service(WEB6, "wlc", persistent=120, pmask=64))
    ipvs.add_dest(WEB6, Dest("2001:db8::5", 8443, "nat", 2))
    live = _only(ipvs)
    assert live.service == Service(WEB6, "wlc", persistent=120, pmask=64)
    assert live.dests[0].dest == Dest("2001:db8::5", 8443, "nat", 2)


def test_counters_start_at_zero(ipvs):
    ipvs.add_service(Service(WEB))
    ipvs.add_dest(WEB, Dest("10.0.0.5", 80))
    live = _only(ipvs)
    dest = live.dests[0]
    assert (dest.active_conns, dest.inactive_conns, dest.persistent_conns) == (0, 0, 0)
    assert dest.stats.conns == live.stats.conns == 0


def test_timeouts_zero_leaves_unchanged(ipvs):
    ipvs.set_timeouts(Timeouts(tcp=100, tcpfin=20, udp=50))
    assert ipvs.timeouts() == Timeouts(100, 20, 50)
    ipvs.set_timeouts(Timeouts(tcp=0, tcpfin=30, udp=0))
    assert ipvs.timeouts() == Timeouts(100, 30, 50)
    with pytest.raises(ValueError, match="-1"):
        ipvs.set_timeouts(Timeouts(tcp=-1))


def test_sync_daemons_start_and_stop_independently(ipvs):
    assert ipvs.sync_daemons() == []
    ipvs.start_sync_daemon(SyncDaemon("master", "lvsync0", 5))
    ipvs.start_sync_daemon(SyncDaemon("backup", "lvsync0", 5))
    assert _errno(ipvs.start_sync_daemon, SyncDaemon("master", "lvsync0", 5)) == errno.EEXIST
    assert ipvs.sync_daemons() == [SyncDaemon("backup", "lvsync0", 5), SyncDaemon("master", "lvsync0", 5)]
    ipvs.stop_sync_daemon("master")
    assert ipvs.sync_daemons() == [SyncDaemon("backup", "lvsync0", 5)]
    assert _errno(ipvs.stop_sync_daemon, "master") == errno.ESRCH
    with pytest.raises(ValueError, match="'primary'"):
        ipvs.start_sync_daemon(SyncDaemon("primary", "lvsync0", 5))


def test_model_rejects_bad_values_by_quoting_them():
    with pytest.raises(ValueError, match="'round robin'"):
        Service(WEB, "round robin")
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        Dest("10.0.0.300", 80)
    with pytest.raises(ValueError, match="'route'"):
        Dest("10.0.0.5", 80, "route")
    with pytest.raises(ValueError, match="70000"):
        ServiceKey.inet("tcp", "192.0.2.1", 70000)
    with pytest.raises(ValueError, match="'sctp'"):
        ServiceKey.inet("sctp", "192.0.2.1", 80)
    assert ServiceKey.inet("tcp", "2001:DB8::0:1", 80).af == socket.AF_INET6
    assert str(ServiceKey.inet("tcp", "2001:DB8::0:1", 80)) == "TCP [2001:db8::1]:80"
