"""Generate the lvs.cf keyword reference (docs/lvs.cf.md) from the schema.

    python -m piranha.lvscf.docgen > docs/lvs.cf.md

A unit test checks that the committed file equals this output, so the reference cannot drift from the code.
"""

from __future__ import annotations

import sys

from piranha.lvscf import schema
from piranha.lvscf.render import HEADER

_TITLES = {
    "global": ("Global settings", "At the top of the file, outside any block."),
    "failover": ("Failover services: `failover NAME { ... }`",
                 "Used when `service = fos`. Piranha parsed these blocks with its virtual-server parser, so a "
                 "virtual-server key in a failover block loads with a warning and is dropped on the next write."),
    "virtual": ("Virtual servers: `virtual NAME { ... }`", "Used when `service = lvs`; one block per service."),
    "server": ("Real servers: `server NAME { ... }` inside a virtual block", "One block per real server."),
}

_INTRO = """\
# lvs.cf — keyword reference

`lvs.cf` (usually `/etc/sysconfig/ha/lvs.cf`) configures a Piranha LVS cluster: the two directors, the
heartbeat between them, and the virtual servers (or failover services) with their real servers. piranha-ng
reads every file Piranha 0.2–0.8.6 accepted and writes the layout Piranha's GUI wrote. This page is generated
from the keyword schema (`python -m piranha.lvscf.docgen`); do not edit it by hand.

## Syntax

- One statement per line: `keyword = value`. The blanks around `=` are required (`port=80` is an error).
- `address` in virtual and failover blocks and `nat_router` take two values: `address = 192.168.1.10 eth0:1`.
- A line whose first non-blank character is `#` is a comment. There are no comments after a value.
- A value with blanks is quoted with `"` or `'`; there are no escapes inside quotes. `send`, `expect`,
  `send_program`, `start_cmd` and `stop_cmd` are written quoted; the health checker interprets `\\r \\n \\t \\\\`
  in `send` and `expect`.
- Blocks: `virtual NAME {` and `failover NAME {` at top level, `server NAME {` inside a virtual block, each
  opener on one line and closed by a line holding only `}`. Names are one word.
- Numbers are read like C's `strtol`: `0x1F` is hex, `010` is octal (8). Booleans are `0` or `1`. Durations
  marked *seconds* accept fractions such as `0.5`. Ports accept a service name from `/etc/services` (`http`).
- Lines may end in LF, CRLF or CR. A repeated key keeps its last value (with a warning).
- Keys that Piranha's GUI wrote but its daemons rejected (`expect_program`, `deadtime` in a virtual block,
  `heartbeat` in a failover block, `nmask`) load with a warning and are dropped when the file is written.

Check a file with `piranha-ctl check-config /etc/sysconfig/ha/lvs.cf`: it prints `FILE:LINE: message` for
each error and exits 1, or exits 0 (warnings go to standard error).

Besides each value's type and range (tables below), the check catches: a missing `primary`; `backup_active = 1`
without a `backup` (or with the primary's address); `primary_private` without `backup_private` and the
reverse; `deadtime` not longer than `keepalive`; primary and backup of different address families; two
virtual servers with one name or one address/protocol/port; virtual servers sharing an `fwmark` with different
scheduler or persistence; one VIP on two interfaces or with two netmasks; a VIP or the NAT router that is a
director's own address; two real servers with one name or one address and port in a virtual server; an active
virtual or real server without an address; real servers of the other address family than the VIP; a real
server `port` that differs from the virtual port under direct routing or tunnelling; IPv4 netmasks on an IPv6
VIP; `use_regex = 1` without a valid `expect` regular expression; with `service = fos`, no active failover
service, or a failover service without absolute `start_cmd` and `stop_cmd`; names with blanks, braces or
quotes; values that cannot be written back (a newline, a `"` inside a quoted value).

## Canonical layout

The console writes global keys first, then failover blocks, then virtual blocks, each key in the order of
the tables below, with 5 spaces before a block's keys and 9 before a real server's keys; a key is written
when it was set or differs from its default. The file starts with this header:

```
{header}```
"""

_COLUMNS = "| Keyword | Type | Default | Since | Piranha C parser | Description |\n|---|---|---|---|---|---|\n"


def _default(kw) -> str:
    if kw.default is None:
        return "unset"
    return f"`{kw.format(kw.default)}`"


def _row(kw) -> str:
    if kw.legacy:
        compat = "rejected (GUI only); warning, dropped"
    else:
        compat = "yes" if kw.c_parser else "no (new)"
    notes = " Parsed and kept, but no daemon acts on it." if kw.unused else ""
    cells = [f"`{kw.name}`", kw.type.label, "–" if kw.legacy else _default(kw), kw.since, compat,
             kw.help + notes]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |\n"


def reference() -> str:
    """The whole Markdown reference."""
    parts = [_INTRO.replace("{header}", HEADER)]
    for block in ("global", "virtual", "server", "failover"):
        title, text = _TITLES[block]
        parts.append(f"\n## {title}\n\n{text}\n\n")
        parts.append(_COLUMNS)
        parts.extend(_row(kw) for kw in schema.keywords(block, legacy=True))
    return "".join(parts)


def main() -> int:
    sys.stdout.write(reference())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
