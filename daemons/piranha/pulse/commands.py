"""pulse's control-socket commands (what `piranha-ctl` sends): status, reload, takeover, release, and the
operator's real-server actions drain, enable and disable, which pulse hands to its lvsd (or, on a standby
node, records for the lvsd it will start, so a decision holds across a failover)."""

from __future__ import annotations

import time

from piranha import lvscf
from piranha.control.client import ControlError
from piranha.control.protocol import CommandError
from piranha.lvsd.desired import check_id
from piranha.lvsd.operator import OperatorBook, state_file_beside
from piranha.pulse.reload import reload
from piranha.pulse.settings import SettingsError
from piranha.pulse.state import Refuse, Release, Takeover

COMMANDS = ("status", "reload", "takeover", "release")
OPERATOR_COMMANDS = ("drain", "enable", "disable")
OPERATOR_ARGS = {"server", "timeout"}
OPERATOR_TIMEOUT = 30.0     # seconds for lvsd to answer (a drain itself runs on in lvsd)


def handler(pulse):
    async def handle(command: str, args: dict):
        if command == "status":
            return await pulse.status()
        if command == "reload":
            try:
                return await reload(pulse)
            except SettingsError as exc:
                raise CommandError(f"configuration refused, still running the previous one: {exc}") from None
        if command in ("takeover", "release"):
            actions = await pulse.handle(Takeover() if command == "takeover" else Release())
            refused = [a.reason for a in actions if isinstance(a, Refuse)]
            if refused:
                raise CommandError(f"{command} refused: {refused[0]}")
            return {"active": pulse.machine.active}
        if command in OPERATOR_COMMANDS:
            return await _to_lvsd(pulse, command, args)
        raise CommandError(f"unknown command {command!r}; pulse answers {', '.join(COMMANDS + OPERATOR_COMMANDS)}")
    return handle


async def _to_lvsd(pulse, command: str, args: dict):
    """Real-server actions belong to lvsd, which runs only on the active director of an LVS cluster."""
    if pulse.settings.mode == "fos":
        raise CommandError(f"{command}: this cluster runs failover services (service = fos): it has no real servers")
    if pulse.options.no_lvsd or pulse.options.test_start:
        raise CommandError(f"{command}: this pulse runs without lvsd (--no-lvsd or --test-start)")
    unknown = sorted(set(args) - OPERATOR_ARGS)
    if unknown:
        raise CommandError(f"{command}: unknown argument {unknown[0]!r} (expected server and, for drain, timeout)")
    if not pulse.machine.active:
        return _record_on_standby(pulse, command, args.get("server"))
    try:
        return await pulse.lvsd.call(command, args, timeout=OPERATOR_TIMEOUT)
    except ControlError as exc:
        raise CommandError(f"lvsd refused {command}: {exc}") from None


def _record_on_standby(pulse, command: str, ident) -> dict:
    """No lvsd runs on a standby: keep the decision in the state file its lvsd reads when this node takes over.

    A standby forwards no connections, so a drain here is complete at once: the server is recorded as out.
    """
    try:
        config = lvscf.load(pulse.settings.path)
    except (OSError, lvscf.LvsConfigError) as exc:
        raise CommandError(f"{command}: cannot read {pulse.settings.path}: {exc}") from None
    known = sorted(check_id(v, s) for v in config.virtual_servers if v.active for s in v.servers if s.active)
    if ident not in known:
        raise CommandError(f"{command}: no active real server {ident!r} in lvs.cf (VIRTUAL/SERVER; known: "
                           f"{', '.join(known) or 'none'})")
    book = OperatorBook(state_file_beside(pulse.lvsd.socket_path))
    book.load()
    if command == "enable":
        book.enable(ident)
    else:
        reason = "drained on the standby director (it forwards no connections)" if command == "drain" else \
            "disabled by an operator"
        book.disable(ident, time.time(), reason)
    return {"server": ident, "admin": book.entries.get(ident), "recorded_on": "standby"}
