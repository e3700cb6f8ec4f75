"""Login throttling per user name and per client address, counted from the audit log.

Failed logins are audit entries (action "login", outcome "failed"); counting them in a sliding window means
every gunicorn worker sees the same numbers without extra state.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from piranha_web.extensions import db
from piranha_web.models import AuditEntry, utcnow

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


def _failures(column, value: str | None) -> int:
    if value is None:
        return 0
    query = select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "login", AuditEntry.outcome == "failed",
        AuditEntry.time >= utcnow() - WINDOW, column == value)
    return db.session.scalar(query)


def refusal(username: str, remote_addr: str | None) -> str | None:
    """A message when this user or this address failed too often recently, else None."""
    if _failures(AuditEntry.username, username) >= MAX_FAILURES_PER_USER:
        return "Too many failed logins for this user; try again in 15 minutes."
    if _failures(AuditEntry.remote_addr, remote_addr) >= MAX_FAILURES_PER_ADDRESS:
        return "Too many failed logins from your address; try again in 15 minutes."
    return None
