"""What the Apply engine needs to know, read once from the console's config (or the environment).

| setting | meaning | default |
|---|---|---|
| PIRANHA_LVS_CF | the managed lvs.cf | (required) |
| PIRANHA_LVS_CF_GROUP | group of lvs.cf (mode 0640) | the writer's group |
| PIRANHA_SYNC | `rsync` (over ssh) or `ssh` (cat into a temp file + mv); `none` = never copy | rsync |
| PIRANHA_BACKUP_SSH | `user@host[:port]` of the backup's management address | root@<backup in lvs.cf> |
| PIRANHA_SSH_KEY | the dedicated private key | ssh's own choice |
| PIRANHA_SSH_KNOWN_HOSTS | the pinned known_hosts file | ~/.ssh/known_hosts |
| PIRANHA_SSH_CONNECT_TIMEOUT | seconds | 5 |
| PIRANHA_REMOTE_LVS_CF | path on the backup | PIRANHA_LVS_CF |
| PIRANHA_REMOTE_RELOAD | command run on the backup | piranha-ctl reload |
| PIRANHA_CONTROL_SOCKET | local pulse control socket | /run/piranha/pulse.sock |
| PIRANHA_PULSE_PIDFILE | local pulse pidfile (SIGHUP when the socket is silent) | /run/piranha/pulse.pid |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping

from piranha.control import DEFAULT_PULSE_SOCKET

DEFAULT_PULSE_PIDFILE = "/run/piranha/pulse.pid"
DEFAULT_REMOTE_RELOAD = "piranha-ctl reload"
SYNC_METHODS = ("rsync", "ssh", "none")

# user@host, user@host:port, user@[v6]:port, host, host:port. No part starts with "-": ssh, and the ssh that
# rsync starts, must never read a user or host name as an option.
_DESTINATION = re.compile(r"^(?:(?P<user>[A-Za-z0-9_][A-Za-z0-9._-]*)@)?"
                          r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9_][A-Za-z0-9._-]*))"
                          r"(?::(?P<port>\d{1,5}))?$")


class SettingsError(ValueError):
    """A setting has a value the engine cannot use; the message names the setting and quotes the value."""


@dataclass(frozen=True)
class Destination:
    user: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> "Destination":
        match = _DESTINATION.match(text.strip())
        if not match:
            raise SettingsError(f"PIRANHA_BACKUP_SSH {text!r} is not user@host[:port]")
        port = int(match["port"]) if match["port"] else None
        if port is not None and not 0 < port < 65536:
            raise SettingsError(f"PIRANHA_BACKUP_SSH {text!r}: port {port} is outside 1-65535")
        return cls(user=match["user"] or "root", host=match["v6"] or match["host"], port=port)

    @property
    def login(self) -> str:
        return f"{self.user}@{self.host}"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user}@{host}" + (f":{self.port}" if self.port else "")


@dataclass(frozen=True)
class ApplySettings:
    lvs_cf: str
    group: str | None = None
    sync: str = "rsync"
    backup_ssh: str | None = None
    ssh_key: str | None = None
    known_hosts: str | None = None
    connect_timeout: int = 5
    remote_lvs_cf: str | None = None
    remote_reload: str = DEFAULT_REMOTE_RELOAD
    control_socket: str = DEFAULT_PULSE_SOCKET
    pulse_pidfile: str = DEFAULT_PULSE_PIDFILE

    def __post_init__(self):
        if self.sync not in SYNC_METHODS:
            raise SettingsError(f"PIRANHA_SYNC {self.sync!r} is not one of {', '.join(SYNC_METHODS)}")
        if self.backup_ssh:
            Destination.parse(self.backup_ssh)
        if not self.remote_reload.strip():
            raise SettingsError("PIRANHA_REMOTE_RELOAD is empty")

    @classmethod
    def from_mapping(cls, config: Mapping, environ: Mapping | None = None) -> "ApplySettings":
        """Settings from `config` (e.g. app.config), falling back to `environ` (default os.environ)."""
        environ = os.environ if environ is None else environ

        def get(name: str, default=None):
            value = config.get(name)
            if value in (None, ""):
                value = environ.get(name)
            return default if value in (None, "") else value

        lvs_cf = get("PIRANHA_LVS_CF")
        if not lvs_cf:
            raise SettingsError("PIRANHA_LVS_CF is not set: the engine does not know which file to write")
        timeout = get("PIRANHA_SSH_CONNECT_TIMEOUT", 5)
        try:
            timeout = int(timeout)
        except (TypeError, ValueError):
            raise SettingsError(f"PIRANHA_SSH_CONNECT_TIMEOUT {timeout!r} is not a whole number of seconds") from None
        return cls(
            lvs_cf=str(lvs_cf), group=get("PIRANHA_LVS_CF_GROUP"), sync=str(get("PIRANHA_SYNC", "rsync")).lower(),
            backup_ssh=get("PIRANHA_BACKUP_SSH"), ssh_key=get("PIRANHA_SSH_KEY"),
            known_hosts=get("PIRANHA_SSH_KNOWN_HOSTS"), connect_timeout=timeout,
            remote_lvs_cf=get("PIRANHA_REMOTE_LVS_CF"),
            remote_reload=str(get("PIRANHA_REMOTE_RELOAD", DEFAULT_REMOTE_RELOAD)),
            control_socket=str(get("PIRANHA_CONTROL_SOCKET", DEFAULT_PULSE_SOCKET)),
            pulse_pidfile=str(get("PIRANHA_PULSE_PIDFILE", DEFAULT_PULSE_PIDFILE)),
        )

    def destination(self, backup_address: str | None) -> Destination | None:
        """Where to ssh: PIRANHA_BACKUP_SSH, else root@ the backup address from lvs.cf, else None."""
        if self.backup_ssh:
            return Destination.parse(self.backup_ssh)
        if backup_address:
            return Destination(user="root", host=backup_address)
        return None

    @property
    def remote_path(self) -> str:
        return self.remote_lvs_cf or self.lvs_cf
