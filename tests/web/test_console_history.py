"""Revisions: the draft, the banner, HISTORY (list, diff, rollback), drift of the managed file, concurrency."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from piranha import lvscf
from piranha_web import revisions
from piranha_web.extensions import db
from piranha_web.models import Revision

from .panel_support import current_payload, draft_state
from piranha_web.global_settings.routes import ATTRS as GLOBAL_ATTRS

ADMIN = SimpleNamespace(username="admin")


def _apply_draft_by_hand(app) -> Revision:
    """Stand-in for the Apply engine (another package): write the draft and mark it applied."""
    with app.app_context():
        draft = revisions.current_draft()
        running = revisions.running_revision()
        running.status = "superseded"
        draft.status = "applied"
        Path(app.config["PIRANHA_LVS_CF"]).write_text(draft.text)
        db.session.commit()
        return draft.number


def test_first_revision_is_the_imported_managed_file(app):
    with app.app_context():
        running = revisions.running_revision()
        assert running.number == 1 and running.status == "imported"
        assert running.text == Path(app.config["PIRANHA_LVS_CF"]).read_text()
        assert running.checksum == revisions.managed_file_checksum()
        assert revisions.current_draft() is None and not revisions.drift()


def test_saving_counts_changes_in_the_banner_and_diff(app, client, auth):
    auth.login()
    assert "unapplied" not in client.get("/control").get_data(as_text=True)
    client.post("/global", data=current_payload(app, "global", GLOBAL_ATTRS) | {"primary": "192.0.2.20"})
    client.post("/global", data=current_payload(app, "global", GLOBAL_ATTRS) | {"tcp_timeout": "900"})
    page = client.get("/virtual").get_data(as_text=True)
    assert "2 unapplied changes — view diff" in page and 'href="/apply"' in page
    with app.app_context():
        diff = revisions.draft_diff()
        notes = revisions.current_draft().message.splitlines()
    assert notes == ["global settings: primary 192.0.2.10 -> 192.0.2.20", "global settings: tcp_timeout unset -> 900"]
    assert "-primary = 192.0.2.10" in diff and "+primary = 192.0.2.20" in diff and "+tcp_timeout = 900" in diff
    control = client.get("/control").get_data(as_text=True)
    assert "differs" in control and revisions_checksum(app) in control


def revisions_checksum(app):
    with app.app_context():
        return revisions.managed_file_checksum()


def test_reverting_a_change_by_hand_drops_the_draft(app, client, auth):
    auth.login()
    client.post("/global", data=current_payload(app, "global", GLOBAL_ATTRS) | {"primary": "192.0.2.20"})
    client.post("/global", data=current_payload(app, "global", GLOBAL_ATTRS) | {"primary": "192.0.2.10"})
    assert draft_state(app) == (0, None)


def test_stale_form_is_refused_with_409_and_input_kept(app, client, auth):
    auth.login()
    stale = current_payload(app, "global", GLOBAL_ATTRS)
    client.post("/global", data=dict(stale, primary="192.0.2.20"))
    response = client.post("/global", data=dict(stale, primary="192.0.2.30"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved a change" in page and 'value="192.0.2.30"' in page
    with app.app_context():
        assert revisions.draft_config().primary == "192.0.2.20"


def test_history_lists_diffs_and_rolls_back(app, client, auth):
    auth.login()
    client.post("/global", data=current_payload(app, "global", GLOBAL_ATTRS) | {"primary": "192.0.2.20"})
    applied = _apply_draft_by_hand(app)
    page = client.get("/history").get_data(as_text=True)
    assert "imported" in page and "applied" in page and "(running)" in page
    diff = client.get(f"/history/diff?a=1&b={applied}").get_data(as_text=True)
    assert "-primary = 192.0.2.10" in diff and "+primary = 192.0.2.20" in diff
    assert client.get("/history/1").status_code == 200
    assert client.get("/history/99").status_code == 404
    response = client.post("/history/1/rollback")
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply")
    with app.app_context():
        draft = revisions.current_draft()
        config = lvscf.loads(draft.text)
        assert config.primary == "192.0.2.10"
        assert config.serial_no == lvscf.loads(revisions.running_revision().text).serial_no
        assert "rollback to revision 1" in draft.message


def test_drift_is_shown_everywhere_and_can_be_imported(app, client, auth):
    auth.login()
    path = Path(app.config["PIRANHA_LVS_CF"])
    path.write_text(path.read_text().replace("keepalive = 2", "keepalive = 3"))
    page = client.get("/virtual").get_data(as_text=True)
    assert "was changed outside the console" in page
    drift_page = client.get("/history/drift").get_data(as_text=True)
    assert "-keepalive = 2" in drift_page and "+keepalive = 3" in drift_page
    assert client.post("/history/drift/import", data={"checksum": "0" * 64}).status_code == 302
    with app.app_context():
        assert revisions.running_revision().number == 1  # stale checksum: nothing imported
    response = client.post("/history/drift/import", data={"checksum": revisions_checksum(app)})
    assert response.status_code == 302
    with app.app_context():
        running = revisions.running_revision()
        assert running.number == 2 and running.status == "imported"
        assert not revisions.drift()
        assert db.session.get(Revision, 1).status == "superseded"
    assert "changed outside" not in client.get("/control").get_data(as_text=True)


def test_invalid_hand_edit_is_not_imported(app, client, auth):
    auth.login()
    path = Path(app.config["PIRANHA_LVS_CF"])
    path.write_text(path.read_text().replace("port = 80", "port = 99999"))
    page = client.get("/history/drift").get_data(as_text=True)
    assert "does not validate" in page and "99999" in page
    client.post("/history/drift/import", data={"checksum": revisions_checksum(app)})
    with app.app_context():
        assert revisions.running_revision().number == 1


def test_missing_managed_file_is_reported(app, client, auth):
    auth.login()
    Path(app.config["PIRANHA_LVS_CF"]).unlink()
    assert "is missing" in client.get("/control").get_data(as_text=True)


def test_save_draft_never_stores_an_invalid_model(app):
    with app.app_context():
        config = revisions.draft_config()
        config.virtual_server("web").port = 0
        try:
            revisions.save_draft(config, ADMIN, "bad port")
        except revisions.DraftInvalid as error:
            assert any(p.keyword == "port" and p.block == ("virtual", "web") for p in error.problems)
        else:
            raise AssertionError("an invalid model was stored")
        assert revisions.current_draft() is None


def test_history_pages_stay_within_range(app, client, auth, monkeypatch):
    from piranha_web.history import routes
    monkeypatch.setattr(routes, "PAGE_SIZE", 1)
    with app.app_context():
        config = revisions.draft_config()
        config.keepalive = 3
        revisions.save_draft(config, ADMIN, "a second revision")
    auth.login("viewer")
    for asked, shown, links in (("1", 1, ["?page=2\">Older"]), ("2", 2, ["?page=1\">Newer"]),
                                ("99", 2, ["?page=1\">Newer"]), ("-3", 1, ["?page=2\">Older"])):
        page = client.get(f"/history?page={asked}").get_data(as_text=True)
        assert f"Page {shown} of 2" in page, asked
        for link in links:
            assert link in page, asked
        assert page.count('name="b"') == 1, asked
