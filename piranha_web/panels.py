"""What every configuration panel does on POST: fill the draft model, save it, or show the problems.

    config = revisions.draft_config()
    virtual = config.virtual_server(name)
    fill_model(form, virtual, "virtual", ATTRS)
    return save_or_show(form, config, ("virtual", name), f"virtual {name}: edited", render_form,
                        success_url=url_for(...))
"""

from __future__ import annotations

from flask import abort, flash, redirect
from flask_login import current_user

from piranha.lvscf.converters import Name
from piranha_web import revisions
from piranha_web.audit import audit
from piranha_web.keyword_forms import attach_problems

_NAME = Name()


def check_block_name(text: str) -> str:
    """A block name as the format library accepts it; ValueError (quoting the text) otherwise."""
    _NAME.check(text)
    return text


def save_or_show(form, config, block_path: tuple, note: str, render_form, success_url: str,
                 field_map: dict | None = None, detail: dict | None = None):
    """Save `config` as the draft and redirect, or re-render the form (400/409) with the problems beside fields."""
    try:
        revisions.save_draft(config, current_user, note, expected_version=form.draft_version.data)
    except revisions.DraftInvalid as error:
        attach_problems(form, error.problems, block_path, field_map)
        audit("draft.save", {"note": note, "problems": [str(p) for p in error.problems][:20]},
              outcome="refused")
        return render_form(form), 400
    except revisions.StaleDraft:
        form.form_errors = ["Someone else saved a change since you opened this page. Your input is kept below; "
                            "reload the page to see the current values, then submit again."]
        return render_form(form), 409
    audit("draft.save", dict(detail or {}, note=note))
    flash(f"Saved to the draft: {note}. Apply it when ready.", "success")
    return redirect(success_url)


def find_or_404(finder, name):
    try:
        return finder(name)
    except KeyError:
        abort(404)


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "unset" if value in (None, "") else str(value)


def changed_note(prefix: str, before: dict, after: dict) -> str:
    """'prefix: port 80 -> 8080, persistent unset -> 300' for the audit log and the draft message."""
    changes = [f"{key} {_shown(before.get(key))} -> {_shown(after.get(key))}"
               for key in after if before.get(key) != after.get(key)]
    return f"{prefix}: {', '.join(changes)}" if changes else f"{prefix}: no change"
