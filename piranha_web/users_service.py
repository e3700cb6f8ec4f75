"""Creating and updating users, shared by the users page, `piranha-passwd` and first-run set-up."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select

from piranha_web.extensions import db
from piranha_web.models import ROLES, User

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


class UserError(ValueError):
    """Bad user name, role or password; the message says which and why."""


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username or ""):
        raise UserError(f"user name {username!r} must be 1-64 letters, digits, '.', '_' or '-', "
                        "starting with a letter or digit")
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role {role!r} must be one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    if "\0" in password:
        raise UserError("the password must not contain a NUL character")
    return password


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def set_user(username: str, password: str | None, role: str | None) -> tuple[User, bool]:
    """Create the user or update its password and/or role; returns (user, created). Commits."""
    check_username(username)
    user = find_user(username)
    created = user is None
    if created:
        if password is None:
            raise UserError(f"user {username!r} does not exist: a password is needed to create it")
        user = User(username=username, role=check_role(role or "viewer"))
        db.session.add(user)
    elif role is not None:
        user.role = check_role(role)
    if password is not None:
        user.set_password(check_password(password))
    db.session.commit()
    return user, created


def random_password() -> str:
    return secrets.token_urlsafe(15)


def admin_count() -> int:
    return len(db.session.scalars(select(User.id).where(User.role == "admin")).all())
