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


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_next_is_not_an_open_redirect(client, target):
    response = client.post(f"/login?next={target}", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert response.status_code == 302
    assert response.headers["Location"] == "/control"


def test_login_next_within_the_site_is_followed(client):
    response = client.post("/login?next=/history", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert response.headers["Location"] == "/history"


def test_security_headers_on_pages(client, auth):
    auth.login()
    for path in ("/login", "/control", "/users"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client, auth):
    auth.login()
    for path in ("/login", "/control", "/users", "/history"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path
