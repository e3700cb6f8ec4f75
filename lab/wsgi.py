"""The console as the lab runs it: `gunicorn lab.wsgi:app` (also `flask --app lab.wsgi init-console`).

The same app as wsgi.py, plus the lab-only blueprint when PIRANHA_LAB_AGENT names the agent's socket.
"""

import os

from piranha_web import create_app
from piranha_web.lab import register_if_lab

app = create_app()
register_if_lab(app, os.environ.get("PIRANHA_LAB_AGENT"))
