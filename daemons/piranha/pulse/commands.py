"""pulse's control-socket commands: status, reload, takeover, release (what `piranha-ctl` sends)."""

from __future__ import annotations

from piranha.control.protocol import CommandError
from piranha.pulse.reload import reload
from piranha.pulse.settings import SettingsError
from piranha.pulse.state import Refuse, Release, Takeover

COMMANDS = ("status", "reload", "takeover", "release")


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
        raise CommandError(f"unknown command {command!r}; pulse answers {', '.join(COMMANDS)}")
    return handle
