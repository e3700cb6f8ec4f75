"""Helpers for the panel tests: the draft as the console sees it, and form payloads built from the model."""

from __future__ import annotations

from piranha import lvscf
from piranha_web import revisions
from piranha_web.keyword_forms import model_data


def draft_config(app) -> lvscf.LvsConfig:
    with app.app_context():
        return revisions.draft_config()


def draft_state(app) -> tuple:
    """(draft version, draft text or None): what must not change when a submission is refused."""
    with app.app_context():
        draft = revisions.current_draft()
        return (draft.version, draft.text) if draft else (0, None)


def payload(data: dict) -> dict:
    """Form data as a browser sends it: unchecked boxes are absent, checked ones send 'y'."""
    out = {}
    for key, value in data.items():
        if value is True:
            out[key] = "y"
        elif value is False or value is None:
            continue
        else:
            out[key] = str(value)
    return out


def current_payload(app, block: str, attrs: list[str], find=None) -> dict:
    """The form as the panel would pre-fill it from the current draft (`find(config)` picks the object)."""
    with app.app_context():
        config = revisions.draft_config()
        obj = find(config) if find else config
        data = model_data(obj, block, attrs, revisions.draft_version())
        if hasattr(obj, "name"):
            data["name"] = obj.name
        return payload(data)
