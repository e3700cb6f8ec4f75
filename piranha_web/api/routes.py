"""The /api/v1 resources (described for clients in openapi.py; a test checks both list the same routes)."""

from __future__ import annotations

import json

from flask import jsonify, request
from sqlalchemy import select

from piranha import lvscf
from piranha.lvscf import schema
from piranha_web import revisions
from piranha_web.api import bp, error
from piranha_web.api.openapi import document as openapi_document
from piranha_web.extensions import db
from piranha_web.models import Revision
from piranha_web.status import actions, service

MAX_REVISIONS = 200


@bp.get("/status")
def status():
    """The same status document /control shows."""
    return jsonify(service.current_status())


def _block_json(block: str, item) -> dict:
    """Every keyword of `block` as the schema lists it (one schema: no keyword named here)."""
    return {attr: getattr(item, attr) for kw in schema.keywords(block) for attr in kw.attrs}


def config_json(config) -> dict:
    data = _block_json("global", config)
    data["virtual_servers"] = [{"name": v.name, **_block_json("virtual", v),
                                "servers": [{"name": s.name, **_block_json("server", s)} for s in v.servers]}
                               for v in config.virtual_servers]
    data["failover_services"] = [{"name": f.name, **_block_json("failover", f)} for f in config.failover_services]
    return data


@bp.get("/config")
def config():
    """The running (last applied) configuration as JSON, with its revision number and checksum."""
    running = revisions.running_revision()
    if running is None:
        return error(404, "no configuration has been applied or imported yet")
    try:
        parsed = lvscf.loads(running.text)
    except lvscf.LvsConfigError as exc:
        return error(409, f"revision {running.number} does not parse: {exc}")
    return jsonify({"revision": running.number, "serial_no": running.serial_no, "checksum": running.checksum,
                    "config": json.loads(json.dumps(config_json(parsed), default=str))})


def _revision_json(revision: Revision, text: bool = False) -> dict:
    data = {"number": revision.number, "status": revision.status, "serial_no": revision.serial_no,
            "checksum": revision.checksum, "author": revision.author, "message": revision.message,
            "created_at": revision.created_at.isoformat() + "Z",
            "applied_at": revision.applied_at.isoformat() + "Z" if revision.applied_at else None}
    if text:
        data["text"] = revision.text
        data["node_results"] = revision.node_results_data
    return data


@bp.get("/revisions")
def revision_list():
    limit = request.args.get("limit", "50")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_REVISIONS:
        return error(400, f"limit {limit!r} must be a whole number from 1 to {MAX_REVISIONS}")
    rows = db.session.scalars(select(Revision).order_by(Revision.number.desc()).limit(int(limit))).all()
    return jsonify({"revisions": [_revision_json(r) for r in rows]})


@bp.get("/revisions/<int:number>")
def revision(number: int):
    row = db.session.scalar(select(Revision).where(Revision.number == number))
    if row is None:
        return error(404, f"no revision {number}")
    return jsonify(_revision_json(row, text=True))


@bp.post("/actions/<name>")
def action(name: str):
    """Run an operator action: body {"node": ..., "server": "VIRTUAL/SERVER", "drain_timeout": seconds}."""
    body = request.get_json(silent=True) if request.content_length else {}
    if body is None or not isinstance(body, dict):
        return error(400, "the body must be a JSON object, e.g. {\"server\": \"web/rs1\"}")
    unknown = sorted(set(body) - {"node", "server", "drain_timeout"})
    if unknown:
        return error(400, f"unknown field(s) {', '.join(unknown)}; known: node, server, drain_timeout")
    for field in ("node", "server"):
        if body.get(field) is not None and not isinstance(body[field], str):
            return error(400, f"{field} must be a string")
    if name not in actions.ACTIONS:
        return error(404, f"no action {name!r}; one of {', '.join(actions.ACTIONS)}")
    try:
        result = actions.perform(name, node=body.get("node"), target=body.get("server"),
                                 drain_timeout=body.get("drain_timeout"))
    except actions.BadAction as exc:
        return error(400, str(exc))
    except actions.ActionRefused as exc:
        return error(409, str(exc))
    return jsonify({"action": result.action, "node": result.node, "server": result.target,
                    "message": result.message})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(unknown: str):
    """Any other /api/v1 address: a JSON 404 naming what exists (not the console's HTML page)."""
    return error(404, f"no API resource /api/v1/{unknown}; see /api/v1/openapi.json")
