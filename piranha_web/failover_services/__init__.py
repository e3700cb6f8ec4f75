from flask import Blueprint

from piranha_web.auth.roles import writes_require_role

bp = Blueprint("failover_services", __name__, url_prefix="/failover")
writes_require_role(bp, "admin")

from piranha_web.failover_services import routes  # noqa: E402,F401
