"""USERS panel (admins only), the users service, piranha-passwd and first-run set-up."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from piranha_web.extensions import db
from piranha_web.models import AuditEntry, User

from .conftest import PASSWORDS


def _user(app, name):
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == name))


@pytest.mark.parametrize("role,status", [("admin", 200), ("operator", 403), ("viewer", 403)])
def test_users_page_is_for_admins(client, auth, role, status):
    auth.login(role)
    assert client.get("/users").status_code == status


def test_admin_creates_a_user_who_can_log_in(client, auth, app):
    auth.login()
    response = client.post("/users", data={"username": "carol", "role": "operator",
                                            "password": "carol-password-1", "confirm": "carol-password-1"})
    assert response.status_code == 302
    user = _user(app, "carol")
    assert user.role == "operator" and user.password_hash.startswith("$argon2")
    auth.logout()
    assert auth.login("carol", "carol-password-1").status_code == 302


@pytest.mark.parametrize("data,message", [
    ({"username": "admin"}, "already exists"),
    ({"username": "bad name"}, "must be 1-64 letters"),
    ({"username": "x" * 65}, "must be 1-64 letters"),
    ({"username": "eve\n"}, "must be 1-64 letters"),
    ({"password": "short", "confirm": "short"}, "at least 10 characters"),
    ({"confirm": "something-else"}, "The passwords differ"),
    ({"role": "root"}, "Not a valid choice"),
])
def test_bad_new_user_gets_a_field_error(client, auth, app, data, message):
    auth.login()
    form = {"username": "dave", "role": "viewer", "password": "dave-password-1", "confirm": "dave-password-1"}
    form.update(data)
    response = client.post("/users", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _user(app, "dave") is None


def test_role_change_and_last_admin_protection(client, auth, app):
    auth.login()
    assert client.post("/users/viewer/role", data={"role": "operator"}).status_code == 302
    assert _user(app, "viewer").role == "operator"
    response = client.post("/users/admin/role", data={"role": "viewer"})
    assert response.status_code == 400 and b"last admin" in response.data
    assert _user(app, "admin").role == "admin"


def test_delete_user_but_not_yourself(client, auth, app):
    auth.login()
    assert client.post("/users/viewer/delete").status_code == 302
    assert _user(app, "viewer") is None
    assert client.post("/users/admin/delete").status_code == 400
    assert client.post("/users/nobody/delete").status_code == 404


def test_password_change(client, auth, app):
    auth.login()
    response = client.post("/users/viewer/password", data={"password": "new-viewer-pass", "confirm": "new-viewer-pass"})
    assert response.status_code == 302
    assert _user(app, "viewer").check_password("new-viewer-pass")
    assert not _user(app, "viewer").check_password(PASSWORDS["viewer"])
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "user.password" in actions


def test_a_new_password_ends_the_users_other_sessions(app, auth):
    viewer = app.test_client()
    viewer.post("/login", data={"username": "viewer", "password": PASSWORDS["viewer"]})
    assert viewer.get("/control").status_code == 200
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    admin.post("/users/viewer/password", data={"password": "new-viewer-pass", "confirm": "new-viewer-pass"})
    assert viewer.get("/control").status_code == 302          # back to the login page
    admin.post("/users/admin/password", data={"password": "new-admin-pass", "confirm": "new-admin-pass"})
    assert admin.get("/users").status_code == 200             # the admin's own session goes on


def test_a_deleted_user_is_logged_out(app):
    viewer = app.test_client()
    viewer.post("/login", data={"username": "viewer", "password": PASSWORDS["viewer"]})
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    admin.post("/users/viewer/delete")
    assert _user(app, "viewer") is None
    assert viewer.get("/control").status_code == 302


def _passwd(app, args, password):
    env = dict(os.environ, PIRANHA_VAR_DIR=app.config["PIRANHA_VAR_DIR"],
               PIRANHA_DATABASE_URL=app.config["PIRANHA_DATABASE_URL"], PIRANHA_SECRET_KEY="x")
    return subprocess.run([sys.executable, "-m", "piranha_web.passwd", *args], input=password + "\n",
                          capture_output=True, text=True, env=env, timeout=60)


def test_piranha_passwd_creates_and_updates_from_stdin(app, client, auth):
    done = _passwd(app, ["--user", "erin", "--role", "operator"], "erin-password-1")
    assert done.returncode == 0, done.stderr
    assert "Created user 'erin' (role operator)" in done.stdout
    assert auth.login("erin", "erin-password-1").status_code == 302
    done = _passwd(app, ["--user", "erin"], "erin-password-2")
    assert done.returncode == 0 and "Updated" in done.stdout
    assert _user(app, "erin").check_password("erin-password-2") and _user(app, "erin").role == "operator"


def test_piranha_passwd_refuses_a_short_password(app):
    done = _passwd(app, ["--user", "frank"], "short")
    assert done.returncode == 1 and "at least 10 characters" in done.stderr
    assert _user(app, "frank") is None


def test_init_console_is_idempotent_and_prints_admin_password_once(tmp_path):
    from piranha_web import create_app
    app = create_app({"TESTING": True, "PIRANHA_VAR_DIR": str(tmp_path), "SECRET_KEY": "x"})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-console"])
    assert first.exit_code == 0, first.output
    password = first.output.split("with the password")[1].split()[0]
    assert (tmp_path / "lvs.cf").exists() and (tmp_path / "piranha.db").exists()
    second = runner.invoke(args=["init-console"])
    assert second.exit_code == 0 and "with the password" not in second.output
    with app.app_context():
        users = db.session.scalars(select(User)).all()
        assert [u.username for u in users] == ["admin"] and users[0].check_password(password)
        from piranha_web.models import Revision
        assert db.session.query(Revision).count() == 1
