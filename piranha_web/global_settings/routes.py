"""GLOBAL SETTINGS: the primary director, forwarding method, NAT router, IPVS timeouts and commands."""

from flask import render_template, request, url_for

from piranha_web import revisions
from piranha_web.global_settings import bp
from piranha_web.keyword_forms import fill_model, keyword_form, model_data
from piranha_web.panels import changed_note, save_or_show

FIELDSETS = [
    ("Primary director", ["primary", "primary_private", "service"]),
    ("Network type", ["network", "nat_router", "nat_router_device", "nat_nmask"]),
    ("IPVS timeouts", ["tcp_timeout", "tcpfin_timeout", "udp_timeout"]),
    ("Commands", ["rsh_command", "active_cmd", "inactive_cmd", "hard_shutdown"]),
]
ATTRS = [attr for _, attrs in FIELDSETS for attr in attrs]
GlobalForm = keyword_form("global", ATTRS)


def _render(form):
    return render_template("global_settings/index.html", form=form, fieldsets=FIELDSETS)


@bp.route("/global", methods=["GET", "POST"])
def index():
    if request.method == "GET":
        data = model_data(revisions.view_config(), "global", ATTRS, revisions.draft_version())
        return _render(GlobalForm(data=data))
    form = GlobalForm()
    if not form.validate_on_submit():
        return _render(form), 400
    config = revisions.draft_config()
    before = model_data(config, "global", ATTRS, 0)
    fill_model(form, config, "global", ATTRS)
    note = changed_note("global settings", before, model_data(config, "global", ATTRS, 0))
    return save_or_show(form, config, (), note, _render, url_for("global_settings.index"),
                        field_map={"nat_router": "nat_router"})
