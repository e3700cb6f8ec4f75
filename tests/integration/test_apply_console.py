"""The console end to end against a real backup director: Apply through /apply, the backup's checksum compared
by the console (a hand edit on the backup shows everywhere), and Retry sync putting it right.

The Flask test client runs in this thread, moved into the primary namespace, so the console's ssh reaches
the backup's sshd exactly as it would from a director.
"""

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import require_root_and_tools

require_root_and_tools("ip", "sshd", "ssh", "rsync", "ssh-keygen")

from piranha_web import create_app, revisions  # noqa: E402
from piranha_web.cli import init_console  # noqa: E402
from piranha_web.extensions import db  # noqa: E402
from piranha_web.models import AuditEntry, NodeSync, User  # noqa: E402
from piranha_web.users_service import set_user  # noqa: E402

from .apply_support import inside_netns, running_backup  # noqa: E402

pytestmark = pytest.mark.timeout(120)
PASSWORD = "apply-admin-password-1"


@pytest.fixture
def director(tmp_path):
    with running_backup(tmp_path) as backup:
        yield backup


@pytest.fixture
def console(director, tmp_path):
    var_dir = tmp_path / "var"
    settings = director.settings(var_dir / "lvs.cf", PIRANHA_BACKUP_CHECK_SECONDS=0.01)
    settings.update(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="test", PIRANHA_VAR_DIR=str(var_dir),
                    PIRANHA_DATABASE_URL=f"sqlite:///{var_dir / 'piranha.db'}")
    app = create_app(settings)
    with app.app_context():
        init_console()
        set_user("admin", PASSWORD, "admin")
    return app


def test_apply_syncs_the_backup_and_a_hand_edit_there_is_shown_and_repaired(director, console):
    with console.app_context():
        config = revisions.draft_config()
        config.backup_active = True
        config.virtual_server("web").port = 8080
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        draft = revisions.save_draft(config, admin, "redundancy on, web on 8080")
        number, version = draft.number, draft.version

    lvs_cf = Path(console.config["PIRANHA_LVS_CF"])
    with inside_netns(director.primary.name):
        client = console.test_client()
        client.post("/login", data={"username": "admin", "password": PASSWORD})
        response = client.post("/apply", data={"draft": number, "version": version, "message": "go"})
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "and the backup has the same file" in page, page
        local = lvs_cf.read_bytes()
        assert director.remote_lvs_cf.read_bytes() == local
        assert [r["command"] for r in director.reloads()] == ["reload"]
        assert "out of sync" not in client.get("/control").get_data(as_text=True)

        # Someone edits the backup's copy by hand: the console notices on its next look.
        with open(director.remote_lvs_cf, "a") as handle:
            handle.write("# edited on the backup\n")
        control = client.get("/control").get_data(as_text=True)
        assert "Backup director out of sync: backup: its lvs.cf differs from the applied revision" in control
        assert "Backup director out of sync" in client.get("/history/").get_data(as_text=True)

        retried = client.post("/apply/retry-sync")
        assert retried.status_code == 200 and "backup in sync" in retried.get_data(as_text=True)
        assert director.remote_lvs_cf.read_bytes() == local
        assert [r["command"] for r in director.reloads()] == ["reload", "reload"]
        assert "out of sync" not in client.get("/control").get_data(as_text=True)

    with console.app_context():
        state = db.session.scalar(select(NodeSync).where(NodeSync.node == "backup"))
        assert state.status == "in_sync" and state.checksum == hashlib.sha256(local).hexdigest()
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert "apply" in actions and "retry sync" in actions
