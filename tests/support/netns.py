"""Network namespaces for integration tests: created by the test, removed by the test.

Test code (never daemon code) may drive iproute2 here. Every namespace is named with a per-run prefix so
that parallel sessions do not collide, and `Lab.close()` removes everything it made, processes first.

    with Lab("pt") as lab:
        a, b = lab.netns("a"), lab.netns("b")
        lab.link(a, "10.200.0.1/24", b, "10.200.0.2/24")
        proc = a.popen(["python3", "-m", "http.server"])
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time

_counter = itertools.count()


def run(argv: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kwargs)


class Netns:
    def __init__(self, lab: "Lab", name: str):
        self.lab = lab
        self.name = name
        run(["ip", "netns", "add", name])
        self.run(["ip", "link", "set", "lo", "up"])

    def argv(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        return run(self.argv(argv), check=check, **kwargs)

    def popen(self, argv: list[str], **kwargs) -> subprocess.Popen:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(self.argv(argv), start_new_session=True, **kwargs)
        self.lab.processes.append(proc)
        return proc

    def __repr__(self) -> str:
        return f"Netns({self.name!r})"


class Lab:
    """A set of namespaces joined by veth pairs or by a bridge that lives in its own namespace."""

    def __init__(self, prefix: str):
        self.prefix = f"{prefix}{os.getpid() % 10000}{next(_counter)}"
        self.namespaces: list[Netns] = []
        self.processes: list[subprocess.Popen] = []
        self._links = itertools.count()

    def netns(self, role: str) -> Netns:
        ns = Netns(self, f"{self.prefix}-{role}")
        self.namespaces.append(ns)
        return ns

    def link(self, a: Netns, addr_a: str | None, b: Netns, addr_b: str | None,
             name_a: str = "eth0", name_b: str = "eth0") -> tuple[str, str]:
        """A veth pair between two namespaces, named name_a in a and name_b in b, addresses optional."""
        n = next(self._links)
        tmp_a, tmp_b = f"{self.prefix[:8]}a{n}", f"{self.prefix[:8]}b{n}"
        run(["ip", "link", "add", tmp_a, "netns", a.name, "type", "veth", "peer", "name", tmp_b, "netns", b.name])
        for ns, tmp, name, addr in ((a, tmp_a, name_a, addr_a), (b, tmp_b, name_b, addr_b)):
            ns.run(["ip", "link", "set", tmp, "name", name])
            if addr:
                ns.run(["ip", "addr", "add", addr, "dev", name])
            ns.run(["ip", "link", "set", name, "up"])
        return name_a, name_b

    def switch(self, name: str = "sw") -> Netns:
        """A namespace holding a bridge `br0`; attach others with `plug`."""
        sw = self.netns(name)
        sw.run(["ip", "link", "add", "br0", "type", "bridge"])
        sw.run(["ip", "link", "set", "br0", "up"])
        return sw

    def plug(self, sw: Netns, ns: Netns, addr: str | None, name: str = "eth0") -> str:
        """Connect ns to the bridge in sw with a veth; returns the switch-side port name."""
        port = f"p{next(self._links)}"
        self.link(ns, addr, sw, None, name_a=name, name_b=port)
        sw.run(["ip", "link", "set", port, "master", "br0"])
        return port

    def close(self) -> None:
        for proc in reversed(self.processes):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for proc in self.processes:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
        for ns in reversed(self.namespaces):
            pids = run(["ip", "netns", "pids", ns.name], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run(["ip", "netns", "del", ns.name], check=False)
        self.namespaces.clear()
        self.processes.clear()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
