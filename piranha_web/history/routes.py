"""HISTORY: every revision, the diff of any two, rollback into the draft, and import of a hand-edited file."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import defer

from piranha import lvscf
from piranha_web import revisions
from piranha_web.audit import audit
from piranha_web.extensions import db
from piranha_web.history import bp
from piranha_web.models import Revision

PAGE_SIZE = 50


def _revision_or_404(number: int) -> Revision:
    revision = db.session.scalar(select(Revision).where(Revision.number == number))
    if revision is None:
        abort(404)
    return revision


@bp.route("", strict_slashes=False)
def index():
    total = db.session.scalar(select(func.count(Revision.id)))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = db.session.scalars(select(Revision).options(defer(Revision.text)).order_by(Revision.number.desc())
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return render_template("history/index.html", revisions=rows, page=page, pages=pages,
                           running=revisions.running_revision(), drift=revisions.drift())


@bp.route("/<int:number>")
def show(number):
    return render_template("history/show.html", revision=_revision_or_404(number),
                           running=revisions.running_revision())


@bp.route("/diff")
def diff():
    """Diff of any two revisions: ?a=OLD&b=NEW (revision numbers)."""
    old_number = request.args.get("a", type=int)
    new_number = request.args.get("b", type=int)
    if old_number is None or new_number is None:
        flash("Choose two revisions to compare.", "error")
        return redirect(url_for("history.index"))
    old, new = _revision_or_404(old_number), _revision_or_404(new_number)
    text = revisions.unified_diff(old.text, new.text, f"revision {old.number}", f"revision {new.number}")
    return render_template("history/diff.html", old=old, new=new, diff=text)


@bp.route("/<int:number>/rollback", methods=["POST"])
def rollback(number):
    """Make this revision's configuration the draft (with the running serial), then go to Apply."""
    revision = _revision_or_404(number)
    running = revisions.running_revision()
    config = lvscf.loads(revision.text)
    if running is not None and running.serial_no is not None:
        config.serial_no = running.serial_no
    try:
        draft = revisions.save_draft(config, current_user, f"rollback to revision {revision.number}")
    except revisions.DraftInvalid as error:
        flash(f"Revision {revision.number} does not validate any more: {error}", "error")
        return redirect(url_for("history.show", number=number))
    audit("rollback", {"revision": revision.number, "draft": draft.number if draft else None})
    if draft is None:
        flash(f"Revision {revision.number} is what is running already; there is nothing to roll back.", "info")
    else:
        flash(f"The draft now holds revision {revision.number}. Review the diff and apply it.", "success")
    return redirect(url_for("apply.index"))


@bp.route("/drift")
def drift():
    """The managed file changed outside the console: its diff against the running revision."""
    running = revisions.running_revision()
    text = revisions.managed_file_text()
    diff_text = ""
    problems = []
    if running is not None and text is not None:
        diff_text = revisions.unified_diff(running.text, text, f"revision {running.number}",
                                           str(revisions.managed_path()))
        try:
            problems = lvscf.loads(text).validate()
        except lvscf.LvsConfigError as error:
            problems = error.errors
    return render_template("history/drift.html", running=running, exists=text is not None, diff=diff_text,
                           problems=problems, drift=revisions.drift(), path=revisions.managed_path(),
                           checksum=revisions.managed_file_checksum())


@bp.route("/drift/import", methods=["POST"])
def import_drift():
    text = revisions.managed_file_text()
    if text is None:
        flash(f"{revisions.managed_path()} is missing: nothing to import.", "error")
        return redirect(url_for("history.drift"))
    if request.form.get("checksum") != revisions.managed_file_checksum():
        flash("The file changed again since you saw its diff; review it once more.", "error")
        return redirect(url_for("history.drift"))
    try:
        revision = revisions.import_file_as_revision(text, current_user, "imported a file changed by hand")
    except revisions.DraftInvalid as error:
        audit("import", {"path": str(revisions.managed_path()), "problems": [str(p) for p in error.problems]},
              outcome="failed")
        flash(f"The file does not validate, nothing imported: {error}", "error")
        return redirect(url_for("history.drift"))
    audit("import", {"revision": revision.number, "path": str(revisions.managed_path())})
    flash(f"Imported the managed file as revision {revision.number}.", "success")
    return redirect(url_for("history.index"))
