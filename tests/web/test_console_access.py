"""Security by construction: walk app.url_map. Every endpoint but login and static refuses an anonymous client,
every POST refuses a missing CSRF token, and a viewer can change nothing."""

import re
from types import SimpleNamespace

import pytest

from piranha.lvscf.model import FailoverService

from .conftest import PASSWORDS

PUBLIC = {"auth.login", "static"}
ARGUMENTS = {"name": "web", "rname": "web1", "number": 1, "username": "viewer", "filename": "piranha.css"}
OTHER_ARGUMENT = 1  # any other URL argument (an int converter accepts it, a string one too)


def _routes(app):
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for argument in rule.arguments:
            value = "db" if rule.endpoint.startswith("failover_services.") else ARGUMENTS.get(argument, OTHER_ARGUMENT)
            url = re.sub(rf"<(?:[^:<>]+:)?{argument}>", str(value), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_the_walk_covers_every_panel(app):
    endpoints = {endpoint for endpoint, _, _ in _routes(app)}
    for expected in ("control.index", "global_settings.index", "redundancy.index", "virtual_servers.index",
                     "virtual_servers.edit", "virtual_servers.real_servers", "virtual_servers.scripts",
                     "failover_services.index", "failover_services.edit", "history.index", "users.index",
                     "apply.index"):
        assert expected in endpoints


def test_every_endpoint_refuses_an_anonymous_client(app, client):
    checked = 0
    for endpoint, method, url in _routes(app):
        if endpoint in PUBLIC:
            continue
        response = client.open(url, method=method)
        assert response.status_code in (302, 401), (endpoint, method, url, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], (endpoint, method, url)
        checked += 1
    assert checked > 20


def test_every_post_refuses_a_missing_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]}).status_code == 400
    response = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"],
                                           "csrf_token": token})
    assert response.status_code == 302
    posts = [(endpoint, url) for endpoint, method, url in _routes(app) if method == "POST"]
    assert len(posts) > 10
    for endpoint, url in posts:
        response = client.post(url, data={})
        assert response.status_code == 400, (endpoint, url, response.status_code)
        assert b"security token" in response.data, endpoint
    assert client.get("/control").status_code == 200  # still logged in: nothing happened


OWN_BLUEPRINTS = ("global_settings", "redundancy", "virtual_servers", "failover_services", "history", "users")


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_admins_can_read_panels_but_change_nothing(app, client, auth, role):
    from piranha_web import revisions
    with app.app_context():
        config = revisions.draft_config()
        config.failover_services.append(FailoverService(
            name="db", address="192.0.2.50", device="eth0:3", start_cmd="/bin/true", stop_cmd="/bin/true"))
        revisions.save_draft(config, SimpleNamespace(username="admin"), "a failover service to read")
    auth.login(role)
    with app.app_context():
        before = revisions.draft_version(), revisions.running_revision().number
    for endpoint, method, url in _routes(app):
        blueprint = endpoint.split(".")[0]
        if blueprint not in OWN_BLUEPRINTS:
            continue
        response = client.open(url, method=method)
        if method == "POST":
            assert response.status_code == 403, (endpoint, url)
        elif blueprint != "users":
            assert response.status_code in (200, 302), (endpoint, url, response.status_code)
    with app.app_context():
        assert (revisions.draft_version(), revisions.running_revision().number) == before
