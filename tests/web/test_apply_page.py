"""/apply and /apply/retry-sync through the Flask test client: diff, validation, steps, records, conflicts."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from piranha_web import revisions
from piranha_web.apply import service
from piranha_web.extensions import db
from piranha_web.models import AuditEntry, NodeSync, Revision, User


@pytest.fixture
def console(make_app, tmp_path):
    """A console whose pulse socket and pidfile are in a temp dir (no daemons: never the host's /run)."""
    return make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"),
                    PIRANHA_PULSE_PIDFILE=str(tmp_path / "pulse.pid"))


@pytest.fixture
def admin(console):
    client = console.test_client()
    client.post("/login", data={"username": "admin", "password": "admin-password-1"})
    return client


def edit(app, change, note="web: port 8080"):
    """Save a draft the way a panel does: change the model, save_draft."""
    with app.app_context():
        config = revisions.draft_config()
        change(config)
        user = db.session.scalar(select(User).where(User.username == "admin"))
        draft = revisions.save_draft(config, user, note)
        return draft.number, draft.version


def set_port(port):
    def change(config):
        config.virtual_server("web").port = port
    return change


def post_apply(client, number, version, message="open port 8080"):
    return client.post("/apply", data={"draft": number, "version": version, "message": message})


def test_apply_page_shows_diff_validation_and_the_form(console, admin):
    number, version = edit(console, set_port(8080))
    page = admin.get("/apply").get_data(as_text=True)
    assert "-     port = 80\n" in page.replace('<span class="del">', "\n").replace("</span>", "\n")
    assert "+     port = 8080" in page
    assert "valid; serial_no becomes 2" in page
    assert f'name="draft" value="{number}"' in page and f'name="version" value="{version}"' in page


def test_apply_writes_records_and_reports_each_step(console, admin):
    number, version = edit(console, set_port(8080))
    response = post_apply(admin, number, version)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for step in ("validate", "write", "sync", "reload"):
        assert f'data-step="{step}"' in page
    assert "redundancy is off" in page and "daemons not running" in page
    lvs_cf = console.config["PIRANHA_LVS_CF"]
    text = Path(lvs_cf).read_text()
    assert "port = 8080" in text and "serial_no = 2" in text
    assert os.stat(lvs_cf).st_mode & 0o777 == 0o640
    with console.app_context():
        applied = db.session.scalar(select(Revision).where(Revision.number == number))
        assert applied.status == "applied" and applied.author == "admin"
        assert applied.message == "open port 8080" and applied.serial_no == 2 and applied.applied_at
        assert applied.checksum == revisions.managed_file_checksum()
        assert applied.node_results_data["primary"]["write"]["state"] == "ok"
        assert revisions.current_draft() is None and not revisions.drift()
        assert db.session.scalar(select(Revision).where(Revision.number == 1)).status == "superseded"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "apply"))
        assert entry.outcome == "ok" and entry.username == "admin"
        assert [s["name"] for s in entry.detail_data["steps"]] == ["validate", "write", "sync", "reload"]
    assert "no unapplied changes" in admin.get("/apply").get_data(as_text=True)


def test_stale_draft_version_is_a_conflict_and_writes_nothing(console, admin):
    number, version = edit(console, set_port(8080))
    edit(console, set_port(8081), note="second admin")
    before = Path(console.config["PIRANHA_LVS_CF"]).read_text()
    response = post_apply(admin, number, version)
    assert response.status_code == 409
    assert "The draft changed since you reviewed it" in response.get_data(as_text=True)
    assert Path(console.config["PIRANHA_LVS_CF"]).read_text() == before


def test_second_apply_of_the_same_draft_is_a_conflict(console, admin):
    number, version = edit(console, set_port(8080))
    assert post_apply(admin, number, version).status_code == 200
    written = Path(console.config["PIRANHA_LVS_CF"]).read_text()
    response = post_apply(admin, number, version)
    assert response.status_code == 409 and "already applied by admin" in response.get_data(as_text=True)
    assert Path(console.config["PIRANHA_LVS_CF"]).read_text() == written


