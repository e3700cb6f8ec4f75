"""/control without running daemons: a correct snapshot that says plainly what is not running, a live fragment
for control.js, and operator actions that are POST-only, role-checked, audited and refused with the reason.

The live view against real pulses (and ssh to a backup) is tests/integration/test_monitor_console.py.
"""

from __future__ import annotations

import re
import socket
import threading

import pytest
from sqlalchemy import select

from piranha_web.extensions import db
from piranha_web.models import AuditEntry


class SilentSocket:
    """A Unix socket that accepts and hangs up without a word (a daemon that is wedged or not pulse)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.close()

    def close(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def no_pulse(make_app, tmp_path):
    return make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"))


def _login(app, role):
    client = app.test_client()
    client.post("/login", data={"username": role, "password": f"{role}-password-1"})
    return client


def test_snapshot_says_pulse_is_not_running_and_the_backup_is_not_configured(no_pulse, tmp_path):
    page = _login(no_pulse, "viewer").get("/control").get_data(as_text=True)
    assert "pulse not running" in page
    assert f"no control socket at {tmp_path / 'pulse.sock'}" in page
    assert "not configured" in page and "backup_active = 0: this cluster has one director" in page
    assert "no director is active: nothing serves the virtual servers" in page
    assert "configuration only: no live data" in page
    for name in ("web1", "web2", "mail1", "mail2"):
        assert re.search(rf'data-server="(web|mail)/{name}" data-health="unknown"', page), name
    assert 'id="refresh-interval"' in page and "reload the page to update" in page
    assert 'src="/static/control.js"' in page and "<script>" not in page


def test_a_socket_that_hangs_up_is_shown_as_no_answer(make_app, tmp_path):
    path = tmp_path / "wedged.sock"
    silent = SilentSocket(path)
    try:
        app = make_app(PIRANHA_CONTROL_SOCKET=str(path))
        page = _login(app, "viewer").get("/control").get_data(as_text=True)
    finally:
        silent.close()
    assert "no answer" in page
    assert re.search(rf"pulse did not answer: {re.escape(str(path))}: (Connection reset by peer|Broken pipe)", page)


def test_live_fragment_is_the_live_part_alone(no_pulse):
    response = _login(no_pulse, "viewer").get("/control/live")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert text.lstrip().startswith('<div id="control-live"') and "<html" not in text
    assert "pulse not running" in text


def test_actions_are_shown_to_operators_only(no_pulse):
    assert 'name="action"' not in _login(no_pulse, "viewer").get("/control").get_data(as_text=True)
    page = _login(no_pulse, "operator").get("/control").get_data(as_text=True)
    assert 'action="/control/action"' not in page, "no action offered for a node that does not answer"


def test_viewer_may_not_act(no_pulse):
    client = _login(no_pulse, "viewer")
    assert client.post("/control/action", data={"action": "reload", "node": "backup"}).status_code == 403
    with no_pulse.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "control.action")) is None


@pytest.mark.parametrize("form, message", [
    ({"action": "reload", "node": "this director"}, "pulse on this director is not running"),
    ({"action": "reload", "node": "backup"}, "backup cannot be reached: backup_active = 0"),
    ({"action": "reload", "node": "tertiary"}, "no director named 'tertiary' (known: this director, backup)"),
    ({"action": "reload"}, "reload needs a director: one of this director, backup"),
    ({"action": "drain", "server": "web/web1"}, "no director is active, so no lvsd holds the real servers"),
    ({"action": "explode"}, "unknown action 'explode'; one of drain, enable, disable, reload, takeover, release"),
])
def test_refused_actions_say_why_and_are_audited(no_pulse, form, message):
    client = _login(no_pulse, "operator")
    response = client.post("/control/action", data=form, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "flash-error" in text
    assert message in text.replace("&#39;", "'"), text[text.find("flash-error"):][:400]
    with no_pulse.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "control.action"))
    assert entry.outcome == "refused" and entry.username == "operator"
    assert message in entry.detail_data["message"]


def test_drain_timeout_is_checked_before_anything_is_sent(make_app, tmp_path):
    app = make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"))
    client = _login(app, "operator")
    text = client.post("/control/action", data={"action": "drain", "node": "this director", "server": "web/web1",
                                                "drain_timeout": "later"}, follow_redirects=True).get_data(as_text=True)
    assert "drain timeout &#39;later&#39; is not a whole number of seconds" in text


def test_action_needs_csrf_token(make_app, tmp_path):
    app = make_app(WTF_CSRF_ENABLED=True, PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"))
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "operator", "password": "operator-password-1", "csrf_token": token})
    assert client.post("/control/action", data={"action": "reload", "node": "backup"}).status_code == 400
    page = client.get("/control").get_data(as_text=True)
    assert "OUT OF SYNC" not in page
