"""Security by construction: walk app.url_map. Every endpoint but login and static refuses an anonymous client
(GET and POST, whatever the rule declares), every POST refuses a missing CSRF token, and each POST needs the
role its blueprint is declared with below: a blueprint added later fails the walk until its rule is decided."""

import re
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from piranha.lvscf.model import FailoverService
from piranha_web.lab import register_if_lab

from .conftest import PASSWORDS

PUBLIC = {"auth.login", "static"}
ARGUMENTS = {"name": "web", "rname": "web1", "number": 1, "username": "viewer", "filename": "piranha.css"}
OTHER_ARGUMENT = 1  # any other URL argument (an int converter accepts it, a string one too)

# Who may POST to each blueprint. Pages (GET) are open to every logged-in user except USERS (admins only).
POST_ROLES = {
    "auth": ("admin", "operator", "viewer"),
    "control": ("admin", "operator"), "api": ("admin", "operator"), "lab": ("admin", "operator"),
    "global_settings": ("admin",), "redundancy": ("admin",), "virtual_servers": ("admin",),
    "failover_services": ("admin",), "history": ("admin",), "users": ("admin",), "apply": ("admin",),
}
ADMIN_ONLY_PAGES = {"users"}
# Pages whose GET asks daemons or the backup (their own tests cover them with fakes).
LIVE_PAGES = {"control", "api", "metrics", "lab"}


@pytest.fixture
def app(make_app, tmp_path):
    """The console with every blueprint it can have, the lab's included (its agent socket need not exist)."""
    app = make_app()
    if "lab" not in app.blueprints:
        register_if_lab(app, str(tmp_path / "lab-agent.sock"))
    return app


def _url(rule) -> str:
    url = rule.rule
    for argument in rule.arguments:
        value = "db" if rule.endpoint.startswith("failover_services.") else ARGUMENTS.get(argument, OTHER_ARGUMENT)
        url = re.sub(rf"<(?:[^:<>]+:)?{argument}>", str(value), url)
    return url


def _routes(app, declared_only: bool = True):
    """(endpoint, method, url) for every rule; with declared_only=False, GET and POST are tried on every rule."""
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods) if declared_only else set(rule.methods) | {"GET", "POST"}
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, _url(rule)


def _blueprint(endpoint: str) -> str:
    return endpoint.rpartition(".")[0] or endpoint


def test_the_walk_covers_every_panel_and_every_rule(app):
    walked = {endpoint for endpoint, _, _ in _routes(app)}
    assert walked == {rule.endpoint for rule in app.url_map.iter_rules()}
    assert walked == set(app.view_functions)
    for expected in ("control.index", "global_settings.index", "redundancy.index", "virtual_servers.index",
                     "virtual_servers.edit", "virtual_servers.real_servers", "virtual_servers.scripts",
                     "failover_services.index", "failover_services.edit", "history.index", "users.index",
                     "apply.index", "api.status", "metrics.index", "lab.index"):
        assert expected in walked
    assert {_blueprint(endpoint) for endpoint in walked} - {"static"} == set(app.blueprints) - {"errors"}


def test_every_endpoint_refuses_an_anonymous_client(app, client):
    checked = set()
    for endpoint, method, url in _routes(app, declared_only=False):
        if endpoint in PUBLIC:
            continue
        response = client.open(url, method=method)
        assert response.status_code in (302, 401), (endpoint, method, url, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], (endpoint, method, url)
        checked.add((endpoint, method))
    expected = {rule.endpoint for rule in app.url_map.iter_rules()} - PUBLIC
    assert {endpoint for endpoint, _ in checked} == expected
    assert {method for _, method in checked} >= {"GET", "POST"}
    assert len(checked) >= 2 * len(expected)


def test_every_post_refuses_a_missing_csrf_token(make_app, tmp_path):
    app = make_app(WTF_CSRF_ENABLED=True)
    if "lab" not in app.blueprints:
        register_if_lab(app, str(tmp_path / "lab-agent.sock"))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]}).status_code == 400
    response = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"],
                                           "csrf_token": token})
    assert response.status_code == 302
    posts = [(endpoint, url) for endpoint, method, url in _routes(app) if method == "POST"]
    assert {_blueprint(endpoint) for endpoint, _ in posts} == set(POST_ROLES)
    for endpoint, url in posts:
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token}):  # the pre-login token is void now
            response = client.post(url, data=data)
            assert response.status_code == 400, (endpoint, url, data, response.status_code)
            assert b"security token" in response.data, endpoint
    assert client.get("/control").status_code == 200  # still logged in: nothing happened


def _draft_with_a_failover_service(app):
    from piranha_web import revisions
    with app.app_context():
        config = revisions.draft_config()
        config.failover_services.append(FailoverService(
            name="db", address="192.0.2.50", device="eth0:3", start_cmd="/bin/true", stop_cmd="/bin/true"))
        revisions.save_draft(config, SimpleNamespace(username="admin"), "a failover service to read")


def _configuration(app) -> tuple:
    from piranha_web import revisions
    from piranha_web.models import User
    with app.app_context():
        return (revisions.draft_version(), revisions.running_revision().number,
                sorted((user.username, user.role) for user in User.query.all()))


def _wait_for_apply_jobs():
    for thread in threading.enumerate():
        if thread.name.startswith("apply-"):
            thread.join(timeout=30)


def test_every_post_has_a_declared_role(app):
    posts = {_blueprint(endpoint) for endpoint, method, _ in _routes(app) if method == "POST"} - PUBLIC
    assert posts <= set(POST_ROLES), f"decide who may POST to {sorted(posts - set(POST_ROLES))} in POST_ROLES"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_roles_without_the_right_change_nothing(app, client, auth, role):
    _draft_with_a_failover_service(app)
    auth.login(role)
    before = _configuration(app)
    refused = 0
    for endpoint, method, url in _routes(app):
        blueprint = _blueprint(endpoint)
        if endpoint in PUBLIC or endpoint == "auth.logout":
            continue
        if method == "POST" and role not in POST_ROLES[blueprint]:
            response = client.post(url, data={})
            assert response.status_code == 403, (endpoint, url, response.status_code)
            refused += 1
        elif method == "GET" and blueprint not in LIVE_PAGES:
            response = client.get(url)
            expected = (403,) if blueprint in ADMIN_ONLY_PAGES else (200, 302, 404)
            assert response.status_code in expected, (endpoint, url, response.status_code)
    assert refused >= 20
    assert _configuration(app) == before


def test_admin_is_let_through_every_role_check(app, client, auth):
    """The walk's other half: the rules above refuse by role, not by refusing everyone."""
    _draft_with_a_failover_service(app)
    auth.login("admin")
    posts = [(endpoint, url) for endpoint, method, url in _routes(app)
             if method == "POST" and endpoint not in PUBLIC and endpoint != "auth.logout"]
    assert len(posts) >= 20
    try:
        for endpoint, url in posts:
            response = client.post(url, data={})
            assert response.status_code not in (401, 403), (endpoint, url, response.status_code)
            assert "/login" not in response.headers.get("Location", ""), (endpoint, url)
    finally:
        _wait_for_apply_jobs()


def test_the_console_never_starts_a_shell_command_line():
    """Remote and local commands are argv lists: nothing in piranha_web hands a string to a shell."""
    import piranha_web
    sources = list(Path(piranha_web.__file__).parent.rglob("*.py"))
    assert len(sources) > 30
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for pattern in ("shell=True", "os.system(", "os.popen(", "getoutput(", "getstatusoutput("):
            assert pattern not in text, f"{path}: {pattern}"
