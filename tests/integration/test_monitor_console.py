"""/control, /api/v1 and /metrics against two real pulses in namespaces, the backup reached over real ssh.

    switch ── d1 (10.213.0.1, primary: pulse, and the console: this test's thread moves into d1's namespace)
           ├─ d2 (10.213.0.2, backup: pulse and sshd; the console runs `piranha-ctl status` there over ssh)
           └─ client

The pulses run with --no-lvsd (the host kernel has no IPVS; the IPVS part of the status is checked in the
kernel tier, tests/kernel/test_status*.py). Everything lives in namespaces and temp dirs this test creates.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import require_root_and_tools

require_root_and_tools("ip", "sshd", "ssh", "ssh-keygen")

from piranha_web import create_app  # noqa: E402
from piranha_web.api import tokens  # noqa: E402
from piranha_web.cli import init_console  # noqa: E402
from piranha_web.extensions import db  # noqa: E402
from piranha_web.models import AuditEntry, User  # noqa: E402
from piranha_web.users_service import set_user  # noqa: E402
from tests.integration.apply_support import inside_netns, keygen  # noqa: E402
from tests.integration.pulse_support import DIRECTORS, VENV_BIN, Cluster  # noqa: E402

pytestmark = pytest.mark.timeout(120)
PASSWORD = "monitor-operator-password-1"
BACKUP = DIRECTORS["d2"]


class Monitored:
    """The cluster, sshd on d2, and a console on d1 whose settings point at both pulses."""

    def __init__(self, tmp: Path, cache_seconds: float = 0):
        self.tmp = tmp
        self.cache_seconds = cache_seconds
        self.cluster = Cluster(prefix="mo")
        self.sshd: subprocess.Popen | None = None
        try:
            self._keys()
            self.start_sshd()
            self.app = self._console()
        except BaseException:
            self.close()
            raise

    def _keys(self) -> None:
        self.client_key = self.tmp / "console_key"
        self.authorized = self.tmp / "authorized_keys"
        self.authorized.write_text(keygen(self.client_key) + "\n")
        self.host_key = self.tmp / "host_key"
        key_type, key = keygen(self.host_key).split()[:2]
        self.known_hosts = self.tmp / "known_hosts"
        self.known_hosts.write_text(f"{BACKUP} {key_type} {key}\n")

    def start_sshd(self) -> None:
        config = self.tmp / "sshd_config"
        config.write_text("\n".join([
            f"ListenAddress {BACKUP}", "Port 22", f"HostKey {self.host_key}", f"AuthorizedKeysFile {self.authorized}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "UsePAM no", "StrictModes no", "PidFile none", "MaxStartups 50", "UseDNS no", ""]))
        script = (f"mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && "
                  f"exec /usr/sbin/sshd -D -f {config} -E {self.tmp / 'sshd.log'}")
        self.sshd = self.cluster.ns["d2"].popen(["sh", "-c", script], stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
        probe = ["bash", "-c", f"exec 3<>/dev/tcp/{BACKUP}/22"]
        self.cluster.wait_for(lambda: self.cluster.ns["d1"].run(probe, check=False).returncode == 0, 10,
                              "sshd on the backup")

    def stop_sshd(self) -> None:
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.terminate()
            self.sshd.wait(timeout=10)
        self.sshd = None

    def _console(self):
        var_dir = self.tmp / "var"
        var_dir.mkdir()
        (var_dir / "lvs.cf").write_text(self.cluster.config_path.read_text())
        app = create_app({
            "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test", "PIRANHA_VAR_DIR": str(var_dir),
            "PIRANHA_DATABASE_URL": f"sqlite:///{var_dir / 'piranha.db'}", "PIRANHA_LVS_CF": str(var_dir / "lvs.cf"),
            "PIRANHA_CONTROL_SOCKET": self.cluster.socket("d1"), "PIRANHA_BACKUP_SSH": f"root@{BACKUP}",
            "PIRANHA_SSH_KEY": str(self.client_key), "PIRANHA_SSH_KNOWN_HOSTS": str(self.known_hosts),
            "PIRANHA_SSH_CONNECT_TIMEOUT": 3, "PIRANHA_SYNC": "none", "PIRANHA_BACKUP_CHECK_SECONDS": 0,
            "PIRANHA_REMOTE_CTL": f"{VENV_BIN / 'piranha-ctl'} --socket {self.cluster.socket('d2')}",
            "PIRANHA_STATUS_CACHE_SECONDS": self.cache_seconds, "PIRANHA_METRICS_ALLOW": "127.0.0.1",
        })
        with app.app_context():
            init_console()
            set_user("operator", PASSWORD, "operator")
            set_user("viewer", PASSWORD, "viewer")
        return app

    def client(self, role: str = "operator"):
        client = self.app.test_client()
        assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 302
        return client

    def status(self, client) -> dict:
        with inside_netns(self.cluster.ns["d1"].name):
            response = client.get("/api/v1/status")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def get(self, client, url: str, **kwargs):
        with inside_netns(self.cluster.ns["d1"].name):
            return client.get(url, **kwargs)

    def post(self, client, url: str, **kwargs):
        with inside_netns(self.cluster.ns["d1"].name):
            return client.post(url, **kwargs)

    def close(self) -> None:
        self.stop_sshd()
        self.cluster.close()


@pytest.fixture
def monitored(tmp_path):
    setup = Monitored(tmp_path)
    try:
        setup.cluster.start("d1")
        setup.cluster.start("d2")
        setup.cluster.wait_for(lambda: setup.cluster.active() == {"d1"}, 10, "d1 active, d2 standby")
        yield setup
    finally:
        setup.close()


def _nodes(doc: dict) -> dict:
    return {n["name"]: n for n in doc["nodes"]}


def _next_second() -> None:
    """Samples are kept one per second: let the next look be a new sample."""
    time.sleep(1.05 - time.time() % 1)


def test_both_directors_are_shown_live_on_the_page_the_api_and_metrics(monitored):
    client = monitored.client()
    doc = monitored.status(client)
    nodes = _nodes(doc)
    primary, backup = nodes["primary"], nodes["backup"]
    assert primary["here"] and primary["reach"] == "ok" and primary["state"] == "active"
    assert backup["reach"] == "ok" and backup["state"] == "standby" and not backup["here"], backup
    assert backup["where"] == f"root@{BACKUP}"
    assert 0 <= primary["heartbeat"]["last_age"] < 1.0 and primary["heartbeat"]["partner_state"] == "stopped"
    assert backup["heartbeat"]["partner_state"] == "running" and backup["heartbeat"]["bad"] == 0
    assert (primary["heartbeat"]["partner"], backup["heartbeat"]["partner"]) == ("standby", "active")
    assert primary["heartbeat"]["accepted"] > 0
    assert [d["name"] for d in primary["daemons"]][:2] == ["pulse", "lvsd"]
    assert primary["daemons"][0]["state"] == "running" and primary["daemons"][0]["uptime"] > 0
    assert primary["config"]["serial"] == backup["config"]["serial"] == 1
    checksum = hashlib.sha256(monitored.cluster.config_path.read_bytes()).hexdigest()
    assert primary["config"]["checksum"] == backup["config"]["checksum"] == checksum
    assert doc["sync"]["in_sync"] is True and doc["active_node"] == "primary"
    assert doc["live"] is False and "runs without lvsd" in " ".join(doc["notes"])
    assert [v["name"] for v in doc["virtual_servers"]] == ["web"]

    page = monitored.get(client, "/control").get_data(as_text=True)
    assert re.search(r'data-node="primary".*?status up">active<', page, re.S)
    assert re.search(r'data-node="backup".*?>standby<', page, re.S)
    assert "OUT OF SYNC" not in page and 'id="control-live"' in page and "control.js" in page
    live = monitored.get(client, "/control/live").get_data(as_text=True)
    assert 'id="control-live"' in live and "<html" not in live

    metrics = monitored.get(client, "/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    assert 'piranha_director_active{director="primary"} 1.0' in metrics
    assert 'piranha_director_active{director="backup"} 0.0' in metrics
    assert 'piranha_director_up{director="backup"} 1.0' in metrics
    assert "piranha_config_in_sync 1.0" in metrics
    assert re.search(r'piranha_heartbeats_accepted_total\{director="backup"\} [1-9]', metrics)


def test_a_stopped_pulse_and_an_unreachable_backup_are_said_plainly_and_recorded(monitored):
    client = monitored.client("viewer")
    monitored.status(client)
    _next_second()
    monitored.cluster.kill("d2")
    doc = monitored.status(client)
    backup = _nodes(doc)["backup"]
    assert backup["reach"] == "not_running" and "pulse" in backup["error"], backup
    page = monitored.get(client, "/control").get_data(as_text=True)
    assert "pulse not running" in page
    assert any(e["kind"] == "daemon" and "backup: pulse running → not running" in e["message"] for e in doc["events"])

    monitored.stop_sshd()
    doc = monitored.status(client)
    backup = _nodes(doc)["backup"]
    assert backup["reach"] == "unreachable" and "unreachable" in backup["error"], backup
    assert "Connection refused" in backup["error"]
    assert _nodes(doc)["primary"]["state"] == "active", "the primary is still shown in full"
    assert "unreachable" in monitored.get(client, "/control").get_data(as_text=True)


def test_takeover_and_release_reach_the_backup_over_ssh_audited_and_seen_as_failovers(monitored):
    client = monitored.client()
    monitored.status(client)
    response = monitored.post(client, "/control/action", data={"action": "takeover", "node": "backup"})
    assert response.status_code == 302
    monitored.cluster.wait_for(lambda: monitored.cluster.active() == {"d2"}, 10, "d2 active after takeover")
    _next_second()
    doc = monitored.status(client)
    assert _nodes(doc)["backup"]["state"] == "active" and _nodes(doc)["primary"]["state"] == "standby"
    assert any(e["kind"] == "failover" and e["subject"] == "backup" for e in doc["events"]), doc["events"]
    assert any(e["kind"] == "action" and "takeover on backup (ok)" in e["message"] and e["user"] == "operator"
               for e in doc["events"])

    with monitored.app.app_context():
        operator = db.session.scalar(select(User).where(User.username == "operator"))
        _, token = tokens.create(operator, "integration")
    api = monitored.app.test_client()
    response = monitored.post(api, "/api/v1/actions/release", json={"node": "backup"},
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["node"] == "backup"
    monitored.cluster.wait_for(lambda: monitored.cluster.active() == {"d1"}, 10, "d1 active after release")
    with monitored.app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "control.action")).all()
    assert [(e.username, e.detail_data["action"], e.detail_data["node"], e.outcome) for e in entries] == [
        ("operator", "takeover", "backup", "ok"), ("operator", "release", "backup", "ok")]


def test_a_reload_of_one_director_shows_both_out_of_sync(monitored):
    client = monitored.client()
    monitored.status(client)
    _next_second()
    monitored.cluster.write_config(serial=2)
    response = monitored.post(client, "/control/action", data={"action": "reload", "node": "primary"},
                              follow_redirects=True)
    assert "reload sent to primary" in response.get_data(as_text=True)
    doc = monitored.status(client)
    assert _nodes(doc)["primary"]["config"]["serial"] == 2 and _nodes(doc)["backup"]["config"]["serial"] == 1
    assert doc["sync"]["in_sync"] is False
    assert "OUT OF SYNC: primary runs serial 2 (SHA-256 " in doc["sync"]["warning"]
    assert "but backup runs serial 1 (SHA-256 " in doc["sync"]["warning"]
    assert any(e["kind"] == "reload" and "serial 1 → 2" in e["message"] for e in doc["events"])
    page = monitored.get(client, "/control").get_data(as_text=True)
    assert "OUT OF SYNC" in page and 'id="sync-warning"' in page


def test_server_actions_need_an_lvsd_and_say_so(monitored):
    client = monitored.client()
    response = monitored.post(client, "/control/action", data={"action": "drain", "server": "web/self"},
                              follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "drain web/self refused: pulse refused drain: drain: this pulse runs without lvsd" in text, \
        text[text.find("refused"):][:300]
    refused = monitored.cluster.ctl("d2", "disable", "web/self")
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("pulse refused disable: disable: this pulse runs without lvsd (--no-lvsd or "
                                      "--test-start)")
    viewer = monitored.client("viewer")
    assert monitored.post(viewer, "/control/action", data={"action": "reload", "node": "primary"}).status_code == 403


def test_a_cached_partner_answer_is_refreshed_in_the_background(tmp_path):
    setup = Monitored(tmp_path, cache_seconds=1)
    try:
        setup.cluster.start("d1")
        setup.cluster.start("d2")
        client = setup.client("viewer")
        assert _nodes(setup.status(client))["backup"]["reach"] == "ok"
        setup.cluster.kill("d2")
        assert _nodes(setup.status(client))["backup"]["reach"] == "ok", "within the cache time: the cached answer"
        time.sleep(1.2)
        started = time.monotonic()
        stale = _nodes(setup.status(client))["backup"]
        assert stale["reach"] == "ok" and time.monotonic() - started < 1.0, "past it: no wait for ssh"
        setup.cluster.wait_for(lambda: _nodes(setup.status(client))["backup"]["reach"] == "not_running", 10,
                               "the background look's answer")
    finally:
        setup.close()


def test_a_hand_edit_with_the_same_serial_is_caught_by_the_checksum(monitored):
    client = monitored.client()
    path = monitored.cluster.config_path
    path.write_text(path.read_text() + "# edited by hand on the primary, serial_no left as it was\n")
    assert monitored.cluster.ctl("d1", "reload").returncode == 0
    doc = monitored.status(client)
    nodes = _nodes(doc)
    assert nodes["primary"]["config"]["serial"] == nodes["backup"]["config"]["serial"] == 1
    assert nodes["primary"]["config"]["checksum"] != nodes["backup"]["config"]["checksum"]
    assert doc["sync"]["in_sync"] is False and doc["sync"]["warning"].startswith("OUT OF SYNC: primary runs serial 1")
    metrics = monitored.get(client, "/metrics").get_data(as_text=True)
    assert "piranha_config_in_sync 0.0" in metrics
