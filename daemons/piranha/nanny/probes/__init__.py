"""Health probes, usable as a library (nanny's scheduler and fos both use them).

    >>> from piranha.nanny.spec import CheckSpec
    >>> from piranha.nanny.probes import check
    >>> result = await check(CheckSpec(id="web/rs1", address="10.0.0.5", port=80, timeout=2,
    ...                                send="GET / HTTP/1.0\\r\\n\\r\\n", expect="HTTP"))   # doctest: +SKIP
    >>> result.up, result.message, result.latency                                           # doctest: +SKIP
    (True, "reply 'HTTP/1.1 200 OK\\r\\nServer: ngi'… matched", 0.0012)

A probe never changes any state and never raises for a failing server: every outcome is a ``Result``
(``up``/``ok``, ``message`` in Piranha's wording where it had one, ``latency`` in seconds). Invalid specs
(an unsplittable send_program, a bad regex) raise ValueError when the probe is made.

Kinds: ``send_program`` set → ProgramProbe; protocol ``udp`` → UdpProbe; otherwise TcpProbe (connect, then
send/expect if given). Each bounds itself by ``spec.timeout``. TcpProbe also offers ``start(on_result)``,
which the scheduler uses to run thousands of checks without a Task each (probes/connect.py).
"""

from __future__ import annotations

from typing import Protocol

from piranha.nanny.probes.base import Expect, Result, unescape
from piranha.nanny.probes.program import ProgramProbe, build_argv
from piranha.nanny.probes.tcp import TcpProbe
from piranha.nanny.probes.udp import UdpProbe
from piranha.nanny.spec import CheckSpec

__all__ = ["Expect", "Probe", "ProgramProbe", "Result", "TcpProbe", "UdpProbe", "build_argv", "check",
           "make_probe", "unescape"]


class Probe(Protocol):
    async def check(self) -> Result: ...


def make_probe(spec: CheckSpec) -> Probe:
    """The probe for this spec, with its strings, regex and socket address prepared once."""
    if spec.send_program:
        return ProgramProbe(spec)
    if spec.protocol == "udp":
        return UdpProbe(spec)
    return TcpProbe(spec)


async def check(spec: CheckSpec) -> Result:
    """Run one check of ``spec`` now."""
    return await make_probe(spec).check()
