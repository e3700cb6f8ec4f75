"""Per-user API tokens: `pir_` + 43 random URL-safe characters, shown once, stored as SHA-256 only.

A token acts as its user with that user's role (role changes apply at once; deleting the user deletes them).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from piranha_web.extensions import db
from piranha_web.models import ApiToken, User, utcnow

PREFIX = "pir_"
MAX_NAME = 64


class TokenError(ValueError):
    """A token cannot be created as asked (the message says why)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token text (the only time it exists in clear)."""
    name = (name or "").strip()
    if not name:
        raise TokenError("give the token a name (what uses it, e.g. 'grafana')")
    if len(name) > MAX_NAME or not name.isprintable():
        raise TokenError(f"token name {name[:80]!r} must be printable and at most {MAX_NAME} characters")
    if db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == name)):
        raise TokenError(f"{user.username} already has a token named {name!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_digest(token), prefix=token[:len(PREFIX) + 6])
    db.session.add(row)
    db.session.commit()
    return row, token


def user_for(token: str) -> User | None:
    """The user a presented token belongs to (and note its use), or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not hmac.compare_digest(row.token_hash, _digest(token)):
        return None
    user = db.session.get(User, row.user_id)
    if user is not None:
        row.last_used_at = utcnow()
        db.session.commit()
    return user


def tokens_of(user: User) -> list[ApiToken]:
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()


def all_tokens() -> list[tuple[ApiToken, str]]:
    rows = db.session.execute(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                              .order_by(User.username, ApiToken.id)).all()
    return [(row, username) for row, username in rows]


def revoke(token_id: int) -> ApiToken | None:
    row = db.session.get(ApiToken, token_id)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
    return row
