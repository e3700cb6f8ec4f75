"""Typed model of an lvs.cf: attribute names are the keyword names, defaults come from the schema.

Every block also records which keywords the file set explicitly (``present``), on which line each one was
(``lines``), and, for faithful re-rendering, how a value was spelled when that differs from the canonical
form (``spelling``: ``port = http``, ``0x10``). None of these take part in ``==``.

``primary_private`` and ``backup_private`` follow the C parser's defaulting: reading them gives the value in
effect (``primary_private`` falls back to ``primary``; ``backup_private`` to ``backup`` while
``primary_private`` is not set); only explicitly set values are written back. ``dataclasses.replace`` copies
the value in effect, which makes it explicit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from piranha.lvscf import schema


def _bookkeeping():
    return dict(compare=False, repr=False, kw_only=True)


def _block(block: str):
    """Class decorator: give each keyword attribute its schema default, then make the class a dataclass."""

    def decorate(cls):
        for kw in schema.keywords(block):
            for attr in kw.attrs:
                if attr not in cls.__annotations__:
                    raise TypeError(f"{cls.__name__} lacks the attribute {attr!r} of keyword {kw.name!r}")
                setattr(cls, attr, kw.default if attr == kw.name else None)
        return dataclass(cls)

    return decorate


@_block("server")
class RealServer:
    name: str
    address: str | None
    active: bool
    port: int | None
    weight: int
    present: set[str] = field(default_factory=set, **_bookkeeping())
    lines: dict[str, int] = field(default_factory=dict, **_bookkeeping())
    spelling: dict[str, str] = field(default_factory=dict, **_bookkeeping())
    line: int | None = field(default=None, **_bookkeeping())

    def validate(self, virtual: "VirtualServer | None" = None) -> list:
        from piranha.lvscf.validate import validate_server
        return validate_server(self, virtual)


@_block("virtual")
class VirtualServer:
    name: str
    active: bool
    address: str | None
    device: str | None
    sorry_server: str | None
    vip_nmask: str | None
    fwmark: int | None
    port: int
    persistent: int | None
    pmask: str | None
    send: str | None
    expect: str | None
    use_regex: bool
    send_program: str | None
    load_monitor: str
    scheduler: str
    protocol: str
    timeout: float
    reentry: float
    quiesce_server: bool
    check_interval: float | None
    failures: int
    client_monitor: str
    master: str | None
    dirs: tuple | None
    servers: list[RealServer] = field(default_factory=list)
    present: set[str] = field(default_factory=set, **_bookkeeping())
    lines: dict[str, int] = field(default_factory=dict, **_bookkeeping())
    spelling: dict[str, str] = field(default_factory=dict, **_bookkeeping())
    line: int | None = field(default=None, **_bookkeeping())

    def server(self, name: str) -> RealServer:
        for server in self.servers:
            if server.name == name:
                return server
        raise KeyError(f"virtual server {self.name!r} has no real server {name!r}")

    def real_port(self, server: RealServer) -> int:
        """The port traffic and checks go to on ``server``: its own, else this virtual server's."""
        return self.port if server.port is None else server.port

    @property
    def interval(self) -> float:
        """Seconds between checks of each real server (check_interval, else timeout as in Piranha)."""
        return self.timeout if self.check_interval is None else self.check_interval

    def validate(self, config: "LvsConfig | None" = None) -> list:
        from piranha.lvscf.validate import validate_virtual
        return validate_virtual(self, config)


@_block("failover")
class FailoverService:
    name: str
    address: str | None
    device: str | None
    vip_nmask: str | None
    active: bool
    port: int
    protocol: str
    timeout: float
    send: str | None
    expect: str | None
    use_regex: bool
    send_program: str | None
    start_cmd: str | None
    stop_cmd: str | None
    present: set[str] = field(default_factory=set, **_bookkeeping())
    lines: dict[str, int] = field(default_factory=dict, **_bookkeeping())
    spelling: dict[str, str] = field(default_factory=dict, **_bookkeeping())
    line: int | None = field(default=None, **_bookkeeping())

    def validate(self, config: "LvsConfig | None" = None) -> list:
        from piranha.lvscf.validate import validate_failover
        return validate_failover(self, config)


@_block("global")
class LvsConfig:
    serial_no: int
    primary: str | None
    primary_private: str | None
    primary_shared: str | None
    service: str
    rsh_command: str
    backup_active: bool
    backup: str | None
    backup_private: str | None
    backup_shared: str | None
    heartbeat: bool
    heartbeat_port: int
    keepalive: float
    deadtime: float
    network: str
    nat_router: str | None
    nat_router_device: str | None
    nat_nmask: str | None
    reservation_conflict_action: str | None
    debug_level: str
    monitor_links: bool
    syncdaemon: bool
    syncd_iface: str
    syncd_id: int
    tcp_timeout: int | None
    tcpfin_timeout: int | None
    udp_timeout: int | None
    active_cmd: str | None
    inactive_cmd: str | None
    hard_shutdown: bool
    sync: bool
    ipvsadm: str
    heartbeat_key_file: str | None
    virtual_servers: list[VirtualServer] = field(default_factory=list)
    failover_services: list[FailoverService] = field(default_factory=list)
    present: set[str] = field(default_factory=set, **_bookkeeping())
    lines: dict[str, int] = field(default_factory=dict, **_bookkeeping())
    spelling: dict[str, str] = field(default_factory=dict, **_bookkeeping())
    warnings: list = field(default_factory=list, **_bookkeeping())

    def virtual_server(self, name: str) -> VirtualServer:
        for virtual in self.virtual_servers:
            if virtual.name == name:
                return virtual
        raise KeyError(f"no virtual server named {name!r}")

    def failover_service(self, name: str) -> FailoverService:
        for service in self.failover_services:
            if service.name == name:
                return service
        raise KeyError(f"no failover service named {name!r}")

    def explicit(self, attr: str):
        """The value as set (None when not set), before primary_private/backup_private defaulting."""
        if attr in _DERIVED:
            return self.__dict__.get(_DERIVED[attr])
        return getattr(self, attr)

    def validate(self) -> list:
        """Every semantic problem of the whole configuration (empty list = valid)."""
        from piranha.lvscf.validate import validate_config
        return validate_config(self)


_DERIVED = {"primary_private": "_primary_private", "backup_private": "_backup_private"}


def _primary_private(self):
    value = self.__dict__.get("_primary_private")
    return self.primary if value is None else value


def _backup_private(self):
    value = self.__dict__.get("_backup_private")
    if value is None and self.__dict__.get("_primary_private") is None:
        return self.backup
    return value


def _setter(slot: str):
    def set_value(self, value):
        self.__dict__[slot] = value
    return set_value


# Installed after @dataclass so that __init__ (which assigns the attributes) goes through the setters.
LvsConfig.primary_private = property(_primary_private, _setter("_primary_private"))
LvsConfig.backup_private = property(_backup_private, _setter("_backup_private"))

BLOCK_CLASSES = {"global": LvsConfig, "virtual": VirtualServer, "server": RealServer, "failover": FailoverService}
