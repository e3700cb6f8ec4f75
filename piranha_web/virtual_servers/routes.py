"""VIRTUAL SERVERS list (add, delete, (de)activate) and the VIRTUAL SERVER panel (every virtual keyword)."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from piranha.lvscf.model import VirtualServer
from piranha_web import revisions
from piranha_web.audit import audit
from piranha_web.keyword_forms import fill_model, model_data
from piranha_web.panels import changed_note, find_or_404, save_or_show
from piranha_web.virtual_servers import bp
from piranha_web.virtual_servers.forms import (
    NEW_VIRTUAL_ATTRS, VIRTUAL_ATTRS, VIRTUAL_FIELDSETS, NewVirtualForm, VirtualForm,
)

PAGE_SIZE = 100
NEW_DEFAULTS = {"device": "eth0:1"}


def _matches(virtual, query: str) -> bool:
    return query in virtual.name.lower() or query in (virtual.address or "")


def _render_list(new_form, status=200):
    config = revisions.view_config()
    query = request.args.get("q", "").strip().lower()
    virtuals = [v for v in config.virtual_servers if _matches(v, query)] if query else config.virtual_servers
    pages = max(1, -(-len(virtuals) // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    shown = virtuals[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return render_template("virtual_servers/index.html", virtuals=shown, total=len(virtuals), page=page,
                           pages=pages, query=query, new_form=new_form, config=config), status


@bp.route("")
def index():
    data = {"draft_version": revisions.draft_version(), "port": "80", "protocol": "tcp", **NEW_DEFAULTS}
    return _render_list(NewVirtualForm(data=data))


@bp.route("", methods=["POST"])
def create():
    """ADD: a new, inactive virtual server with the defaults; the full panel opens next."""
    form = NewVirtualForm()
    if not form.validate_on_submit():
        return _render_list(form, 400)
    config = revisions.draft_config()
    virtual = VirtualServer(name=form.name.data)
    fill_model(form, virtual, "virtual", NEW_VIRTUAL_ATTRS)
    config.virtual_servers.append(virtual)
    return save_or_show(form, config, ("virtual", virtual.name), f"virtual {virtual.name}: added",
                        lambda f: _render_list(f)[0], url_for("virtual_servers.edit", name=virtual.name))


def _render_edit(form, virtual):
    return render_template("virtual_servers/edit.html", form=form, virtual=virtual, fieldsets=VIRTUAL_FIELDSETS)


@bp.route("/<name>", methods=["GET", "POST"])
def edit(name):
    if request.method == "GET":
        virtual = find_or_404(revisions.view_config().virtual_server, name)
        data = model_data(virtual, "virtual", VIRTUAL_ATTRS, revisions.draft_version())
        return _render_edit(VirtualForm(data=dict(data, name=virtual.name)), virtual)
    config = revisions.draft_config()
    virtual = find_or_404(config.virtual_server, name)
    form = VirtualForm()
    if not form.validate_on_submit():
        return _render_edit(form, virtual), 400
    before = model_data(virtual, "virtual", VIRTUAL_ATTRS, 0)
    fill_model(form, virtual, "virtual", VIRTUAL_ATTRS)
    virtual.name = form.name.data
    after = model_data(virtual, "virtual", VIRTUAL_ATTRS, 0)
    note = changed_note(f"virtual {name}", dict(before, name=name), dict(after, name=virtual.name))
    return save_or_show(form, config, ("virtual", virtual.name), note, lambda f: _render_edit(f, virtual),
                        url_for("virtual_servers.edit", name=virtual.name))


@bp.route("/<name>/toggle", methods=["POST"])
def toggle(name):
    """(DE)ACTIVATE."""
    config = revisions.draft_config()
    virtual = find_or_404(config.virtual_server, name)
    virtual.active = not virtual.active
    virtual.present.add("active")
    return _save_action(config, f"virtual {name}: {'activated' if virtual.active else 'deactivated'}")


@bp.route("/<name>/delete", methods=["POST"])
def delete(name):
    config = revisions.draft_config()
    virtual = find_or_404(config.virtual_server, name)
    config.virtual_servers.remove(virtual)
    return _save_action(config, f"virtual {name}: deleted")


def _save_action(config, note: str, back: str | None = None):
    """A one-button action: save it, or say in a flash message why the result does not validate."""
    back = back or url_for("virtual_servers.index")
    try:
        revisions.save_draft(config, current_user, note)
    except revisions.DraftInvalid as error:
        audit("draft.save", {"note": note, "problems": [str(p) for p in error.problems][:20]}, outcome="refused")
        flash(f"Not saved ({note}): " + "; ".join(p.message for p in error.problems[:5]), "error")
        return redirect(back)
    audit("draft.save", {"note": note})
    flash(f"Saved to the draft: {note}.", "success")
    return redirect(back)
