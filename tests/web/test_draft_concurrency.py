"""Two admins saving the draft at the same moment: exactly one wins, the other gets StaleDraft, one draft stays."""

import threading
from types import SimpleNamespace

from sqlalchemy import func, select

from piranha_web import revisions
from piranha_web.extensions import db
from piranha_web.models import Revision

ALICE, BOB = SimpleNamespace(username="alice"), SimpleNamespace(username="bob")


def _config_with_keepalive(seconds: int):
    config = revisions.draft_config()
    config.keepalive = seconds
    config.deadtime = seconds * 3
    config.present.update({"keepalive", "deadtime"})
    return config


def _save_at_once(app, expected_version):
    """Alice and Bob build their change from the same draft, then both save it at the same instant."""
    barrier = threading.Barrier(2)
    outcomes = []

    def edit(user, seconds):
        with app.app_context():
            config = _config_with_keepalive(seconds)
            barrier.wait(30)
            try:
                revisions.save_draft(config, user, f"{user.username}'s edit", expected_version=expected_version)
                outcomes.append(user.username)
            except revisions.StaleDraft:
                outcomes.append("stale")

    threads = [threading.Thread(target=edit, args=(u, s)) for u, s in ((ALICE, 3), (BOB, 4))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        drafts = db.session.scalar(select(func.count()).select_from(Revision).where(Revision.status == "draft"))
        draft = revisions.current_draft()
        return sorted(outcomes), drafts, draft.author, draft.version, draft.text


def _exactly_one_winner(outcomes, drafts, author, text):
    assert drafts == 1
    assert outcomes in (["alice", "stale"], ["bob", "stale"])
    assert author in outcomes
    assert f"keepalive = {3 if author == 'alice' else 4}" in text


def test_two_first_edits_at_once_leave_one_draft(make_app):
    for _ in range(10):           # the race is real: repeat it so an unguarded save would show up
        outcomes, drafts, author, version, text = _save_at_once(make_app(), expected_version=0)
        _exactly_one_winner(outcomes, drafts, author, text)
        assert version == 1


def test_two_saves_of_the_same_draft_version_at_once_one_wins(app):
    with app.app_context():
        revisions.save_draft(_config_with_keepalive(2), ALICE, "first draft")
    for round_ in range(5):       # the race is real: repeat it so an unguarded save would show up
        with app.app_context():
            version = revisions.current_draft().version
        outcomes, drafts, author, new_version, text = _save_at_once(app, expected_version=version)
        _exactly_one_winner(outcomes, drafts, author, text)
        assert new_version == version + 1
        with app.app_context():       # back to a common starting point for the next round
            revisions.save_draft(_config_with_keepalive(2), ALICE, "reset", expected_version=new_version)
