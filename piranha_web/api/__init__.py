"""`/api/v1`: the status document, the running configuration, revisions and operator actions as JSON.

Clients authenticate with a token (`Authorization: Bearer pir_…`, made on the USERS page) or the console
session. The API is exempt from the app-wide form CSRF check because token clients cannot have a form
token; a write that comes with the session instead must carry the session's CSRF token (X-CSRFToken), so
no other site can make a logged-in browser act. Roles are the console's: operator or admin for actions.
Errors are JSON.
"""

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from piranha_web.extensions import csrf, login_manager

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
login_manager.blueprint_login_views["api"] = None      # anonymous: 401, not a redirect to the login form

TOKEN_HEADER = "Authorization"


def bearer_token() -> str | None:
    header = request.headers.get(TOKEN_HEADER, "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# Blueprint name -> function(request) returning a principal or None; one Flask-Login request loader
# dispatches to them, so a token or a scraper's address is honoured only where it is meant to be.
_REQUEST_LOADERS: dict = {}


def register_request_loader(blueprint: str, loader) -> None:
    _REQUEST_LOADERS[blueprint] = loader


@login_manager.request_loader
def _load_from_request(req):
    loader = _REQUEST_LOADERS.get(req.blueprint)
    return loader(req) if loader is not None else None


def load_token_user(req):
    """The user whose API token the request carries (API requests only)."""
    from piranha_web.api.tokens import user_for

    token = bearer_token()
    if token is None:
        return None
    user = user_for(token)
    if user is not None:
        g.api_token_user = True
    return user


register_request_loader("api", load_token_user)


@bp.before_request
def _writes_need_a_token_or_csrf():
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if not g.get("api_token_user") and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()          # a session write: the same CSRF check as every form (raises CSRFError)
    if not current_user.has_role("operator", "admin"):
        return error(403, f"role {current_user.role} may not run operator actions (operator or admin needed)")
    return None


def error(code: int, message: str):
    response = jsonify({"error": message, "status": code})
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="piranha"'
    return response


def _http_error(exc: HTTPException):
    if isinstance(exc, CSRFError):
        return error(400, f"the security token is missing or invalid ({exc.description}): send "
                          "Authorization: Bearer <API token>, or with the console session its X-CSRFToken header")
    messages = {401: "authentication needed: send Authorization: Bearer <API token> (create one on the users "
                     "page)", 403: "your role does not allow this", 404: "no such API resource",
                405: "this API resource does not accept that method"}
    return error(exc.code or 500, messages.get(exc.code, exc.description or exc.name))


# By code as well as by class: the console's page handlers are registered by code, and Flask prefers a
# handler for the code over one for the class.
bp.register_error_handler(HTTPException, _http_error)
for _code in (400, 401, 403, 404, 405, 409, 413):
    bp.register_error_handler(_code, _http_error)


from piranha_web.api import routes  # noqa: E402,F401
