"""The metric families, built afresh from the status document on each scrape (the daemons keep the counts)."""

from __future__ import annotations

from datetime import timezone

from flask import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import select

from piranha_web.apply.service import backup_sync_state
from piranha_web.extensions import db
from piranha_web.metrics import bp
from piranha_web.models import AuditEntry
from piranha_web.status import service

HEALTH_STATES = ("up", "down", "quiesced", "draining", "disabled", "unknown")


def _directors(doc: dict):
    up = GaugeMetricFamily("piranha_director_up", "1 when the director's pulse answered", labels=["director"])
    active = GaugeMetricFamily("piranha_director_active", "1 when the director holds the active role",
                               labels=["director"])
    age = GaugeMetricFamily("piranha_heartbeat_age_seconds", "seconds since the partner's last heartbeat",
                            labels=["director"])
    good = CounterMetricFamily("piranha_heartbeats_accepted", "heartbeats accepted from the partner",
                               labels=["director"])
    bad = CounterMetricFamily("piranha_heartbeats_bad", "heartbeats refused, by reason", labels=["director", "reason"])
    serial = GaugeMetricFamily("piranha_config_serial", "serial_no of the lvs.cf the director runs",
                               labels=["director"])
    for node in doc["nodes"]:
        name = node["name"]
        up.add_metric([name], 1 if node["reach"] == "ok" else 0)
        if node["reach"] != "ok":
            continue
        active.add_metric([name], 1 if node["active"] else 0)
        heartbeat = node["heartbeat"] or {}
        if heartbeat.get("last_age") is not None:
            age.add_metric([name], heartbeat["last_age"])
        good.add_metric([name], heartbeat.get("accepted") or 0)
        for reason, count in (heartbeat.get("bad_by_reason") or {}).items():
            bad.add_metric([name, reason], count)
        if node["config"]["serial"] is not None:
            serial.add_metric([name], node["config"]["serial"])
    in_sync = GaugeMetricFamily("piranha_config_in_sync", "1 when both directors run the applied lvs.cf, 0 when "
                                "not, absent when unknown")
    if doc["sync"]["in_sync"] is not None:
        in_sync.add_metric([], 1 if doc["sync"]["in_sync"] else 0)
    return [up, active, age, good, bad, serial, in_sync]


def _services(doc: dict):
    families = {
        "vconns": CounterMetricFamily("piranha_virtual_server_connections", "connections scheduled",
                                      labels=["virtual"]),
        "vpkts": CounterMetricFamily("piranha_virtual_server_packets", "packets", labels=["virtual", "direction"]),
        "vbytes": CounterMetricFamily("piranha_virtual_server_bytes", "bytes", labels=["virtual", "direction"]),
        "health": GaugeMetricFamily("piranha_real_server_health", "1 for the real server's current state",
                                    labels=["virtual", "server", "state"]),
        "weight": GaugeMetricFamily("piranha_real_server_weight", "weight configured in lvs.cf and current in IPVS",
                                    labels=["virtual", "server", "kind"]),
        "active": GaugeMetricFamily("piranha_real_server_active_connections", "active connections",
                                    labels=["virtual", "server"]),
        "inactive": GaugeMetricFamily("piranha_real_server_inactive_connections", "inactive connections",
                                      labels=["virtual", "server"]),
        "conns": CounterMetricFamily("piranha_real_server_connections", "connections scheduled",
                                     labels=["virtual", "server"]),
        "pkts": CounterMetricFamily("piranha_real_server_packets", "packets", labels=["virtual", "server", "direction"]),
        "bytes": CounterMetricFamily("piranha_real_server_bytes", "bytes", labels=["virtual", "server", "direction"]),
        "latency": GaugeMetricFamily("piranha_real_server_check_latency_seconds", "duration of the last check",
                                     labels=["virtual", "server"]),
    }
    for virtual in doc["virtual_servers"]:
        v = virtual["name"]
        if virtual["conns"] is not None:
            families["vconns"].add_metric([v], virtual["conns"])
            for direction in ("in", "out"):
                families["vpkts"].add_metric([v, direction], virtual[f"{direction}pkts"] or 0)
                families["vbytes"].add_metric([v, direction], virtual[f"{direction}bytes"] or 0)
        for server in virtual["servers"]:
            labels = [v, server["name"]]
            for state in HEALTH_STATES:
                families["health"].add_metric(labels + [state], 1 if server["health"] == state else 0)
            if server["configured_weight"] is not None:
                families["weight"].add_metric(labels + ["configured"], server["configured_weight"])
            if not doc["live"]:
                continue
            families["weight"].add_metric(labels + ["current"], server["current_weight"] or 0)
            families["active"].add_metric(labels, server["active_conns"] or 0)
            families["inactive"].add_metric(labels, server["inactive_conns"] or 0)
            families["conns"].add_metric(labels, server["conns"] or 0)
            for direction in ("in", "out"):
                families["pkts"].add_metric(labels + [direction], server[f"{direction}pkts"] or 0)
                families["bytes"].add_metric(labels + [direction], server[f"{direction}bytes"] or 0)
            if server["latency_ms"] is not None:
                families["latency"].add_metric(labels, server["latency_ms"] / 1000.0)
    return list(families.values())


def _apply_and_sync():
    last = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "apply", AuditEntry.outcome != "conflict")
                             .order_by(AuditEntry.id.desc()).limit(1))
    ok = GaugeMetricFamily("piranha_last_apply_success", "1 when the last apply succeeded on every node")
    when = GaugeMetricFamily("piranha_last_apply_timestamp_seconds", "time of the last apply")
    if last is not None:
        ok.add_metric([], 1 if last.outcome == "ok" else 0)
        when.add_metric([], last.time.replace(tzinfo=timezone.utc).timestamp())
    sync = GaugeMetricFamily("piranha_backup_sync", "1 for the backup copy's state", labels=["state"])
    state = backup_sync_state()
    for name in ("in_sync", "out_of_sync", "unknown"):
        sync.add_metric([name], 1 if (state.status if state else "unknown") == name else 0)
    return [ok, when, sync]


class _Snapshot:
    """A collector over one status document (prometheus_client asks collectors for their families)."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return iter(self.families)


@bp.route("/metrics")
def index():
    doc = service.current_status(with_history=False)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(_directors(doc) + _services(doc) + _apply_and_sync()))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


@bp.errorhandler(401)
def _refused(error):
    return Response("metrics need a console login, the bearer token PIRANHA_METRICS_TOKEN, or a client address "
                    "listed in PIRANHA_METRICS_ALLOW\n", status=401, mimetype="text/plain",
                    headers={"WWW-Authenticate": 'Bearer realm="piranha metrics"'})
