"""/metrics: Prometheus text built from the status document; readable by a console login, the configured
token or an allowed client address, and by nobody else."""

from __future__ import annotations

import pytest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-token-0123456789"


@pytest.fixture
def metrics_app(make_app, tmp_path):
    return make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"), PIRANHA_METRICS_TOKEN=TOKEN,
                    PIRANHA_METRICS_ALLOW="192.0.2.0/28, 2001:db8::7")


def _families(response) -> dict:
    return {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}


@pytest.mark.parametrize("headers, address, code", [
    ({}, "198.51.100.1", 401),
    ({"Authorization": f"Bearer {TOKEN}"}, "198.51.100.1", 200),
    ({"Authorization": f"Bearer {TOKEN}x"}, "198.51.100.1", 401),
    ({"Authorization": TOKEN}, "198.51.100.1", 401),
    ({}, "192.0.2.9", 200),
    ({}, "192.0.2.17", 401),
    ({}, "2001:db8::7", 200),
    ({}, "2001:db8::8", 401),
])
def test_who_may_scrape(metrics_app, headers, address, code):
    response = metrics_app.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == code
    if code == 401:
        assert "PIRANHA_METRICS_TOKEN" in response.get_data(as_text=True)
    else:
        assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST


def test_the_scraper_gets_nothing_else(metrics_app):
    client = metrics_app.test_client()
    for url in ("/control", "/api/v1/status", "/users"):
        response = client.get(url, headers={"Authorization": f"Bearer {TOKEN}"},
                              environ_base={"REMOTE_ADDR": "192.0.2.9"})
        assert response.status_code in (302, 401), url


def test_a_logged_in_user_may_read_metrics_and_nothing_is_open_by_default(make_app):
    app = make_app()
    assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401
    viewer = app.test_client()
    viewer.post("/login", data={"username": "viewer", "password": "viewer-password-1"})
    assert viewer.get("/metrics").status_code == 200


def test_a_bad_allow_list_lets_nobody_in_and_is_logged(make_app, caplog):
    app = make_app(PIRANHA_METRICS_ALLOW="192.0.2.1, not-an-address")
    response = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert response.status_code == 401
    assert "PIRANHA_METRICS_ALLOW: 'not-an-address' is not an address or network" in caplog.text


def test_families_from_the_status_document(metrics_app):
    response = metrics_app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    families = _families(response)
    up = {s.labels["director"]: s.value for s in families["piranha_director_up"].samples}
    assert up == {"this director": 0.0, "backup": 0.0}
    health = [(s.labels["virtual"], s.labels["server"], s.labels["state"]) for s in
              families["piranha_real_server_health"].samples if s.value == 1.0]
    assert sorted(health) == [("mail", "mail1", "unknown"), ("mail", "mail2", "unknown"),
                              ("web", "web1", "unknown"), ("web", "web2", "unknown")]
    weights = {(s.labels["server"], s.labels["kind"]): s.value for s in families["piranha_real_server_weight"].samples}
    assert weights[("web1", "configured")] >= 1 and ("web1", "current") not in weights, "no live figure invented"
    assert not families["piranha_real_server_active_connections"].samples
    sync = {s.labels["state"]: s.value for s in families["piranha_backup_sync"].samples}
    assert sync == {"in_sync": 0.0, "out_of_sync": 0.0, "unknown": 1.0}
    for name in ("piranha_heartbeat_age_seconds", "piranha_heartbeats_bad", "piranha_config_serial",
                 "piranha_virtual_server_bytes", "piranha_real_server_bytes", "piranha_last_apply_success"):
        assert name in families, name
