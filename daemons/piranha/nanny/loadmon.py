"""Load-based weights (Piranha §3.6.5): ask a real server its load average and re-weight it.

``uptime`` runs ``RSH_COMMAND RIP uptime``; ``rup`` and ``ruptime`` run ``rup RIP`` / ``ruptime RIP``. The
1-minute load average is read from the output (``load average: 0.12, …`` or ruptime's ``load 0.12, …``), and
the weight moves by Piranha's formula between the configured weight C and ``SCALE``·C.
"""

from __future__ import annotations

import re
import shlex

from piranha.nanny.probes.program import run_program
from piranha.nanny.spec import CheckSpec

SCALE = 10                 # Piranha's -S default: the weight never exceeds SCALE × configured weight
PERIOD = 20.0              # Piranha adjusted weights about every 20 s (or every check if the interval is longer)

_LOAD = re.compile(rb"\bload(?:\s+averages?)?\s*:?\s*(\d+(?:\.\d+)?)")


def load_argv(spec: CheckSpec) -> list[str]:
    if spec.load_monitor == "uptime":
        rsh = shlex.split(spec.rsh_command)
        if not rsh:
            raise ValueError(f"{spec.id}: rsh_command is empty")
        return [*rsh, spec.address, "uptime"]
    if spec.load_monitor in ("rup", "ruptime"):
        return [spec.load_monitor, spec.address]
    raise ValueError(f"{spec.id}: load_monitor {spec.load_monitor!r} runs no command")


def parse_load(output: bytes) -> float | None:
    """The 1-minute load average in uptime/rup/ruptime output, or None if there is none."""
    found = _LOAD.search(output)
    return float(found.group(1)) if found else None


def next_weight(current: float, configured: int, load: float, scale: int = SCALE) -> float | None:
    """Piranha's adjustWeight: the new weight, or None when the change is too small to apply (< C/4)."""
    if load == 1.0 or configured <= 0:
        return None
    if load < 1.0:
        new = min(current + configured / 2 * (1.0 - load) ** (1 / 3), scale * configured)
    else:
        new = max(current - configured / 2 * (load - 1.0) ** (1 / 3), configured)
    return new if abs(new - current) >= configured / 4 else None


async def measure_load(spec: CheckSpec) -> tuple[float | None, str]:
    """Run the load command once: (load or None, a message saying what happened)."""
    argv = load_argv(spec)
    outcome = await run_program(argv, spec.timeout)
    if outcome.failure:
        return None, outcome.failure
    load = parse_load(outcome.output)
    if load is None:
        return None, f"no load average in the output of {argv[0]}"
    return load, f"load {load:g}"


def period(spec: CheckSpec) -> float:
    return max(PERIOD, spec.interval)
