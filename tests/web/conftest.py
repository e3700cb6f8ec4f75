"""Web tier fixtures (flaskr style): `app` on a temporary SQLite database and lvs.cf, `client`, `runner`, `auth`.

`app` has run `init-console` (database at head, the sample lvs.cf imported as revision 1) and holds three
users whose names are their roles: admin, operator, viewer, each with the password PASSWORDS[role].
CSRF is off in `app` so tests post plain forms; `make_app(WTF_CSRF_ENABLED=True)` builds one with it on.
"""

from __future__ import annotations

import shutil

import pytest

from piranha_web import create_app
from piranha_web.cli import init_console
from piranha_web.users_service import set_user

PASSWORDS = {"admin": "admin-password-1", "operator": "operator-password-1", "viewer": "viewer-password-1"}


def _settings(var_dir) -> dict:
    return {"TESTING": True, "WTF_CSRF_ENABLED": False, "PIRANHA_VAR_DIR": str(var_dir),
            "PIRANHA_LVS_CF": str(var_dir / "lvs.cf"), "PIRANHA_DATABASE_URL": f"sqlite:///{var_dir / 'piranha.db'}",
            "PIRANHA_CONTROL_SOCKET": str(var_dir / "pulse.sock"), "PIRANHA_PULSE_PIDFILE": str(var_dir / "pulse.pid"),
            "SECRET_KEY": "test-secret-key"}


@pytest.fixture(scope="session")
def template_var_dir(tmp_path_factory):
    """One initialised var dir per session (argon2 hashing is slow on purpose); each app gets a copy."""
    var_dir = tmp_path_factory.mktemp("template") / "var"
    app = create_app(_settings(var_dir))
    with app.app_context():
        init_console()
        for role, password in PASSWORDS.items():
            set_user(role, password, role)
    return var_dir


@pytest.fixture
def make_app(tmp_path, template_var_dir):
    """Factory: a fresh console in its own temporary var dir; keyword arguments override settings."""
    counter = iter(range(1000))

    def factory(**overrides):
        var_dir = tmp_path / f"var{next(counter)}"
        shutil.copytree(template_var_dir, var_dir)
        settings = _settings(var_dir)
        settings.update(overrides)
        return create_app(settings)

    return factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, role: str = "admin", password: str | None = None):
        """Log in as the user named `role` (admin, operator or viewer)."""
        return self._client.post("/login", data={"username": role,
                                                 "password": password or PASSWORDS[role]})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
