"""Apply in the background so the page can show each step as it finishes (JavaScript polls the job).

A job is a small JSON file in the console's var dir, replaced atomically after every step, so whichever worker
answers the poll reads the same state. The job runs service.apply_draft in a thread with its own app context;
without JavaScript the plain POST /apply runs the same steps in the request instead.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from piranha_web.apply import engine, service
from piranha_web.apply.atomic import write_atomically
from piranha_web.apply.settings import SettingsError
from piranha_web.extensions import db
from piranha_web.models import User

JOB_ID = re.compile(r"^[0-9a-f]{16}$")
KEEP_SECONDS = 24 * 3600


def _jobs_dir() -> Path:
    path = Path(current_app.config["PIRANHA_VAR_DIR"]) / "apply-jobs"
    path.mkdir(mode=0o750, parents=True, exist_ok=True)
    return path


def _forget_old_jobs(directory: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in directory.glob("*.json"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def summary(result: engine.ApplyResult) -> dict:
    """What the result page needs, as plain JSON (the template reads it like an ApplyResult)."""
    return {"ok": result.ok, "written": result.written, "serial_no": result.serial_no, "checksum": result.checksum,
            "backup_state": result.backup_state, "backup_reason": result.backup_reason,
            "steps": [step.as_dict() for step in result.steps]}


def read_job(job_id: str) -> dict | None:
    if not JOB_ID.match(job_id):
        return None
    try:
        return json.loads((_jobs_dir() / f"{job_id}.json").read_text())
    except FileNotFoundError:
        return None


def start(user, number: int | None, version: int | None, message: str) -> str:
    """Start applying the reviewed draft in a thread; returns the job id to poll."""
    directory = _jobs_dir()
    _forget_old_jobs(directory)
    job_id = secrets.token_hex(8)
    path = directory / f"{job_id}.json"
    job = {"id": job_id, "user": user.username, "draft": number, "done": False, "steps": [], "result": None,
           "error": None, "status": 202}

    def save() -> None:
        write_atomically(path, json.dumps(job), mode=0o640)

    save()
    app = current_app._get_current_object()
    user_id = user.id

    def run() -> None:
        with app.app_context():
            applier = db.session.scalar(select(User).where(User.id == user_id))

            def on_step(step: engine.StepResult) -> None:
                job["steps"].append(step.as_dict())
                save()
            try:
                result = service.apply_draft(applier, number, version, message, on_step=on_step)
                job.update(result=summary(result), status=200 if result.written else 422)
            except service.ApplyConflict as conflict:
                job.update(error=str(conflict), status=409)
            except SettingsError as bad_setting:
                job.update(error=f"The console's settings are wrong, nothing was written: {bad_setting}",
                           status=500)
            except Exception:  # the poller must learn that the job ended, whatever happened; the page gets no trace
                current_app.logger.exception("apply job %s failed", job_id)
                job.update(error="Apply stopped by an internal error (the console's log has the details); "
                                 "look at HISTORY and the managed file before applying again.", status=500)
            finally:
                job["done"] = True
                save()
                db.session.remove()

    threading.Thread(target=run, name=f"apply-{job_id}", daemon=False).start()
    return job_id
