"""Network namespaces driven from one Python process: iproute2 for the topology (lab and test tooling, never
daemon code), and one thread per namespace that has entered it with setns(2), so the sockets a function
creates on that thread live in the namespace. Shared by the lab and the kernel test tier.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return proc.stdout


def enter(netns: str) -> None:
    """Move the calling thread into a network namespace (its new sockets live there)."""
    fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns}")
    finally:
        os.close(fd)


class Namespace:
    def __init__(self, name: str):
        self.name = name
        sh("ip", "netns", "add", name)
        self.ip("link", "set", "lo", "up")
        self._pool = ThreadPoolExecutor(max_workers=1, initializer=enter, initargs=(name,))

    def ip(self, *args: str) -> str:
        return sh("ip", "-n", self.name, *args)

    def argv(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str, check: bool = True) -> str:
        return sh(*self.argv(*argv), check=check)

    def call(self, function, *args):
        """Run function(*args) on this namespace's thread (sockets it creates stay here)."""
        return self._pool.submit(function, *args).result()

    def close(self) -> None:
        self._pool.shutdown()
        sh("ip", "netns", "del", self.name, check=False)
