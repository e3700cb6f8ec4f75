"""An in-memory IPVS table with the kernel's contract, for tests of everything above piranha.net.ipvs.

    >>> fake = FakeIPVS()
    >>> key = ServiceKey.inet("tcp", "192.0.2.10", 80)
    >>> fake.add_service(Service(key, scheduler="rr"))
    >>> fake.add_dest(key, Dest("10.0.0.5", 80, "nat", 2))
    >>> [d.dest.weight for d in fake.table()[0].dests]
    [2]

It answers the same errno as the kernel (EEXIST for a duplicate, ESRCH for a missing service, ENOENT for a
missing real server or an unknown scheduler) and keeps every call in `.calls` so tests can prove that a
reconcile touched only what changed. Connection counters can be set with `set_counters` to test status.
"""

from __future__ import annotations

import errno
from dataclasses import replace

from piranha.net.ipvs_model import (
    SYNC_STATES, Dest, IPVSError, LiveDest, LiveService, Service, ServiceKey, Stats, SyncDaemon,
    Timeouts,
)

KERNEL_DEFAULT_TIMEOUTS = Timeouts(tcp=900, tcpfin=120, udp=300)
# The scheduler modules Linux 6.1 ships (ip_vs_*.ko); any other name is ENOENT, as the kernel answers.
KERNEL_SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh")


class FakeIPVS:
    def __init__(self, schedulers: tuple[str, ...] | None = KERNEL_SCHEDULERS, record_calls: bool = True):
        self._schedulers = schedulers          # None: accept any name (a mirror of a table read from the kernel)
        self._record_calls = record_calls
        self._services: dict[ServiceKey, Service] = {}
        self._dests: dict[ServiceKey, dict[tuple[str, int], LiveDest]] = {}
        self._timeouts = KERNEL_DEFAULT_TIMEOUTS
        self._daemons: dict[str, SyncDaemon] = {}
        self.calls: list[tuple] = []
        self.fail_next: IPVSError | None = None  # raised by the next writing call, then cleared

    def close(self) -> None:
        pass

    def __enter__(self) -> "FakeIPVS":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _record(self, *call) -> None:
        if self._record_calls:
            self.calls.append(call)
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure

    def _service(self, key: ServiceKey, what: str) -> Service:
        if key not in self._services:
            raise IPVSError(errno.ESRCH, what)
        return self._services[key]

    # services ----------------------------------------------------------------------------------------
    def add_service(self, service: Service) -> None:
        self._record("add_service", service)
        what = f"add service {service.key}"
        if self._schedulers is not None and service.scheduler not in self._schedulers:
            raise IPVSError(errno.ENOENT, what)
        if service.key in self._services:
            raise IPVSError(errno.EEXIST, what)
        self._services[service.key] = service
        self._dests[service.key] = {}

    def edit_service(self, service: Service) -> None:
        self._record("edit_service", service)
        what = f"edit service {service.key}"
        self._service(service.key, what)
        if self._schedulers is not None and service.scheduler not in self._schedulers:
            raise IPVSError(errno.ENOENT, what)
        self._services[service.key] = service

    def delete_service(self, key: ServiceKey) -> None:
        self._record("delete_service", key)
        self._service(key, f"delete service {key}")
        del self._services[key], self._dests[key]

    # real servers ------------------------------------------------------------------------------------
    def add_dest(self, key: ServiceKey, dest: Dest) -> None:
        self._record("add_dest", key, dest)
        what = f"add real server {dest.address}:{dest.port} to {key}"
        self._service(key, what)
        if dest.ident in self._dests[key]:
            raise IPVSError(errno.EEXIST, what)
        self._dests[key][dest.ident] = LiveDest(dest)

    def edit_dest(self, key: ServiceKey, dest: Dest) -> None:
        self._record("edit_dest", key, dest)
        what = f"edit real server {dest.address}:{dest.port} of {key}"
        self._service(key, what)
        if dest.ident not in self._dests[key]:
            raise IPVSError(errno.ENOENT, what)
        self._dests[key][dest.ident] = replace(self._dests[key][dest.ident], dest=dest)

    def delete_dest(self, key: ServiceKey, address: str, port: int) -> None:
        self._record("delete_dest", key, address, port)
        what = f"delete real server {address}:{port} of {key}"
        self._service(key, what)
        if (address, port) not in self._dests[key]:
            raise IPVSError(errno.ENOENT, what)
        del self._dests[key][(address, port)]

    def set_counters(self, key: ServiceKey, address: str, port: int, *, active: int = 0, inactive: int = 0,
                     persistent: int = 0, stats: Stats | None = None) -> None:
        """Test hook: pretend the kernel counted connections on a real server."""
        live = self._dests[key][(address, port)]
        self._dests[key][(address, port)] = replace(live, active_conns=active, inactive_conns=inactive,
                                                    persistent_conns=persistent, stats=stats or live.stats)

    @classmethod
    def mirror(cls, live: list[LiveService]) -> "FakeIPVS":
        """An in-memory copy of a table read from the kernel (without counters)."""
        copy = cls(schedulers=None, record_calls=False)
        for entry in live:
            copy.add_service(entry.service)
            for dest in entry.dests:
                copy.add_dest(entry.service.key, dest.dest)
        return copy

    # reading -----------------------------------------------------------------------------------------
    def table(self) -> list[LiveService]:
        live = []
        for key, service in self._services.items():
            dests = tuple(sorted(self._dests[key].values(), key=lambda d: d.dest.ident))
            total = Stats(**{name: sum(getattr(d.stats, name) for d in dests) for name in Stats.__dataclass_fields__})
            live.append(LiveService(service, dests, total))
        return sorted(live, key=lambda s: s.service.key.sort_key())

    # timeouts ----------------------------------------------------------------------------------------
    def timeouts(self) -> Timeouts:
        return self._timeouts

    def set_timeouts(self, timeouts: Timeouts) -> None:
        for name in ("tcp", "tcpfin", "udp"):
            if getattr(timeouts, name) < 0:
                raise ValueError(f"{name} timeout {getattr(timeouts, name)!r} is negative")
        self._record("set_timeouts", timeouts)
        self._timeouts = Timeouts(*(new or old for new, old in zip(
            (timeouts.tcp, timeouts.tcpfin, timeouts.udp),
            (self._timeouts.tcp, self._timeouts.tcpfin, self._timeouts.udp))))

    # connection sync daemon --------------------------------------------------------------------------
    def sync_daemons(self) -> list[SyncDaemon]:
        return sorted(self._daemons.values(), key=lambda d: d.state)

    def start_sync_daemon(self, daemon: SyncDaemon) -> None:
        if daemon.state not in SYNC_STATES:
            raise ValueError(f"sync daemon state {daemon.state!r} is not master or backup")
        self._record("start_sync_daemon", daemon)
        if daemon.state in self._daemons:
            raise IPVSError(errno.EEXIST, f"start {daemon.state} sync daemon on {daemon.interface}")
        self._daemons[daemon.state] = daemon

    def stop_sync_daemon(self, state: str) -> None:
        if state not in SYNC_STATES:
            raise ValueError(f"sync daemon state {state!r} is not master or backup")
        self._record("stop_sync_daemon", state)
        if state not in self._daemons:
            raise IPVSError(errno.ESRCH, f"stop {state} sync daemon")
        del self._daemons[state]
