"""Access rules, usable by every blueprint.

- `require_login()` runs before every request of the app: anonymous clients reach only PUBLIC_ENDPOINTS.
- `require_role("admin")` decorates a view; `writes_require_role(bp, "admin")` makes every POST of a blueprint
  need the role while its pages stay readable by every logged-in user.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user

from piranha_web.extensions import login_manager

PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})


def require_login():
    """App-wide before_request hook: nothing but login and static files without a session."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


def _check(roles: tuple[str, ...]) -> None:
    if not current_user.is_authenticated:
        abort(401)
    if not current_user.has_role(*roles):
        abort(403)


def require_role(*roles: str):
    """View decorator: 403 unless the logged-in user has one of `roles`."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            _check(roles)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def writes_require_role(bp, *roles: str) -> None:
    """Every non-GET request to `bp` needs one of `roles` (403 otherwise)."""
    @bp.before_request
    def _writes_need_role():
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _check(roles)
