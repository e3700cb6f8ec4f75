"""VIRTUAL SERVERS list (add, delete, (de)activate) and the VIRTUAL SERVER panel (every virtual keyword)."""

from flask import render_template, request, url_for

from piranha.lvscf.model import VirtualServer
from piranha_web import revisions
from piranha_web.panels import add_block, delete_block, edit_block, find_or_404, toggle_block
from piranha_web.virtual_servers import bp
from piranha_web.virtual_servers.forms import (
    NEW_VIRTUAL_ATTRS, VIRTUAL_ATTRS, VIRTUAL_FIELDSETS, NewVirtualForm, VirtualForm,
)

PAGE_SIZE = 100
NEW_DEFAULTS = {"device": "eth0:1"}


def _matches(virtual, query: str) -> bool:
    return query in virtual.name.lower() or query in (virtual.address or "")


def _render_list(new_form):
    config = revisions.view_config()
    query = request.args.get("q", "").strip().lower()
    virtuals = [v for v in config.virtual_servers if _matches(v, query)] if query else config.virtual_servers
    pages = max(1, -(-len(virtuals) // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    shown = virtuals[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return render_template("virtual_servers/index.html", virtuals=shown, total=len(virtuals), page=page,
                           pages=pages, query=query, new_form=new_form, new_fields=["name", *NEW_VIRTUAL_ATTRS],
                           config=config)


@bp.route("")
def index():
    data = {"draft_version": revisions.draft_version(), "port": "80", "protocol": "tcp", **NEW_DEFAULTS}
    return _render_list(NewVirtualForm(data=data))


@bp.route("", methods=["POST"])
def create():
    """ADD: a new, inactive virtual server with the defaults; the full panel opens next."""
    return add_block(lambda config: config.virtual_servers, VirtualServer, "virtual", NEW_VIRTUAL_ATTRS,
                     NewVirtualForm, _render_list, note=lambda virtual: f"virtual {virtual.name}: added",
                     block_path=lambda virtual: ("virtual", virtual.name),
                     success_url=lambda virtual: url_for("virtual_servers.edit", name=virtual.name))


def _virtual(name: str):
    return lambda config: find_or_404(config.virtual_server, name)


def _render_edit(form, virtual):
    return render_template("virtual_servers/edit.html", form=form, virtual=virtual, fieldsets=VIRTUAL_FIELDSETS)


@bp.route("/<name>", methods=["GET", "POST"])
def edit(name):
    return edit_block(_virtual(name), "virtual", VIRTUAL_ATTRS, VirtualForm, _render_edit,
                      note_prefix=f"virtual {name}", block_path=lambda virtual: ("virtual", virtual.name),
                      success_url=lambda virtual: url_for("virtual_servers.edit", name=virtual.name))


@bp.route("/<name>/toggle", methods=["POST"])
def toggle(name):
    """(DE)ACTIVATE."""
    return toggle_block(_virtual(name), f"virtual {name}:", url_for("virtual_servers.index"))


@bp.route("/<name>/delete", methods=["POST"])
def delete(name):
    return delete_block(lambda config: config.virtual_servers, _virtual(name), f"virtual {name}:",
                        url_for("virtual_servers.index"))
