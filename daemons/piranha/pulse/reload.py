"""Live reload (SIGHUP, `piranha-ctl reload`): re-read lvs.cf and apply the difference without a restart.

Heartbeat timing, addresses, port and key, the role, and the VIP set are applied in place; new VIPs are
ARPed. lvsd is told to reload (it reconciles IPVS itself); fos is restarted only if its services changed.
A file that does not load or validate is refused and everything keeps running as before.
"""

from __future__ import annotations

import asyncio
import logging

from piranha.pulse.channel import ChannelError, HeartbeatChannel
from piranha.pulse.settings import SettingsError, load_config, settings_from_config
from piranha.pulse.state import Reconfigure
from piranha.pulse.systemd import notify

log = logging.getLogger("pulse")


async def reload(pulse) -> dict:
    notify("RELOADING=1")
    try:
        return await _reload(pulse)
    finally:
        notify("READY=1")


async def _reload(pulse) -> dict:
    old = pulse.settings
    log.info("rereading configuration file %s", old.path)
    config = load_config(old.path)
    new = settings_from_config(old.path, config, set(pulse.net.own_addresses()))
    if new.mode != old.mode:
        raise SettingsError(f"service changed from {old.mode} to {new.mode}: that needs a restart of pulse")
    summary: dict = {"serial_no": new.serial_no, "vips_added": [], "vips_removed": []}
    async with pulse.lock:
        if (new.key, new.own_public, new.partner_public, new.heartbeat_port, pulse._paths(new)) != \
                (old.key, old.own_public, old.partner_public, old.heartbeat_port, pulse._paths(old)):
            await _replace_channel(pulse, old, new)
        for action in pulse.machine.step(Reconfigure(new.role, pulse._timing(new)), asyncio.get_running_loop().time()):
            await pulse._execute(action)
        pulse.settings = new
        pulse.links = pulse._links(new)
        if pulse.machine.active:
            removed = set(old.vips) - set(new.vips)
            summary["vips_removed"] = [str(v) for v in pulse.vips.drop(removed)]
            summary["vips_added"] = [str(v) for v in pulse.vips.take(new.vips)]
        summary["child"] = await _forward(pulse, old)
    log.info("configuration reloaded (serial_no %s): %d VIP(s) added, %d removed", new.serial_no,
             len(summary["vips_added"]), len(summary["vips_removed"]))
    return summary


async def _replace_channel(pulse, old, new) -> None:
    """New codec and sockets for the new addresses, port or key; if they cannot be opened, keep the old ones."""
    codec = pulse._codec(new)
    codec.counters.update(pulse.codec.counters)
    on_state = pulse.channel.on_state
    sent = pulse.channel.sent
    await pulse.channel.aclose()
    channel = HeartbeatChannel(codec, new.heartbeat_port, pulse._paths(new), on_state)
    try:
        await channel.open()
    except ChannelError as exc:
        pulse.channel = HeartbeatChannel(pulse.codec, old.heartbeat_port, pulse._paths(old), on_state)
        await pulse.channel.open()
        pulse.channel.sent = sent
        raise SettingsError(str(exc)) from None
    channel.sent = sent
    pulse.codec, pulse.channel = codec, channel


async def _forward(pulse, old) -> str:
    """Tell the child about the new file: lvsd reloads; fos restarts only when its services changed."""
    if pulse.settings.mode == "fos":
        if old.fos_services == pulse.settings.fos_services or pulse.fos.pid is None:
            return "fos unchanged"
        mode = "--active" if pulse.machine.active else "--monitor"
        await pulse._start_fos(mode)
        return f"fos restarted ({mode})"
    if pulse.lvsd.pid is None:
        return "lvsd not running"
    try:
        await pulse.lvsd.call("reload", timeout=10.0)
    except Exception as exc:
        log.error("lvsd refused the reload: %s", exc)
        return f"lvsd refused the reload: {exc}"
    return "lvsd reloaded"
