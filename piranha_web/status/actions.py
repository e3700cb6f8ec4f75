"""Operator actions carried to a director: on this node through pulse's control socket, on the partner by
`piranha-ctl` over ssh (Apply's settings). Every attempt is audited with its outcome.

Server actions (drain, enable, disable) go to the node that runs lvsd, the active one, unless a node is named,
and then (in the background, each outcome audited) to each standby, whose pulse records them for the lvsd it
starts on takeover: a drained server stays out across a failover. Reload, takeover and release go to the named node.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from flask import current_app
from flask_login import current_user

from piranha.control.client import ControlClient, ControlError, NotRunning
from piranha_web.apply import remote
from piranha_web.apply.settings import SettingsError
from piranha_web.audit import audit
from piranha_web.status import service, sources

SERVER_ACTIONS = ("drain", "enable", "disable")
NODE_ACTIONS = ("reload", "takeover", "release")
ACTIONS = SERVER_ACTIONS + NODE_ACTIONS
DEFAULT_DRAIN_TIMEOUT = 300
MAX_DRAIN_TIMEOUT = 86400


class ActionRefused(Exception):
    """The action cannot be carried out now: the node is unreachable or its daemon refused."""


class BadAction(ActionRefused):
    """The request itself is wrong: unknown action, node or server, or a bad timeout."""


@dataclass(frozen=True)
class ActionResult:
    action: str
    node: str
    target: str | None
    message: str


def _drain_timeout(value) -> int:
    if value in (None, ""):
        return DEFAULT_DRAIN_TIMEOUT
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise BadAction(f"drain timeout {value!r} is not a whole number of seconds") from None
    if not 1 <= seconds <= MAX_DRAIN_TIMEOUT:
        raise BadAction(f"drain timeout {seconds} is outside 1-{MAX_DRAIN_TIMEOUT} seconds")
    return seconds


def _pick_node(doc: dict, action: str, node: str | None) -> dict:
    names = [n["name"] for n in doc["nodes"]]
    if node:
        for candidate in doc["nodes"]:
            if candidate["name"] == node:
                return candidate
        raise BadAction(f"no director named {node!r} (known: {', '.join(names)})")
    if action in SERVER_ACTIONS:
        for candidate in doc["nodes"]:
            if candidate["active"]:
                return candidate
        raise ActionRefused("no director is active, so no lvsd holds the real servers; name a node")
    raise BadAction(f"{action} needs a director: one of {', '.join(names)}")


def _known_server(doc: dict, target: str) -> None:
    known = {s["id"] for v in doc["virtual_servers"] for s in v["servers"]}
    if target not in known:
        raise BadAction(f"no real server {target!r}: use VIRTUAL/SERVER as listed, e.g. "
                            f"{sorted(known)[0] if known else 'web/rs1'}")


def _send_local(action: str, args: dict) -> str:
    socket_path = sources.apply_settings().control_socket
    timeout = sources.status_settings().control_timeout
    try:
        result = ControlClient(socket_path, timeout=max(timeout, 10.0)).call(action, **args)
    except NotRunning as exc:
        raise ActionRefused(f"pulse on this director is {exc}") from None
    except ControlError as exc:
        raise ActionRefused(f"pulse refused {action}: {exc}") from None
    return _describe(result)


def _send_remote(node: dict, action: str, args: dict) -> str:
    found = sources.partner()
    if found.destination is None:
        raise ActionRefused(f"{node['name']} cannot be reached: {found.reason}")
    words = [action] + ([args["server"]] if "server" in args else [])
    if "timeout" in args:
        words += ["--drain-timeout", str(args["timeout"])]
    try:
        code, out, err = sources.run_remote_ctl(found.destination, ["--json", *words])
    except remote.RemoteError as exc:
        raise ActionRefused(exc.failure.message) from None
    finally:
        sources.forget_partner_answer()
    if code == remote.EXIT_NOT_RUNNING:
        raise ActionRefused(f"pulse on {node['name']} is not running ({err})")
    if code != 0:
        raise ActionRefused(err or out.strip() or f"piranha-ctl {action} failed with exit status {code}")
    try:
        return _describe(json.loads(out))
    except ValueError:
        return out.strip()


def _send(node: dict, action: str, args: dict) -> str:
    return _send_local(action, args) if node["here"] else _send_remote(node, action, args)


def _standbys(doc: dict, chosen: dict) -> list[dict]:
    """The other configured directors that are not active: they must learn a server decision too."""
    return [n for n in doc["nodes"] if n is not chosen and n["reach"] != sources.NOT_CONFIGURED and not n["active"]]


def _tell_standbys_in_background(standbys: list[dict], action: str, args: dict, detail: dict,
                                 user: str | None) -> None:
    """Send the decision to each standby on a thread and audit each outcome (shown in recent events).

    The operator's answer does not wait for it: a standby is reached over ssh, which may take seconds.
    """
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            for standby in standbys:
                outcome, message = "ok", f"recorded on the standby {standby['name']} for its next takeover"
                try:
                    if standby["reach"] != sources.OK:
                        raise ActionRefused(standby["error"] or standby["reach"].replace("_", " "))
                    _send(standby, action, args)
                except ActionRefused as exc:
                    outcome = "refused"
                    message = f"NOT recorded on {standby['name']} ({exc}): it would not keep this after a failover"
                audit("control.action", {**detail, "node": standby["name"], "message": message}, outcome=outcome,
                      username=user)
                app.logger.info("operator action %s %s on %s: %s", action, args.get("server", ""),
                                standby["name"], message)

    threading.Thread(target=run, name="standby-action", daemon=True).start()


def _describe(result) -> str:
    """A daemon's reply in a few words for the page and the audit log."""
    if isinstance(result, dict) and "admin" in result and "server" in result:
        admin = result["admin"] or {}
        if admin.get("state") == "draining":
            return (f"{result['server']} draining: weight 0, {admin.get('start_conns', 0)} active connections, "
                    f"out when they end or after {admin.get('timeout', 0):g} s")
        if admin.get("state"):
            return f"{result['server']} {admin['state']}: {admin.get('reason', '')}"
        return f"{result['server']} enabled: health decides again"
    if isinstance(result, dict):
        parts = []
        for key, value in sorted(result.items()):
            if isinstance(value, dict) and "state" in value:
                parts.append(f"{key}: {value['state']}")
            elif not isinstance(value, (dict, list)):
                parts.append(f"{key}: {json.dumps(value)}")
        return ", ".join(parts)
    return "" if result is None else str(result)


