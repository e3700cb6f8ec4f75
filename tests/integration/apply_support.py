"""A real backup director for Apply tests: sshd in a network namespace, reached from a "primary" namespace.

The engine under test runs in this (the test) process. `director.primary_side()` moves only the calling
thread into the primary namespace (setns), so every ssh/rsync the engine spawns connects from there to the
backup's sshd; the host's interfaces are never touched and the engine needs no test hook.

On the backup: sshd listens on the namespace address only, with its own host key and key-only root login;
a real `piranha-ctl --socket SOCK reload` (the remote reload command) reaches a small control-socket server
(apply_receiver.py) that records every request. The remote lvs.cf lives in a temp dir (the namespace shares
the host's file system); `prelude` shell commands run in sshd's private mount view before it starts (to mount
a read-only or a full file system over the target directory).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.netns import Lab

CLONE_NEWNET = 0x40000000
PRIMARY_ADDR, BACKUP_ADDR = "10.231.0.1", "10.231.0.2"
VENV_BIN = Path(sys.executable).parent
RECEIVER = Path(__file__).with_name("apply_receiver.py")
_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def inside_netns(name: str):
    """Run the calling thread (and the processes it starts) in network namespace `name`, then come back."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {name} failed")
        try:
            yield
        finally:
            if _libc.setns(home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the test's namespace failed")
    finally:
        os.close(target)
        os.close(home)


def keygen(path: Path) -> str:
    """A new ed25519 key pair at path (+ .pub); returns the public key line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
                   check=True, capture_output=True)
    return Path(f"{path}.pub").read_text().strip()


class BackupDirector:
    """Namespaces primary + backup joined by a veth, sshd and a reload receiver on the backup."""

    def __init__(self, tmp: Path, prefix: str = "ap"):
        self.tmp = tmp
        self.lab = Lab(prefix)
        self.primary = self.lab.netns("primary")
        self.backup = self.lab.netns("backup")
        self.lab.link(self.primary, f"{PRIMARY_ADDR}/24", self.backup, f"{BACKUP_ADDR}/24")
        self.remote_dir = tmp / "backup-etc"
        self.remote_dir.mkdir()
        self.remote_lvs_cf = self.remote_dir / "lvs.cf"
        self.client_key = tmp / "console_key"
        self.authorized = tmp / "authorized_keys"
        self.authorized.write_text(keygen(self.client_key) + "\n")
        self.known_hosts = tmp / "known_hosts"
        self.host_key = tmp / "ssh_host_ed25519_key"
        self.pin_host_key()
        self.control_socket = tmp / "backup-pulse.sock"
        self.reload_log = tmp / "backup-reloads.jsonl"
        self.sshd: subprocess.Popen | None = None
        self.receiver: subprocess.Popen | None = None

    # -- host key ---------------------------------------------------------------------------------------
    def pin_host_key(self) -> None:
        """Make a fresh host key and pin it in known_hosts (the state after installing a backup)."""
        for path in (self.host_key, Path(f"{self.host_key}.pub")):
            path.unlink(missing_ok=True)
        public = keygen(self.host_key)
        key_type, key = public.split()[:2]
        self.known_hosts.write_text(f"{BACKUP_ADDR} {key_type} {key}\n")

    def replace_host_key(self) -> None:
        """A reinstalled (or impostor) backup: new host key, known_hosts still pins the old one."""
        pinned = self.known_hosts.read_text()
        self.pin_host_key()
        self.known_hosts.write_text(pinned)

    # -- sshd -------------------------------------------------------------------------------------------
    def start_sshd(self, prelude: str = "") -> None:
        config = self.tmp / "sshd_config"
        config.write_text("\n".join([
            f"ListenAddress {BACKUP_ADDR}", "Port 22", f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {self.authorized}", "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "UsePAM no", "StrictModes no", "PidFile none", "LogLevel VERBOSE", "MaxStartups 50",
            "PrintMotd no", "UseDNS no", "",
        ]))
        script = (f"mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && {prelude or 'true'} && "
                  f"exec /usr/sbin/sshd -D -f {config} -E {self.tmp / 'sshd.log'}")
        with open(self.tmp / "sshd.stderr", "ab") as stderr:
            self.sshd = self.backup.popen(["sh", "-c", script], stdout=subprocess.DEVNULL, stderr=stderr)
        self._wait_for_port()

    def _wait_for_port(self) -> None:
        deadline = time.monotonic() + 10
        with inside_netns(self.primary.name):
            while time.monotonic() < deadline:
                if self.sshd.poll() is not None:
                    raise RuntimeError(f"sshd exited: {(self.tmp / 'sshd.stderr').read_text()}")
                with socket.socket() as probe:
                    probe.settimeout(0.5)
                    if probe.connect_ex((BACKUP_ADDR, 22)) == 0:
                        return
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen within 10 s")

    def stop_sshd(self) -> None:
        if self.sshd and self.sshd.poll() is None:
            self.sshd.terminate()
            self.sshd.wait(timeout=10)
        self.sshd = None

    # -- the far side's pulse -----------------------------------------------------------------------------
    def start_receiver(self, refuse: bool = False) -> None:
        """A real control socket on the backup that records each request (stands in for its pulse)."""
        self.receiver = self.backup.popen([sys.executable, str(RECEIVER), str(self.control_socket),
                                           str(self.reload_log), *(["--refuse"] if refuse else [])])
        deadline = time.monotonic() + 10
        while not self.control_socket.exists():
            if time.monotonic() > deadline or self.receiver.poll() is not None:
                raise RuntimeError("the reload receiver did not start")
            time.sleep(0.02)

    def stop_receiver(self) -> None:
        if self.receiver and self.receiver.poll() is None:
            self.receiver.kill()
            self.receiver.wait(timeout=10)
        self.control_socket.unlink(missing_ok=True)
        self.receiver = None

    def requests(self) -> list[dict]:
        """Every request the backup's control socket received (the console also asks it for status)."""
        if not self.reload_log.exists():
            return []
        return [json.loads(line) for line in self.reload_log.read_text().splitlines() if line]

    def reloads(self) -> list[dict]:
        return [r for r in self.requests() if r["command"] == "reload"]

    @property
    def remote_reload_command(self) -> str:
        return f"{VENV_BIN / 'piranha-ctl'} --socket {self.control_socket} reload"

    def settings(self, lvs_cf: Path, **overrides) -> dict:
        """The console's PIRANHA_* settings pointing at this backup (as a mapping for ApplySettings)."""
        values = {
            "PIRANHA_LVS_CF": str(lvs_cf), "PIRANHA_SYNC": "rsync", "PIRANHA_BACKUP_SSH": f"root@{BACKUP_ADDR}",
            "PIRANHA_SSH_KEY": str(self.client_key), "PIRANHA_SSH_KNOWN_HOSTS": str(self.known_hosts),
            "PIRANHA_SSH_CONNECT_TIMEOUT": 3, "PIRANHA_REMOTE_LVS_CF": str(self.remote_lvs_cf),
            "PIRANHA_REMOTE_RELOAD": self.remote_reload_command,
            "PIRANHA_CONTROL_SOCKET": str(self.tmp / "primary-pulse.sock"),
            "PIRANHA_PULSE_PIDFILE": str(self.tmp / "primary-pulse.pid"),
        }
        values.update(overrides)
        return values

    def close(self) -> None:
        self.lab.close()


@contextlib.contextmanager
def running_backup(tmp: Path):
    """A BackupDirector with its sshd and reload receiver started, closed (namespaces and all) afterwards."""
    backup = BackupDirector(tmp)
    try:
        backup.start_sshd()
        backup.start_receiver()
        yield backup
    finally:
        backup.close()
