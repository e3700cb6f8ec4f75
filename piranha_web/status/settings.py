"""Settings of status collection and operator actions (read from app.config, then the environment).

| setting | meaning | default |
|---|---|---|
| PIRANHA_REMOTE_CTL | piranha-ctl on the partner director, as words (e.g. `piranha-ctl --socket PATH`) | see below |
| PIRANHA_STATUS_CACHE_SECONDS | how long one answer of the partner (over ssh) is reused | 5 |
| PIRANHA_CONTROL_TIMEOUT | seconds to wait for the local pulse's answer | 5 |

The ssh destination, key and known_hosts are Apply's (piranha_web.apply.settings): one set of settings
reaches the backup for both. Without PIRANHA_REMOTE_CTL, the piranha-ctl of Apply's PIRANHA_REMOTE_RELOAD is
used when that command is `piranha-ctl [OPTIONS] reload` (so a non-default socket is set once), else
plain `piranha-ctl`.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import Mapping

from piranha_web.apply.settings import SettingsError

DEFAULT_REMOTE_CTL = "piranha-ctl"


def _get(config: Mapping, name: str, default):
    value = config.get(name)
    if value in (None, ""):
        value = os.environ.get(name)
    return default if value in (None, "") else value


def _seconds(config: Mapping, name: str, default: float, minimum: float) -> float:
    raw = _get(config, name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} {raw!r} is not a number of seconds") from None
    if value < minimum:
        raise SettingsError(f"{name} {raw!r} is below {minimum:g}")
    return value


def _ctl_of_reload(config: Mapping) -> str:
    """`piranha-ctl --socket X` from a remote reload command `piranha-ctl --socket X reload`."""
    words = shlex.split(str(_get(config, "PIRANHA_REMOTE_RELOAD", "")))
    if len(words) >= 2 and words[-1] == "reload" and os.path.basename(words[0]) == "piranha-ctl":
        return shlex.join(words[:-1])
    return DEFAULT_REMOTE_CTL


@dataclass(frozen=True)
class StatusSettings:
    remote_ctl: tuple[str, ...]
    cache_seconds: float
    control_timeout: float

    @classmethod
    def from_mapping(cls, config: Mapping) -> "StatusSettings":
        words = tuple(shlex.split(str(_get(config, "PIRANHA_REMOTE_CTL", _ctl_of_reload(config)))))
        if not words:
            raise SettingsError("PIRANHA_REMOTE_CTL is empty")
        return cls(remote_ctl=words,
                   cache_seconds=_seconds(config, "PIRANHA_STATUS_CACHE_SECONDS", 5.0, 0.0),
                   control_timeout=_seconds(config, "PIRANHA_CONTROL_TIMEOUT", 5.0, 0.1))
