"""The one table of lvs.cf keywords: parser, renderer, validator, console forms and docs all read it.

    >>> from piranha.lvscf import schema
    >>> kw = schema.keyword("virtual", "scheduler")
    >>> kw.default, kw.convert("rr"), kw.choices[:3]
    ('wlc', 'rr', ('rr', 'wrr', 'lc'))

``keywords(block)`` lists a block's keywords in the canonical order the original GUI wrote them (keys the GUI
never wrote follow). Defaults are the C daemons' defaults (Piranha reference §1.3-1.6). Legacy keys that
Piranha's GUI wrote but its daemons rejected are declared too (``legacy=True``): they load with a warning and
are dropped when the file is written again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from piranha.lvscf.converters import (
    Boolean, Choice, Host, HostDevice, Integer, Interface, Netmask, Path, Port, Seconds, Text, ValueType, WordList,
)

BLOCKS = ("global", "virtual", "server", "failover")
NEW = "piranha-ng 1.0"
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh")
_COMMAND = Text(label="command line")
_QUOTED = Text(quoted=True, label='quoted string')
_PROBE = Text(quoted=True, max_length=255, label="quoted string (up to 255 characters)")


@dataclass(frozen=True)
class Keyword:
    """One lvs.cf key in one block. ``attrs`` names the model attributes it fills (two for ``IP DEVICE``)."""

    name: str
    block: str
    type: ValueType
    default: object
    help: str
    since: str
    c_parser: bool = True
    legacy: bool = False
    unused: bool = False
    attrs: tuple = ()
    arity: int | None = 1
    quoted: bool = False  # written inside double quotes (send, expect, send_program, start_cmd, stop_cmd)

    @property
    def choices(self) -> tuple | None:
        return self.type.choices

    def convert(self, text: str):
        """Text from lvs.cf (quotes already removed) -> typed value; ValueError quotes the bad text."""
        return self.type.parse(text)

    def check(self, value) -> None:
        """Raise ValueError when an in-memory value is not acceptable for this keyword."""
        self.type.check(value)

    def format(self, value) -> str:
        return self.type.format(value)


def _kw(name, block, type_, default, help_, since, **extra) -> Keyword:
    arity = 2 if isinstance(type_, HostDevice) else (None if isinstance(type_, WordList) else 1)
    attrs = extra.pop("attrs", (name,))
    quoted = getattr(type_, "quoted", False)
    return Keyword(name, block, type_, default, help_, since, attrs=attrs, arity=arity, quoted=quoted, **extra)


def _legacy(name, block, help_, type_=None) -> Keyword:
    return _kw(name, block, type_ or Text(label="any value"), None, help_, "GUI only", c_parser=False, legacy=True)


_GLOBAL = [
    _kw("serial_no", "global", Integer(0, 2**31 - 1), 0,
        "Edit counter, like a DNS serial: the console adds 1 on every applied change. The daemons ignore it.",
        "0.5 (2001)"),
    _kw("primary", "global", Host(), None,
        "Public address of the primary director. A node is the primary when one of its interfaces has this "
        "address. Heartbeats are sent to and from it.", "1999"),
    _kw("primary_private", "global", Host(), None,
        "Primary director's address on a dedicated heartbeat network (a second heartbeat path). "
        "When absent it is the same as primary, and there is no second path.", "2001"),
    _kw("primary_shared", "global", Text(), None,
        "Shared SCSI disk as seen by the primary (Piranha's FOS disk-reservation feature).",
        "2001", unused=True),
    _kw("service", "global", Choice("lvs", "fos"), "lvs",
        "lvs: load-balance virtual servers through IPVS. fos: failover services (start/stop commands on the "
        "active node).", "0.4 (2000)"),
    _kw("rsh_command", "global", _COMMAND, "rsh",
        "Remote shell used to read a real server's load when a virtual server has load_monitor = uptime.",
        "1999"),
    _kw("backup_active", "global", Boolean(), False,
        "1 when a backup director is configured: heartbeats are exchanged and the backup takes over when the "
        "primary falls silent. Needs backup.", "0.4 (2000)"),
    _kw("backup", "global", Host(), None, "Public address of the backup director.", "1999"),
    _kw("backup_private", "global", Host(), None,
        "Backup director's address on the dedicated heartbeat network. When primary_private is absent it is "
        "the same as backup.", "2001"),
    _kw("backup_shared", "global", Text(), None,
        "Shared SCSI disk as seen by the backup.", "2001", unused=True),
    _kw("heartbeat", "global", Boolean(), False,
        "Historical 'use heartbeat' switch the original GUI wrote.", "1999", unused=True),
    _kw("heartbeat_port", "global", Port(), 539, "UDP port of the heartbeat on both directors.", "1999"),
    _kw("keepalive", "global", Seconds(0.1, 3600), 2.0,
        "Seconds between heartbeats. Fractions are allowed (piranha-ng).", "1999"),
    _kw("deadtime", "global", Seconds(0.1, 86400), 5.0,
        "Seconds of heartbeat silence before the partner is declared dead; must exceed keepalive.", "1999"),
    _kw("network", "global", Choice("nat", "direct", "tunnel"), "nat",
        "IPVS forwarding method of every virtual server: NAT (masquerading), direct routing or IP tunnelling.",
        "0.4 (2000)"),
    _kw("nat_router", "global", HostDevice(), None,
        "Floating gateway address and interface (e.g. '10.0.0.254 eth1:1') the real servers route through in "
        "NAT mode; raised with the VIPs on the active director.", "1999",
        attrs=("nat_router", "nat_router_device")),
    _kw("nat_nmask", "global", Netmask(), None, "Netmask of the nat_router address.", "0.4.16 (2000)"),
    _kw("reservation_conflict_action", "global", Choice("nothing", "preempt"), None,
        "FOS shared-SCSI reservation policy.", "2001", unused=True),
    _kw("debug_level", "global", Text(), "NONE", "Placeholder the original GUI wrote (NONE or MAX).",
        "0.4.16 (2000)", unused=True),
    _kw("monitor_links", "global", Boolean(any_integer=True), False,
        "1: watch the link state of the director's interfaces and fail over when a VIP's link goes down "
        "(only with backup_active = 1).", "0.8.1 (2005)"),
    _kw("syncdaemon", "global", Boolean(), False,
        "1: run the IPVS connection-sync daemon (master on the active director, backup on the other).", "0.8.4"),
    _kw("syncd_iface", "global", Interface(), "eth0", "Multicast interface of the IPVS sync daemon.", "0.8.5"),
    _kw("syncd_id", "global", Integer(0, 255), 0, "Sync daemon id, to run several LVS pairs on one network.",
        "0.8.5"),
    _kw("tcp_timeout", "global", Integer(0, 2**31 - 1), None,
        "IPVS TCP session timeout in seconds; unset or 0 leaves the kernel's value.", "0.8.5"),
    _kw("tcpfin_timeout", "global", Integer(0, 2**31 - 1), None,
        "IPVS TCP timeout after FIN, in seconds; unset or 0 leaves the kernel's value.", "0.8.5"),
    _kw("udp_timeout", "global", Integer(0, 2**31 - 1), None,
        "IPVS UDP timeout in seconds; unset or 0 leaves the kernel's value.", "0.8.5"),
    _kw("active_cmd", "global", _COMMAND, None,
        "Command run (not waited for) when this director becomes active. Split on blanks, run without a shell.",
        "0.7.8 (2004)"),
    _kw("inactive_cmd", "global", _COMMAND, None,
        "Command run at start-up in LVS mode and whenever this director stops being active.", "0.7.8 (2004)"),
    _kw("hard_shutdown", "global", Boolean(), True,
        "1: a failure of the health-check process stops load balancing on this director. 0: log it and go on.",
        "0.8.5 (2010)"),
    _kw("sync", "global", Boolean(), False, "Legacy file-sync switch.", "1999", unused=True),
    _kw("ipvsadm", "global", Path(), "/sbin/ipvsadm",
        "Path of ipvsadm for Piranha's daemons; piranha-ng programs IPVS through netlink.", "1999",
        unused=True),
    _kw("heartbeat_key_file", "global", Path(), None,
        "File holding the shared secret of the authenticated heartbeat (HMAC-SHA256 with sequence numbers). "
        "Both directors need the same key; unset sends Piranha's unauthenticated heartbeat.", NEW,
        c_parser=False),
]

_VIRTUAL = [
    _kw("active", "virtual", Boolean(), False,
        "1: the virtual server is in service (VIP raised, IPVS service created, real servers checked).", "1999"),
    _kw("address", "virtual", HostDevice(), None,
        "The VIP and the interface that carries it, e.g. '192.168.1.10 eth0:1'. Both values are required.",
        "1999", attrs=("address", "device")),
    _kw("sorry_server", "virtual", Host(hostnames=False), None,
        "Fallback server added (weight 1) while no real server of this virtual server is healthy.",
        "0.8.4 (2008)"),
    _kw("vip_nmask", "virtual", Netmask(), None, "Netmask of the VIP on its interface.", "0.4.16 (2000)"),
    _kw("fwmark", "virtual", Integer(0, 2**32 - 1), None,
        "Firewall mark: when non-zero the IPVS service matches packets with this mark (set by iptables mangle "
        "rules) instead of address/protocol/port.", "2001"),
    _kw("port", "virtual", Port(), 80, "Port of the virtual service, and the real servers' default port.",
        "1999"),
    _kw("persistent", "virtual", Integer(0, 2**31 - 1), None,
        "Seconds a client stays with the same real server; unset or 0 turns persistence off.", "1999"),
    _kw("pmask", "virtual", Netmask(), None,
        "Persistence netmask: clients in the same network share a real server.", "0.4 (2000)"),
    _kw("send", "virtual", _PROBE, None,
        "String sent to each real server by the health check; \\r \\n \\t \\\\ escapes are interpreted.",
        "0.4 (2000)"),
    _kw("expect", "virtual", _PROBE, None,
        "Expected start of the reply (a regular expression with use_regex = 1; '*' accepts any reply).",
        "0.4 (2000)"),
    _kw("use_regex", "virtual", Boolean(), False, "1: expect is a POSIX extended regular expression.",
        "2002"),
    _kw("send_program", "virtual", _QUOTED, None,
        "External check command, run without a shell; %h is replaced by the real server's address and %p by "
        "its port. Its output is compared with expect. Overrides send.", "2001"),
    _legacy("expect_program", "virtual", "Written by Piranha's GUI but rejected by its daemons."),
    _kw("load_monitor", "virtual", Choice("none", "uptime", "rup", "ruptime"), "none",
        "How the real servers' load is read to adjust their weights (uptime uses rsh_command).", "1999"),
    _kw("scheduler", "virtual", Choice(*SCHEDULERS), "wlc",
        "IPVS scheduler. sed, nq, fo, ovf and mh need a recent kernel (piranha-ng).", "1999"),
    _legacy("deadtime", "virtual", "Written by Piranha's GUI in virtual blocks but rejected by its daemons."),
    _kw("protocol", "virtual", Choice("tcp", "udp"), "tcp", "Protocol of the virtual service and of its checks.",
        "0.4 (2000)"),
    _kw("timeout", "virtual", Seconds(0.1, 3600), 10.0,
        "Health-check timeout (connect, reply, program), and the check interval unless check_interval is set.",
        "1999"),
    _kw("reentry", "virtual", Seconds(0, 86400), 180.0,
        "Seconds a failed real server must keep passing checks before it receives traffic again.", "1999"),
    _kw("quiesce_server", "virtual", Boolean(), False,
        "1: a failed real server gets weight 0 (existing connections finish) instead of being removed.", "2001"),
    _kw("check_interval", "virtual", Seconds(0.1, 3600), None,
        "Seconds between health checks of each real server; unset = timeout.", NEW, c_parser=False),
    _kw("failures", "virtual", Integer(1, 100), 1,
        "Consecutive failed checks before a real server is taken out.", NEW, c_parser=False),
    _kw("client_monitor", "virtual", Path(), "/usr/sbin/nanny",
        "Monitor program of Piranha's lvsd (developer hook).", "1999", unused=True),
    _kw("master", "virtual", Host(), None, "Legacy file-mirroring key.", "1999", unused=True),
    _kw("dirs", "virtual", WordList(), None, "Legacy file-mirroring list.", "1999", unused=True),
]

_SERVER = [
    _kw("address", "server", Host(), None, "Address of the real server (no port).", "1999"),
    _legacy("nmask", "server", "Field of old GUIs; Piranha's daemons rejected it.", Netmask()),
    _kw("active", "server", Boolean(), False, "1: the real server is health-checked and can receive traffic.",
        "1999"),
    _kw("port", "server", Port(service_names=False), None,
        "Port on the real server; unset = the virtual server's port (NAT can map ports).", "0.8.4 (2008)"),
    _kw("weight", "server", Integer(0, 65535), 1,
        "Relative capacity for weighted schedulers; 0 keeps the server in IPVS without new connections.", "1999"),
]

_VIRTUAL_BY_NAME = {kw.name: kw for kw in _VIRTUAL}


def _shared(name: str, help_: str | None = None) -> Keyword:
    kw = _VIRTUAL_BY_NAME[name]
    return replace(kw, block="failover", help=help_ or kw.help)


_FAILOVER = [
    _shared("address", "The service's VIP and interface, raised on the active node only, e.g. "
                       "'192.168.1.20 eth0:1'."),
    _shared("vip_nmask"),
    _shared("active", "1: the service is started on the active node and probed on the partner."),
    _shared("port", "Port probed on the partner's service."),
    _shared("protocol", "Protocol of the probe."),
    _shared("timeout", "Probe timeout and interval."),
    _legacy("heartbeat", "failover", "Written by Piranha's GUI in failover blocks but rejected by its daemons."),
    _shared("send"),
    _shared("expect"),
    _shared("use_regex"),
    _shared("send_program"),
    _legacy("expect_program", "failover", "Written by Piranha's GUI but rejected by its daemons."),
    _kw("start_cmd", "failover", _QUOTED, None,
        "Command that starts the service (absolute path and arguments, split on blanks, no shell); must be "
        "harmless when the service already runs.", "0.4 (2000)"),
    _kw("stop_cmd", "failover", _QUOTED, None, "Command that stops the service (as start_cmd).", "0.4 (2000)"),
    _legacy("nmask", "failover", "Field of old GUIs' failover page; Piranha's daemons rejected it.", Netmask()),
]

_TABLE = {"global": _GLOBAL, "virtual": _VIRTUAL, "server": _SERVER, "failover": _FAILOVER}
_BY_NAME = {block: {kw.name: kw for kw in kws} for block, kws in _TABLE.items()}


def keywords(block: str, legacy: bool = False) -> list[Keyword]:
    """The block's keywords in canonical render order; legacy (GUI-only) keys only when asked for."""
    return [kw for kw in _table(block) if legacy or not kw.legacy]


def keyword(block: str, name: str) -> Keyword:
    """The keyword ``name`` of ``block`` (legacy ones included); KeyError names what is missing."""
    try:
        return _BY_NAME[block][name]
    except KeyError:
        raise KeyError(f"no keyword {name!r} in a {block} block") from None


def lookup(block: str) -> dict[str, Keyword]:
    """Name -> Keyword for the parser's dispatch (legacy keys included)."""
    _table(block)
    return _BY_NAME[block]


def _table(block: str) -> list[Keyword]:
    if block not in _TABLE:
        raise KeyError(f"unknown block {block!r}; blocks are {', '.join(BLOCKS)}")
    return _TABLE[block]
