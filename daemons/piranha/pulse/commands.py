"""pulse's control-socket commands (what `piranha-ctl` sends): status, reload, takeover, release, and the
operator's real-server actions drain, enable and disable, which pulse hands to its lvsd."""

from __future__ import annotations

from piranha.control.client import ControlError
from piranha.control.protocol import CommandError
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
    if not pulse.machine.active:
        raise CommandError(f"{command}: lvsd is not running on this node (standby); real servers are handled by "
                           "the active director's lvsd")
    unknown = sorted(set(args) - OPERATOR_ARGS)
    if unknown:
        raise CommandError(f"{command}: unknown argument {unknown[0]!r} (expected server and, for drain, timeout)")
    try:
        return await pulse.lvsd.call(command, args, timeout=OPERATOR_TIMEOUT)
    except ControlError as exc:
        raise CommandError(f"lvsd refused {command}: {exc}") from None
