"""`/metrics` in Prometheus text format, rendered from the same status document as /control.

Who may scrape: a logged-in console user, a client presenting PIRANHA_METRICS_TOKEN as a bearer token, or a
client whose address is in PIRANHA_METRICS_ALLOW (comma-separated addresses or networks, e.g.
`127.0.0.1, 10.0.5.0/24`). With neither setting, only logged-in users.
"""

from flask import Blueprint

from piranha_web.api import register_request_loader
from piranha_web.extensions import login_manager

bp = Blueprint("metrics", __name__)
login_manager.blueprint_login_views["metrics"] = None

from piranha_web.metrics import access, routes  # noqa: E402,F401

register_request_loader("metrics", access.load_scraper)
