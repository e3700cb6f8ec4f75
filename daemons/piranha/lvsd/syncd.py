"""The IPVS connection-sync daemon: one state (master, backup or stop) set from lvs.cf's syncd_iface/syncd_id.

Shared by lvsd's `syncd` control command (the active node) and `lvsd --syncd STATE` (a one-shot that pulse runs
on a standby node, where no lvsd is running, so the backup sync daemon receives the active node's connections).
"""

from __future__ import annotations

import errno
import logging

from piranha.net.ipvs_model import IPVSError, SyncDaemon

log = logging.getLogger("lvsd")

STATES = ("master", "backup", "stop")


class SyncDaemonError(Exception):
    """The sync daemon could not be put in the asked state; the message says why."""


def set_sync_daemon(ipvs, config, state: str) -> list[dict]:
    """Stop whatever sync daemon runs, start `state` (unless "stop"); returns the daemons now running."""
    if state not in STATES:
        raise SyncDaemonError(f"syncd state {state!r} is not master, backup or stop")
    for running in ("backup", "master"):
        try:
            ipvs.stop_sync_daemon(running)
        except IPVSError as exc:
            if exc.code != errno.ESRCH:
                raise SyncDaemonError(f"stopping the {running} sync daemon failed: {exc}") from None
    if state != "stop":
        if not config.syncd_iface:
            raise SyncDaemonError("syncd: lvs.cf sets no syncd_iface")
        daemon = SyncDaemon(state, config.syncd_iface, config.syncd_id & 0xFF)
        try:
            ipvs.start_sync_daemon(daemon)
        except IPVSError as exc:
            raise SyncDaemonError(f"starting the {state} sync daemon on {daemon.interface} failed: {exc}") from None
        log.info("IPVS sync daemon started: %s on %s, syncid %d", state, daemon.interface, daemon.syncid)
    return [vars(d) for d in ipvs.sync_daemons()]
