"""Live reload (SIGHUP, `piranha-ctl reload`): re-read lvs.cf and apply the difference without a restart.

Heartbeat timing, addresses, port and key, the role, and the VIP set are applied in place; new VIPs are
ARPed. lvsd is told to reload (it reconciles IPVS itself); fos is restarted only if its services changed.
A file that does not load or validate is refused and everything keeps running as before.
"""

from __future__ import annotations

import asyncio
import logging

from piranha.pulse.channel import HeartbeatChannel
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
        if (new.key, new.own_public, new.partner_public) != (old.key, old.own_public, old.partner_public):
            counters = pulse.codec.counters
            pulse.codec = pulse._codec(new)
            pulse.codec.counters.update({k: v for k, v in counters.items()})
        if pulse._paths(new) != pulse._paths(old) or new.heartbeat_port != old.heartbeat_port \
                or pulse.channel is None or pulse.channel.codec is not pulse.codec:
            channel = HeartbeatChannel(pulse.codec, new.heartbeat_port, pulse._paths(new),
                                       pulse.channel.on_state if pulse.channel else lambda s: None)
            sent = pulse.channel.sent if pulse.channel else 0
            if pulse.channel:
                pulse.channel.close()
            await channel.open()
            channel.sent = sent
            pulse.channel = channel
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
