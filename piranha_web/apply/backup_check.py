"""Compare the backup's lvs.cf with the applied revision (over ssh, cached briefly), so the console can say
when the two directors differ, also when someone changed the backup's file by hand.

The check runs while rendering /control or /apply when the last one is older than
PIRANHA_BACKUP_CHECK_SECONDS (default 30; 0 = never), and only when the running configuration has
backup_active = 1. Every page shows the stored result through the backup banner (service.backup_banner).
"""

from __future__ import annotations

import os
import time

from flask import current_app, has_request_context, request

from piranha import lvscf
from piranha_web import revisions
from piranha_web.apply import remote, service
from piranha_web.apply.settings import SettingsError
from piranha_web.extensions import db
from piranha_web.models import NodeSync, utcnow

CHECK_ENDPOINTS = frozenset({"control.index", "apply.index"})
DEFAULT_SECONDS = 30
_last_check: dict[str, float] = {}  # per database: the console may serve several in tests


def _interval() -> float:
    value = current_app.config.get("PIRANHA_BACKUP_CHECK_SECONDS", os.environ.get("PIRANHA_BACKUP_CHECK_SECONDS"))
    try:
        return float(value) if value not in (None, "") else DEFAULT_SECONDS
    except ValueError:
        return DEFAULT_SECONDS


def refresh_backup_state(force: bool = False) -> NodeSync | None:
    """Read the backup's checksum now if the cached state is stale (or `force`); returns the stored state."""
    interval = _interval()
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not force and (interval <= 0 or time.monotonic() - _last_check.get(key, -1e9) < interval):
        return service.backup_sync_state()
    running = revisions.running_revision()
    if running is None:
        return None
    try:
        config = lvscf.loads(running.text)
        settings = service.engine_settings()
    except (lvscf.LvsConfigError, SettingsError):
        return service.backup_sync_state()
    destination = settings.destination(config.backup)
    if not config.backup_active or settings.sync == "none" or destination is None:
        return service.backup_sync_state()
    _last_check[key] = time.monotonic()
    row = service.backup_sync_state()
    if row is None:
        row = NodeSync(node=service.BACKUP_NODE, status="unknown")
        db.session.add(row)
    try:
        checksum = remote.remote_checksum(settings, destination)
    except remote.RemoteError as exc:
        if row.status != "out_of_sync":  # an unreachable backup is not known to differ; keep a known difference
            row.status, row.reason = "unknown", f"{exc.failure.message} (while comparing checksums)"
    else:
        row.checksum = checksum
        if checksum == running.checksum:
            row.status, row.reason = "in_sync", None
        else:
            row.status = "out_of_sync"
            row.reason = (f"backup: its lvs.cf differs from the applied revision {running.number} (SHA-256 "
                          f"{checksum[:12]}… there, {running.checksum[:12]}… here; changed by hand or not synced)")
    row.updated_at = utcnow()
    db.session.commit()
    return row


def banner():
    """Banner provider: refresh on the pages that show the backup's state, then report a difference."""
    if has_request_context() and request.endpoint in CHECK_ENDPOINTS:
        refresh_backup_state()
    return service.backup_banner()
