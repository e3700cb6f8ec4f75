from flask import Blueprint

bp = Blueprint("errors", __name__)

from piranha_web.errors import handlers  # noqa: E402,F401
