"""`current_status()`: ask both directors, build the one status document, remember it, add charts and events.

    >>> doc = current_status()                                   # doctest: +SKIP
    >>> doc["nodes"][0]["state"], doc["virtual_servers"][0]["servers"][0]["health"]
    ('active', 'up')
"""

from __future__ import annotations

import time

from piranha import lvscf
from piranha_web import revisions
from piranha_web.apply.settings import SettingsError
from piranha_web.status import document, history, sources
from piranha_web.status.sources import NOT_CONFIGURED, NodeAnswer


def _running_config():
    running = revisions.running_revision()
    if running is None:
        return None, None
    try:
        config = lvscf.loads(running.text)
    except lvscf.LvsConfigError:
        return None, None
    applied = {"number": running.number, "serial": running.serial_no, "checksum": running.checksum}
    return config, applied


def _answers() -> tuple[NodeAnswer, NodeAnswer, sources.Partner]:
    try:
        local = sources.local_status()
    except SettingsError as exc:
        local = NodeAnswer("", sources.REFUSED, error=f"console settings: {exc}", collected_at=time.time())
    try:
        found, other = sources.partner_status()
    except SettingsError as exc:
        found = sources.Partner(None, None, str(exc))
        other = NodeAnswer("", NOT_CONFIGURED, error=f"console settings: {exc}", collected_at=time.time())
    return local, other, found


def collect() -> dict:
    """The status document without history (no database writes)."""
    config, applied = _running_config()
    local_answer, partner_answer, found = _answers()
    local = document.node(local_answer, here=True, fallback_name="this director",
                          address=config.primary if config is not None else None)
    partner_name = "backup" if local["name"] != "backup" else "primary"
    partner = document.node(partner_answer, here=False, fallback_name=partner_name, address=found.address)
    if partner["name"] == local["name"]:        # both claim the same role: keep them apart on the page
        partner["name"] = f"{partner['name']} (partner)"
    answers = {local["name"]: local_answer.status, partner["name"]: partner_answer.status}
    doc = document.build(local, partner, answers, config, applied)
    doc["applied"] = applied
    return doc


def current_status(with_history: bool = True) -> dict:
    """The status document, recorded as this second's sample, with the chart series and recent events."""
    doc = collect()
    now = time.time()
    doc["collected_at"] = now
    history.record(doc, now)
    if with_history:
        doc["history"] = history.series(now)
        doc["events"] = history.recent_events()
    return doc
