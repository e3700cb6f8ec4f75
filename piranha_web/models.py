"""The console's database models (Alembic revisions in migrations/ create exactly these tables).

- `User`: a console login; `role` is one of ROLES (admin edits, applies and manages users; operator runs
  runtime actions; viewer reads).
- `Revision`: one version of lvs.cf. Exactly one `draft` at most (the edits not yet applied); `applied` and
  `imported` ones are the history; an applied revision replaced by a later one becomes `superseded`.
  `version` counts saves of a draft, for optimistic concurrency. `node_results` is JSON text written by the
  Apply engine (each node's step outcomes).
- `AuditEntry`: who did what, from where, with which outcome (`detail` is JSON text).
- `NodeSync`: the last known state of a node's copy of lvs.cf (e.g. "backup"), kept by the Apply engine.
- `ApiToken`: a user's token for /api/v1 (only its SHA-256 is stored; the token is shown once).
- `StatusSample` / `StatusEvent`: the last minutes of live figures behind /control's charts, one row per
  second at most across workers (`slot` is unique), and the transitions seen between samples.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from piranha_web.extensions import db

ROLES = ("admin", "operator", "viewer")
REVISION_STATUSES = ("draft", "applied", "imported", "superseded")
SYNC_STATUSES = ("in_sync", "out_of_sync", "unknown")

_hasher = PasswordHasher()


def utcnow() -> datetime:
    """Naive UTC (SQLite keeps no zone), the one clock every model uses."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def session_stamp(self) -> str:
        """A fingerprint of the password hash: a new password changes it, which ends every older session."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:20]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_stamp()}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Revision(db.Model):
    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    serial_no: Mapped[int | None]
    author: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    node_results: Mapped[str | None] = mapped_column(Text)

    def set_text(self, text: str) -> None:
        """Store `text` with its checksum (the two never disagree)."""
        self.text = text
        self.checksum = sha256_hex(text)

    @property
    def node_results_data(self):
        return json.loads(self.node_results) if self.node_results else None

    def __repr__(self) -> str:
        return f"<Revision {self.number} {self.status}>"


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_action_time", "action", "time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), default="ok")

    @property
    def detail_data(self):
        return json.loads(self.detail) if self.detail else None


class NodeSync(db.Model):
    __tablename__ = "node_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(String(64), unique=True)
    checksum: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class StatusSample(db.Model):
    __tablename__ = "status_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot: Mapped[int] = mapped_column(unique=True)      # whole seconds since the epoch
    taken_at: Mapped[float] = mapped_column(Float)
    data: Mapped[str] = mapped_column(Text)


class StatusEvent(db.Model):
    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    time: Mapped[float] = mapped_column(Float, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
