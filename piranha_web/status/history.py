"""The last minutes of live figures (charts) and the transitions seen between two looks (recent events).

Stored in the database, not in a worker's memory: gunicorn's workers answer polls in turn, and each must
draw the same chart. The daemons' counters stay the source of truth; a sample only remembers, once per
second at most (a unique `slot` per whole second lets exactly one worker write it), what they said. The
worker that writes a sample also compares it with the previous one and records what changed: a director
taking or leaving the active role, pulse stopping or starting, a reload (new serial), a real server's
health. Applies and operator actions come from the audit log.
"""

from __future__ import annotations

import json
import math
from datetime import timezone

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from piranha_web.extensions import db
from piranha_web.models import AuditEntry, StatusEvent, StatusSample

KEEP_SECONDS = 600          # samples and charts cover the last ten minutes
KEEP_EVENTS = 500
AUDITED_EVENTS = ("apply", "rollback", "retry sync", "control.action")
REACH_WORDS = {"ok": "running", "not_running": "not running", "refused": "not answering",
               "unreachable": "unreachable", "not_configured": "not configured"}


def _snapshot(document: dict) -> dict:
    nodes = {n["name"]: {"state": n["state"], "reach": n["reach"], "serial": n["config"]["serial"]}
             for n in document["nodes"]}
    servers = {}
    for virtual in document["virtual_servers"]:
        for server in virtual["servers"]:
            reason = (server.get("admin") or {}).get("reason")
            servers[server["id"]] = {"health": server["health"], "result": reason or server["result"],
                                     "active": server["active_conns"], "cps": server["cps"], "bps": server["bps"]}
    return {"live": document["live"], "nodes": nodes, "servers": servers}


def _transitions(before: dict, after: dict) -> list[tuple[str, str, str]]:
    events = []
    for name, now in after["nodes"].items():
        was = before["nodes"].get(name)
        if was is None:
            continue
        if was["reach"] != now["reach"]:
            events.append(("daemon", name, f"{name}: pulse {REACH_WORDS.get(was['reach'], was['reach'])} → "
                                           f"{REACH_WORDS.get(now['reach'], now['reach'])}"))
        elif was["state"] != now["state"] and now["state"] in ("active", "standby"):
            kind = "failover" if now["state"] == "active" else "role"
            events.append((kind, name, f"{name} became {now['state']} (was {was['state']})"))
        if now["serial"] is not None and was["serial"] is not None and now["serial"] != was["serial"]:
            events.append(("reload", name, f"{name} reloaded: serial {was['serial']} → {now['serial']}"))
    if before["live"] and after["live"]:
        for ident, now in after["servers"].items():
            was = before["servers"].get(ident)
            if was is not None and was["health"] != now["health"]:
                said = f" ({now['result']})" if now.get("result") else ""
                events.append(("server", ident, f"{ident}: {was['health']} → {now['health']}{said}"))
    return events


def record(document: dict, now: float) -> None:
    """Keep this look at the cluster as the sample of its second (unless another worker already did)."""
    snapshot = _snapshot(document)
    previous = db.session.scalar(select(StatusSample).order_by(StatusSample.slot.desc()).limit(1))
    slot = math.floor(now)
    if previous is not None and previous.slot >= slot:
        return
    db.session.add(StatusSample(slot=slot, taken_at=now, data=json.dumps(snapshot, separators=(",", ":"))))
    if previous is not None:
        for kind, subject, message in _transitions(json.loads(previous.data), snapshot):
            db.session.add(StatusEvent(time=now, kind=kind, subject=subject[:128], message=message))
    db.session.execute(delete(StatusSample).where(StatusSample.slot < slot - KEEP_SECONDS))
    try:
        db.session.commit()
    except IntegrityError:      # another worker wrote this second's sample (and its events) first
        db.session.rollback()
        return
    oldest_kept = db.session.scalar(select(StatusEvent.id).order_by(StatusEvent.id.desc()).offset(KEEP_EVENTS)
                                    .limit(1))
    if oldest_kept is not None:
        db.session.execute(delete(StatusEvent).where(StatusEvent.id <= oldest_kept))
        db.session.commit()


def series(now: float, seconds: int = KEEP_SECONDS) -> dict:
    """Per real server: [[time, active connections, connections/s, bytes/s], ...] over the last `seconds`."""
    rows = db.session.scalars(select(StatusSample).where(StatusSample.slot >= math.floor(now) - seconds)
                              .order_by(StatusSample.slot)).all()
    result: dict[str, list] = {}
    for row in rows:
        data = json.loads(row.data)
        for ident, server in data["servers"].items():
            if server["active"] is None:
                continue
            result.setdefault(ident, []).append([round(row.taken_at, 1), server["active"], server["cps"],
                                                 server["bps"]])
    return result


def recent_events(limit: int = 30) -> list[dict]:
    """Transitions seen and audited applies/actions, newest first."""
    events = [{"time": e.time, "kind": e.kind, "subject": e.subject, "message": e.message, "user": None}
              for e in db.session.scalars(select(StatusEvent).order_by(StatusEvent.id.desc()).limit(limit))]
    audited = db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(AUDITED_EVENTS))
                                 .order_by(AuditEntry.id.desc()).limit(limit)).all()
    for entry in audited:
        detail = entry.detail_data or {}
        events.append({"time": entry.time.replace(tzinfo=timezone.utc).timestamp(),
                       "kind": "action" if entry.action == "control.action" else entry.action, "subject": str(detail.get("target") or detail.get("revision") or ""),
                       "message": _audit_message(entry, detail), "user": entry.username})
    events.sort(key=lambda e: e["time"], reverse=True)
    return events[:limit]


def _audit_message(entry: AuditEntry, detail: dict) -> str:
    if entry.action == "control.action":
        said = f": {detail['message']}" if detail.get("message") else ""
        target = f" {detail['target']}" if detail.get("target") else ""
        node = f" on {detail['node']}" if detail.get("node") else ""
        return f"{detail.get('action')}{target}{node} ({entry.outcome}){said}"
    what = f" revision {detail['revision']}" if detail.get("revision") else ""
    return f"{entry.action}{what} ({entry.outcome})"
