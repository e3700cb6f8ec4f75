"""The JSON lvsd answers to `status`: the live IPVS table with counters and rates, joined with health."""

from __future__ import annotations

from dataclasses import asdict

from piranha.lvsd.desired import active_servers, active_virtuals, check_id, dest_port, forwarding, service_key
from piranha.net.ipvs_model import LiveService


def _host(address: str | None, port: int) -> str:
    if address is None:
        return ""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def table_json(live: list[LiveService], names: dict) -> list[dict]:
    services = []
    for entry in live:
        service, key = entry.service, entry.service.key
        services.append({
            "name": names.get(key),
            "key": str(key), "protocol": None if key.fwmark else key.protocol,
            "address": key.address, "port": key.port, "fwmark": key.fwmark,
            "scheduler": service.scheduler, "persistent": service.persistent,
            "pmask": service.pmask if service.persistent else None,
            "stats": asdict(entry.stats),
            "dests": [{
                "address": d.dest.address, "port": d.dest.port, "forwarding": d.dest.forwarding,
                "weight": d.dest.weight, "active_conns": d.active_conns, "inactive_conns": d.inactive_conns,
                "persistent_conns": d.persistent_conns, "stats": asdict(d.stats),
            } for d in entry.dests],
        })
    return services


def servers_json(config, health, live: list[LiveService], operator: dict | None = None) -> list[dict]:
    """Every planned real server: health, last result, latency, configured vs current weight, and the
    operator's decision about it (`admin`: None, or draining/disabled with times and reason)."""
    in_table = {(e.service.key, d.dest.ident): d.dest.weight for e in live for d in e.dests}
    fwd = forwarding(config)
    servers = []
    for virtual in active_virtuals(config):
        key = service_key(virtual)
        for server in active_servers(virtual):
            ident = check_id(virtual, server)
            state = health.servers.get(ident)
            port = dest_port(virtual, key, fwd, virtual.real_port(server))
            servers.append({
                "id": ident, "virtual": virtual.name, "server": server.name,
                "address": server.address, "port": virtual.real_port(server),
                "health": "unknown" if state is None or state.up is None else ("up" if state.up else "down"),
                "result": state.result if state else "not checked yet",
                "latency_ms": state.latency_ms if state else 0.0,
                "checked_at": state.time if state else None,
                "configured_weight": server.weight,
                "current_weight": in_table.get((key, (server.address, port))),
                "in_ipvs": (key, (server.address, port)) in in_table,
                "admin": (operator or {}).get(ident),
            })
    return servers
