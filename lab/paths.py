"""Where the lab keeps its state: everything under var/lab/ of the checkout (hostfs makes it shared with UML),
sockets and PID files under /run/piranha-lab inside UML (UML's own tmpfs, never the host's /run)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
UML_RUN = Path("/run/piranha-lab")


@dataclass(frozen=True)
class LabPaths:
    root: Path

    @classmethod
    def default(cls) -> "LabPaths":
        return cls(REPO / "var" / "lab")

    def director(self, name: str) -> Path:
        return self.root / name

    def lvs_cf(self, director: str) -> Path:
        return self.root / director / "lvs.cf"

    @property
    def console(self) -> Path:
        return self.root / "console"

    @property
    def ssh(self) -> Path:
        return self.root / "ssh"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def uml_dir(self) -> Path:
        return self.root / "uml"

    @property
    def state_file(self) -> Path:
        """Written by `lab start` on the host: URL, PIDs, port (read by status and stop)."""
        return self.root / "state.json"

    @property
    def password_file(self) -> Path:
        return self.root / "admin-password"

    @staticmethod
    def pulse_socket(director: str) -> str:
        return str(UML_RUN / director / "pulse.sock")

    @staticmethod
    def lvsd_socket(director: str) -> str:
        return str(UML_RUN / director / "lvsd.sock")

    @staticmethod
    def pulse_pidfile(director: str) -> str:
        return str(UML_RUN / director / "pulse.pid")

    @staticmethod
    def agent_socket() -> str:
        return str(UML_RUN / "agent.sock")


def console_environment(paths: LabPaths) -> dict[str, str]:
    """The console's settings in the lab: it manages dir1's lvs.cf and syncs dir2's over ssh (lab key)."""
    from lab import DIRECTORS

    return {
        "PIRANHA_VAR_DIR": str(paths.console),
        "PIRANHA_LVS_CF": str(paths.lvs_cf("dir1")),
        "PIRANHA_SYNC": "rsync",
        "PIRANHA_BACKUP_SSH": f"root@{DIRECTORS['dir2'][0]}",
        "PIRANHA_SSH_KEY": str(paths.ssh / "id_ed25519"),
        "PIRANHA_SSH_KNOWN_HOSTS": str(paths.ssh / "known_hosts"),
        "PIRANHA_REMOTE_LVS_CF": str(paths.lvs_cf("dir2")),
        "PIRANHA_REMOTE_RELOAD": f"{VENV_BIN / 'piranha-ctl'} --socket {paths.pulse_socket('dir2')} reload",
        "PIRANHA_CONTROL_SOCKET": paths.pulse_socket("dir1"),
        "PIRANHA_PULSE_PIDFILE": paths.pulse_pidfile("dir1"),
        "PIRANHA_LAB_AGENT": paths.agent_socket(),
    }
