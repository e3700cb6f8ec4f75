"""MONITORING SCRIPTS panel: the health check's send program, send and expect strings."""

from flask import render_template, url_for

from piranha_web.panels import edit_block, find_or_404
from piranha_web.virtual_servers import bp
from piranha_web.virtual_servers.forms import SCRIPT_ATTRS, ScriptsForm

FIELDSETS = [("Monitoring scripts", SCRIPT_ATTRS)]


def _render(form, virtual):
    return render_template("virtual_servers/scripts.html", virtual=virtual, form=form, fieldsets=FIELDSETS)


@bp.route("/<name>/scripts", methods=["GET", "POST"])
def scripts(name):
    return edit_block(lambda config: find_or_404(config.virtual_server, name), "virtual", SCRIPT_ATTRS, ScriptsForm,
                      _render, note_prefix=f"virtual {name}: monitoring scripts",
                      block_path=lambda virtual: ("virtual", name),
                      success_url=lambda virtual: url_for("virtual_servers.scripts", name=name))
