"""FAILOVER SERVICES (service = fos): list, add, edit, delete, (de)activate."""

from flask import render_template, url_for

from piranha.lvscf.model import FailoverService
from piranha_web import revisions
from piranha_web.failover_services import bp
from piranha_web.keyword_forms import NamedForm, keyword_form
from piranha_web.panels import add_block, delete_block, edit_block, find_or_404, toggle_block

FIELDSETS = [
    ("Failover service", ["name", "active", "address", "device", "vip_nmask", "port", "protocol", "timeout"]),
    ("Probe of the partner", ["send_program", "send", "expect", "use_regex"]),
    ("Service commands", ["start_cmd", "stop_cmd"]),
]
ATTRS = [a for _, attrs in FIELDSETS for a in attrs if a != "name"]
FailoverForm = keyword_form("failover", ATTRS, base=NamedForm)
NEW_ATTRS = ["address", "device", "port", "protocol", "start_cmd", "stop_cmd"]
NewFailoverForm = keyword_form("failover", NEW_ATTRS, base=NamedForm)


def _render_list(new_form):
    config = revisions.view_config()
    return render_template("failover_services/index.html", services=config.failover_services,
                           new_form=new_form, new_fields=["name", *NEW_ATTRS], config=config)


def _service(name: str):
    return lambda config: find_or_404(config.failover_service, name)


def _edit_url(service) -> str:
    return url_for("failover_services.edit", name=service.name)


@bp.route("")
def index():
    return _render_list(NewFailoverForm(data={"draft_version": revisions.draft_version(), "device": "eth0:1",
                                              "port": "80", "protocol": "tcp"}))


@bp.route("", methods=["POST"])
def create():
    return add_block(lambda config: config.failover_services, FailoverService, "failover", NEW_ATTRS,
                     NewFailoverForm, _render_list, note=lambda service: f"failover {service.name}: added",
                     block_path=lambda service: ("failover", service.name), success_url=_edit_url)


def _render_edit(form, service):
    return render_template("failover_services/edit.html", form=form, service=service, fieldsets=FIELDSETS)


@bp.route("/<name>", methods=["GET", "POST"])
def edit(name):
    return edit_block(_service(name), "failover", ATTRS, FailoverForm, _render_edit, note_prefix=f"failover {name}",
                      block_path=lambda service: ("failover", service.name), success_url=_edit_url)


@bp.route("/<name>/toggle", methods=["POST"])
def toggle(name):
    return toggle_block(_service(name), f"failover {name}:", url_for("failover_services.index"))


@bp.route("/<name>/delete", methods=["POST"])
def delete(name):
    return delete_block(lambda config: config.failover_services, _service(name), f"failover {name}:",
                        url_for("failover_services.index"))
