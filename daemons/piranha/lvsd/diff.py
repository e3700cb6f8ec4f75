"""Live IPVS table vs desired table → the few operations that turn one into the other (pure).

Never a flush: a service whose attributes changed is edited in place (it keeps its connections), a service
that did not change is not touched, and only services lvsd owns are ever deleted. Real servers of a managed
service that nothing wants are removed. Operations come out in a safe order: services are created before
their real servers, and real servers leave before their service is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from piranha.lvsd.desired import Desired
from piranha.net.ipvs_model import Dest, LiveService, Service, ServiceKey


@dataclass(frozen=True)
class Operation:
    verb: str                 # add_service | edit_service | delete_service | add_dest | edit_dest | delete_dest
    key: ServiceKey
    service: Service | None = None
    dest: Dest | None = None
    ident: tuple[str, int] | None = None

    def apply(self, ipvs) -> None:
        if self.verb in ("add_service", "edit_service"):
            getattr(ipvs, self.verb)(self.service)
        elif self.verb == "delete_service":
            ipvs.delete_service(self.key)
        elif self.verb in ("add_dest", "edit_dest"):
            getattr(ipvs, self.verb)(self.key, self.dest)
        elif self.verb == "delete_dest":
            ipvs.delete_dest(self.key, *self.ident)
        else:
            raise ValueError(f"unknown IPVS operation {self.verb!r}")

    def __str__(self) -> str:
        if self.service is not None:
            s = self.service
            persistence = f" persistent {s.persistent} mask {s.pmask}" if s.persistent else ""
            return f"{self.verb} {self.key} scheduler {s.scheduler}{persistence}"
        if self.dest is not None:
            d = self.dest
            return f"{self.verb} {self.key} -> {d.address}:{d.port} {d.forwarding} weight {d.weight}"
        if self.ident is not None:
            return f"{self.verb} {self.key} -> {self.ident[0]}:{self.ident[1]}"
        return f"{self.verb} {self.key}"


ORDER = {"delete_dest": 0, "edit_service": 1, "add_service": 2, "add_dest": 3, "edit_dest": 4, "delete_service": 5}


def operations(live: list[LiveService], desired: Desired, owned: set[ServiceKey]) -> list[Operation]:
    """What to do so that the services in `desired` are exactly so, and owned services not desired are gone."""
    ops: list[Operation] = []
    by_key = {entry.service.key: entry for entry in live}
    for key, want in desired.services.items():
        have = by_key.get(key)
        if have is None:
            ops.append(Operation("add_service", key, service=want.service))
            current = {}
        else:
            if have.service != want.service:
                ops.append(Operation("edit_service", key, service=want.service))
            current = {d.dest.ident: d.dest for d in have.dests}
        for ident, dest in want.dests.items():
            if ident not in current:
                ops.append(Operation("add_dest", key, dest=dest))
            elif current[ident] != dest:
                ops.append(Operation("edit_dest", key, dest=dest))
        for ident, dest in current.items():
            if ident in want.dests or ident in want.keep:
                continue
            if ident in want.quiesce:
                if dest.weight != 0:
                    ops.append(Operation("edit_dest", key, dest=Dest(dest.address, dest.port, dest.forwarding, 0)))
                continue
            ops.append(Operation("delete_dest", key, ident=ident))
    for key in by_key:
        if key in owned and key not in desired.services:
            ops.append(Operation("delete_service", key))
    return sorted(ops, key=lambda op: ORDER[op.verb])
