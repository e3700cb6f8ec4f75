"""WSGI entry point: `gunicorn wsgi:app`; also `flask --app wsgi init-console`."""

from piranha_web import create_app

app = create_app()
