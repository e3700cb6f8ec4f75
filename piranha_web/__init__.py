"""The Piranha web console: `create_app(config=None)` builds the Flask app (`gunicorn wsgi:app`)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

TOP = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = TOP / "migrations"


def create_app(config: dict | None = None) -> Flask:
    """Build the console; `config` overrides every other source of settings (see piranha_web.settings)."""
    app = Flask(__name__, template_folder=str(TOP / "templates"), static_folder=str(TOP / "static"))

    from piranha_web import settings
    settings.configure(app, config)

    from piranha_web.extensions import csrf, db, login_manager, migrate
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    from piranha_web import banners, revisions, security
    from piranha_web.auth.roles import require_login
    app.before_request(require_login)
    security.init_app(app)
    app.context_processor(banners.inject_banners)
    revisions.register_banners()

    from piranha_web.api import bp as api_bp
    from piranha_web.apply.routes import bp as apply_bp
    from piranha_web.auth import bp as auth_bp
    from piranha_web.control import bp as control_bp
    from piranha_web.errors import bp as errors_bp
    from piranha_web.failover_services import bp as failover_bp
    from piranha_web.global_settings import bp as global_bp
    from piranha_web.history import bp as history_bp
    from piranha_web.metrics import bp as metrics_bp
    from piranha_web.redundancy import bp as redundancy_bp
    from piranha_web.users import bp as users_bp
    from piranha_web.virtual_servers import bp as virtual_bp
    for blueprint in (auth_bp, control_bp, global_bp, redundancy_bp, virtual_bp, failover_bp, history_bp,
                      users_bp, errors_bp, apply_bp, api_bp, metrics_bp):
        app.register_blueprint(blueprint)

    from piranha_web.cli import init_console_command
    app.cli.add_command(init_console_command)
    return app
