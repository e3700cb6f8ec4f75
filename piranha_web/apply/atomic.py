"""Replace a file so that a reader (or a crash) sees the old text or the new one, never a mix.

    write_atomically("/etc/sysconfig/ha/lvs.cf", text, mode=0o640, group="piranha")

The new text goes to a temporary file in the same directory (rename is atomic only within one file system),
which is flushed to disk before it is renamed over the target; the directory is flushed after the rename so
the new name itself survives a power cut.
"""

from __future__ import annotations

import grp
import os
import tempfile
from pathlib import Path


class WriteError(Exception):
    """The file could not be replaced; the old file is untouched."""


def _group_id(group: str | None) -> int:
    if not group:
        return -1
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise WriteError(f"group {group!r} (PIRANHA_LVS_CF_GROUP) does not exist on this machine") from None


def write_atomically(path: str | os.PathLike, text: str, mode: int = 0o640, group: str | None = None) -> None:
    """Write `text` to `path` atomically with `mode` and `group`; raise WriteError naming the cause."""
    target = Path(path)
    directory = target.parent
    gid = _group_id(group)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise WriteError(f"cannot create a temporary file in {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if gid != -1:
                os.fchown(handle.fileno(), -1, gid)
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except OSError as exc:
        _remove_quietly(temp_name)
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        _remove_quietly(temp_name)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass
