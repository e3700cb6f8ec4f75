from flask import Blueprint

from piranha_web.auth.roles import writes_require_role

bp = Blueprint("virtual_servers", __name__, url_prefix="/virtual")
writes_require_role(bp, "admin")

from piranha_web.virtual_servers import real, routes, scripts  # noqa: E402,F401
