"""What lvsd asks nanny to check, and what nanny reports back: the JSON-lines protocol between them.

lvsd starts ``nanny --stream`` and writes one line per plan to its stdin; nanny writes one line per event to stdout:

    lvsd → nanny   {"op": "plan", "checks": [CheckSpec, ...]}      full replacement; unchanged ids keep their state
    nanny → lvsd   {"op": "state", "id": ..., "up": bool, "result": "...", "latency_ms": float, "time": float}
                   {"op": "weight", "id": ..., "weight": int}      load monitor re-weighting
                   {"op": "resync", "states": [{"id", "up", "result", "latency_ms", "time", "weight"}, ...]}

"state" is sent only on a transition (and "resync" after each plan and periodically), so lvsd's view is the truth.

Details lvsd can rely on:
* A server starts unknown and is reported in a resync as ``"up": false, "result": "not checked yet",
  "time": null``; its first good check sends ``state up`` (no reentry wait), so lvsd adds it only then.
* ``failures`` consecutive failed checks send ``state down``; after a failure, ``reentry / interval`` good checks
  in a row (at least one) send ``state up``. "time" is the wall-clock time (``time.time()``) of the verdict.
* Checks with the same ``probe_key()`` run once; every id sharing it gets its own events.
* A new plan keeps the health, last result and timers of ids it keeps, even if their probe changed; removed
  ids are dropped silently; new ids start unknown, their first checks spread over min(interval, 1 s).
* "weight" events come only from the load monitor, for servers that are up; resync carries every id's weight.
* A plan line that does not parse or validate is refused (message on stderr) and the running plan stays.
* nanny exits 0 at end of stdin or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, fields

from piranha.lvscf import schema

# The lvs.cf keyword schema owns these choices; nanny implements every one of them.
PROTOCOLS = schema.keyword("virtual", "protocol").choices
LOAD_MONITORS = schema.keyword("virtual", "load_monitor").choices


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

    def __post_init__(self) -> None:
        """Refuse a spec nanny could not run, naming the field and the bad value."""
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"check id must be a non-empty string, not {self.id!r}")
        try:
            ipaddress.ip_address(self.address)
        except ValueError:
            raise ValueError(f"{self.id}: address {self.address!r} is not an IPv4 or IPv6 address") from None
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ValueError(f"{self.id}: port {self.port!r} is not in 1-65535")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"{self.id}: protocol {self.protocol!r} is not one of {', '.join(PROTOCOLS)}")
        for name in ("timeout", "interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{self.id}: {name} {value!r} must be a positive number of seconds")
        if isinstance(self.reentry, bool) or not isinstance(self.reentry, (int, float)) or self.reentry < 0:
            raise ValueError(f"{self.id}: reentry {self.reentry!r} must be zero or more seconds")
        if isinstance(self.failures, bool) or not isinstance(self.failures, int) or self.failures < 1:
            raise ValueError(f"{self.id}: failures {self.failures!r} must be an integer of at least 1")
        if isinstance(self.weight, bool) or not isinstance(self.weight, int) or self.weight < 0:
            raise ValueError(f"{self.id}: weight {self.weight!r} must be an integer of at least 0")
        if self.load_monitor not in LOAD_MONITORS:
            raise ValueError(f"{self.id}: load_monitor {self.load_monitor!r} is not one of {', '.join(LOAD_MONITORS)}")
        for name in ("send", "expect", "send_program"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{self.id}: {name} {value!r} must be a string or null")
        if not isinstance(self.rsh_command, str):
            raise ValueError(f"{self.id}: rsh_command {self.rsh_command!r} must be a string")
        if not isinstance(self.use_regex, bool):
            raise ValueError(f"{self.id}: use_regex {self.use_regex!r} must be true or false")
        if self.send_program is not None and not self.send_program.strip():
            raise ValueError(f"{self.id}: send_program is empty")

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
