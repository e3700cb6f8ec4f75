"""Ask the local pulse to re-read lvs.cf: its control socket first, else SIGHUP to the pid in its pidfile.

pulse not running at all is a normal state for a console (a fresh install, a laptop): it is reported as
such, and the file just written will be read when pulse starts.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

from piranha.control.client import ControlClient, ControlError, NotRunning


@dataclass(frozen=True)
class LocalReload:
    ok: bool
    not_running: bool
    how: str
    message: str


def _pid_from(pidfile: str) -> int | None:
    try:
        with open(pidfile, encoding="ascii") as handle:
            text = handle.read().strip()
    except (FileNotFoundError, PermissionError):
        return None
    return int(text) if text.isdigit() and int(text) > 1 else None


def _hangup(pidfile: str) -> LocalReload | None:
    pid = _pid_from(pidfile)
    if pid is None:
        return None
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return None  # a stale pidfile: pulse is gone
    except PermissionError:
        return LocalReload(False, False, "signal",
                           f"pulse (pid {pid} from {pidfile}) may not be signalled by this user")
    return LocalReload(True, False, "signal", f"sent SIGHUP to pulse (pid {pid} from {pidfile})")


def reload_local(control_socket: str, pidfile: str, timeout: float = 10.0) -> LocalReload:
    try:
        result = ControlClient(control_socket, timeout=timeout).call("reload")
    except NotRunning:
        pass
    except ControlError as exc:
        return LocalReload(False, False, "socket", f"pulse refused the reload: {exc}")
    else:
        said = f": {result}" if isinstance(result, str) and result else ""
        return LocalReload(True, False, "socket", f"pulse reloaded through {control_socket}{said}")
    hung_up = _hangup(pidfile)
    if hung_up is not None:
        return hung_up
    return LocalReload(True, True, "none",
                       f"daemons not running (nothing listens on {control_socket}, no live pid in {pidfile}); "
                       "pulse will read the new file when it starts")
