"""What every configuration panel does: fill a form from the draft, fill the draft's model from a form, save it
or show the problems beside the fields, and the one-button actions.

    @bp.route("/<name>/scripts", methods=["GET", "POST"])
    def scripts(name):
        return edit_block(lambda config: find_or_404(config.virtual_server, name), "virtual", ATTRS, ScriptsForm,
                          render, note_prefix=f"virtual {name}: scripts", block_path=lambda v: ("virtual", v.name),
                          success_url=lambda v: url_for("virtual_servers.scripts", name=v.name))
"""

from __future__ import annotations

from typing import Callable

from flask import abort, flash, redirect, request
from flask_login import current_user

from piranha_web import revisions
from piranha_web.audit import audit
from piranha_web.keyword_forms import attach_problems, fill_model, model_data


def _refused(note: str, problems) -> None:
    audit("draft.save", {"note": note, "problems": [str(p) for p in problems][:20]}, outcome="refused")


def save_or_show(form, config, block_path: tuple, note: str, render_form, success_url: str,
                 field_map: dict | None = None):
    """Save `config` as the draft and redirect, or re-render the form (400/409) with the problems beside fields."""
    try:
        revisions.save_draft(config, current_user, note, expected_version=form.draft_version.data)
    except revisions.DraftInvalid as error:
        attach_problems(form, error.problems, block_path, field_map)
        _refused(note, error.problems)
        return render_form(form), 400
    except revisions.StaleDraft:
        form.form_errors = ["Someone else saved a change since you opened this page. Your input is kept below; "
                            "reload the page to see the current values, then submit again."]
        return render_form(form), 409
    audit("draft.save", {"note": note})
    flash(f"Saved to the draft: {note}. Apply it when ready.", "success")
    return redirect(success_url)


def save_action(config, note: str, back_url: str):
    """A one-button action (toggle, delete): save it, or say in a flash message why the result does not validate."""
    try:
        revisions.save_draft(config, current_user, note)
    except revisions.DraftInvalid as error:
        _refused(note, error.problems)
        flash(f"Not saved ({note}): " + "; ".join(p.message for p in error.problems[:5]), "error")
    else:
        audit("draft.save", {"note": note})
        flash(f"Saved to the draft: {note}.", "success")
    return redirect(back_url)


def toggle_block(find: Callable, note_prefix: str, back_url: str):
    """(DE)ACTIVATE the virtual server, real server or failover service `find(config)` returns (or 404s)."""
    config = revisions.draft_config()
    block = find(config)
    block.active = not block.active
    block.present.add("active")
    return save_action(config, f"{note_prefix} {'activated' if block.active else 'deactivated'}", back_url)


def delete_block(siblings: Callable, find: Callable, note_prefix: str, back_url: str):
    """DELETE `find(config)` from the list `siblings(config)` (either may 404)."""
    config = revisions.draft_config()
    siblings(config).remove(find(config))
    return save_action(config, f"{note_prefix} deleted", back_url)


def _form_data(obj, block: str, attrs: list[str], draft_version: int) -> dict:
    """The form's data for `obj`, with its name when the block has one (forms without a name field ignore it)."""
    data = model_data(obj, block, attrs, draft_version)
    return dict(data, name=obj.name) if hasattr(obj, "name") else data


def edit_block(find: Callable, block: str, attrs: list[str], form_class, render: Callable, note_prefix: str,
               block_path: Callable, success_url: Callable, field_map: dict | None = None):
    """The view of a keyword panel. GET: the form filled from the configuration shown. POST: validate the form,
    fill the draft's object (renamed when the form has a name field), then save it or show the problems.

    `find(config)` returns the object edited (or aborts 404); `render(form, obj)` returns the page;
    `block_path(obj)` and `success_url(obj)` are taken after a rename.
    """
    if request.method == "GET":
        obj = find(revisions.view_config())
        return render(form_class(data=_form_data(obj, block, attrs, revisions.draft_version())), obj)
    config = revisions.draft_config()
    obj = find(config)
    form = form_class()
    if not form.validate_on_submit():
        return render(form, obj), 400
    before = _form_data(obj, block, attrs, 0)
    fill_model(form, obj, block, attrs)
    if "name" in form:
        obj.name = form.name.data
    note = changed_note(note_prefix, before, _form_data(obj, block, attrs, 0))
    return save_or_show(form, config, block_path(obj), note, lambda f: render(f, obj), success_url(obj), field_map)


def add_block(siblings: Callable, model_class, block: str, attrs: list[str], form_class, render: Callable,
              note: Callable, block_path: Callable, success_url: Callable):
    """The POST of an ADD form: a new named object filled from the form, appended to `siblings(config)` (which
    may abort 404) and saved to the draft; `render(form)` shows the form again with the problems."""
    config = revisions.draft_config()
    objects = siblings(config)
    form = form_class()
    if not form.validate_on_submit():
        return render(form), 400
    obj = model_class(name=form.name.data)
    fill_model(form, obj, block, attrs)
    objects.append(obj)
    return save_or_show(form, config, block_path(obj), note(obj), render, success_url(obj))


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
