"""Semantic rules on the whole model; each problem names its block path, keyword and (when parsed) line.

Every value is first checked by its keyword's type from the schema (so a value set in memory gets the same
checks as one read from a file); then one function per block applies the rules between fields, and
``validate_config`` the rules between blocks.
"""

from __future__ import annotations

import re
import warnings

from piranha.lvscf import schema
from piranha.lvscf.converters import Name, is_unspecified
from piranha.lvscf.errors import Problem

_NAME = Name()


class _Report:
    """Collects problems about one block."""

    def __init__(self, problems: list, obj, path: tuple):
        self.problems, self.obj, self.path = problems, obj, path

    def add(self, keyword: str | None, message: str, line: int | None = None) -> None:
        if line is None:
            line = self.obj.lines.get(keyword, getattr(self.obj, "line", None)) if keyword else \
                getattr(self.obj, "line", None)
        text = f"{keyword}: {message}" if keyword else message
        self.problems.append(Problem(line, text, keyword, self.path))


def _fields(report: _Report, block: str) -> None:
    obj = report.obj
    if block != "global":
        try:
            _NAME.check(obj.name)
        except ValueError as exc:
            report.add(None, f"{block} name: {exc}")
    for kw in schema.keywords(block):
        if kw.arity == 2:
            address, device = (getattr(obj, attr) for attr in kw.attrs)
            if address is None and device is None:
                continue
            if address is None or device is None:
                report.add(kw.name, "needs both an address and an interface, e.g. '10.0.0.1 eth0:1'")
                continue
            value = (address, device)
        else:
            value = getattr(obj, kw.name)
            if value is None:
                continue
        try:
            kw.check(value)
        except ValueError as exc:
            report.add(kw.name, str(exc))


def _family(address: str | None) -> int | None:
    """4 or 6 for an address, None for a hostname or nothing."""
    if not isinstance(address, str):
        return None
    if ":" in address:
        return 6
    return 4 if address.replace(".", "").isdigit() else None


def _probe_rules(report: _Report, obj) -> None:
    if obj.use_regex:
        if not obj.expect:
            report.add("use_regex", "use_regex = 1 needs expect (the regular expression to match)")
        elif obj.expect != "*":  # "*" accepts any reply, regex or not
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    re.compile(obj.expect)
            except re.error as exc:
                report.add("expect", f"{obj.expect!r} is not a valid regular expression: {exc}")


def validate_server(server, virtual=None, network: str | None = None) -> list[Problem]:
    problems: list[Problem] = []
    path = (("virtual", virtual.name) if virtual else ()) + ("server", server.name)
    report = _Report(problems, server, path)
    _fields(report, "server")
    if server.active and is_unspecified(server.address):
        report.add("address", "an active real server needs an address")
    if virtual is not None:
        vip_family, rip_family = _family(virtual.address), _family(server.address)
        if vip_family and rip_family and vip_family != rip_family:
            report.add("address", f"an IPv{rip_family} real server cannot serve the IPv{vip_family} "
                                  f"VIP {virtual.address}")
        if network in ("direct", "tunnel") and server.port is not None and server.port != virtual.port:
            report.add("port", f"network = {network} cannot change the port ({virtual.port} -> {server.port}); "
                               "remove the server's port or use network = nat")
    return problems


