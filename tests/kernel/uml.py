"""Boot Debian's User-Mode Linux kernel (real IPVS) with the host as root and run one Python driver in it.

    result = run_driver("tests/kernel/drivers/contract.py", workdir, timeout=240)
    assert result.exit_status == 0, result.log

The hostfs root is the host's real filesystem, so the init script mounts proc, sysfs and a tmpfs on /run
(namespace files stay off the host), loads modules from a private module root (the host's /lib/modules is
never touched), runs the driver, writes its exit status to /proc/exitcode and halts without writing wtmp.
Everything the driver needs to report goes to `workdir` (JSON files beside the log).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

LINUX = "/usr/bin/linux"
UML_MODULES = Path("/usr/lib/uml/modules")
REPO = Path(__file__).resolve().parents[2]
PRELOAD = ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_sh", "veth", "bridge", "dummy"]

INIT = """#!/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root PYTHONDONTWRITEBYTECODE=1
# UML restores only the legacy FP/SSE registers here (see _hide_xstate): keep glibc and OpenSSL off AVX,
# whose upper register halves would be clobbered (modprobe and python fail to start otherwise).
export GLIBC_TUNABLES={tunables}
export OPENSSL_ia32cap='~0x1800000000000000:~0xFFFFFFFFFFFFFFFF'
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
echo {modprobe} > /proc/sys/kernel/modprobe
{modprobe} -a {preload} >> {workdir}/driver.log 2>&1
ip link set lo up
cd {repo}
{python} {driver} {args} >> {workdir}/driver.log 2>&1
RC=$?
sync
echo $RC > /proc/exitcode
halt -f --no-wtmp
"""

MODPROBE = """#!/bin/sh
# The kernel runs this with an empty environment: keep glibc off AVX here too (see INIT).
GLIBC_TUNABLES={tunables} exec /usr/sbin/modprobe -d {modroot} "$@"
"""
TUNABLES = ("glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-EVEX,"
            "-AVX_Fast_Unaligned_Load,-ERMS,-FSRM")


# seccomp: ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, ...) fails with EIO; everything else is allowed.
_BPF = [(0x20, 0, 0, 0), (0x15, 0, 4, 101), (0x20, 0, 0, 16), (0x15, 0, 2, 0x4204),
        (0x20, 0, 0, 32), (0x15, 1, 0, 0x202), (0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0x00050005)]


def _hide_xstate() -> None:
    """Make UML fall back to PTRACE_GETFPREGS (runs in the child before exec).

    UML 6.1 sizes its XSTATE buffer at compile time; on hosts whose XSTATE is larger (AMX tiles) the host
    kernel refuses its PTRACE_SETREGSET with EFAULT and UML panics at the first user process ("ptrace set fp
    regs failed, errno = 14"). When the XSTATE regset cannot be read, UML uses the FXSAVE layout instead.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    program = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *ins) for ins in _BPF))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(_BPF), ctypes.addressof(program))
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # NO_NEW_PRIVS, SECCOMP
        raise OSError(ctypes.get_errno(), "cannot install the seccomp filter for UML")


def available() -> str | None:
    """None when the tier can run here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root (UML's hostfs root and network namespaces); CI runs this tier as root"
    if not os.access(LINUX, os.X_OK):
        return f"needs {LINUX} (Debian package user-mode-linux, installed by scripts/test)"
    if not UML_MODULES.is_dir() or not any(UML_MODULES.iterdir()):
        return f"needs the UML modules under {UML_MODULES} (package user-mode-linux)"
    return None


@dataclass
class Result:
    exit_status: int
    log: str
    workdir: Path


def _prepare(workdir: Path) -> Path:
    version = next(p.name for p in UML_MODULES.iterdir() if (p / "modules.dep").exists())
    modroot = workdir / "modroot"
    (modroot / "lib" / "modules").mkdir(parents=True, exist_ok=True)
    link = modroot / "lib" / "modules" / version
    if not link.exists():
        link.symlink_to(UML_MODULES / version)
    wrapper = workdir / "modprobe.sh"
    wrapper.write_text(MODPROBE.format(modroot=modroot, tunables=TUNABLES))
    wrapper.chmod(0o755)
    return wrapper


def run_driver(driver: str | Path, workdir: Path, *args: str, timeout: int = 300, mem: str = "384M") -> Result:
    """Boot UML, run `python DRIVER ARGS` inside, return its exit status (124/137 = UML hung) and log."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    modprobe = _prepare(workdir)
    init = workdir / "init.sh"
    init.write_text(INIT.format(
        modprobe=modprobe, tunables=TUNABLES, preload=" ".join(PRELOAD), workdir=workdir, repo=REPO, python=sys.executable,
        driver=(REPO / driver).resolve(), args=" ".join(_quote(a) for a in args)))
    init.chmod(0o755)
    (workdir / "driver.log").write_text("")
    umid = f"lv{os.getpid()}{uuid.uuid4().hex[:6]}"
    uml_dir = workdir / "umldir"
    uml_dir.mkdir(exist_ok=True)
    argv = ["timeout", "--kill-after=10", str(timeout), LINUX, f"mem={mem}", "root=/dev/root",
            "rootfstype=hostfs", "rootflags=/", "rw", f"uml_dir={uml_dir}", f"umid={umid}", "quiet",
            f"init={init}", "con=null", "con0=fd:0,fd:1"]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout + 30, preexec_fn=_hide_xstate)
        status, console = proc.returncode, proc.stdout.decode(errors="replace")
    finally:
        shutil.rmtree(uml_dir, ignore_errors=True)
    log = (workdir / "driver.log").read_text(errors="replace")
    if status in (124, 137):
        log += f"\n[UML hung: killed after {timeout} s]\n{console[-4000:]}"
    return Result(status, log, workdir)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"
