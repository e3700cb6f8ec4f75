"""REDUNDANCY: the backup director, heartbeat timing and port, link monitoring and the IPVS sync daemon."""

from flask import render_template, url_for

from piranha_web import revisions
from piranha_web.keyword_forms import keyword_form
from piranha_web.panels import edit_block
from piranha_web.redundancy import bp

FIELDSETS = [
    ("Backup director", ["backup_active", "backup", "backup_private"]),
    ("Heartbeat", ["keepalive", "deadtime", "heartbeat_port", "heartbeat_key_file", "monitor_links"]),
    ("IPVS connection sync", ["syncdaemon", "syncd_iface", "syncd_id"]),
]
ATTRS = [attr for _, attrs in FIELDSETS for attr in attrs]
RedundancyForm = keyword_form("global", ATTRS)


def _render(form, config):
    """The status line shows the saved draft's backup director, not the one just submitted."""
    return render_template("redundancy/index.html", form=form, fieldsets=FIELDSETS,
                           backup_active=revisions.view_config().backup_active)


@bp.route("/redundancy", methods=["GET", "POST"])
def index():
    return edit_block(lambda config: config, "global", ATTRS, RedundancyForm, _render, note_prefix="redundancy",
                      block_path=lambda config: (), success_url=lambda config: url_for("redundancy.index"))