def perform(action: str, node: str | None = None, target: str | None = None, drain_timeout=None) -> ActionResult:
    """Send `action` and audit it; ActionRefused carries the reason (also audited)."""
    detail = {"action": action, "node": node, "target": target}
    try:
        if action not in ACTIONS:
            raise BadAction(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        try:
            doc = service.collect()
        except SettingsError as exc:
            raise ActionRefused(f"console settings: {exc}") from None
        chosen = _pick_node(doc, action, node)
        detail["node"] = chosen["name"]
        args: dict = {}
        if action in SERVER_ACTIONS:
            if not target:
                raise BadAction(f"{action} needs a real server (VIRTUAL/SERVER)")
            _known_server(doc, target)
            args["server"] = target
            if action == "drain":
                args["timeout"] = _drain_timeout(drain_timeout)
        message = _send(chosen, action, args)
    except ActionRefused as exc:
        audit("control.action", {**detail, "message": str(exc)}, outcome="refused")
        raise
    standbys = _standbys(doc, chosen) if action in SERVER_ACTIONS and not node else []
    if standbys:
        message += f"; being recorded on {', '.join(n['name'] for n in standbys)} too (see recent events)"
    audit("control.action", {**detail, "message": message})
    if standbys:
        _tell_standbys_in_background(standbys, action, args, detail, getattr(current_user, "username", None))
    current_app.logger.info("operator action %s %s on %s: %s", action, target or "", detail["node"], message)
    return ActionResult(action, detail["node"], target, message)
