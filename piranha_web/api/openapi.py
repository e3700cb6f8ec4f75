"""The OpenAPI 3.1 description of /api/v1 (served at /api/v1/openapi.json)."""

from __future__ import annotations

from piranha_web.status.actions import ACTIONS, MAX_DRAIN_TIMEOUT, SERVER_ACTIONS

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_JSON = {"application/json": {"schema": {"type": "object"}}}


def _get(summary: str, description: str, schema: dict | None = None, parameters: list | None = None) -> dict:
    operation = {"summary": summary, "description": description,
                 "responses": {"200": {"description": "OK", "content": {"application/json": {
                     "schema": schema or {"type": "object"}}}}, "401": _ERROR, "404": _ERROR}}
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Piranha console API", "version": "1",
                 "description": "Live status of both directors, the running lvs.cf, its revisions, and operator "
                                "actions. Authenticate with `Authorization: Bearer <token>` (tokens are made on "
                                "the USERS page and act with their user's role). Reads also accept the console "
                                "session; actions need a token and the operator or admin role."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "status"],
                          "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
                "ActionRequest": {"type": "object", "additionalProperties": False, "properties": {
                    "node": {"type": "string", "description": "director name as in /status (primary, backup); "
                             "server actions default to the active one"},
                    "server": {"type": "string", "description": "real server as VIRTUAL/SERVER (drain, enable, "
                               "disable)"},
                    "drain_timeout": {"type": "integer", "minimum": 1, "maximum": MAX_DRAIN_TIMEOUT,
                                      "description": "drain: seconds to wait for active connections to end "
                                                     "before the server is taken out"}}},
                "ActionResult": {"type": "object", "properties": {
                    "action": {"type": "string"}, "node": {"type": "string"},
                    "server": {"type": ["string", "null"]}, "message": {"type": "string"}}},
            },
        },
        "paths": {
            "/status": _get("Status of both directors", "Roles, heartbeat health, daemons, configuration serial "
                            "and checksum per node, every virtual and real server with health, weights, "
                            "connections and rates, chart series of the last minutes and recent events: the "
                            "same document the CONTROL/MONITORING page shows."),
            "/config": _get("Running configuration", "The last applied lvs.cf as JSON (every keyword of the "
                            "schema), with its revision number, serial_no and SHA-256."),
            "/revisions": _get("Revisions", "Newest first.", parameters=[
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}]),
            "/revisions/{number}": _get("One revision", "With its lvs.cf text and the Apply steps per node.",
                                        parameters=[{"name": "number", "in": "path", "required": True,
                                                     "schema": {"type": "integer"}}]),
            "/actions/{action}": {"post": {
                "summary": "Operator action",
                "description": "drain (weight 0 until the server's active connections end or drain_timeout "
                               "passes, then out of the table), enable, disable: on a real server. reload, "
                               "takeover, release: on a director. Audited; survives reloads until enabled.",
                "parameters": [{"name": "action", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": list(ACTIONS)}}],
                "requestBody": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ActionRequest"}}}},
                "responses": {"200": {"description": "sent and accepted", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ActionResult"}}}},
                    "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR,
                    "409": {**_ERROR, "description": "refused by the daemon or the node is unreachable"}},
                "x-server-actions": list(SERVER_ACTIONS)}},
            "/openapi.json": _get("This description", "OpenAPI 3.1."),
        },
    }
