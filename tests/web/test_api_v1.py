"""/api/v1: per-user tokens (made on the users page, shown once, stored hashed), the same role rules as the
console, JSON errors with clear messages, and an OpenAPI description that lists exactly the real routes."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from piranha import lvscf
from piranha.lvscf import schema
from piranha_web.extensions import db
from piranha_web.models import ApiToken, AuditEntry


@pytest.fixture
def api_app(make_app, tmp_path):
    return make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"))


def _make_token(app, owner: str, name: str = "ci") -> str:
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": "admin-password-1"})
    page = admin.post("/users/tokens", data={"user": owner, "name": name}).get_data(as_text=True)
    return re.search(r'id="new-token-value">(pir_[A-Za-z0-9_-]+)<', page).group(1)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_token_is_shown_once_and_stored_only_as_its_hash(api_app):
    admin = api_app.test_client()
    admin.post("/login", data={"username": "admin", "password": "admin-password-1"})
    page = admin.post("/users/tokens", data={"user": "operator", "name": "grafana"}).get_data(as_text=True)
    token = re.search(r'id="new-token-value">(pir_[A-Za-z0-9_-]{43})<', page).group(1)
    assert "shown only once" in page
    later = admin.get("/users").get_data(as_text=True)
    assert token not in later and token[:10] + "…" in later and "grafana" in later
    with api_app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.last_used_at is None
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.create")).detail_data[
            "name"] == "grafana"
    assert api_app.test_client().get("/api/v1/revisions", headers=_bearer(token)).status_code == 200
    with api_app.app_context():
        assert db.session.scalar(select(ApiToken)).last_used_at is not None


@pytest.mark.parametrize("form, message", [
    ({"user": "operator", "name": ""}, "give the token a name"),
    ({"user": "nobody", "name": "x"}, "no user &#39;nobody&#39;"),
    ({"user": "operator", "name": "x" * 65}, "at most 64 characters"),
])
def test_token_requests_that_make_no_sense_are_refused(api_app, form, message):
    admin = api_app.test_client()
    admin.post("/login", data={"username": "admin", "password": "admin-password-1"})
    response = admin.post("/users/tokens", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_a_second_token_with_the_same_name_is_refused(api_app):
    _make_token(api_app, "viewer", "ci")
    admin = api_app.test_client()
    admin.post("/login", data={"username": "admin", "password": "admin-password-1"})
    response = admin.post("/users/tokens", data={"user": "viewer", "name": "ci"})
    assert response.status_code == 400 and "viewer already has a token named &#39;ci&#39;" in response.get_data(
        as_text=True)


def test_only_admins_make_tokens(api_app):
    operator = api_app.test_client()
    operator.post("/login", data={"username": "operator", "password": "operator-password-1"})
    assert operator.post("/users/tokens", data={"user": "operator", "name": "mine"}).status_code == 403


def test_revoked_or_wrong_tokens_are_refused_with_json(api_app):
    token = _make_token(api_app, "viewer")
    client = api_app.test_client()
    assert client.get("/api/v1/status", headers=_bearer(token)).status_code == 200
    for headers in ({}, _bearer(token[:-1] + ("A" if token[-1] != "A" else "B")), {"Authorization": token},
                    _bearer("not-a-token")):
        response = client.get("/api/v1/status", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "authentication needed" in response.get_json()["error"]
    with api_app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    admin = api_app.test_client()
    admin.post("/login", data={"username": "admin", "password": "admin-password-1"})
    assert admin.post(f"/users/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/status", headers=_bearer(token)).status_code == 401


def test_deleting_a_user_deletes_its_tokens(api_app):
    token = _make_token(api_app, "viewer")
    admin = api_app.test_client()
    admin.post("/login", data={"username": "admin", "password": "admin-password-1"})
    assert admin.post("/users/viewer/delete").status_code == 302
    assert api_app.test_client().get("/api/v1/status", headers=_bearer(token)).status_code == 401
    with api_app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_status_is_the_document_the_page_shows(api_app, tmp_path):
    token = _make_token(api_app, "viewer")
    doc = api_app.test_client().get("/api/v1/status", headers=_bearer(token)).get_json()
    assert [n["reach"] for n in doc["nodes"]] == ["not_running", "not_configured"]
    assert doc["nodes"][0]["error"] == f"pulse is not running (no control socket at {tmp_path / 'pulse.sock'})"
    assert doc["live"] is False and doc["active_node"] is None
    assert [v["name"] for v in doc["virtual_servers"]] == ["web", "mail"]
    assert {"history", "events", "collected_at", "sync", "notes"} <= set(doc)


def test_config_lists_every_schema_keyword_with_the_running_values(api_app):
    token = _make_token(api_app, "viewer")
    body = api_app.test_client().get("/api/v1/config", headers=_bearer(token)).get_json()
    with api_app.app_context():
        from piranha_web import revisions
        running = revisions.running_revision()
        parsed = lvscf.loads(running.text)
    assert body["revision"] == running.number and body["checksum"] == running.checksum
    config = body["config"]
    assert {a for kw in schema.keywords("global") for a in kw.attrs} <= set(config)
    assert config["serial_no"] == parsed.serial_no and config["backup_active"] is False
    web = config["virtual_servers"][0]
    assert web["name"] == "web" and web["port"] == parsed.virtual_server("web").port
    assert {a for kw in schema.keywords("server") for a in kw.attrs} <= set(web["servers"][0])


def test_revisions(api_app):
    token = _make_token(api_app, "viewer")
    client = api_app.test_client()
    listed = client.get("/api/v1/revisions", headers=_bearer(token)).get_json()["revisions"]
    assert [r["number"] for r in listed] == [1] and "text" not in listed[0]
    one = client.get("/api/v1/revisions/1", headers=_bearer(token)).get_json()
    assert one["text"].startswith("#") or "serial_no" in one["text"]
    missing = client.get("/api/v1/revisions/99", headers=_bearer(token))
    assert missing.status_code == 404 and missing.get_json()["error"] == "no revision 99"
    bad = client.get("/api/v1/revisions?limit=0", headers=_bearer(token))
    assert bad.status_code == 400 and "limit '0' must be a whole number from 1 to 200" in bad.get_json()["error"]


def test_actions_follow_the_console_roles(api_app, tmp_path):
    viewer, operator = _make_token(api_app, "viewer"), _make_token(api_app, "operator", "ops")
    client = api_app.test_client()
    refused = client.post("/api/v1/actions/reload", json={"node": "this director"}, headers=_bearer(viewer))
    assert refused.status_code == 403 and "role viewer may not" in refused.get_json()["error"]
    sent = client.post("/api/v1/actions/reload", json={"node": "this director"}, headers=_bearer(operator))
    assert sent.status_code == 409
    assert sent.get_json()["error"] == (f"pulse on this director is not running (no control socket at "
                                        f"{tmp_path / 'pulse.sock'})")
    with api_app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "control.action"))
    assert entry.username == "operator" and entry.outcome == "refused"


@pytest.mark.parametrize("url, body, code, message", [
    ("/api/v1/actions/explode", {}, 404, "no action 'explode'"),
    ("/api/v1/actions/reload", {"node": "x", "force": True}, 400, "unknown field(s) force"),
    ("/api/v1/actions/reload", {"node": 3}, 400, "node must be a string"),
    ("/api/v1/actions/reload", ["backup"], 400, "the body must be a JSON object"),
    ("/api/v1/actions/drain", {"node": "this director"}, 400, "drain needs a real server (VIRTUAL/SERVER)"),
    ("/api/v1/actions/drain", {"node": "this director", "server": "web/zz"}, 400, "no real server 'web/zz'"),
    ("/api/v1/actions/drain", {"node": "this director", "server": "web/web1", "drain_timeout": 0}, 400,
     "drain timeout 0 is outside 1-86400 seconds"),
])
def test_bad_action_requests_get_clear_json_errors(api_app, url, body, code, message):
    token = _make_token(api_app, "operator")
    response = api_app.test_client().post(url, json=body, headers=_bearer(token))
    assert response.status_code == code and message in response.get_json()["error"], response.get_json()


def test_session_writes_need_the_csrf_token_and_token_writes_do_not(make_app, tmp_path):
    app = make_app(WTF_CSRF_ENABLED=True, PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"))
    token = _make_token_csrf(app)
    browser = app.test_client()
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                           browser.get("/login").get_data(as_text=True)).group(1)
    browser.post("/login", data={"username": "operator", "password": "operator-password-1",
                                 "csrf_token": form_token})
    forged = browser.post("/api/v1/actions/reload", json={"node": "this director"})
    assert forged.status_code == 400 and "security token is missing" in forged.get_json()["error"]
    page = browser.get("/control").get_data(as_text=True)
    session_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    own = browser.post("/api/v1/actions/reload", json={"node": "this director"},
                       headers={"X-CSRFToken": session_token})
    assert own.status_code == 409 and "not running" in own.get_json()["error"]
    with_token = app.test_client().post("/api/v1/actions/reload", json={"node": "this director"},
                                        headers=_bearer(token))
    assert with_token.status_code == 409


def _make_token_csrf(app) -> str:
    with app.app_context():
        from piranha_web.api import tokens
        from piranha_web.users_service import find_user
        return tokens.create(find_user("operator"), "ci")[1]


def test_openapi_describes_exactly_the_api_routes(api_app):
    token = _make_token(api_app, "viewer")
    spec = api_app.test_client().get("/api/v1/openapi.json", headers=_bearer(token)).get_json()
    assert spec["openapi"].startswith("3.1") and spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    described = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routed = set()
    for rule in api_app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.not_found":
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
            path = path.replace("{name}", "{action}")
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed


def test_unknown_api_addresses_get_json_404(api_app):
    token = _make_token(api_app, "viewer")
    response = api_app.test_client().get("/api/v1/nothing/here", headers=_bearer(token))
    assert response.status_code == 404
    assert response.get_json()["error"] == "no API resource /api/v1/nothing/here; see /api/v1/openapi.json"
