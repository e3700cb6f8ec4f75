"""Login, logout, throttling, session cookie, idle timeout and security headers."""

import re
import time

import pytest

from piranha_web.auth import throttle

from .conftest import PASSWORDS


def test_login_page_is_public_and_has_a_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="username"' in response.data and b'name="password"' in response.data


def test_login_then_logout(client, auth):
    response = auth.login("admin")
    assert response.status_code == 302 and response.headers["Location"].endswith("/control")
    assert client.get("/control").status_code == 200
    response = auth.logout()
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/control").status_code == 302


def test_logout_is_post_only(client, auth):
    auth.login()
    assert client.get("/logout").status_code == 405


@pytest.mark.parametrize("username,password", [("admin", "wrong-password"), ("nobody", "whatever-password")])
def test_bad_credentials_are_refused_and_audited(client, app, username, password):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 401
    assert b"Unknown user name or wrong password" in response.data
    assert client.get("/control").status_code == 302
    with app.app_context():
        from piranha_web.models import AuditEntry
        from piranha_web.extensions import db
        entry = db.session.query(AuditEntry).filter_by(action="login").order_by(AuditEntry.id.desc()).first()
        assert (entry.username, entry.outcome) == (username, "failed")


def test_throttle_per_user_refuses_even_the_right_password(client, auth):
    for _ in range(throttle.MAX_FAILURES_PER_USER):
        assert auth.login("operator", "wrong-password").status_code == 401
    response = auth.login("operator")
    assert response.status_code == 429
    assert b"Too many failed logins for this user" in response.data
    # Another user from the same address is still welcome (the address limit is higher).
    assert auth.login("viewer").status_code == 302


def test_throttle_per_address(client, auth):
    for number in range(throttle.MAX_FAILURES_PER_ADDRESS):
        client.post("/login", data={"username": f"guess{number}", "password": "wrong-password"})
    response = auth.login("admin")
    assert response.status_code == 429
    assert b"from your address" in response.data
    other_client = client.application.test_client()
    response = other_client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]},
                                 environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert response.status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, auth):
    response = auth.login()
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("piranha_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_idle_session_expires(make_app):
    app = make_app(PIRANHA_IDLE_TIMEOUT_MINUTES=1 / 60)  # one second
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert client.get("/control").status_code == 200
    time.sleep(2.2)
    response = client.get("/control")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                    "/\t/evil.example", "/\n/evil.example", "\t//evil.example", "javascript:alert(1)",
                                    "/ /evil.example", "///evil.example"])
def test_login_next_is_not_an_open_redirect(client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "admin", "password": PASSWORDS["admin"]})
    assert response.status_code == 302
    assert response.headers["Location"] == "/control"


@pytest.mark.parametrize("target", ["/history", "/history/diff?a=1&b=2", "/virtual/web%2Fx/real"])
def test_login_next_within_the_site_is_followed(client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "admin", "password": PASSWORDS["admin"]})
    assert response.headers["Location"] == target


def test_login_starts_a_new_session(client, auth):
    """Session fixation: nothing a client (or an attacker) put in the session before login survives it."""
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["_user_id"] = "999"
    assert auth.login("viewer").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] != "999"
    auth.logout()
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_passwords_are_stored_as_argon2id_hashes(app):
    from piranha_web.extensions import db
    from piranha_web.models import User
    with app.app_context():
        users = db.session.query(User).all()
        assert {user.username for user in users} >= set(PASSWORDS)
        for user in users:
            assert user.password_hash.startswith("$argon2id$"), user.username
            assert PASSWORDS.get(user.username, "x") not in user.password_hash


def test_an_unknown_user_costs_the_same_password_check(client, monkeypatch):
    """No timing oracle for user names: an unknown name runs argon2 like a wrong password does."""
    from argon2 import PasswordHasher
    calls = []
    verify = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, *args: calls.append(1) or verify(self, *args))
    for username in ("admin", "nobody"):
        calls.clear()
        assert client.post("/login", data={"username": username, "password": "wrong-password"}).status_code == 401
        assert calls == [1], username


def test_throttle_per_user_counts_failures_from_every_address(client, auth):
    for number in range(throttle.MAX_FAILURES_PER_USER):
        response = client.post("/login", data={"username": "operator", "password": "wrong-password"},
                               environ_base={"REMOTE_ADDR": f"192.0.2.{number + 1}"})
        assert response.status_code == 401
    response = client.post("/login", data={"username": "operator", "password": PASSWORDS["operator"]},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 429


def test_a_throttled_login_does_not_check_the_password(client, auth, monkeypatch):
    for _ in range(throttle.MAX_FAILURES_PER_USER):
        auth.login("operator", "wrong-password")
    from argon2 import PasswordHasher
    monkeypatch.setattr(PasswordHasher, "verify", lambda *args: pytest.fail("password checked while throttled"))
    assert auth.login("operator").status_code == 429


def test_an_internal_error_shows_no_traceback(make_app, caplog):
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False, DEBUG=False)

    @app.route("/explode")
    def explode():
        raise RuntimeError("internal-detail-7f3a in /secret/path.py")

    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    response = client.get("/explode")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "internal error" in page and "was not changed" in page
    for leak in ("Traceback", "internal-detail-7f3a", "RuntimeError", "/secret/path.py", 'File "'):
        assert leak not in page
    assert client.get("/control").status_code == 200  # the session still works after the error


def test_secrets_are_not_logged_or_shown(app, client, auth, caplog):
    import logging
    caplog.set_level(logging.DEBUG)
    typed = "wrong-password-5e1c"
    client.post("/login", data={"username": "admin", "password": typed})
    auth.login("admin")
    pages = "".join(client.get(path).get_data(as_text=True) for path in ("/control", "/users", "/history"))
    from piranha_web.extensions import db
    from piranha_web.models import AuditEntry
    with app.app_context():
        stored = " ".join(f"{e.username} {e.detail}" for e in db.session.query(AuditEntry).all())
    for secret in (typed, PASSWORDS["admin"], app.config["SECRET_KEY"]):
        assert secret not in caplog.text
        assert secret not in stored
        assert secret not in pages


def test_security_headers_on_pages(client, auth):
    auth.login()
    for path in ("/login", "/control", "/users", "/apply", "/virtual/web/real", "/no-such-page", "/api/v1/nothing"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client, auth):
    auth.login()
    for path in ("/login", "/control", "/users", "/history", "/apply", "/global", "/redundancy", "/virtual",
                 "/virtual/web", "/virtual/web/real", "/virtual/web/scripts", "/failover", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path


def test_static_files_stay_cacheable(client, auth):
    auth.login()
    for path in ("/static/piranha.css", "/apply/static/apply.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        response.close()
