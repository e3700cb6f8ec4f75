"""The IPVS table lvsd wants, computed from lvs.cf and nanny's health (pure: no kernel, no clock).

Rules (Piranha's, with its sorry-server bugs fixed):
* one IPVS service per *active* virtual server, keyed by fwmark or (protocol, VIP, port);
* an active real server enters only after its first good check; while up it has the weight HealthBook gives it;
* when it fails: removed, or kept at weight 0 with `quiesce_server = 1` (never *added* at weight 0);
* not checked yet: left as the live table has it (a restarted lvsd does not drop servers it cannot judge yet);
* the sorry server (weight 1, the virtual port) is present exactly while every active real server has been
  checked and none is up.
* an operator's decision outranks health: a `draining` server is kept at weight 0 (never added), a
  `disabled` one is removed; neither counts as up for the sorry server.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from piranha.lvsd.health import HealthBook
from piranha.net.ipvs_model import Dest, Service, ServiceKey, Timeouts, family_of
from piranha.nanny.spec import CheckSpec

FORWARDING = {"nat": "nat", "direct": "dr", "tunnel": "tun"}


@dataclass(frozen=True)
class DesiredService:
    service: Service
    name: str
    dests: dict[tuple[str, int], Dest] = field(default_factory=dict)     # must be present, exactly so
    quiesce: frozenset[tuple[str, int]] = frozenset()                    # weight 0 if present, never added
    keep: frozenset[tuple[str, int]] = frozenset()                       # left as they are (not checked yet)
    sorry: tuple[str, int] | None = None                                 # the sorry server's ident, when active


@dataclass(frozen=True)
class Desired:
    services: dict[ServiceKey, DesiredService]
    timeouts: Timeouts


def check_id(virtual, server) -> str:
    return f"{virtual.name}/{server.name}"


def service_key(virtual) -> ServiceKey:
    if virtual.fwmark:
        return ServiceKey.mark(virtual.fwmark, family_of(virtual.address))
    return ServiceKey.inet(virtual.protocol, virtual.address, virtual.port)


def service_of(virtual) -> Service:
    key = service_key(virtual)
    persistent = virtual.persistent or 0
    pmask = virtual.pmask if persistent else None
    if pmask is not None and key.af == socket.AF_INET6:
        pmask = ipaddress.IPv4Network(f"0.0.0.0/{pmask}").prefixlen or 128
    return Service(key, scheduler=virtual.scheduler, persistent=persistent, pmask=pmask)


def active_servers(virtual) -> list:
    return [server for server in virtual.servers if server.active and server.address]


def active_virtuals(config) -> list:
    return [virtual for virtual in config.virtual_servers if virtual.active and virtual.address]


def forwarding(config) -> str:
    return FORWARDING[config.network]


def dest_port(virtual, key: ServiceKey, fwd: str, real_port: int) -> int:
    """NAT maps to the real port; DR and TUN cannot, so (as ipvsadm does) they use the service's port."""
    return real_port if fwd == "nat" else key.port


def check_specs(config) -> list[CheckSpec]:
    """What nanny must check: every active real server of every active virtual server."""
    specs = []
    for virtual in active_virtuals(config):
        for server in active_servers(virtual):
            specs.append(CheckSpec(
                id=check_id(virtual, server), address=server.address, port=virtual.real_port(server),
                protocol=virtual.protocol, send=virtual.send, expect=virtual.expect, use_regex=virtual.use_regex,
                send_program=virtual.send_program, timeout=float(virtual.timeout), interval=float(virtual.interval),
                failures=virtual.failures, reentry=float(virtual.reentry), load_monitor=virtual.load_monitor,
                rsh_command=config.rsh_command, weight=server.weight))
    return specs


def targets(config) -> dict[str, int]:
    """Configured weight of every check id."""
    return {spec.id: spec.weight for spec in check_specs(config)}


def desired_table(config, health: HealthBook, operator: dict[str, str] | None = None) -> Desired:
    fwd = forwarding(config)
    services: dict[ServiceKey, DesiredService] = {}
    for virtual in active_virtuals(config):
        service = service_of(virtual)
        key = service.key
        dests: dict[tuple[str, int], Dest] = {}
        quiesce, keep, known, any_up = set(), set(), True, False
        for server in active_servers(virtual):
            ident = check_id(virtual, server)
            state = health.servers.get(ident)
            dest = Dest(server.address, dest_port(virtual, key, fwd, virtual.real_port(server)), fwd, 0)
            decided = (operator or {}).get(ident)
            if decided == "draining":
                quiesce.add(dest.ident)
            elif decided == "disabled":
                pass
            elif state is None or state.up is None:
                known = False
                keep.add(dest.ident)
            elif state.up:
                any_up = True
                dests[dest.ident] = Dest(dest.address, dest.port, fwd, health.weight(ident))
            elif virtual.quiesce_server:
                quiesce.add(dest.ident)
        sorry = None
        if virtual.sorry_server and known and not any_up:
            sorry_dest = Dest(virtual.sorry_server, dest_port(virtual, key, fwd, virtual.port), fwd, 1)
            if sorry_dest.ident not in dests:
                sorry = sorry_dest.ident
                dests[sorry] = sorry_dest
                quiesce.discard(sorry)
                keep.discard(sorry)
        services[key] = DesiredService(service, virtual.name, dests, frozenset(quiesce - dests.keys()),
                                       frozenset(keep - dests.keys()), sorry)
    timeouts = Timeouts(config.tcp_timeout or 0, config.tcpfin_timeout or 0, config.udp_timeout or 0)
    return Desired(services, timeouts)
