"""CONTROL/MONITORING: what the console knows without the daemons (live status is a later issue)."""

from flask import redirect, render_template, url_for

from piranha import lvscf
from piranha_web import revisions
from piranha_web.control import bp


def _managed_file_facts() -> dict:
    text = revisions.managed_file_text()
    facts = {"path": str(revisions.managed_path()), "exists": text is not None, "serial_no": None,
             "checksum": revisions.managed_file_checksum(), "parse_error": None}
    if text is not None:
        try:
            facts["serial_no"] = lvscf.loads(text).serial_no
        except lvscf.LvsConfigError as error:
            facts["parse_error"] = "; ".join(str(p) for p in error.errors[:3])
    return facts


@bp.route("/")
def root():
    return redirect(url_for("control.index"))


@bp.route("/control")
def index():
    return render_template("control/index.html", managed=_managed_file_facts(),
                           running=revisions.running_revision(), draft=revisions.current_draft(),
                           drift=revisions.drift())
