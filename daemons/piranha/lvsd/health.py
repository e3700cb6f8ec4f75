"""What lvsd knows about each real server from nanny's events, and the weight it should have right now.

Pure bookkeeping with time passed in: nanny decides up/down (fall and re-entry counts); this module keeps the
last verdict for status, and ramps the weight of a server that comes back after a failure as Piranha's nanny
did: it re-enters at max(1, weight >> 5) and doubles every `ramp_step` seconds up to its configured weight.
A server's first entry uses its full weight (it had no share of the traffic to win back gradually).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServerHealth:
    up: bool | None = None           # None = nanny has not checked it yet
    result: str = "not checked yet"
    latency_ms: float = 0.0
    time: float | None = None        # wall-clock time of the last verdict
    load_weight: int | None = None   # nanny's load-monitor weight, when it sent one
    weight: int | None = None        # weight lvsd gives it now (None = configured weight)
    ramp_at: float | None = None     # monotonic time of the next ramp step
    was_down: bool = False           # it was up and failed since it was planned: its next entry ramps
    changes: int = field(default=0)  # transitions seen, for status


class HealthBook:
    """Health of every check id ("VS/RS") planned to nanny; unchanged ids keep their state across plans."""

    def __init__(self, ramp_step: float = 20.0):
        self.ramp_step = ramp_step
        self.servers: dict[str, ServerHealth] = {}
        self.targets: dict[str, int] = {}

    def plan(self, targets: dict[str, int]) -> None:
        """The configured weight of every planned id; ids no longer planned are forgotten."""
        old = self.targets
        self.targets = dict(targets)
        self.servers = {ident: self.servers.get(ident, ServerHealth()) for ident in targets}
        for ident, health in self.servers.items():
            if old.get(ident) != targets[ident]:
                health.load_weight = None           # nanny re-weights from the new configured weight
                if health.weight is not None and health.weight >= targets[ident]:
                    health.weight, health.ramp_at = None, None

    def state(self, ident: str, up: bool, result: str, latency_ms: float, time: float | None, now: float) -> bool:
        """A verdict from nanny; True when the server's up/down state changed."""
        health = self.servers.get(ident)
        if health is None:
            return False
        changed = health.up is not up
        health.result, health.latency_ms, health.time = result, latency_ms, time
        if not changed:
            return False
        health.changes += 1
        if up:
            target = self.targets[ident]
            if health.was_down and target > 1:
                health.weight = max(1, target >> 5)
                health.ramp_at = now + self.ramp_step
        else:
            health.was_down = health.was_down or health.up is True
            health.weight, health.ramp_at = None, None
        health.up = up
        return True

    def resync(self, states: list[dict], now: float) -> bool:
        """nanny's full list; entries never checked (time None) stay unknown. True when anything changed."""
        changed = False
        for entry in states:
            ident = entry.get("id")
            if ident not in self.servers:
                continue
            if entry.get("time") is None:
                continue
            changed |= self.state(ident, bool(entry.get("up")), str(entry.get("result", "")),
                                  float(entry.get("latency_ms") or 0.0), entry.get("time"), now)
            if entry.get("weight") is not None:
                changed |= self.load_weight(ident, int(entry["weight"]))
        return changed

    def load_weight(self, ident: str, weight: int) -> bool:
        """nanny's load-monitor weight; equal to the configured weight means "no re-weighting"."""
        health = self.servers.get(ident)
        if health is None:
            return False
        weight = None if weight == self.targets[ident] else weight
        if health.load_weight == weight:
            return False
        health.load_weight = weight
        return True

    def tick(self, now: float) -> bool:
        """Advance ramps that are due; True when a weight changed."""
        changed = False
        for ident, health in self.servers.items():
            if health.ramp_at is None or now < health.ramp_at or not health.up:
                continue
            target = self.targets[ident]
            health.weight = min(target, (health.weight or 1) * 2)
            if health.weight >= target:
                health.weight, health.ramp_at = None, None
            else:
                health.ramp_at = now + self.ramp_step
            changed = True
        return changed

    def next_ramp(self) -> float | None:
        times = [h.ramp_at for h in self.servers.values() if h.ramp_at is not None]
        return min(times) if times else None

    def weight(self, ident: str) -> int:
        """The weight the server should have in IPVS while it is up."""
        health = self.servers[ident]
        base = health.load_weight if health.load_weight is not None else self.targets[ident]
        return base if health.weight is None else min(health.weight, base)
