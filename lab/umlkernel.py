"""Boot primitives of Debian's User-Mode Linux kernel (real IPVS), shared by the lab and the kernel test tier.

UML runs with the host's filesystem as root. Modules load from a private module root (the host's /lib/modules
is never touched), and on hosts whose CPU state UML 6.1 cannot size (AMX) the XSTATE regset is hidden from it,
which keeps only the legacy FP/SSE registers: every process inside must stay off AVX (GLIBC_TUNABLES) and off
OpenSSL's CPUID-7 paths (OPENSSL_IA32CAP; AVX-512 ChaCha20 silently corrupted ssh payloads otherwise).
See docs/recipes-addenda.md.
"""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path

LINUX = "/usr/bin/linux"
UML_MODULES = Path("/usr/lib/uml/modules")
PRELOAD = ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_sh", "veth", "bridge", "dummy"]

OPENSSL_IA32CAP = "~0x1800000000000000:~0xFFFFFFFFFFFFFFFF"
MODPROBE = """#!/bin/sh
# The kernel runs this with an empty environment: keep glibc off AVX here too (see INIT).
GLIBC_TUNABLES={tunables} exec /usr/sbin/modprobe -d {modroot} "$@"
"""
TUNABLES = ("glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-EVEX,"
            "-AVX_Fast_Unaligned_Load,-ERMS,-FSRM")


# seccomp: ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, ...) fails with EIO; everything else is allowed.
_BPF = [(0x20, 0, 0, 0), (0x15, 0, 4, 101), (0x20, 0, 0, 16), (0x15, 0, 2, 0x4204),
        (0x20, 0, 0, 32), (0x15, 1, 0, 0x202), (0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0x00050005)]


def hide_xstate() -> None:
    """Make UML fall back to PTRACE_GETFPREGS (runs in the child before exec).

    UML 6.1 sizes its XSTATE buffer at compile time; on hosts whose XSTATE is larger (AMX tiles) the host
    kernel refuses its PTRACE_SETREGSET with EFAULT and UML panics at the first user process ("ptrace set fp
    regs failed, errno = 14"). When the XSTATE regset cannot be read, UML uses the FXSAVE layout instead.
    """
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


def prepare_modprobe(workdir: Path) -> Path:
    """A private module root under `workdir` and the modprobe wrapper the kernel will call; returns it."""
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