def test_apply_while_another_runs_is_refused_at_once(console, admin):
    number, version = edit(console, set_port(8080))
    before = Path(console.config["PIRANHA_LVS_CF"]).read_text()
    with service.apply_lock(console.config["PIRANHA_LVS_CF"]):
        response = post_apply(admin, number, version)
    assert response.status_code == 409 and "Another apply or sync is running" in response.get_data(as_text=True)
    assert Path(console.config["PIRANHA_LVS_CF"]).read_text() == before


def test_invalid_draft_is_refused_and_the_file_is_untouched(console, admin):
    with console.app_context():
        bad = Revision(number=99, status="draft", author="admin", version=1, message="")
        bad.set_text(revisions.running_revision().text.replace("port = 80\n", "port = 0\n"))
        db.session.add(bad)
        db.session.commit()
    lvs_cf = console.config["PIRANHA_LVS_CF"]
    before = (Path(lvs_cf).read_text(), os.stat(lvs_cf).st_mtime_ns)
    response = post_apply(admin, 99, 1)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Not applied" in page and "Nothing was written" in page
    assert "the draft does not parse: 26: port: &#39;0&#39; is out of range (1-65535)" in page
    assert (Path(lvs_cf).read_text(), os.stat(lvs_cf).st_mtime_ns) == before
    with console.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "apply")).outcome == "failed"
        assert revisions.current_draft().number == 99


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_admins_apply_or_retry(console, role):
    number, version = edit(console, set_port(8080))
    client = console.test_client()
    client.post("/login", data={"username": role, "password": f"{role}-password-1"})
    assert client.get("/apply").status_code == 200
    assert "Only administrators apply" in client.get("/apply").get_data(as_text=True)
    assert post_apply(client, number, version).status_code == 403
    assert client.post("/apply/retry-sync").status_code == 403


