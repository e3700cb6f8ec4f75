"""LAB ONLY: the controls page and its POST actions, executed by the lab agent (JSON lines on a Unix socket)."""

from flask import current_app, flash, redirect, render_template, request, url_for

from piranha.control.client import ControlClient, ControlError
from piranha_web.audit import audit
from piranha_web.lab import bp
from piranha_web.security import is_same_site_path

# control -> (allowed actions, the argument naming its target, or None)
CONTROLS = {"service": (("stop", "start"), "server"), "pulse": (("stop", "start"), "director"),
            "link": (("cut", "restore"), None)}


def agent() -> ControlClient:
    return ControlClient(current_app.config["PIRANHA_LAB_AGENT"], timeout=40)


def lab_status() -> tuple[dict | None, str | None]:
    """The agent's status, or (None, why it could not be read)."""
    try:
        return agent().call("status"), None
    except ControlError as exc:
        return None, str(exc)


def live_view(status: dict | None) -> dict:
    """What the active director's lvsd reports per real server (health, weight, connections), by name."""
    view = {"active": None, "servers": {}}
    for name, director in (status or {}).get("directors", {}).items():
        pulse = director.get("status") or {}
        lvsd = (pulse.get("lvsd") or {}).get("status")
        if not pulse.get("active") or not lvsd:
            continue
        view["active"] = name
        conns = {(d["address"], d["port"]): d for service in lvsd.get("table", []) for d in service["dests"]}
        for server in lvsd.get("servers", []):
            dest = conns.get((server["address"], server["port"]), {})
            view["servers"][server["server"]] = {
                "health": server["health"], "in_ipvs": server["in_ipvs"], "weight": server["current_weight"],
                "active_conns": dest.get("active_conns"), "connections": (dest.get("stats") or {}).get("conns")}
    return view


def lab_context() -> tuple[dict | None, str | None, dict]:
    """(agent status, error, live view): what templates/lab/_controls.html shows, wherever it is included."""
    status, error = lab_status()
    return status, error, live_view(status)


@bp.route("/")
def index():
    return render_template("lab/index.html")


@bp.route("/<control>", methods=["POST"])
def act(control: str):
    if control not in CONTROLS:
        flash(f"Unknown lab control {control!r}.", "error")
        return redirect(url_for("lab.index"))
    actions, target_name = CONTROLS[control]
    action = request.form.get("action", "")
    args = {"action": action}
    if target_name:
        args[target_name] = request.form.get(target_name, "")
    detail = {"control": control, **args}
    if action not in actions:
        flash(f"Lab control {control}: action {action!r} is not one of {', '.join(actions)}.", "error")
        audit("lab.control", detail, outcome="refused")
        return redirect(url_for("lab.index"))
    try:
        agent().call(control, **args)
    except ControlError as exc:
        audit("lab.control", {**detail, "error": str(exc)}, outcome="failed")
        flash(f"Lab control failed: {exc}", "error")
        return redirect(url_for("lab.index"))
    audit("lab.control", detail)
    target = f" {args[target_name]}" if target_name else ""
    flash(f"LAB: {control}{target}: {action} done.", "success")
    target_page = request.form.get("next")
    return redirect(target_page if is_same_site_path(target_page) else url_for("lab.index"))
