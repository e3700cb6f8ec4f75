"""APPLY: the draft's diff and validation, the Apply button, each step's outcome, and "Retry sync".

Thin: service.py holds the lock, the draft check and the records; engine.py does the work. A POST runs every
step and renders the summary (works without JavaScript).
"""

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from piranha_web import banners, revisions
from piranha_web.apply import backup_check, engine, progress, service
from piranha_web.apply.settings import SettingsError
from piranha_web.auth.roles import writes_require_role

bp = Blueprint("apply", __name__, static_folder="static", static_url_path="/apply/static")
writes_require_role(bp, "admin")
bp.record_once(lambda state: banners.register(backup_check.banner))


def _form_fields() -> tuple[int | None, int | None, str]:
    return (request.form.get("draft", type=int), request.form.get("version", type=int),
            request.form.get("message", "")[:500])


def _page(status: int = 200, result: "engine.ApplyResult | dict | None" = None, error: str | None = None,
          retried: engine.ApplyResult | None = None):
    backup_check.refresh_backup_state()
    draft = revisions.current_draft()
    check = None
    if draft is not None and result is None:
        check, _, _ = engine.validate(draft.text, revisions.managed_file_text())
    return render_template("apply/index.html", draft=draft, diff=revisions.draft_diff(), check=check,
                           result=result, retried=retried, error=error, running=revisions.running_revision(),
                           backup=service.backup_sync_state(), drift=revisions.drift(),
                           lvs_cf=str(revisions.managed_path())), status


@bp.route("/apply", methods=["GET", "POST"])
def index():
    if request.method == "GET":
        return _page()
    number, version, message = _form_fields()
    try:
        result = service.apply_draft(current_user, number, version, message)
    except service.ApplyConflict as conflict:
        return _page(409, error=str(conflict))
    except SettingsError as bad_setting:
        return _page(500, error=f"The console's settings are wrong, nothing was written: {bad_setting}")
    status = 200 if result.written else 422
    return _page(status, result=result)


@bp.route("/apply/retry-sync", methods=["POST"])
def retry_sync():
    try:
        result = service.retry_sync(current_user)
    except (service.ApplyConflict, service.RetryRefused) as refused:
        flash(str(refused), "error")
        return redirect(url_for("apply.index"))
    except SettingsError as bad_setting:
        flash(f"The console's settings are wrong: {bad_setting}", "error")
        return redirect(url_for("apply.index"))
    return _page(200 if result.backup_state != engine.OUT_OF_SYNC else 502, retried=result)


@bp.route("/apply/start", methods=["POST"])
def start():
    """The JavaScript path: run the apply in the background and answer where to follow it."""
    number, version, message = _form_fields()
    job_id = progress.start(current_user, number, version, message)
    return jsonify(job=job_id, status_url=url_for("apply.job", id=job_id),
                   result_url=url_for("apply.job_result", id=job_id)), 202


def _job_or_404() -> dict:
    state = progress.read_job(request.args.get("id", ""))
    if state is None:
        abort(404)
    return state


@bp.route("/apply/job")
def job():
    return jsonify(_job_or_404())


@bp.route("/apply/job/result")
def job_result():
    state = _job_or_404()
    if not state["done"]:
        return redirect(url_for("apply.index"))
    return _page(state["status"], result=state["result"], error=state["error"])
