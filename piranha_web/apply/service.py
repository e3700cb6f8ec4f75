"""The console's side of Apply: which draft, who, the lock, and what is recorded (revision, node state, audit).

The engine (engine.py) does the work; this module makes it safe for several admins and workers:
- one apply at a time per lvs.cf, by an exclusive flock on a lock file beside it (works across gunicorn
  workers); a second apply while one runs gets ApplyConflict at once instead of waiting;
- the draft is versioned: the form carries the draft's number and version, and an apply of anything else
  (saved again, or applied by someone else meanwhile) is an ApplyConflict. The file is only ever written
  whole, so nobody gets a mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from flask import current_app, url_for
from sqlalchemy import select

from piranha import lvscf
from piranha_web import revisions
from piranha_web.apply import engine
from piranha_web.apply.settings import ApplySettings
from piranha_web.audit import audit
from piranha_web.extensions import db
from piranha_web.models import NodeSync, Revision, sha256_hex, utcnow

BACKUP_NODE = "backup"
_NODE_STATUS = {engine.IN_SYNC: "in_sync", engine.OUT_OF_SYNC: "out_of_sync", engine.NOT_REPLICATED: "unknown"}


class ApplyConflict(Exception):
    """Another apply runs now, or the draft is not the one the admin reviewed."""


class RetryRefused(Exception):
    """Retry sync cannot run (nothing applied yet, or the local file no longer is the applied one)."""


def engine_settings() -> ApplySettings:
    return ApplySettings.from_mapping(current_app.config)


@contextlib.contextmanager
def apply_lock(lvs_cf: str):
    path = Path(lvs_cf).with_name(f".{Path(lvs_cf).name}.apply-lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ApplyConflict("Another apply or sync is running right now; wait for it to finish and "
                                "review the result.") from None
        yield
    finally:
        os.close(fd)


def _check_draft(number: int | None, version: int | None) -> Revision:
    draft = revisions.current_draft()
    if draft is None:
        applied = db.session.scalar(select(Revision).where(Revision.number == number)) if number else None
        if applied is not None and applied.status != "draft":
            raise ApplyConflict(f"The draft you reviewed (revision {applied.number}) was already applied by "
                                f"{applied.author}; nothing new to apply.")
        raise ApplyConflict("There is no draft to apply.")
    if draft.number != number or draft.version != version:
        raise ApplyConflict(f"The draft changed since you reviewed it (version {version} then, {draft.version} "
                            f"now, last saved by {draft.author}); review the new diff before applying.")
    return draft


def _keep_file_on_disk(text: str | None, user, draft: Revision) -> None:
    """The file being replaced is kept as a revision, also when it was changed by hand (drift).

    The kept file is older than the draft being applied, so the draft takes the next number after it and
    the history reads in order.
    """
    if text is None:
        return
    running = revisions.running_revision()
    if running is not None and running.checksum == sha256_hex(text):
        return
    try:
        revisions.import_file_as_revision(text, user, "the file on disk before an apply (changed by hand)")
    except revisions.DraftInvalid:
        kept = Revision(number=(db.session.scalar(select(db.func.max(Revision.number))) or 0) + 1,
                        status="superseded", author=user.username, version=1, serial_no=None,
                        message="the file on disk before an apply (changed by hand; did not validate)")
        kept.set_text(text)
        db.session.add(kept)
        db.session.commit()
    draft.number = (db.session.scalar(select(db.func.max(Revision.number))) or 0) + 1


def record_backup_state(result: engine.ApplyResult) -> None:
    row = db.session.scalar(select(NodeSync).where(NodeSync.node == BACKUP_NODE))
    if row is None:
        row = NodeSync(node=BACKUP_NODE)
        db.session.add(row)
    row.status = _NODE_STATUS[result.backup_state]
    row.checksum = result.backup_checksum
    row.reason = result.backup_reason if result.backup_state == engine.OUT_OF_SYNC else (
        "redundancy is off (backup_active = 0)" if result.backup_state == engine.NOT_REPLICATED else None)
    row.updated_at = utcnow()


def _outcome(result: engine.ApplyResult) -> str:
    if result.ok:
        return "ok"
    return "partial" if result.written else "failed"


def apply_draft(user, number: int | None, version: int | None, message: str,
                on_step: engine.StepCallback | None = None) -> engine.ApplyResult:
    """Apply the reviewed draft (number, version) for `user`; raise ApplyConflict if it is not current."""
    settings = engine_settings()
    try:
        with apply_lock(settings.lvs_cf):
            db.session.expire_all()
            draft = _check_draft(number, version)
            return _apply_checked(settings, user, draft, number, version, message, on_step)
    except ApplyConflict as conflict:
        audit("apply", {"reviewed_draft": number, "version": version, "conflict": str(conflict)},
              outcome="conflict", username=user.username)
        raise


def _apply_checked(settings: ApplySettings, user, draft: Revision, number, version, message: str,
                   on_step: engine.StepCallback | None) -> engine.ApplyResult:
    """Run the engine for the checked draft (the lock is held) and record the outcome."""
    running_text = revisions.managed_file_text()
    result = engine.apply_text(settings, draft.text, running_text, on_step)
    if result.written:
        _keep_file_on_disk(running_text, user, draft)
        for older in db.session.scalars(select(Revision).where(
                Revision.status.in_(revisions.RUNNING_STATUSES))):
            older.status = "superseded"
        draft.status = "applied"
        draft.set_text(result.text)
        draft.serial_no = result.serial_no
        draft.author = user.username
        draft.message = message.strip() or draft.message
        draft.applied_at = utcnow()
        draft.node_results = json.dumps(result.node_results(), sort_keys=True)
        record_backup_state(result)
        db.session.commit()
    audit("apply", {"revision": draft.number, "reviewed_draft": number, "version": version,
                    "serial_no": result.serial_no, "message": message.strip(),
                    "steps": [s.as_dict() for s in result.steps]},
          outcome=_outcome(result), username=user.username)
    revisions.reset_view_cache()
    return result


def retry_sync(user) -> engine.ApplyResult:
    """Copy the applied file to the backup again and reload it there; record the outcome."""
    settings = engine_settings()
    with apply_lock(settings.lvs_cf):
        db.session.expire_all()
        running = revisions.running_revision()
        if running is None:
            raise RetryRefused("Nothing has been applied yet.")
        text = revisions.managed_file_text()
        if text is None or sha256_hex(text) != running.checksum:
            raise RetryRefused(f"{settings.lvs_cf} is not the applied revision {running.number} any more (changed "
                               "by hand): import or re-apply it before syncing the backup.")
        try:
            result = engine.resync(settings, text)
        except lvscf.LvsConfigError as exc:
            raise RetryRefused(f"the applied file does not parse: {exc.errors[0]}") from None
        record_backup_state(result)
        nodes = running.node_results_data or {}
        nodes.update({node: steps for node, steps in result.node_results().items() if node == BACKUP_NODE})
        running.node_results = json.dumps(nodes, sort_keys=True)
        db.session.commit()
        audit("retry sync", {"revision": running.number, "steps": [s.as_dict() for s in result.steps]},
              outcome="ok" if result.backup_state != engine.OUT_OF_SYNC else "failed", username=user.username)
        return result


def backup_sync_state() -> NodeSync | None:
    return db.session.scalar(select(NodeSync).where(NodeSync.node == BACKUP_NODE))


def backup_banner():
    """Banner provider: the backup's copy of lvs.cf is known to differ from the applied one."""
    state = backup_sync_state()
    if state is None or state.status != "out_of_sync":
        return []
    return [("error", f"Backup director out of sync: {state.reason} Retry sync from the Apply page.",
             url_for("apply.index") + "#retry-sync")]
