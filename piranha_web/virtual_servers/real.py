"""REAL SERVER panel of a virtual server: list, add, edit, delete, (de)activate."""

from flask import render_template, request, url_for

from piranha.lvscf.model import RealServer
from piranha_web import revisions
from piranha_web.keyword_forms import fill_model, model_data
from piranha_web.panels import changed_note, find_or_404, save_or_show
from piranha_web.virtual_servers import bp
from piranha_web.virtual_servers.forms import REAL_ATTRS, REAL_FIELDSETS, RealForm
from piranha_web.virtual_servers.routes import _save_action


def _render_list(virtual, form, status=200):
    return render_template("virtual_servers/real.html", virtual=virtual, form=form,
                           fieldsets=REAL_FIELDSETS), status


@bp.route("/<name>/real")
def real_servers(name):
    virtual = find_or_404(revisions.view_config().virtual_server, name)
    form = RealForm(data={"draft_version": revisions.draft_version(), "weight": "1", "active": True})
    return _render_list(virtual, form)


@bp.route("/<name>/real", methods=["POST"])
def add_real(name):
    config = revisions.draft_config()
    virtual = find_or_404(config.virtual_server, name)
    form = RealForm()
    if not form.validate_on_submit():
        return _render_list(virtual, form, 400)
    server = RealServer(name=form.name.data)
    fill_model(form, server, "server", REAL_ATTRS)
    virtual.servers.append(server)
    return save_or_show(form, config, ("virtual", name, "server", server.name),
                        f"virtual {name}: real server {server.name} added",
                        lambda f: _render_list(virtual, f)[0], url_for("virtual_servers.real_servers", name=name))


def _render_edit(virtual, server, form):
    return render_template("virtual_servers/real_edit.html", virtual=virtual, server=server, form=form,
                           fieldsets=REAL_FIELDSETS)


@bp.route("/<name>/real/<rname>", methods=["GET", "POST"])
def edit_real(name, rname):
    if request.method == "GET":
        virtual = find_or_404(revisions.view_config().virtual_server, name)
        server = find_or_404(virtual.server, rname)
        data = model_data(server, "server", REAL_ATTRS, revisions.draft_version())
        return _render_edit(virtual, server, RealForm(data=dict(data, name=server.name)))
    config = revisions.draft_config()
    virtual = find_or_404(config.virtual_server, name)
    server = find_or_404(virtual.server, rname)
    form = RealForm()
    if not form.validate_on_submit():
        return _render_edit(virtual, server, form), 400
    before = model_data(server, "server", REAL_ATTRS, 0)
    fill_model(form, server, "server", REAL_ATTRS)
    server.name = form.name.data
    note = changed_note(f"virtual {name}: real server {rname}", dict(before, name=rname),
                        dict(model_data(server, "server", REAL_ATTRS, 0), name=server.name))
    return save_or_show(form, config, ("virtual", name, "server", server.name), note,
                        lambda f: _render_edit(virtual, server, f), url_for("virtual_servers.real_servers", name=name))


@bp.route("/<name>/real/<rname>/toggle", methods=["POST"])
def toggle_real(name, rname):
    config = revisions.draft_config()
    server = find_or_404(find_or_404(config.virtual_server, name).server, rname)
    server.active = not server.active
    server.present.add("active")
    state = "activated" if server.active else "deactivated"
    return _save_action(config, f"virtual {name}: real server {rname} {state}",
                        url_for("virtual_servers.real_servers", name=name))


@bp.route("/<name>/real/<rname>/delete", methods=["POST"])
def delete_real(name, rname):
    config = revisions.draft_config()
    virtual = find_or_404(config.virtual_server, name)
    virtual.servers.remove(find_or_404(virtual.server, rname))
    return _save_action(config, f"virtual {name}: real server {rname} deleted",
                        url_for("virtual_servers.real_servers", name=name))
