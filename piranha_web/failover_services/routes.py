"""FAILOVER SERVICES (service = fos): list, add, edit, delete, (de)activate."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from piranha.lvscf.model import FailoverService
from piranha_web import revisions
from piranha_web.audit import audit
from piranha_web.failover_services import bp
from piranha_web.keyword_forms import fill_model, keyword_form, model_data
from piranha_web.panels import changed_note, find_or_404, save_or_show
from piranha_web.virtual_servers.forms import NamedForm

FIELDSETS = [
    ("Failover service", ["name", "active", "address", "device", "vip_nmask", "port", "protocol", "timeout"]),
    ("Probe of the partner", ["send_program", "send", "expect", "use_regex"]),
    ("Service commands", ["start_cmd", "stop_cmd"]),
]
ATTRS = [a for _, attrs in FIELDSETS for a in attrs if a != "name"]
FailoverForm = keyword_form("failover", ATTRS, base=NamedForm)
NEW_ATTRS = ["address", "device", "port", "protocol", "start_cmd", "stop_cmd"]
NewFailoverForm = keyword_form("failover", NEW_ATTRS, base=NamedForm)


def _render_list(new_form, status=200):
    config = revisions.view_config()
    return render_template("failover_services/index.html", services=config.failover_services,
                           new_form=new_form, config=config), status


@bp.route("")
def index():
    return _render_list(NewFailoverForm(data={"draft_version": revisions.draft_version(), "device": "eth0:1",
                                              "port": "80", "protocol": "tcp"}))


@bp.route("", methods=["POST"])
def create():
    form = NewFailoverForm()
    if not form.validate_on_submit():
        return _render_list(form, 400)
    config = revisions.draft_config()
    service = FailoverService(name=form.name.data)
    fill_model(form, service, "failover", NEW_ATTRS)
    config.failover_services.append(service)
    return save_or_show(form, config, ("failover", service.name), f"failover {service.name}: added",
                        lambda f: _render_list(f)[0], url_for("failover_services.edit", name=service.name))


def _render_edit(form, service):
    return render_template("failover_services/edit.html", form=form, service=service, fieldsets=FIELDSETS)


@bp.route("/<name>", methods=["GET", "POST"])
def edit(name):
    if request.method == "GET":
        service = find_or_404(revisions.view_config().failover_service, name)
        data = model_data(service, "failover", ATTRS, revisions.draft_version())
        return _render_edit(FailoverForm(data=dict(data, name=service.name)), service)
    config = revisions.draft_config()
    service = find_or_404(config.failover_service, name)
    form = FailoverForm()
    if not form.validate_on_submit():
        return _render_edit(form, service), 400
    before = model_data(service, "failover", ATTRS, 0)
    fill_model(form, service, "failover", ATTRS)
    service.name = form.name.data
    note = changed_note(f"failover {name}", dict(before, name=name),
                        dict(model_data(service, "failover", ATTRS, 0), name=service.name))
    return save_or_show(form, config, ("failover", service.name), note, lambda f: _render_edit(f, service),
                        url_for("failover_services.edit", name=service.name))


def _save_action(config, note):
    try:
        revisions.save_draft(config, current_user, note)
    except revisions.DraftInvalid as error:
        audit("draft.save", {"note": note, "problems": [str(p) for p in error.problems][:20]}, outcome="refused")
        flash(f"Not saved ({note}): " + "; ".join(p.message for p in error.problems[:5]), "error")
    else:
        audit("draft.save", {"note": note})
        flash(f"Saved to the draft: {note}.", "success")
    return redirect(url_for("failover_services.index"))


@bp.route("/<name>/toggle", methods=["POST"])
def toggle(name):
    config = revisions.draft_config()
    service = find_or_404(config.failover_service, name)
    service.active = not service.active
    service.present.add("active")
    return _save_action(config, f"failover {name}: {'activated' if service.active else 'deactivated'}")


@bp.route("/<name>/delete", methods=["POST"])
def delete(name):
    config = revisions.draft_config()
    config.failover_services.remove(find_or_404(config.failover_service, name))
    return _save_action(config, f"failover {name}: deleted")
