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
import uuid
from dataclasses import dataclass
from pathlib import Path

from lab.umlkernel import (LINUX, OPENSSL_IA32CAP, PRELOAD, TUNABLES, available, hide_xstate,  # noqa: F401
                           prepare_modprobe)

REPO = Path(__file__).resolve().parents[2]

INIT = """#!/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root PYTHONDONTWRITEBYTECODE=1
# UML restores only the legacy FP/SSE registers here (see lab.umlkernel.hide_xstate): keep glibc and OpenSSL off AVX,
# whose upper register halves would be clobbered (modprobe and python fail to start otherwise).
export GLIBC_TUNABLES={tunables}
export OPENSSL_ia32cap='{openssl_ia32cap}'
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
# Shells in here run root's .bashrc, whose `pyenv init` locks a file in the host's ~/.pyenv/shims (hostfs):
# a UML halted mid-rehash would leave that lock and stall every later ssh login on the host for 60 s.
[ -d /root/.pyenv/shims ] && mount -t tmpfs tmpfs /root/.pyenv/shims
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

@dataclass
class Result:
    exit_status: int
    log: str
    workdir: Path


def run_driver(driver: str | Path, workdir: Path, *args: str, timeout: int = 300, mem: str = "384M") -> Result:
    """Boot UML, run `python DRIVER ARGS` inside, return its exit status (124/137 = UML hung) and log."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    modprobe = prepare_modprobe(workdir)
    init = workdir / "init.sh"
    init.write_text(INIT.format(
        modprobe=modprobe, tunables=TUNABLES, openssl_ia32cap=OPENSSL_IA32CAP, preload=" ".join(PRELOAD), workdir=workdir, repo=REPO, python=sys.executable,
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
                              timeout=timeout + 30, preexec_fn=hide_xstate)
        status, console = proc.returncode, proc.stdout.decode(errors="replace")
    finally:
        shutil.rmtree(uml_dir, ignore_errors=True)
    log = (workdir / "driver.log").read_text(errors="replace")
    if status in (124, 137):
        log += f"\n[UML hung: killed after {timeout} s]\n{console[-4000:]}"
    return Result(status, log, workdir)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"
