"""The samples behind /control's charts: one per second across workers (the second writer backs off), pruned
after KEEP_SECONDS; and the recent-events list merging audited applies and actions."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from piranha_web.audit import audit
from piranha_web.extensions import db
from piranha_web.models import StatusEvent, StatusSample
from piranha_web.status import history, service


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_one_sample_per_second_and_old_ones_pruned(make_app, tmp_path):
    app = make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"))
    other_worker = make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"),
                            PIRANHA_DATABASE_URL=app.config["PIRANHA_DATABASE_URL"])
    with app.app_context():
        doc = service.collect()
        history.record(doc, 1000.2)
        history.record(doc, 1000.7)
    with other_worker.app_context():
        history.record(doc, 1000.9)
        assert _count(StatusSample) == 1
        history.record(doc, 1001.1)
        assert _count(StatusSample) == 2
        history.record(doc, 1000.0 + history.KEEP_SECONDS + 1.5)
        slots = db.session.scalars(select(StatusSample.slot).order_by(StatusSample.slot)).all()
        assert slots == [1001, 1000 + history.KEEP_SECONDS + 1]


def test_a_change_between_samples_is_an_event_once(make_app, tmp_path):
    app = make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"))
    with app.app_context():
        before = service.collect()
        after = json.loads(json.dumps(before))
        after["nodes"][0]["reach"] = "unreachable"
        history.record(before, 2000.1)
        history.record(after, 2001.1)
        history.record(after, 2001.6)
        events = db.session.scalars(select(StatusEvent)).all()
        assert [(e.kind, e.message) for e in events] == [
            ("daemon", "this director: pulse not running → unreachable")]


def test_recent_events_merge_audited_applies_and_actions_newest_first(make_app, tmp_path):
    app = make_app(PIRANHA_CONTROL_SOCKET=str(tmp_path / "pulse.sock"))
    with app.app_context():
        audit("apply", {"revision": 2}, username="admin")
        audit("control.action", {"action": "drain", "node": "primary", "target": "web/web1",
                                  "message": "admin: draining"}, username="operator")
        audit("login", {}, username="viewer")
        events = history.recent_events()
    assert [(e["kind"], e["message"], e["user"]) for e in events] == [
        ("action", "drain web/web1 on primary (ok): admin: draining", "operator"),
        ("apply", "apply revision 2 (ok)", "admin")]


def test_sparkline_points_newest_at_the_right_and_a_young_history_spread_over_a_minute():
    from piranha_web.control.charts import HEIGHT, WIDTH, polyline
    assert polyline([], 1, 100.0, 300) == ""
    points = polyline([[40.0, 0], [70.0, 2], [100.0, 4]], 1, 100.0, 300)
    coords = [tuple(map(float, pair.split(","))) for pair in points.split()]
    assert [x for x, _ in coords] == [0.0, WIDTH / 2, float(WIDTH)]
    assert coords[0][1] == HEIGHT - 1 and coords[-1][1] == 1.0, "the largest value at the top"
    full = polyline([[0.0, 1], [150.0, 1], [299.0, 1]], 1, 300.0, 300)
    assert [float(pair.split(",")[0]) for pair in full.split()] == [0.0, WIDTH / 2, 119.6], "the full window"
