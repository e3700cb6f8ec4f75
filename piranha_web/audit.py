"""The audit log: `audit(action, detail=None, outcome="ok")` records who did what from where."""

from __future__ import annotations

import json

from flask import has_request_context, request
from flask_login import current_user

from piranha_web.extensions import db
from piranha_web.models import AuditEntry


def audit(action: str, detail=None, outcome: str = "ok", username: str | None = None) -> AuditEntry:
    """Add an entry and commit it; the user and client address come from the current request if any.

    `detail` is anything JSON-serialisable. `username` overrides the logged-in user (failed logins).
    """
    remote_addr = request.remote_addr if has_request_context() else None
    if username is None and has_request_context() and current_user.is_authenticated:
        username = current_user.username
    entry = AuditEntry(username=username, remote_addr=remote_addr, action=action, outcome=outcome,
                       detail=json.dumps(detail, sort_keys=True) if detail is not None else None)
    db.session.add(entry)
    db.session.commit()
    return entry
