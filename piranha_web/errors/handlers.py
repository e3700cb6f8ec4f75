"""Error pages for the whole app (app_errorhandler), including a refused CSRF token."""

from flask import render_template
from flask_wtf.csrf import CSRFError

from piranha_web.errors import bp
from piranha_web.extensions import db

MESSAGES = {
    400: "The request was malformed.",
    403: "Your role does not allow this action.",
    404: "There is no such page or object.",
    405: "This address does not accept that method.",
    409: "Someone else changed the configuration at the same time; reload and try again.",
    413: "The request is too large.",
    500: "The console hit an internal error; the configuration was not changed.",
}


def _page(code: int, message: str | None = None):
    return render_template("errors/error.html", code=code, message=message or MESSAGES.get(code, "Error")), code


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    return _page(400, f"The form's security token is missing or expired ({error.description}). "
                      "Reload the page and try again.")


for _code in (400, 403, 404, 405, 409, 413):
    bp.app_errorhandler(_code)(lambda error, code=_code: _page(code))


@bp.app_errorhandler(500)
def internal_error(error):
    db.session.rollback()
    return _page(500)
