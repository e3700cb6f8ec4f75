"""REAL SERVER panel of a virtual server: list, add, edit, delete, (de)activate."""

from flask import render_template, url_for

from piranha.lvscf.model import RealServer
from piranha_web import revisions
from piranha_web.panels import add_block, delete_block, edit_block, find_or_404, toggle_block
from piranha_web.virtual_servers import bp
from piranha_web.virtual_servers.forms import REAL_ATTRS, REAL_FIELDSETS, RealForm


def _render_list(virtual, form):
    return render_template("virtual_servers/real.html", virtual=virtual, form=form, fieldsets=REAL_FIELDSETS)


def _list_url(name: str) -> str:
    return url_for("virtual_servers.real_servers", name=name)


def _servers(name: str):
    return lambda config: find_or_404(config.virtual_server, name).servers


def _server(name: str, rname: str):
    return lambda config: find_or_404(find_or_404(config.virtual_server, name).server, rname)


def _block_path(name: str):
    return lambda server: ("virtual", name, "server", server.name)


@bp.route("/<name>/real")
def real_servers(name):
    virtual = find_or_404(revisions.view_config().virtual_server, name)
    return _render_list(virtual, RealForm(data={"draft_version": revisions.draft_version(), "weight": "1",
                                                "active": True}))


@bp.route("/<name>/real", methods=["POST"])
def add_real(name):
    virtual = None  # the draft's, once found: the form shown again lists its servers

    def servers(config):
        nonlocal virtual
        virtual = find_or_404(config.virtual_server, name)
        return virtual.servers

    return add_block(servers, RealServer, "server", REAL_ATTRS, RealForm, lambda form: _render_list(virtual, form),
                     note=lambda server: f"virtual {name}: real server {server.name} added",
                     block_path=_block_path(name), success_url=lambda server: _list_url(name))


@bp.route("/<name>/real/<rname>", methods=["GET", "POST"])
def edit_real(name, rname):
    virtual = None  # the one `find` looked in: the page names it

    def find(config):
        nonlocal virtual
        virtual = find_or_404(config.virtual_server, name)
        return find_or_404(virtual.server, rname)

    def render(form, server):
        return render_template("virtual_servers/real_edit.html", virtual=virtual, server=server, form=form,
                               fieldsets=REAL_FIELDSETS)

    return edit_block(find, "server", REAL_ATTRS, RealForm, render, note_prefix=f"virtual {name}: real server {rname}",
                      block_path=_block_path(name), success_url=lambda server: _list_url(name))


@bp.route("/<name>/real/<rname>/toggle", methods=["POST"])
def toggle_real(name, rname):
    return toggle_block(_server(name, rname), f"virtual {name}: real server {rname}", _list_url(name))


@bp.route("/<name>/real/<rname>/delete", methods=["POST"])
def delete_real(name, rname):
    return delete_block(_servers(name), _server(name, rname), f"virtual {name}: real server {rname}",
                        _list_url(name))
