"""The kernel's IPVS table over generic netlink: the only module that imports pyroute2's IPVS.

    >>> with KernelIPVS() as ipvs:                                           # doctest: +SKIP
    ...     key = ServiceKey.inet("tcp", "192.0.2.10", 80)
    ...     ipvs.add_service(Service(key, scheduler="wrr", persistent=300))
    ...     ipvs.add_dest(key, Dest("10.0.0.5", 8080, forwarding="nat", weight=3))
    ...     [live.service.scheduler for live in ipvs.table()]
    ['wrr']

Every request passes every attribute explicitly, because pyroute2's defaults are wrong for us: services
default to wlc with a flags mask that clears persistence, dests default to direct routing, and its "update"
command deletes. Values are read from the raw netlink attributes, never from `from_message()` objects.
`FakeIPVS` (piranha.net.ipvs_fake) honours the same contract in memory.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

from pyroute2 import IPVS, IPVSDest, IPVSService
from pyroute2.ipvs import AsyncIPVS
from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, genlmsg, nla
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.generic import ipvs as genl

from piranha.net.ipvs_model import (
    Dest, IPVSError, LiveDest, LiveService, Service, ServiceKey, Stats, SyncDaemon, Timeouts,
)

__all__ = ["KernelIPVS", "Dest", "IPVSError", "LiveDest", "LiveService", "Service", "ServiceKey", "Stats",
           "SyncDaemon", "Timeouts"]

FWD_CODES = {"nat": 0, "tun": 2, "dr": 3}
FWD_NAMES = {code: name for name, code in FWD_CODES.items()}
FWD_MASK = 0x7
PROTO_CODES = {"tcp": socket.IPPROTO_TCP, "udp": socket.IPPROTO_UDP}
PROTO_NAMES = {code: name for name, code in PROTO_CODES.items()}
SVC_F_PERSISTENT = 0x1
SYNC_CODES = {"master": 1, "backup": 2}
SYNC_NAMES = {code: name for name, code in SYNC_CODES.items()}


class _ipvsmsg(genlmsg):
    """pyroute2's message with the sync-daemon attribute and the timeouts typed (it declares them "hex").

    Not a subclass of genl.ipvsmsg: pyroute2 caches the compiled attribute map on the class, and a subclass
    would inherit the parent's.
    """

    prefix = "IPVS_CMD_ATTR_"
    service = genl.ipvsmsg.service
    dest = genl.ipvsmsg.dest
    nla_map = (
        ("IPVS_CMD_ATTR_UNSPEC", "none"),
        ("IPVS_CMD_ATTR_SERVICE", "service"),
        ("IPVS_CMD_ATTR_DEST", "dest"),
        ("IPVS_CMD_ATTR_DAEMON", "daemon"),
        ("IPVS_CMD_ATTR_TIMEOUT_TCP", "uint32"),
        ("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", "uint32"),
        ("IPVS_CMD_ATTR_TIMEOUT_UDP", "uint32"),
    )

    class daemon(nla):
        prefix = "IPVS_DAEMON_ATTR_"
        nla_map = (
            ("IPVS_DAEMON_ATTR_UNSPEC", "none"),
            ("IPVS_DAEMON_ATTR_STATE", "uint32"),
            ("IPVS_DAEMON_ATTR_MCAST_IFN", "asciiz"),
            ("IPVS_DAEMON_ATTR_SYNC_ID", "uint32"),
            ("IPVS_DAEMON_ATTR_SYNC_MAXLEN", "uint16"),
            ("IPVS_DAEMON_ATTR_MCAST_GROUP", "ip4addr"),
            ("IPVS_DAEMON_ATTR_MCAST_GROUP6", "ip6addr"),
            ("IPVS_DAEMON_ATTR_MCAST_PORT", "uint16"),
            ("IPVS_DAEMON_ATTR_MCAST_TTL", "uint8"),
        )


class _AsyncSocket(AsyncIPVS):
    async def setup_endpoint(self):
        if getattr(self.local, "transport", None) is not None:
            return
        await super(genl.AsyncIPVSSocket, self).setup_endpoint()
        await self.bind(genl.GENL_NAME, _ipvsmsg)


class _Socket(IPVS):
    async_class = _AsyncSocket

    def request(self, msg: _ipvsmsg, flags: int) -> list:
        return self._run_with_cleanup(self.asyncore._do_request, msg, flags)


def _netmask_attr(service: Service) -> str:
    """IPv6 services carry a prefix length in the 32-bit netmask field, in host byte order."""
    if service.key.af == socket.AF_INET6:
        return str(ipaddress.IPv4Address(int(service.pmask).to_bytes(4, sys.byteorder)))
    return str(service.pmask)


def _netmask_value(af: int, text: str | None) -> str | int | None:
    if text is None:
        return None
    if af == socket.AF_INET6:
        return int.from_bytes(ipaddress.IPv4Address(text).packed, sys.byteorder)
    return text


def _key_request(key: ServiceKey) -> IPVSService:
    if key.fwmark:
        return IPVSService(af=key.af, fwmark=key.fwmark)
    return IPVSService(af=key.af, protocol=PROTO_CODES[key.protocol], addr=key.address, port=key.port)


def _service_request(service: Service) -> IPVSService:
    key = service.key
    attrs = {
        "af": key.af,
        "sched_name": service.scheduler,
        "flags": {"flags": SVC_F_PERSISTENT if service.persistent else 0, "mask": 0xFFFFFFFF},
        "timeout": service.persistent,
        "netmask": _netmask_attr(service),
    }
    if key.fwmark:
        attrs["fwmark"] = key.fwmark
    else:
        attrs.update(protocol=PROTO_CODES[key.protocol], addr=key.address, port=key.port)
    return IPVSService(**attrs)


def _dest_request(dest: Dest) -> IPVSDest:
    return IPVSDest(addr=dest.address, addr_family=socket.AF_INET6 if ":" in dest.address else socket.AF_INET,
                    port=dest.port, fwd_method=FWD_CODES[dest.forwarding], weight=dest.weight,
                    u_thresh=0, l_thresh=0, tun_type=0, tun_port=0, tun_flags=0)


def _stats(attrs) -> Stats:
    stats = attrs.get_attr(attrs.prefix + "STATS64") or attrs.get_attr(attrs.prefix + "STATS")
    if stats is None:
        return Stats()
    return Stats(**{name: stats.get_attr("IPVS_STATS_ATTR_" + name.upper(), 0)
                    for name in Stats.__dataclass_fields__})


def _parse_service(attrs) -> Service:
    af = attrs.get_attr("IPVS_SVC_ATTR_AF")
    fwmark = attrs.get_attr("IPVS_SVC_ATTR_FWMARK") or 0
    protocol = PROTO_NAMES.get(attrs.get_attr("IPVS_SVC_ATTR_PROTOCOL"), "tcp")
    if fwmark:
        key = ServiceKey(af, "tcp", None, 0, fwmark)
    else:
        key = ServiceKey(af, protocol, str(ipaddress.ip_address(attrs.get_attr("IPVS_SVC_ATTR_ADDR"))),
                         attrs.get_attr("IPVS_SVC_ATTR_PORT"), 0)
    flags = attrs.get_attr("IPVS_SVC_ATTR_FLAGS") or {"flags": 0}
    persistent = attrs.get_attr("IPVS_SVC_ATTR_TIMEOUT") if flags["flags"] & SVC_F_PERSISTENT else 0
    return Service(key, scheduler=attrs.get_attr("IPVS_SVC_ATTR_SCHED_NAME"), persistent=persistent,
                   pmask=_netmask_value(af, attrs.get_attr("IPVS_SVC_ATTR_NETMASK")))


def _parse_dest(attrs) -> LiveDest:
    fwd = attrs.get_attr("IPVS_DEST_ATTR_FWD_METHOD") & FWD_MASK
    dest = Dest(str(ipaddress.ip_address(attrs.get_attr("IPVS_DEST_ATTR_ADDR"))),
                attrs.get_attr("IPVS_DEST_ATTR_PORT"), FWD_NAMES.get(fwd, "nat"),
                attrs.get_attr("IPVS_DEST_ATTR_WEIGHT"))
    return LiveDest(dest, active_conns=attrs.get_attr("IPVS_DEST_ATTR_ACTIVE_CONNS", 0),
                    inactive_conns=attrs.get_attr("IPVS_DEST_ATTR_INACT_CONNS", 0),
                    persistent_conns=attrs.get_attr("IPVS_DEST_ATTR_PERSIST_CONNS", 0),
                    stats=_stats(attrs))


def _materialized(function, *args, **kwargs):
    """Call in the worker thread, and read any generator of replies there too."""
    result = function(*args, **kwargs)
    return list(result) if hasattr(result, "__next__") else result


class KernelIPVS:
    """The IPVS table of one network namespace (the caller's by default); use as a context manager.

    pyroute2's synchronous API runs its own event loop, which cannot run in a thread whose loop is running
    (lvsd's). So the socket lives in one worker thread and every call waits for it there: callers, async or
    not, see plain blocking calls that take a millisecond or so.
    """

    def __init__(self, netns: str | None = None):
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ipvs")
        try:
            self._sock = self._worker.submit(lambda: _Socket(netns=netns, flags=0) if netns else _Socket()).result()
        except NetlinkError as exc:
            self._worker.shutdown()
            raise IPVSError(exc.code, "no IPVS in this kernel (is the ip_vs module loaded?)") from None
        except BaseException:
            self._worker.shutdown()
            raise

    def close(self) -> None:
        try:
            self._worker.submit(self._sock.close).result()
        finally:
            self._worker.shutdown()

    def __enter__(self) -> "KernelIPVS":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, what: str, function, *args, **kwargs):
        try:
            return self._worker.submit(_materialized, function, *args, **kwargs).result()
        except NetlinkError as exc:
            raise IPVSError(exc.code, what) from None

    # services ----------------------------------------------------------------------------------------
    def add_service(self, service: Service) -> None:
        self._call(f"add service {service.key}", self._sock.service, "add", service=_service_request(service))

    def edit_service(self, service: Service) -> None:
        self._call(f"edit service {service.key}", self._sock.service, "set", service=_service_request(service))

    def delete_service(self, key: ServiceKey) -> None:
        self._call(f"delete service {key}", self._sock.service, "del", service=_key_request(key))

    # real servers ------------------------------------------------------------------------------------
    def add_dest(self, key: ServiceKey, dest: Dest) -> None:
        self._call(f"add real server {dest.address}:{dest.port} to {key}", self._sock.dest, "add",
                   service=_key_request(key), dest=_dest_request(dest))

    def edit_dest(self, key: ServiceKey, dest: Dest) -> None:
        self._call(f"edit real server {dest.address}:{dest.port} of {key}", self._sock.dest, "set",
                   service=_key_request(key), dest=_dest_request(dest))

    def delete_dest(self, key: ServiceKey, address: str, port: int) -> None:
        dest = IPVSDest(addr=address, addr_family=socket.AF_INET6 if ":" in address else socket.AF_INET, port=port)
        self._call(f"delete real server {address}:{port} of {key}", self._sock.dest, "del",
                   service=_key_request(key), dest=dest)

    # reading -----------------------------------------------------------------------------------------
    def table(self) -> list[LiveService]:
        """Every service with its real servers and counters, sorted by key."""
        live = []
        for message in self._call("dump services", self._sock.service, "dump"):
            attrs = message.get_attr("IPVS_CMD_ATTR_SERVICE")
            service = _parse_service(attrs)
            dests = self._call(f"dump real servers of {service.key}", self._sock.dest, "dump",
                               service=_key_request(service.key))
            parsed = sorted((_parse_dest(d.get_attr("IPVS_CMD_ATTR_DEST")) for d in dests),
                            key=lambda d: d.dest.ident)
            live.append(LiveService(service, tuple(parsed), _stats(attrs)))
        return sorted(live, key=lambda s: s.service.key.sort_key())

    # timeouts ----------------------------------------------------------------------------------------
    def timeouts(self) -> Timeouts:
        msg = self._message(genl.IPVS_CMD_GET_CONFIG)
        (reply,) = self._call("read timeouts", self._sock.request, msg, NLM_F_REQUEST)
        return Timeouts(reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_TCP"), reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN"),
                        reply.get_attr("IPVS_CMD_ATTR_TIMEOUT_UDP"))

    def set_timeouts(self, timeouts: Timeouts) -> None:
        for name in ("tcp", "tcpfin", "udp"):
            if getattr(timeouts, name) < 0:
                raise ValueError(f"{name} timeout {getattr(timeouts, name)!r} is negative")
        msg = self._message(genl.IPVS_CMD_SET_CONFIG, [
            ("IPVS_CMD_ATTR_TIMEOUT_TCP", timeouts.tcp),
            ("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", timeouts.tcpfin),
            ("IPVS_CMD_ATTR_TIMEOUT_UDP", timeouts.udp)])
        self._call("set timeouts", self._sock.request, msg, NLM_F_REQUEST | NLM_F_ACK)

    # connection sync daemon --------------------------------------------------------------------------
    def sync_daemons(self) -> list[SyncDaemon]:
        msg = self._message(genl.IPVS_CMD_GET_DAEMON)
        found = []
        for reply in self._call("list sync daemons", self._sock.request, msg, NLM_F_REQUEST | NLM_F_DUMP):
            attrs = reply.get_attr("IPVS_CMD_ATTR_DAEMON")
            if attrs is not None:
                found.append(SyncDaemon(SYNC_NAMES[attrs.get_attr("IPVS_DAEMON_ATTR_STATE")],
                                        attrs.get_attr("IPVS_DAEMON_ATTR_MCAST_IFN"),
                                        attrs.get_attr("IPVS_DAEMON_ATTR_SYNC_ID")))
        return sorted(found, key=lambda d: d.state)

    def start_sync_daemon(self, daemon: SyncDaemon) -> None:
        if daemon.state not in SYNC_CODES:
            raise ValueError(f"sync daemon state {daemon.state!r} is not master or backup")
        msg = self._message(genl.IPVS_CMD_NEW_DAEMON, [("IPVS_CMD_ATTR_DAEMON", {"attrs": [
            ("IPVS_DAEMON_ATTR_STATE", SYNC_CODES[daemon.state]),
            ("IPVS_DAEMON_ATTR_MCAST_IFN", daemon.interface),
            ("IPVS_DAEMON_ATTR_SYNC_ID", daemon.syncid)]})])
        self._call(f"start {daemon.state} sync daemon on {daemon.interface}", self._sock.request, msg,
                   NLM_F_REQUEST | NLM_F_ACK)

    def stop_sync_daemon(self, state: str) -> None:
        if state not in SYNC_CODES:
            raise ValueError(f"sync daemon state {state!r} is not master or backup")
        msg = self._message(genl.IPVS_CMD_DEL_DAEMON, [("IPVS_CMD_ATTR_DAEMON", {"attrs": [
            ("IPVS_DAEMON_ATTR_STATE", SYNC_CODES[state])]})])
        self._call(f"stop {state} sync daemon", self._sock.request, msg, NLM_F_REQUEST | NLM_F_ACK)

    @staticmethod
    def _message(cmd: int, attrs: list | None = None) -> _ipvsmsg:
        msg = _ipvsmsg()
        msg["cmd"] = cmd
        msg["version"] = genl.GENL_VERSION
        msg["attrs"] = attrs or []
        return msg
