from flask import Blueprint

bp = Blueprint("control", __name__)

from piranha_web.control import routes  # noqa: E402,F401
