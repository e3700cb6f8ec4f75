"""Where status comes from: the local pulse's control socket, and the partner's `piranha-ctl` over ssh.

Each answer is a NodeAnswer whose `state` says plainly what happened: `ok`, `not_running` (no pulse listens),
`refused` (pulse answered with an error, or the socket may not be used), `unreachable` (ssh failed: the
message names the cause) or `not_configured` (no partner in the running lvs.cf, or backup_active = 0).
The partner's answer is cached for PIRANHA_STATUS_CACHE_SECONDS per worker so that polling pages do not
open an ssh connection each second. Once that age is passed, a look still gets the cached answer (up to
STALE_LIMIT old, its `collected_at` says when) while a background thread asks the partner again: ssh to a
slow backup never holds up the page. A cache time of 0 asks on every look, synchronously.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass

from flask import current_app

from piranha import lvscf
from piranha.control.client import ControlClient, ControlError, NotRunning
from piranha_web import revisions
from piranha_web.apply import remote
from piranha_web.apply.failures import TIMED_OUT, Failure, classify
from piranha_web.apply.settings import ApplySettings, Destination, SettingsError
from piranha_web.status.settings import StatusSettings

OK, NOT_RUNNING, REFUSED, UNREACHABLE, NOT_CONFIGURED = "ok", "not_running", "refused", "unreachable", \
    "not_configured"
PARTNER = "partner"

STALE_LIMIT = 60.0      # seconds: an older cached answer is not shown; the look waits for a fresh one

_cache: dict[tuple, tuple[float, "NodeAnswer"]] = {}
_cache_lock = threading.Lock()
_refreshing: set[tuple] = set()


@dataclass(frozen=True)
class NodeAnswer:
    where: str                  # the socket path or the ssh destination
    state: str
    status: dict | None = None
    error: str | None = None
    collected_at: float = 0.0   # wall-clock time of the answer (a cached partner answer is older)


@dataclass(frozen=True)
class Partner:
    """The running configuration's partner director and how to reach it, or why there is none."""
    destination: Destination | None
    address: str | None
    reason: str | None = None


def apply_settings() -> ApplySettings:
    return ApplySettings.from_mapping(current_app.config)


def status_settings() -> StatusSettings:
    return StatusSettings.from_mapping(current_app.config)


def local_status() -> NodeAnswer:
    settings, timeouts = apply_settings(), status_settings()
    socket_path = settings.control_socket
    try:
        status = ControlClient(socket_path, timeout=timeouts.control_timeout).call("status")
    except NotRunning as exc:
        return NodeAnswer(socket_path, NOT_RUNNING, error=f"pulse is {exc}", collected_at=time.time())
    except ControlError as exc:
        return NodeAnswer(socket_path, REFUSED, error=f"pulse did not answer: {exc}", collected_at=time.time())
    return NodeAnswer(socket_path, OK, status=status, collected_at=time.time())


def partner() -> Partner:
    running = revisions.running_revision()
    if running is None:
        return Partner(None, None, "no configuration has been applied yet")
    try:
        config = lvscf.loads(running.text)
    except lvscf.LvsConfigError:
        return Partner(None, None, "the running configuration does not parse")
    if not config.backup_active:
        return Partner(None, config.backup, "backup_active = 0: this cluster has one director")
    try:
        destination = apply_settings().destination(config.backup)
    except SettingsError as exc:
        return Partner(None, config.backup, str(exc))
    if destination is None:
        return Partner(None, None, "lvs.cf names no backup address and PIRANHA_BACKUP_SSH is not set")
    return Partner(destination, config.backup)


def run_remote_ctl(destination: Destination, words: list[str], timeout: float | None = None,
                   settings: ApplySettings | None = None, remote_ctl: tuple[str, ...] | None = None
                   ) -> tuple[int, str, str]:
    """Run `piranha-ctl WORDS` on the partner; (exit status, stdout, stderr). Raises remote.RemoteError when
    ssh itself failed (exit 255) or timed out. Settings default to the app's (pass them outside a request)."""
    settings = settings or apply_settings()
    argv = remote.ssh_argv(settings, destination, [*(remote_ctl or status_settings().remote_ctl), *words])
    deadline = timeout if timeout is not None else settings.connect_timeout * 3 + 10
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=deadline, check=False)
    except subprocess.TimeoutExpired:
        raise remote.RemoteError(Failure(TIMED_OUT, "backup", f"no answer within {deadline:g} s")) from None
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode == 255:
        raise remote.RemoteError(classify("backup", proc.returncode, stderr))
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), stderr


def _ask_partner(destination: Destination, settings: ApplySettings, remote_ctl: tuple[str, ...]) -> NodeAnswer:
    where = str(destination)
    try:
        code, out, err = run_remote_ctl(destination, ["status"], settings=settings, remote_ctl=remote_ctl)
    except remote.RemoteError as exc:
        return NodeAnswer(where, UNREACHABLE, error=exc.failure.message, collected_at=time.time())
    if code == remote.EXIT_NOT_RUNNING:
        return NodeAnswer(where, NOT_RUNNING, error=f"pulse on {destination.host}: {err or 'not running'}",
                          collected_at=time.time())
    if code != 0:
        return NodeAnswer(where, REFUSED, error=f"piranha-ctl status on {destination.host} failed (exit status "
                          f"{code}): {err or out.strip()[:200]}", collected_at=time.time())
    try:
        status = json.loads(out)
    except ValueError:
        return NodeAnswer(where, REFUSED, error=f"piranha-ctl status on {destination.host} printed no JSON: "
                          f"{out.strip()[:120]!r}", collected_at=time.time())
    return NodeAnswer(where, OK, status=status, collected_at=time.time())


def partner_status(fresh: bool = False) -> tuple[Partner, NodeAnswer]:
    """The partner and its answer (cached unless `fresh`)."""
    found = partner()
    if found.destination is None:
        return found, NodeAnswer(found.address or "", NOT_CONFIGURED, error=found.reason, collected_at=time.time())
    settings, remote_ctl = apply_settings(), status_settings().remote_ctl
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], str(found.destination), remote_ctl)
    ttl = status_settings().cache_seconds
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and not fresh and ttl > 0:
        age = time.monotonic() - cached[0]
        if age < ttl:
            return found, cached[1]
        if age < max(STALE_LIMIT, ttl * 2):
            _refresh_in_background(key, found.destination, settings, remote_ctl)
            return found, cached[1]
    answer = _ask_partner(found.destination, settings, remote_ctl)
    with _cache_lock:
        _cache[key] = (time.monotonic(), answer)
    return found, answer


def _refresh_in_background(key: tuple, destination: Destination, settings: ApplySettings,
                           remote_ctl: tuple[str, ...]) -> None:
    with _cache_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def refresh():
        try:
            answer = _ask_partner(destination, settings, remote_ctl)
            with _cache_lock:
                if key in _cache:           # not forgotten meanwhile (an action asks for a fresh look)
                    _cache[key] = (time.monotonic(), answer)
        finally:
            with _cache_lock:
                _refreshing.discard(key)

    threading.Thread(target=refresh, name="piranha-partner-status", daemon=True).start()


def forget_partner_answer() -> None:
    """After an action on the partner its next status must be read afresh."""
    with _cache_lock:
        _cache.clear()