def validate_virtual(virtual, config=None) -> list[Problem]:
    problems: list[Problem] = []
    report = _Report(problems, virtual, ("virtual", virtual.name))
    _fields(report, "virtual")
    if virtual.active and is_unspecified(virtual.address):
        report.add("address", "an active virtual server needs a VIP ('address = IP DEVICE')")
    family = _family(virtual.address)
    if family == 6:
        for key in ("vip_nmask", "pmask"):
            if getattr(virtual, key) is not None:
                report.add(key, "is an IPv4 netmask; it cannot apply to the IPv6 VIP")
    if virtual.sorry_server is not None:
        if is_unspecified(virtual.sorry_server):
            report.add("sorry_server", f"{virtual.sorry_server} is not a usable server address")
        elif family and _family(virtual.sorry_server) != family:
            report.add("sorry_server", f"must be an IPv{family} address like the VIP")
    _probe_rules(report, virtual)
    network = config.network if config is not None else None
    seen_names: dict[str, int | None] = {}
    seen_targets: dict[tuple, str] = {}
    for server in virtual.servers:
        problems += validate_server(server, virtual, network)
        server_report = _Report(problems, server, ("virtual", virtual.name, "server", server.name))
        if server.name in seen_names:
            server_report.add(None, f"real server name {server.name!r} is used twice in virtual server "
                                    f"{virtual.name!r}{_at(seen_names[server.name], 'first on line')}")
        seen_names.setdefault(server.name, server.line)
        if not is_unspecified(server.address):
            target = (server.address, virtual.real_port(server))
            if target in seen_targets:
                server_report.add("address", f"{server.address} port {target[1]} is already real server "
                                             f"{seen_targets[target]!r} of this virtual server")
            seen_targets.setdefault(target, server.name)
    return problems


def validate_failover(service, config=None) -> list[Problem]:
    problems: list[Problem] = []
    report = _Report(problems, service, ("failover", service.name))
    _fields(report, "failover")
    if service.active and is_unspecified(service.address):
        report.add("address", "an active failover service needs a VIP ('address = IP DEVICE')")
    if _family(service.address) == 6 and service.vip_nmask is not None:
        report.add("vip_nmask", "is an IPv4 netmask; it cannot apply to the IPv6 VIP")
    if config is None or config.service == "fos":
        for key in ("start_cmd", "stop_cmd"):
            command = getattr(service, key)
            if not command:
                report.add(key, f"a failover service needs {key} (service = fos)")
            elif not command.startswith("/"):
                report.add(key, f"{command!r} must start with the command's absolute path")
    _probe_rules(report, service)
    return problems


def validate_config(config) -> list[Problem]:
    """Every problem of the whole configuration, in file order where lines are known."""
    problems: list[Problem] = []
    report = _Report(problems, config, ())
    _fields(report, "global")
    _global_rules(report, config)
    for virtual in config.virtual_servers:
        problems += validate_virtual(virtual, config)
    for service in config.failover_services:
        problems += validate_failover(service, config)
    _unique_blocks(problems, config.virtual_servers, "virtual")
    _unique_blocks(problems, config.failover_services, "failover")
    _shared_vips(problems, config.virtual_servers + config.failover_services)
    _floating_addresses(problems, config)
    _shared_fwmarks(problems, config.virtual_servers)
    if config.service == "fos":
        if not config.failover_services:
            report.add("service", "service = fos needs at least one failover block")
        elif not any(service.active for service in config.failover_services):
            report.add("service", "service = fos needs at least one active failover service")
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _global_rules(report: _Report, config) -> None:
    if is_unspecified(config.primary):
        report.add("primary", "the primary director's address is required")
    for key in ("primary_private", "backup_private"):
        if config.explicit(key) is not None and is_unspecified(config.explicit(key)):
            report.add(key, f"{config.explicit(key)} is not a usable heartbeat address")
    if config.explicit("backup_private") is not None and config.explicit("primary_private") is None:
        report.add("backup_private", "has no effect without primary_private (Piranha ignored it): set both "
                                     "or neither")
    if config.backup_active:
        if is_unspecified(config.backup):
            report.add("backup_active", "backup_active = 1 needs a backup address")
        elif config.backup == config.primary:
            report.add("backup", f"{config.backup} is also the primary's address")
        if config.explicit("primary_private") is not None and config.explicit("backup_private") is None:
            report.add("primary_private", "needs backup_private, the backup's end of the heartbeat path")
        elif config.explicit("primary_private") is not None and config.primary_private == config.backup_private:
            report.add("backup_private", f"{config.backup_private} is also primary_private")
    families = {_family(config.primary), _family(config.backup if config.backup_active else None)} - {None}
    if len(families) > 1:
        report.add("backup", "primary and backup must both be IPv4 or both IPv6 addresses")
    if isinstance(config.keepalive, (int, float)) and isinstance(config.deadtime, (int, float)) \
            and config.deadtime <= config.keepalive:
        report.add("deadtime", f"must be longer than keepalive ({config.deadtime:g} <= {config.keepalive:g} s)")
    if config.nat_router is not None and is_unspecified(config.nat_router):
        report.add("nat_router", f"{config.nat_router} is not a usable router address")


