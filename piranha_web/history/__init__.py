from flask import Blueprint

from piranha_web.auth.roles import writes_require_role

bp = Blueprint("history", __name__, url_prefix="/history")
writes_require_role(bp, "admin")

from piranha_web.history import routes  # noqa: E402,F401
