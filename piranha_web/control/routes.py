"""CONTROL/MONITORING: both directors, every virtual and real server live, recent events, operator actions.

`/control` renders a complete snapshot (correct with JavaScript off); control.js refreshes the live part by
fetching `/control/live` (the same template fragment) at the interval the user picks. Actions are POSTs
(CSRF, role operator or admin, audited) carried to the right director by piranha_web.status.actions.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from piranha import lvscf
from piranha_web import revisions
from piranha_web.control import bp, charts
from piranha_web.status import actions, history, service

REFRESH_CHOICES = (1, 2, 5, 10, 30)
DEFAULT_REFRESH = 5


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


def _live_context() -> dict:
    doc = service.current_status()
    return {"doc": doc, "polyline": charts.polyline, "chart_seconds": history.KEEP_SECONDS // 2,
            "chart_width": charts.WIDTH, "chart_height": charts.HEIGHT, "clock": charts.clock,
            "per_second": charts.per_second, "duration": charts.duration,
            "can_act": current_user.has_role("operator", "admin"),
            "drain_timeout": actions.DEFAULT_DRAIN_TIMEOUT}


@bp.route("/")
def root():
    return redirect(url_for("control.index"))


@bp.route("/control")
def index():
    return render_template("control/index.html", managed=_managed_file_facts(),
                           running=revisions.running_revision(), draft=revisions.current_draft(),
                           drift=revisions.drift(), refresh_choices=REFRESH_CHOICES,
                           default_refresh=DEFAULT_REFRESH, **_live_context())


@bp.route("/control/live")
def live():
    """The live part of /control alone, for control.js to swap in."""
    return render_template("control/_live.html", **_live_context())


@bp.route("/control/action", methods=["POST"])
def action():
    name = request.form.get("action", "")
    node = request.form.get("node") or None
    target = request.form.get("server") or None
    try:
        result = actions.perform(name, node=node, target=target, drain_timeout=request.form.get("drain_timeout"))
    except actions.ActionRefused as exc:
        flash(f"{name} {target or ''} refused: {exc}".replace("  ", " "), "error")
    else:
        what = f"{result.action} {result.target}" if result.target else result.action
        said = f": {result.message}" if result.message else ""
        flash(f"{what} sent to {result.node}{said}", "success")
    return redirect(url_for("control.index"))
