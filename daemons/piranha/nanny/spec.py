"""What lvsd asks nanny to check, and what nanny reports back: the JSON-lines protocol between them.

lvsd starts ``nanny --stream`` and writes one line per plan to its stdin; nanny writes one line per event to stdout:

    lvsd → nanny   {"op": "plan", "checks": [CheckSpec, ...]}      full replacement; unchanged ids keep their state
    nanny → lvsd   {"op": "state", "id": ..., "up": bool, "result": "...", "latency_ms": float, "time": float}
                   {"op": "weight", "id": ..., "weight": int}      load monitor re-weighting
                   {"op": "resync", "states": [{"id", "up", "result", "latency_ms", "time", "weight"}, ...]}

"state" is sent only on a transition (and "resync" after each plan and periodically), so lvsd's view is the truth.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class CheckSpec:
    """One real server of one virtual server, as nanny must probe it."""

    id: str                          # chosen by lvsd, e.g. "web/real1"; echoed in every event
    address: str                     # real server IP (v4 or v6)
    port: int                        # real port to probe
    protocol: str = "tcp"            # "tcp" | "udp"
    send: str | None = None          # raw lvs.cf text, escapes (\r \n \t \\) not yet interpreted
    expect: str | None = None        # prefix, "*" = any reply, or a regex when use_regex
    use_regex: bool = False
    send_program: str | None = None  # argv template with %h / %p, run without a shell
    timeout: float = 10.0            # connect/read/program timeout, seconds
    interval: float = 10.0           # time between checks, seconds
    failures: int = 1                # consecutive failures before "down"
    reentry: float = 180.0           # seconds of passing checks before a failed server is "up" again
    load_monitor: str = "none"       # none | uptime | rup | ruptime
    rsh_command: str = "rsh"         # for load_monitor = uptime
    weight: int = 1                  # configured weight (load monitor scales from it)

    def probe_key(self) -> tuple:
        """Identical probes of the same server (behind several virtual servers) are run once."""
        return (self.address, self.port, self.protocol, self.send, self.expect, self.use_regex,
                self.send_program, self.timeout, self.interval)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "CheckSpec":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown check fields: {', '.join(sorted(unknown))}")
        return cls(**data)


def plan_line(checks: list[CheckSpec]) -> bytes:
    return json.dumps({"op": "plan", "checks": [c.to_json() for c in checks]}).encode() + b"\n"
