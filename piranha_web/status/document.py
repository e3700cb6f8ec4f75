"""One status document from what the two directors said (pure: no I/O, no clock; unit-testable).

The page, /api/v1/status and /metrics all render this document, so they never disagree. Shape:

    {"nodes": [NODE, NODE], "active_node": "primary"|"backup"|None, "sync": {"in_sync", "warning"},
     "virtual_servers": [VS...], "live": bool, "notes": [str]}

A node that cannot be asked is still listed, with `reach` naming why (not_running, unreachable, ...).
Virtual servers come from the active node's lvsd (the live IPVS table joined with health); when no lvsd
answers they come from the running lvs.cf with every live figure None and `live` False.
"""

from __future__ import annotations

from piranha_web.status.sources import OK, NodeAnswer

GOOD_HEARTBEAT = "accepted"
# What a node's last heartbeat from its partner said, in the page's words.
PARTNER_WORDS = {"running": "active", "stopped": "standby", "stopme": "taking over", "dead": "silent (dead)",
                 "unknown": "not heard yet", "none": "none (backup_active = 0)"}
NODE_NAMES = {"master": "primary", "backup": "backup"}


def _daemon(name: str, state: str, **facts) -> dict:
    return {"name": name, "state": state, "pid": facts.get("pid"), "uptime": facts.get("uptime"),
            "detail": facts.get("detail")}


def _daemons(status: dict) -> list[dict]:
    daemons = [_daemon("pulse", "running", pid=status.get("pid"), uptime=status.get("uptime"))]
    if status.get("mode") == "fos":
        fos = status.get("fos") or {}
        daemons.append(_daemon("fos", fos.get("state", "unknown"), pid=fos.get("pid"), detail=fos.get("error")))
        return daemons
    lvsd = status.get("lvsd") or {}
    inner = lvsd.get("status") or {}
    detail = lvsd.get("error") or lvsd.get("status_error")
    state = lvsd.get("state", "unknown")
    if state == "stopped" and not status.get("active"):
        state = "not running (standby)"
    daemons.append(_daemon("lvsd", state, pid=lvsd.get("pid"), uptime=inner.get("uptime"), detail=detail))
    nanny = inner.get("nanny")
    if nanny:
        daemons.append(_daemon("nanny", nanny.get("state", "unknown"), pid=nanny.get("pid"),
                               uptime=nanny.get("uptime"),
                               detail=f"restarted {nanny['restarts']} times" if nanny.get("restarts") else None))
    else:
        daemons.append(_daemon("nanny", "not running (no lvsd)" if state != "running" else "unknown"))
    return daemons


def _heartbeat(status: dict) -> dict:
    partner = status.get("partner") or {}
    heartbeat = status.get("heartbeat") or {}
    counters = heartbeat.get("counters") or {}
    return {"partner_state": partner.get("state"),
            "partner": PARTNER_WORDS.get(partner.get("state"), partner.get("state") or "unknown"),
            "last_age": partner.get("last_heartbeat_age"),
            "accepted": counters.get(GOOD_HEARTBEAT, 0),
            "bad": sum(v for k, v in counters.items() if k != GOOD_HEARTBEAT),
            "bad_by_reason": {k: v for k, v in counters.items() if k != GOOD_HEARTBEAT and v},
            "sent": heartbeat.get("sent"), "deadtime": heartbeat.get("deadtime"),
            "keepalive": heartbeat.get("keepalive"), "authenticated": heartbeat.get("authenticated")}


def _config_of(status: dict) -> dict:
    config = status.get("config") or {}
    lvsd_config = ((status.get("lvsd") or {}).get("status") or {}).get("config") or {}
    return {"serial": config.get("serial_no", lvsd_config.get("serial")),
            "checksum": config.get("checksum") or lvsd_config.get("checksum"),
            "last_reload": lvsd_config.get("last_reload") or status.get("last_reload")}


