"""A PID file that refuses a second copy of a running daemon and is removed on exit."""

from __future__ import annotations

import os


class PidFileError(Exception):
    pass


class PidFile:
    def __init__(self, path: str | None) -> None:
        self.path = path

    def __enter__(self) -> "PidFile":
        if not self.path:
            return self
        try:
            with open(self.path) as handle:
                old = int(handle.read().strip() or 0)
        except (OSError, ValueError):
            old = 0
        if old and old != os.getpid() and _alive(old):
            raise PidFileError(f"already running as pid {old} (PID file {self.path})")
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, mode=0o755, exist_ok=True)
        temporary = f"{self.path}.{os.getpid()}"
        with open(temporary, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        os.replace(temporary, self.path)
        return self

    def __exit__(self, *exc) -> None:
        if not self.path:
            return
        try:
            with open(self.path) as handle:
                if int(handle.read().strip() or 0) == os.getpid():
                    os.unlink(self.path)
        except (OSError, ValueError):
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
