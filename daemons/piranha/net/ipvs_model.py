"""The IPVS table as plain values, shared by the kernel wrapper, its in-memory fake and lvsd.

A `Service` is identified by its `ServiceKey` ((af, protocol, address, port) or (af, fwmark)); a `Dest`
(real server) by (address, port) inside its service. Values are what lvsd wants; `LiveService` and
`LiveDest` add what the kernel counts.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass, field

FORWARDING = ("nat", "dr", "tun")
PROTOCOLS = ("tcp", "udp")
SYNC_STATES = ("master", "backup")


class IPVSError(Exception):
    """A refused IPVS operation; `.code` is the errno the kernel (or the fake) answered."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{message}: {errno.errorcode.get(code, code)} ({code})")
        self.code = code


def family_of(address: str) -> int:
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def normal_address(address: str) -> str:
    """The canonical text of an IP address (raises ValueError quoting a bad one)."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise ValueError(f"{address!r} is not an IP address") from None


@dataclass(frozen=True)
class ServiceKey:
    """What the kernel looks a service up by. fwmark > 0 means a firewall-mark service (address/port unused)."""

    af: int = socket.AF_INET
    protocol: str = "tcp"
    address: str | None = None
    port: int = 0
    fwmark: int = 0

    @classmethod
    def inet(cls, protocol: str, address: str, port: int) -> "ServiceKey":
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
        if not 0 < port < 65536:
            raise ValueError(f"port {port!r} is not in 1..65535")
        address = normal_address(address)
        return cls(family_of(address), protocol, address, port, 0)

    @classmethod
    def mark(cls, fwmark: int, af: int = socket.AF_INET) -> "ServiceKey":
        if not 0 < fwmark < 1 << 32:
            raise ValueError(f"fwmark {fwmark!r} is not in 1..4294967295")
        return cls(af, "tcp", None, 0, fwmark)

    def sort_key(self) -> tuple:
        return (self.fwmark, self.af, self.protocol, self.address or "", self.port)

    def __str__(self) -> str:
        if self.fwmark:
            return f"FWM {self.fwmark}" + (" IPv6" if self.af == socket.AF_INET6 else "")
        host = f"[{self.address}]" if self.af == socket.AF_INET6 else self.address
        return f"{self.protocol.upper()} {host}:{self.port}"


@dataclass(frozen=True)
class Service:
    """A virtual service as configured: persistence is `persistent` seconds (0 = off) under `pmask`."""

    key: ServiceKey
    scheduler: str = "wlc"
    persistent: int = 0
    pmask: str | int | None = None   # IPv4 netmask text, IPv6 prefix length; None = host (/32, /128)

    def __post_init__(self) -> None:
        if not self.scheduler or not self.scheduler.isalnum():
            raise ValueError(f"scheduler {self.scheduler!r} is not a scheduler name")
        if self.persistent < 0:
            raise ValueError(f"persistence {self.persistent!r} is negative")
        if self.pmask is None:
            object.__setattr__(self, "pmask", 128 if self.key.af == socket.AF_INET6 else "255.255.255.255")
        elif self.key.af == socket.AF_INET:
            object.__setattr__(self, "pmask", str(ipaddress.IPv4Network(f"0.0.0.0/{self.pmask}").netmask))
        elif not (isinstance(self.pmask, int) and 1 <= self.pmask <= 128):
            raise ValueError(f"IPv6 persistence mask {self.pmask!r} is not a prefix length 1..128")


@dataclass(frozen=True)
class Dest:
    """A real server inside a service: forwarding method nat/dr/tun and weight."""

    address: str
    port: int
    forwarding: str = "nat"
    weight: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", normal_address(self.address))
        if self.forwarding not in FORWARDING:
            raise ValueError(f"forwarding method {self.forwarding!r} is not one of {', '.join(FORWARDING)}")
        if not 0 <= self.weight <= 0x7FFFFFFF:
            raise ValueError(f"weight {self.weight!r} is not in 0..2147483647")
        if not 0 <= self.port < 65536:
            raise ValueError(f"port {self.port!r} is not in 0..65535")

    @property
    def ident(self) -> tuple[str, int]:
        return (self.address, self.port)


@dataclass(frozen=True)
class Stats:
    conns: int = 0
    inpkts: int = 0
    outpkts: int = 0
    inbytes: int = 0
    outbytes: int = 0
    cps: int = 0
    inpps: int = 0
    outpps: int = 0
    inbps: int = 0
    outbps: int = 0


@dataclass(frozen=True)
class LiveDest:
    dest: Dest
    active_conns: int = 0
    inactive_conns: int = 0
    persistent_conns: int = 0
    stats: Stats = field(default_factory=Stats)


@dataclass(frozen=True)
class LiveService:
    service: Service
    dests: tuple[LiveDest, ...] = ()
    stats: Stats = field(default_factory=Stats)


@dataclass(frozen=True)
class Timeouts:
    """IPVS connection timeouts in seconds; 0 on a set means "leave unchanged" (as ipvsadm --set)."""

    tcp: int = 0
    tcpfin: int = 0
    udp: int = 0


@dataclass(frozen=True)
class SyncDaemon:
    state: str        # master | backup
    interface: str
    syncid: int