def node(answer: NodeAnswer, here: bool, fallback_name: str, address: str | None = None) -> dict:
    """One director as the page shows it, whether or not it answered."""
    base = {"name": fallback_name, "here": here, "where": answer.where, "reach": answer.state,
            "error": answer.error, "collected_at": answer.collected_at, "address": address, "role": None,
            "active": None, "state": "unknown", "mode": None, "heartbeat": None, "daemons": [],
            "config": {"serial": None, "checksum": None, "last_reload": None}, "vips": [], "warnings": []}
    status = answer.status
    if answer.state != OK or not isinstance(status, dict):
        base["daemons"] = [_daemon("pulse", answer.state.replace("_", " "), detail=answer.error)]
        return base
    warnings = list(status.get("link_problems") or [])
    if status.get("child_failure"):
        warnings.append("lvsd/fos failed on this node; it holds off taking the active role")
    lvsd = status.get("lvsd") or {}
    if lvsd.get("status_error"):
        warnings.append(f"lvsd does not answer: {lvsd['status_error']}")
    base.update(name=NODE_NAMES.get(status.get("role"), fallback_name), role=status.get("role"),
                active=bool(status.get("active")), state="active" if status.get("active") else "standby",
                mode=status.get("mode"), address=status.get("address", address), heartbeat=_heartbeat(status),
                daemons=_daemons(status), config=_config_of(status), vips=status.get("vips") or [],
                warnings=warnings, uptime=status.get("uptime"))
    return base


def sync(nodes: list[dict], applied: dict | None) -> dict:
    """Do both directors run the same lvs.cf, and the one last applied? A clear warning when not."""
    problems = []
    known = [n for n in nodes if n["config"]["serial"] is not None or n["config"]["checksum"]]
    if len(known) == 2:
        a, b = known
        serial_differs = a["config"]["serial"] != b["config"]["serial"]
        sums_differ = a["config"]["checksum"] and b["config"]["checksum"] and \
            a["config"]["checksum"] != b["config"]["checksum"]
        if serial_differs or sums_differ:
            problems.append("OUT OF SYNC: " + " but ".join(
                f"{n['name']} runs serial {n['config']['serial']}" +
                (f" (SHA-256 {n['config']['checksum'][:12]}…)" if n["config"]["checksum"] else "") for n in known))
    if applied:
        for n in known:
            checksum = n["config"]["checksum"]
            if n["config"]["serial"] != applied["serial"] or (checksum and checksum != applied["checksum"]):
                problems.append(f"{n['name']} does not run the applied revision {applied['number']} (serial "
                                f"{applied['serial']}): it runs serial {n['config']['serial']} - reload it or "
                                "apply again")
    if not known:
        return {"in_sync": None, "warning": None, "problems": []}
    return {"in_sync": not problems, "warning": problems[0] if problems else None, "problems": problems}


def _rate(stats: dict | None, *names: str) -> int | None:
    if not stats:
        return None
    return sum(int(stats.get(name) or 0) for name in names)


def _match_dest(service: dict | None, server: dict) -> dict | None:
    if not service:
        return None
    same_host = [d for d in service.get("dests") or [] if d["address"] == server["address"]]
    for dest in same_host:
        if dest["port"] == server["port"]:
            return dest
    return same_host[0] if len(same_host) == 1 else None


def _health(server: dict, dest: dict | None) -> str:
    admin = (server.get("admin") or {}).get("state")
    if admin in ("draining", "disabled"):
        return admin
    if server.get("health") == "down" and dest is not None and dest.get("weight") == 0:
        return "quiesced"
    return server.get("health") or "unknown"


def _live_server(server: dict, service: dict | None) -> dict:
    dest = _match_dest(service, server)
    stats = dest.get("stats") if dest else None
    return {"id": server["id"], "name": server["server"], "address": server["address"], "port": server["port"],
            "health": _health(server, dest), "result": server.get("result"), "latency_ms": server.get("latency_ms"),
            "checked_at": server.get("checked_at"), "configured_weight": server.get("configured_weight"),
            "current_weight": dest.get("weight") if dest else None, "in_ipvs": dest is not None,
            "active_conns": dest.get("active_conns") if dest else 0,
            "inactive_conns": dest.get("inactive_conns") if dest else 0,
            "conns": _rate(stats, "conns") or 0, "cps": _rate(stats, "cps") or 0,
            "bps": _rate(stats, "inbps", "outbps") or 0, "pps": _rate(stats, "inpps", "outpps") or 0,
            "inbytes": _rate(stats, "inbytes") or 0, "outbytes": _rate(stats, "outbytes") or 0,
            "inpkts": _rate(stats, "inpkts") or 0, "outpkts": _rate(stats, "outpkts") or 0,
            "admin": server.get("admin")}


