"""Operator decisions about real servers (drain, disable, enable), kept across reloads and restarts.

An operator's decision outranks health and lvs.cf until the operator enables the server again, so a reload
never silently undoes it. States, per check id ("VIRTUAL/SERVER"):

* `draining`: weight 0 (no new connections) until the server's active connections reach 0 or the drain
  timeout passes, then `disabled`;
* `disabled`: out of the IPVS table.

The book is saved as JSON (written whole to a temporary file, then renamed) after every change, and read at
start. Times are wall-clock seconds so that a deadline survives a restart.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile

log = logging.getLogger("lvsd")

DRAINING, DISABLED = "draining", "disabled"
DRAIN_POLL = 0.5            # seconds between looks at a draining server's active connections


def state_file_beside(socket_path: str) -> str:
    """/run/piranha/lvsd.sock -> /run/piranha/lvsd-operator.json (two lvsd sharing a directory keep apart).

    pulse uses the same name on a standby node, where it records decisions for the lvsd it will start.
    """
    base = os.path.abspath(socket_path)
    stem = base[:-len(".sock")] if base.endswith(".sock") else base
    return f"{stem}-operator.json"


class OperatorBook:
    def __init__(self, path: str | None):
        self.path = path
        self.entries: dict[str, dict] = {}

    # -- persistence -----------------------------------------------------------------------------------
    def load(self) -> None:
        """Read the saved decisions; a missing file is an empty book, an unreadable one is logged and ignored."""
        if not self.path:
            return
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.error("operator state %s unreadable (%s): starting with no drained or disabled servers",
                      self.path, exc)
            return
        entries = data.get("servers") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            log.error("operator state %s has no 'servers' object: ignored", self.path)
            return
        self.entries = {ident: entry for ident, entry in entries.items()
                        if isinstance(entry, dict) and entry.get("state") in (DRAINING, DISABLED)}
        if self.entries:
            log.info("operator state: %s", ", ".join(f"{i} {e['state']}" for i, e in sorted(self.entries.items())))

    def save(self) -> None:
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".operator-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"servers": self.entries}, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("saving operator state to %s failed: %s", self.path, exc)
            try:
                os.unlink(tmp)
            except OSError:
                pass

    # -- decisions -------------------------------------------------------------------------------------
    def drain(self, ident: str, timeout: float, active_conns: int, now: float) -> dict:
        self.entries[ident] = {"state": DRAINING, "since": now, "timeout": timeout, "deadline": now + timeout,
                               "start_conns": active_conns, "reason": "draining by an operator"}
        self.save()
        log.info("real server %s draining: weight 0, %d active connections, out by %g s at the latest", ident,
                 active_conns, timeout)
        return self.entries[ident]

    def disable(self, ident: str, now: float, reason: str = "disabled by an operator") -> dict:
        self.entries[ident] = {"state": DISABLED, "since": now, "reason": reason}
        self.save()
        log.info("real server %s disabled: %s", ident, reason)
        return self.entries[ident]

    def enable(self, ident: str) -> bool:
        """Forget the decision about `ident`; False when there was none."""
        if self.entries.pop(ident, None) is None:
            return False
        self.save()
        log.info("real server %s enabled by an operator: health decides again", ident)
        return True

    def overrides(self) -> dict[str, str]:
        return {ident: entry["state"] for ident, entry in self.entries.items()}

    def draining(self) -> list[str]:
        return [ident for ident, entry in self.entries.items() if entry["state"] == DRAINING]

    def progress(self, ident: str, active_conns: int | None, now: float) -> bool:
        """A draining server with no active connections left (or past its deadline) goes out; True if so."""
        entry = self.entries.get(ident)
        if entry is None or entry["state"] != DRAINING:
            return False
        if active_conns is not None:
            entry["active_conns"] = active_conns
        if active_conns == 0 or active_conns is None:
            reason = "drained: no active connections left" if active_conns == 0 else \
                "drained: no longer in the IPVS table"
        elif now >= entry["deadline"]:
            reason = f"drain timed out after {entry['timeout']:g} s with {active_conns} active connections"
        else:
            return False
        self.disable(ident, now, reason)
        return True

    def keep_only(self, planned) -> list[str]:
        """Forget decisions about servers no longer in lvs.cf; the ids forgotten."""
        gone = [ident for ident in self.entries if ident not in planned]
        for ident in gone:
            del self.entries[ident]
            log.info("real server %s left lvs.cf: its operator state is forgotten", ident)
        if gone:
            self.save()
        return gone