def _unique_blocks(problems: list, blocks: list, kind: str) -> None:
    names: dict[str, int | None] = {}
    services: dict[tuple, object] = {}
    for block in blocks:
        report = _Report(problems, block, (kind, block.name))
        if block.name in names:
            report.add(None, f"{kind} name {block.name!r} is used twice{_at(names[block.name], 'first on line')}")
        names.setdefault(block.name, block.line)
        if is_unspecified(block.address) or getattr(block, "fwmark", None):
            continue
        key = (block.address, block.protocol, block.port)
        if key in services:
            other = services[key]
            report.add("address", f"{block.address} {block.protocol} port {block.port} is already {kind} "
                                  f"{other.name!r}{_at(other.line)}")
        services.setdefault(key, block)


def _shared_vips(problems: list, blocks: list) -> None:
    """One VIP is raised once: every block using it must name the same interface and netmask."""
    first: dict[str, object] = {}
    for block in blocks:
        if is_unspecified(block.address):
            continue
        other = first.setdefault(block.address, block)
        if other is block:
            continue
        path = ("virtual" if hasattr(block, "servers") else "failover", block.name)
        report = _Report(problems, block, path)
        if other.device != block.device:
            report.add("address", f"VIP {block.address} is on {block.device} here but on {other.device} in "
                                  f"{other.name!r}{_at(other.line)}")
        if other.vip_nmask != block.vip_nmask:
            report.add("vip_nmask", f"VIP {block.address} has netmask {_shown(block.vip_nmask)} here but "
                                    f"{_shown(other.vip_nmask)} in {other.name!r}{_at(other.line)}")


def _floating_addresses(problems: list, config) -> None:
    """A VIP or the NAT router address moves between directors: it cannot be a director's own address.

    Loopback addresses are exempt: they never leave the host, and single-host test set-ups use them for both.
    """
    own = {}
    for key in ("primary", "backup", "primary_private", "backup_private"):
        address = config.explicit(key)
        if isinstance(address, str) and not is_unspecified(address) and not _loopback(address):
            own.setdefault(address, key)
    if config.nat_router in own:
        _Report(problems, config, ()).add("nat_router", f"{config.nat_router} is the {own[config.nat_router]} "
                                                        "director's own address; the NAT router address must float")
    for block in config.virtual_servers + config.failover_services:
        if block.address in own:
            kind = "virtual" if hasattr(block, "servers") else "failover"
            _Report(problems, block, (kind, block.name)).add(
                "address", f"{block.address} is the {own[block.address]} director's own address; a VIP must be "
                           "an address of its own (it moves to the active director)")


def _shared_fwmarks(problems: list, virtuals: list) -> None:
    """Virtual servers sharing a firewall mark are one IPVS service: scheduling and persistence must agree."""
    first: dict[int, object] = {}
    for virtual in virtuals:
        if not virtual.fwmark:
            continue
        other = first.setdefault(virtual.fwmark, virtual)
        if other is virtual:
            continue
        report = _Report(problems, virtual, ("virtual", virtual.name))
        for key in ("persistent", "pmask", "scheduler"):
            if getattr(other, key) != getattr(virtual, key):
                mine, theirs = (_shown(getattr(block, key)) for block in (virtual, other))
                report.add(key, f"virtual servers sharing fwmark {virtual.fwmark} must agree: this one has "
                                f"{mine}, {other.name!r}{_at(other.line)} has {theirs}")


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def _at(line: int | None, what: str = "line") -> str:
    return f" ({what} {line})" if line is not None else ""


def _shown(value) -> str:
    return "unset" if value is None else str(value)
