"""Processes the agent runs inside a lab namespace (pulse, sshd, the console), each with its own log."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


class Managed:
    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
                 cwd: str | None = None):
        self.name, self.argv, self.log, self.cwd = name, argv, log, cwd
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.running else None

    def start(self) -> None:
        if self.running:
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         env=self.env, cwd=self.cwd, start_new_session=True)
        self.starts += 1

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL to the whole process group after `grace` seconds; returns the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        return proc.returncode

    def describe(self) -> dict:
        return {"running": self.running, "pid": self.pid, "starts": self.starts,
                "exit_status": None if self.proc is None or self.running else self.proc.returncode}