def live_virtual_servers(lvsd: dict) -> list[dict]:
    """Virtual servers from lvsd's status: its table (counters) joined with its servers (health)."""
    table = {entry.get("name"): entry for entry in lvsd.get("table") or [] if entry.get("name")}
    order: list[str] = []
    by_virtual: dict[str, list[dict]] = {}
    for server in lvsd.get("servers") or []:
        if server["virtual"] not in by_virtual:
            order.append(server["virtual"])
            by_virtual[server["virtual"]] = []
        by_virtual[server["virtual"]].append(server)
    order += [name for name in table if name not in by_virtual]
    result = []
    for name in order:
        service = table.get(name)
        servers = [_live_server(s, service) for s in by_virtual.get(name, [])]
        up = sum(1 for s in servers if s["health"] == "up")
        if service is None:
            state = "not in IPVS"
        elif not any(d.get("weight") for d in service.get("dests") or []):
            state = "down: no real server takes traffic"
        else:
            state = "up"
        stats = (service or {}).get("stats")
        result.append({"name": name, "address": service and service.get("address"),
                       "port": service and service.get("port"), "protocol": service and service.get("protocol"),
                       "fwmark": service and service.get("fwmark"), "scheduler": service and service.get("scheduler"),
                       "persistent": service and service.get("persistent"), "state": state,
                       "servers_up": up, "cps": _rate(stats, "cps"), "bps": _rate(stats, "inbps", "outbps"),
                       "conns": _rate(stats, "conns"), "inbytes": _rate(stats, "inbytes"),
                       "outbytes": _rate(stats, "outbytes"), "inpkts": _rate(stats, "inpkts"),
                       "outpkts": _rate(stats, "outpkts"), "servers": servers})
    return result


def configured_virtual_servers(config) -> list[dict]:
    """The running lvs.cf's virtual servers when no lvsd answers: what should be, with no live figures."""
    result = []
    for virtual in config.virtual_servers if config is not None else []:
        servers = [{"id": f"{virtual.name}/{s.name}", "name": s.name, "address": s.address,
                    "port": virtual.real_port(s), "health": "unknown" if s.active else "inactive", "result": None,
                    "latency_ms": None, "checked_at": None, "configured_weight": s.weight, "current_weight": None,
                    "in_ipvs": None, "active_conns": None, "inactive_conns": None, "conns": None, "cps": None,
                    "bps": None, "pps": None, "inbytes": None, "outbytes": None, "inpkts": None, "outpkts": None,
                    "admin": None} for s in virtual.servers]
        result.append({"name": virtual.name, "address": virtual.address, "port": virtual.port,
                       "protocol": virtual.protocol, "fwmark": virtual.fwmark, "scheduler": virtual.scheduler,
                       "persistent": virtual.persistent, "state": "configured (no live data)" if virtual.active
                       else "inactive (active = 0)", "servers_up": None, "cps": None, "bps": None, "conns": None,
                       "inbytes": None, "outbytes": None, "inpkts": None, "outpkts": None, "servers": servers})
    return result


def build(local: dict, partner: dict, answers: dict[str, dict], config, applied: dict | None) -> dict:
    """The status document; `answers` maps node name to its raw pulse status (to find lvsd's table)."""
    nodes = [local, partner]
    active = [n for n in nodes if n["active"]]
    notes = []
    if len(active) > 1:
        notes.append("BOTH directors say they are active (split brain): check the heartbeat path")
    lvsd = None
    for n in active:
        inner = ((answers.get(n["name"]) or {}).get("lvsd") or {}).get("status")
        if inner and inner.get("table") is not None:
            lvsd = inner
            break
    if lvsd is not None:
        virtuals, live = live_virtual_servers(lvsd), True
    else:
        virtuals, live = configured_virtual_servers(config), False
        lvsd_states = [d["state"] for n in active for d in n["daemons"] if d["name"] == "lvsd"]
        if not active:
            notes.append("no director is active: nothing serves the virtual servers")
        elif lvsd_states and all(state == "disabled" for state in lvsd_states):
            notes.append("pulse on the active director runs without lvsd (--no-lvsd / --test-start): figures "
                         "below are the configuration, not live")
        else:
            notes.append("the active director's lvsd does not answer: figures below are the configuration, "
                         "not live")
    return {"nodes": nodes, "active_node": active[0]["name"] if active else None, "sync": sync(nodes, applied),
            "virtual_servers": virtuals, "live": live, "notes": notes}
