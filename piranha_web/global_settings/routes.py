"""GLOBAL SETTINGS: the primary director, forwarding method, NAT router, IPVS timeouts and commands."""

from flask import render_template, url_for

from piranha_web.global_settings import bp
from piranha_web.keyword_forms import keyword_form
from piranha_web.panels import edit_block

FIELDSETS = [
    ("Primary director", ["primary", "primary_private", "service"]),
    ("Network type", ["network", "nat_router", "nat_router_device", "nat_nmask"]),
    ("IPVS timeouts", ["tcp_timeout", "tcpfin_timeout", "udp_timeout"]),
    ("Commands", ["rsh_command", "active_cmd", "inactive_cmd", "hard_shutdown"]),
]
ATTRS = [attr for _, attrs in FIELDSETS for attr in attrs]
GlobalForm = keyword_form("global", ATTRS)


def _render(form, config):
    return render_template("global_settings/index.html", form=form, fieldsets=FIELDSETS)


@bp.route("/global", methods=["GET", "POST"])
def index():
    return edit_block(lambda config: config, "global", ATTRS, GlobalForm, _render, note_prefix="global settings",
                      block_path=lambda config: (), success_url=lambda config: url_for("global_settings.index"),
                      field_map={"nat_router": "nat_router"})
