"""MONITORING SCRIPTS panel: the health check's send program, send and expect strings."""

from flask import render_template, request, url_for

from piranha_web import revisions
from piranha_web.keyword_forms import fill_model, model_data
from piranha_web.panels import changed_note, find_or_404, save_or_show
from piranha_web.virtual_servers import bp
from piranha_web.virtual_servers.forms import SCRIPT_ATTRS, ScriptsForm

FIELDSETS = [("Monitoring scripts", SCRIPT_ATTRS)]


def _render(virtual, form):
    return render_template("virtual_servers/scripts.html", virtual=virtual, form=form, fieldsets=FIELDSETS)


@bp.route("/<name>/scripts", methods=["GET", "POST"])
def scripts(name):
    if request.method == "GET":
        virtual = find_or_404(revisions.view_config().virtual_server, name)
        return _render(virtual, ScriptsForm(data=model_data(virtual, "virtual", SCRIPT_ATTRS,
                                                            revisions.draft_version())))
    config = revisions.draft_config()
    virtual = find_or_404(config.virtual_server, name)
    form = ScriptsForm()
    if not form.validate_on_submit():
        return _render(virtual, form), 400
    before = model_data(virtual, "virtual", SCRIPT_ATTRS, 0)
    fill_model(form, virtual, "virtual", SCRIPT_ATTRS)
    note = changed_note(f"virtual {name}: monitoring scripts", before,
                        model_data(virtual, "virtual", SCRIPT_ATTRS, 0))
    return save_or_show(form, config, ("virtual", name), note, lambda f: _render(virtual, f),
                        url_for("virtual_servers.scripts", name=name))
