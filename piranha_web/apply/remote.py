"""The backup director over ssh: copy lvs.cf (rsync or ssh), read back its SHA-256, run the reload command.

Every command is an argv list. ssh always runs with no user config (-F /dev/null), the dedicated key, the pinned
known_hosts file, BatchMode (never a prompt) and a connect timeout, so a misconfigured backup fails fast with a
message instead of hanging the console. rsync gets the same ssh argv through -e (shlex.join of fixed words).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from piranha_web.apply.failures import TIMED_OUT, Failure, classify
from piranha_web.apply.settings import ApplySettings, Destination

NODE = "backup"
# Exit code of `piranha-ctl` when pulse is not running (daemons/piranha/control/cli.py).
EXIT_NOT_RUNNING = 3


class RemoteError(Exception):
    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure


@dataclass(frozen=True)
class RemoteReload:
    not_running: bool
    output: str


def ssh_base(settings: ApplySettings, destination: Destination, control_path: str | None = None) -> list[str]:
    """ssh with every option fixed, up to (not including) the destination; `control_path` = reuse a Link."""
    argv = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"ConnectTimeout={settings.connect_timeout}", "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=2", "-o", "LogLevel=ERROR"]
    if settings.ssh_key:
        argv += ["-i", settings.ssh_key, "-o", "IdentitiesOnly=yes"]
    if settings.known_hosts:
        argv += ["-o", f"UserKnownHostsFile={settings.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null"]
    if destination.port:
        argv += ["-p", str(destination.port)]
    if control_path:
        argv += ["-o", "ControlMaster=no", "-o", f"ControlPath={control_path}"]
    return argv


def ssh_argv(settings: ApplySettings, destination: Destination, remote_command: list[str],
             control_path: str | None = None) -> list[str]:
    """ssh running `remote_command` (quoted word by word for the remote shell)."""
    return [*ssh_base(settings, destination, control_path), "--", destination.login, shlex.join(remote_command)]


def rsync_argv(settings: ApplySettings, destination: Destination, local_path: str,
               control_path: str | None = None) -> list[str]:
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    return ["rsync", "--checksum", "--perms", "--chmod=F0640", f"--timeout={settings.connect_timeout * 4}",
            "-e", shlex.join(ssh_base(settings, destination, control_path)), "--", local_path,
            f"{destination.user}@{host}:{settings.remote_path}"]


def _run(argv: list[str], timeout: float, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RemoteError(Failure(TIMED_OUT, NODE, f"no answer within {timeout:g} s")) from None


def _check(proc: subprocess.CompletedProcess) -> str:
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RemoteError(classify(NODE, proc.returncode, stderr))
    return proc.stdout.decode("utf-8", "replace")


def _deadline(settings: ApplySettings) -> float:
    return settings.connect_timeout * 6 + 10


class Link:
    """One authenticated ssh connection to the backup, shared by the copy, the checksum and the reload.

    Saves two ssh handshakes per apply. The master runs in the background (ssh ControlPersist) and exits on
    close(), or by itself after 60 idle seconds should the console die first. Its stderr goes to a file, not
    a pipe: a pipe would stay open in the background master and block the caller.
    """

    def __init__(self, settings: ApplySettings, destination: Destination):
        self.settings, self.destination = settings, destination
        self._dir = tempfile.mkdtemp(prefix="piranha-ssh-")
        self.control_path = os.path.join(self._dir, "master")
        self._opened = False

    def open(self) -> None:
        argv = [*ssh_base(self.settings, self.destination), "-o", "ControlMaster=yes", "-o",
                f"ControlPath={self.control_path}", "-o", "ControlPersist=60", "-N", "--", self.destination.login]
        errors = os.path.join(self._dir, "master.err")
        with open(errors, "wb") as stderr:
            try:
                proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                      timeout=_deadline(self.settings), check=False)
            except subprocess.TimeoutExpired:
                raise RemoteError(Failure(TIMED_OUT, NODE, "no answer while connecting")) from None
        if proc.returncode != 0:
            with open(errors, encoding="utf-8", errors="replace") as handle:
                raise RemoteError(classify(NODE, proc.returncode, handle.read()))
        self._opened = True

    def close(self) -> None:
        if self._opened:
            subprocess.run([*ssh_base(self.settings, self.destination), "-o", f"ControlPath={self.control_path}",
                            "-O", "exit", "--", self.destination.login], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10, check=False)
            self._opened = False
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def is_open(self) -> bool:
        return self._opened

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _control(link: "Link | None") -> str | None:
    return link.control_path if link is not None and link.is_open else None


def _ssh_copy_command(remote_path: str) -> list[str]:
    """A remote shell script that writes stdin to a temp file beside the target, then renames it."""
    script = ('set -e; t=$(mktemp "$(dirname -- "$1")/.lvs.cf.XXXXXX"); trap \'rm -f -- "$t"\' EXIT; '
              'cat > "$t"; chmod 0640 "$t"; sync "$t" 2>/dev/null || true; mv -f -- "$t" "$1"; trap - EXIT')
    return ["sh", "-c", script, "piranha-sync", remote_path]


def push(settings: ApplySettings, destination: Destination, local_path: str, text: str,
         link: Link | None = None) -> None:
    """Copy the local file (whose content is `text`) to the backup; raise RemoteError on failure."""
    if settings.sync == "rsync":
        _check(_run(rsync_argv(settings, destination, local_path, _control(link)), _deadline(settings)))
    else:
        argv = ssh_argv(settings, destination, _ssh_copy_command(settings.remote_path), _control(link))
        _check(_run(argv, _deadline(settings), stdin=text.encode("utf-8")))


def remote_checksum(settings: ApplySettings, destination: Destination, link: Link | None = None) -> str:
    """SHA-256 (hex) of the backup's copy, computed on the backup."""
    out = _check(_run(ssh_argv(settings, destination, ["sha256sum", "--", settings.remote_path], _control(link)),
                      _deadline(settings)))
    digest = out.split(maxsplit=1)[0] if out.strip() else ""
    if len(digest) != 64:
        raise RemoteError(classify(NODE, 1, f"sha256sum printed {out.strip()[:80]!r}"))
    return digest


def remote_reload(settings: ApplySettings, destination: Destination, link: Link | None = None) -> RemoteReload:
    """Run the reload command on the backup; pulse not running there is a result, not an error."""
    proc = _run(ssh_argv(settings, destination, shlex.split(settings.remote_reload), _control(link)),
                _deadline(settings))
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode == EXIT_NOT_RUNNING:
        return RemoteReload(not_running=True, output=stderr)
    output = _check(proc).strip()
    return RemoteReload(not_running=False, output=output or stderr)
