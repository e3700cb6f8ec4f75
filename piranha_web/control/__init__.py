from flask import Blueprint

from piranha_web.auth.roles import writes_require_role

bp = Blueprint("control", __name__)
writes_require_role(bp, "operator", "admin")

from piranha_web.control import routes  # noqa: E402,F401
