"""piranha.lvscf: read, check and write lvs.cf, the configuration file of a Piranha LVS cluster.

    >>> from piranha import lvscf
    >>> config = lvscf.loads('''
    ... primary = 192.168.1.1
    ... virtual web {
    ...      active = 1
    ...      address = 192.168.1.10 eth0:1
    ...      server web1 {
    ...          address = 10.0.0.11
    ...          active = 1
    ...      }
    ... }
    ... ''')
    >>> web = config.virtual_server("web")
    >>> web.port, web.scheduler, web.servers[0].weight
    (80, 'wlc', 1)
    >>> config.validate()
    []
    >>> print(lvscf.dumps(config).splitlines()[-5])
         server web1 {

``loads``/``load`` raise ``LvsConfigError`` (``.errors``: every ``Problem`` found) when the text does not
parse; parsing does not run the semantic checks, ``config.validate()`` does. ``config.warnings`` lists what
the parser accepted but would not write back (legacy keys, repeated keys). ``schema`` is the keyword table.
"""

from piranha.lvscf import schema
from piranha.lvscf.errors import LvsConfigError, Problem
from piranha.lvscf.model import FailoverService, LvsConfig, RealServer, VirtualServer
from piranha.lvscf.parser import load, loads
from piranha.lvscf.render import RenderError, dumps

__all__ = [
    "FailoverService", "LvsConfig", "LvsConfigError", "Problem", "RealServer", "RenderError", "VirtualServer",
    "dump", "dumps", "load", "loads", "schema",
]


def dump(config: LvsConfig, path) -> None:
    """Write ``dumps(config)`` to ``path`` (plainly; the console does the atomic replace and serial bump)."""
    text = dumps(config)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
