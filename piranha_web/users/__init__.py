from flask import Blueprint

from piranha_web.auth.roles import require_role

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.before_request
@require_role("admin")
def _admins_only():
    """The whole USERS panel, pages included, is for admins."""


from piranha_web.users import routes  # noqa: E402,F401
