"""REDUNDANCY: the backup director, heartbeat timing and port, link monitoring and the IPVS sync daemon."""

from flask import render_template, request, url_for

from piranha_web import revisions
from piranha_web.keyword_forms import fill_model, keyword_form, model_data
from piranha_web.panels import changed_note, save_or_show
from piranha_web.redundancy import bp

FIELDSETS = [
    ("Backup director", ["backup_active", "backup", "backup_private"]),
    ("Heartbeat", ["keepalive", "deadtime", "heartbeat_port", "heartbeat_key_file", "monitor_links"]),
    ("IPVS connection sync", ["syncdaemon", "syncd_iface", "syncd_id"]),
]
ATTRS = [attr for _, attrs in FIELDSETS for attr in attrs]
RedundancyForm = keyword_form("global", ATTRS)


def _render(form):
    config = revisions.view_config()
    return render_template("redundancy/index.html", form=form, fieldsets=FIELDSETS,
                           backup_active=config.backup_active)


@bp.route("/redundancy", methods=["GET", "POST"])
def index():
    if request.method == "GET":
        data = model_data(revisions.view_config(), "global", ATTRS, revisions.draft_version())
        return _render(RedundancyForm(data=data))
    form = RedundancyForm()
    if not form.validate_on_submit():
        return _render(form), 400
    config = revisions.draft_config()
    before = model_data(config, "global", ATTRS, 0)
    fill_model(form, config, "global", ATTRS)
    note = changed_note("redundancy", before, model_data(config, "global", ATTRS, 0))
    return save_or_show(form, config, (), note, _render, url_for("redundancy.index"))
