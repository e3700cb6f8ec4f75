"""Host side: the pl-lab namespace and its TAP device, the UML process inside it, the forwarder, PIDs.

Only iproute2 builds the namespace (this is test/lab tooling, not a daemon). UML's boot reuses the kernel
tier's facts (lab/umlkernel.py): modules from a private module root, glibc kept off AVX, the XSTATE
regset hidden on hosts whose XSTATE UML cannot size.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import uuid

from lab import HOST_NAMESPACE, PUBLIC_NET, TAP_HOST_ADDRESS, TAP_NAME, TAP_PREFIX, TAP_UML_ADDRESS
from lab.paths import REPO, LabPaths
from lab.umlkernel import LINUX, OPENSSL_IA32CAP, PRELOAD, TUNABLES, hide_xstate, prepare_modprobe

CLONE_NEWNET = 0x40000000
UML_MEMORY = "1536M"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def ensure_host_namespace() -> None:
    """pl-lab holding the TAP (host end of UML's eth0) and a route to the lab's public LAN through it."""
    remove_host_namespace()
    _ip("netns", "add", HOST_NAMESPACE)
    ns = ("-n", HOST_NAMESPACE)
    _ip(*ns, "link", "set", "lo", "up")
    _ip(*ns, "tuntap", "add", "dev", TAP_NAME, "mode", "tap")
    _ip(*ns, "addr", "add", f"{TAP_HOST_ADDRESS}/{TAP_PREFIX}", "dev", TAP_NAME)
    _ip(*ns, "link", "set", TAP_NAME, "up")
    _ip(*ns, "route", "add", PUBLIC_NET, "via", TAP_UML_ADDRESS, "dev", TAP_NAME, "onlink")


def remove_host_namespace() -> None:
    if os.path.exists(f"/run/netns/{HOST_NAMESPACE}"):
        _ip("netns", "del", HOST_NAMESPACE, check=False)


def _enter_lab_then_hide_xstate() -> None:
    """preexec_fn of UML: join pl-lab (so eth0=tuntap finds the TAP there), then the seccomp filter."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{HOST_NAMESPACE}", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        os._exit(71)
    os.close(fd)
    hide_xstate()


class UmlBoot:
    def __init__(self, paths: LabPaths, max_seconds: int):
        self.paths, self.max_seconds = paths, max_seconds
        self.umid = f"pl-lab-{uuid.uuid4().hex[:8]}"

    def start(self) -> int:
        """Start UML (detached, its own session) and return its PID."""
        workdir = self.paths.uml_dir
        workdir.mkdir(parents=True, exist_ok=True)
        modprobe = prepare_modprobe(workdir)
        init = workdir / "init.sh"
        init.write_text((REPO / "lab" / "uml-init.sh").read_text().format(
            repo=REPO, tunables=TUNABLES, openssl_ia32cap=OPENSSL_IA32CAP, modprobe=modprobe,
            preload=" ".join(PRELOAD),
            log=self.paths.logs / "agent.log", python=sys.executable, state=self.paths.root,
            max_seconds=self.max_seconds))
        init.chmod(0o755)
        argv = ["timeout", "--kill-after=15", str(self.max_seconds + 120), LINUX, f"mem={UML_MEMORY}",
                "root=/dev/root", "rootfstype=hostfs", "rootflags=/", "rw", f"uml_dir={workdir}",
                f"umid={self.umid}", "quiet", f"init={init}", "con=null", "con0=fd:0,fd:1",
                f"eth0=tuntap,{TAP_NAME}"]
        with open(self.paths.logs / "uml-console.log", "ab") as console:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                                    preexec_fn=_enter_lab_then_hide_xstate, start_new_session=True)
        return proc.pid


def start_forwarder(paths: LabPaths, port: int, target: str) -> int:
    log = paths.logs / "forwarder.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "lab.forwarder", "--port", str(port), "--netns",
                                 HOST_NAMESPACE, "--target", target], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the forwarder exited: {log.read_text(errors='replace')[-400:]}")
        if f"listening on 127.0.0.1:{port}" in log.read_text(errors="replace"):
            return proc.pid
        time.sleep(0.1)
    raise RuntimeError(f"the forwarder did not listen on 127.0.0.1:{port} within 20 s")


def alive(pid: int | None, marker: str) -> bool:
    """True when `pid` runs and its command line mentions `marker` (a recycled PID is not ours)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return marker.encode() in handle.read()
    except OSError:
        return False


def wait_gone(pid: int | None, marker: str, timeout: float) -> bool:
    """Wait up to `timeout` s for the process to end; True when it did."""
    deadline = time.monotonic() + timeout
    while alive(pid, marker):
        if time.monotonic() > deadline:
            return False
        _reap(pid)
        time.sleep(0.2)
    return True


def stop_pid(pid: int | None, marker: str, grace: float) -> None:
    """SIGTERM, then SIGKILL to its process group after `grace` seconds."""
    if not alive(pid, marker):
        return
    os.kill(pid, signal.SIGTERM)
    if not wait_gone(pid, marker, grace):
        os.killpg(pid, signal.SIGKILL)
        wait_gone(pid, marker, 10)


def kill_uml(pid: int | None, umid: str) -> None:
    """End whatever is left of this UML run: its process group, then every host process of its umid.

    Everything inside UML (namespaces, daemons, sockets) lives in the UML kernel and ends with it.
    """
    marker = f"umid={umid}"
    if alive(pid, marker):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while (left := _pids_with(marker)) and time.monotonic() < deadline:
        for other in left:
            try:
                os.kill(other, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _reap(other)
        time.sleep(0.2)
    _reap(pid or 0)


def uml_running(pid: int | None, umid: str | None) -> bool:
    """The run's UML is alive: its launcher, or any host process of its umid (UML leads its own group)."""
    return alive(pid, "linux") or bool(umid and _pids_with(f"umid={umid}"))


def _pids_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and alive(int(entry), marker):
            found.append(int(entry))
    return found


def _reap(pid: int) -> None:
    if not pid:
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
