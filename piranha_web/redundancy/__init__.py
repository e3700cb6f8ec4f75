from flask import Blueprint

from piranha_web.auth.roles import writes_require_role

bp = Blueprint("redundancy", __name__)
writes_require_role(bp, "admin")

from piranha_web.redundancy import routes  # noqa: E402,F401
