"""Response headers every page gets (CSP without inline code, no framing, no caching of pages); safe redirects.

Every page is no-store: pages show configuration (addresses, commands) and user data, and the original GUI
sent no-cache on every page for the same reason. Static files (the app's and the blueprints') stay cacheable.
"""

import re

from flask import request

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


# A path on this site: one leading slash, then visible ASCII only. Browsers drop tabs and newlines and read a
# backslash as a slash, so "/\t/evil.example" or "/\\evil.example" would leave the site.
_SAME_SITE_PATH = re.compile(r"/(?![/\\])[!-\[\]-~]*")


def is_same_site_path(target: str | None) -> bool:
    """True only for a path on this site, safe to redirect to (never another host, scheme or a header break)."""
    return bool(target) and _SAME_SITE_PATH.fullmatch(target) is not None


def _is_static(endpoint: str | None) -> bool:
    """The app's static files or a blueprint's (apply.static): code and styles, no data."""
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def _headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not _is_static(request.endpoint):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    app.after_request(_headers)