def test_unreachable_backup_marks_it_out_of_sync_everywhere_and_offers_retry(make_app, tmp_path):
    """backup_active = 1 and the backup's ssh is a closed port on loopback: a real 'unreachable'."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    console = make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"),
                       PIRANHA_PULSE_PIDFILE=str(tmp_path / "pulse.pid"), PIRANHA_SYNC="rsync",
                       PIRANHA_BACKUP_SSH="root@127.0.0.1:1", PIRANHA_SSH_KEY=str(tmp_path / "key"),
                       PIRANHA_SSH_KNOWN_HOSTS=str(tmp_path / "known_hosts"), PIRANHA_SSH_CONNECT_TIMEOUT=2)
    admin = console.test_client()
    admin.post("/login", data={"username": "admin", "password": "admin-password-1"})

    def redundancy_on(config):
        config.backup_active = True
    number, version = edit(console, redundancy_on, note="redundancy on")
    response = post_apply(admin, number, version, "turn redundancy on")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Applied here, with problems" in page
    assert "backup: unreachable" in page and "Connection refused" in page
    assert "backup_active = 1" in Path(console.config["PIRANHA_LVS_CF"]).read_text()
    with console.app_context():
        state = db.session.scalar(select(NodeSync).where(NodeSync.node == "backup"))
        assert state.status == "out_of_sync" and "unreachable" in state.reason
        applied = db.session.scalar(select(Revision).where(Revision.number == number))
        assert applied.status == "applied"
        assert applied.node_results_data["backup"]["sync"]["state"] == "failed"
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "apply")).outcome == "partial"
    for url in ("/control", "/history/", "/apply"):
        assert "Backup director out of sync: backup: unreachable" in admin.get(url).get_data(as_text=True)
    assert "Retry sync" in admin.get("/apply").get_data(as_text=True)

    retried = admin.post("/apply/retry-sync")
    assert retried.status_code == 502 and "backup still out of sync" in retried.get_data(as_text=True)
    with console.app_context():
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "retry sync"))
        assert audit.outcome == "failed"
        assert json.loads(audit.detail)["steps"][0]["name"] == "sync"


def test_retry_sync_refuses_a_hand_edited_file(console, admin):
    number, version = edit(console, set_port(8080))
    post_apply(admin, number, version)
    with open(console.config["PIRANHA_LVS_CF"], "a") as handle:
        handle.write("# hand edit\n")
    response = admin.post("/apply/retry-sync", follow_redirects=True)
    assert "is not the applied revision" in response.get_data(as_text=True)


def test_background_apply_reports_steps_to_the_poller_and_ends_on_the_summary(console, admin):
    number, version = edit(console, set_port(8080))
    started = admin.post("/apply/start", data={"draft": number, "version": version, "message": "via js"})
    assert started.status_code == 202
    urls = started.get_json()
    deadline = time.monotonic() + 30
    while True:
        job = admin.get(urls["status_url"]).get_json()
        if job["done"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert job["done"] and job["status"] == 200 and job["error"] is None
    assert [s["name"] for s in job["steps"]] == ["validate", "write", "sync", "reload"]
    page = admin.get(urls["result_url"])
    assert page.status_code == 200 and "Applied" in page.get_data(as_text=True)
    assert "port = 8080" in Path(console.config["PIRANHA_LVS_CF"]).read_text()
    with console.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "apply"))
        assert entry.username == "admin" and entry.detail_data["message"] == "via js"
    again = admin.post("/apply/start", data={"draft": number, "version": version})
    job_url = again.get_json()["status_url"]
    deadline = time.monotonic() + 30
    while not (job := admin.get(job_url).get_json())["done"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["status"] == 409 and "already applied" in job["error"]
    assert admin.get("/apply/job?id=0123456789abcdef").status_code == 404
    assert admin.get("/apply/job?id=../../etc/passwd").status_code == 404


def test_an_internal_error_in_a_background_apply_is_logged_not_shown(console, admin, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("internal-detail-91c2 /secret/path")

    monkeypatch.setattr(service, "apply_draft", explode)
    number, version = edit(console, set_port(8080))
    urls = admin.post("/apply/start", data={"draft": number, "version": version}).get_json()
    deadline = time.monotonic() + 30
    while not (job := admin.get(urls["status_url"]).get_json())["done"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["status"] == 500 and "internal error" in job["error"]
    page = admin.get(urls["result_url"]).get_data(as_text=True)
    for shown in (json.dumps(job), page):
        assert "internal-detail-91c2" not in shown and "Traceback" not in shown
    assert "internal-detail-91c2" in caplog.text  # for the operator reading the log


def test_a_hand_edited_file_is_kept_as_a_revision_before_it_is_replaced(console, admin):
    number, version = edit(console, set_port(8080))
    lvs_cf = Path(console.config["PIRANHA_LVS_CF"])
    hand_edited = lvs_cf.read_text().replace("weight = 2", "weight = 7")
    lvs_cf.write_text(hand_edited)
    page = admin.get("/apply").get_data(as_text=True)
    assert "was changed outside the console" in page and "+     port = 8080" in page
    assert post_apply(admin, number, version).status_code == 200
    with console.app_context():
        kept = db.session.scalar(select(Revision).where(Revision.text == hand_edited))
        applied = revisions.running_revision()
        assert kept is not None and kept.status == "superseded"
        assert applied.status == "applied" and applied.number > kept.number
        assert "port = 8080" in applied.text and "weight = 7" not in applied.text


def test_two_admins_applying_at_once_one_wins_the_other_gets_a_conflict(console):
    import threading
    number, version = edit(console, set_port(8080))
    clients = []
    for _ in range(2):
        client = console.test_client()
        client.post("/login", data={"username": "admin", "password": "admin-password-1"})
        clients.append(client)
    barrier = threading.Barrier(2)
    statuses = []

    def apply_with(client):
        barrier.wait(timeout=10)
        statuses.append(post_apply(client, number, version).status_code)
    threads = [threading.Thread(target=apply_with, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    with console.app_context():
        applied = revisions.running_revision()
        assert applied.number == number and applied.status == "applied"
        assert Path(console.config["PIRANHA_LVS_CF"]).read_text() == applied.text
        outcomes = [e.outcome for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "apply"))]
        assert sorted(outcomes) == ["conflict", "ok"]  # the refused one is in the audit log too
