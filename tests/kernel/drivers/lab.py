"""Inside UML: namespaces for a client, a director and real servers, and the small servers they run.

Everything runs in the one driver process (starting Python inside UML is slow): a thread enters a network
namespace with setns(2) and the sockets it creates stay in that namespace. Real servers answer HTTP with their
own name and echo on a second port; the client counts who answered.
"""

from __future__ import annotations

import select
import socket
import threading
import time

from lab.netns import Namespace, sh


class Listener:
    """An HTTP or echo service on one address:port inside a namespace; stop() closes it (connection refused)."""

    def __init__(self, ns: Namespace, address: str, port: int, reply: bytes | None):
        self.ns, self.address, self.port, self.reply = ns, address, port, reply
        self.sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "Listener":
        def make():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.address, self.port))
            sock.listen(128)
            return sock
        self.sock = self.ns.call(make)
        self._thread = threading.Thread(target=self._serve, args=(self.sock,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()
            self._thread.join(5)

    def _serve(self, sock: socket.socket) -> None:
        while self.sock is sock:
            try:
                ready, _, _ = select.select([sock], [], [], 0.1)
                if not ready:
                    continue
                conn, _ = sock.accept()
            except (OSError, ValueError):
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(120)
            try:
                if self.reply is not None:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + self.reply)
                    return
                while data := conn.recv(4096):
                    conn.sendall(data)
            except OSError:
                pass


class Lab:
    """client ── director (VIP on eth0; eth1 10.1.0.254 on a bridge) ── rs1..rs3 (+ a sorry server)."""

    VIP = "10.0.0.100"

    def __init__(self, prefix: str = "lv"):
        self.prefix = prefix
        self.spaces: list[Namespace] = []
        sw = self.ns("sw")
        sw.ip("link", "add", "br0", "type", "bridge")
        sw.ip("link", "set", "br0", "up")
        self.client, self.director = self.ns("client"), self.ns("dir")
        self._veth(self.client, "eth0", "10.0.0.2/24", self.director, "eth0", "10.0.0.1/24")
        self.director.ip("addr", "add", f"{self.VIP}/24", "dev", "eth0")
        self._plug(sw, self.director, "eth1", "10.1.0.254/24", "pdir")
        self.director.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.servers: dict[str, Namespace] = {}
        self.http: dict[str, Listener] = {}
        self.echo: dict[str, Listener] = {}
        for index, name in enumerate(("rs1", "rs2", "rs3", "sorry")):
            address = "10.1.0.50" if name == "sorry" else f"10.1.0.{11 + index}"
            ns = self.ns(name)
            self._plug(sw, ns, "eth0", f"{address}/24", f"p{name}")
            ns.ip("route", "add", "default", "via", "10.1.0.254")
            self.servers[name] = ns
            self.http[name] = Listener(ns, address, 80, name.encode()).start()
            if name != "sorry":
                self.echo[name] = Listener(ns, address, 9000, None).start()

    def ns(self, role: str) -> Namespace:
        space = Namespace(f"{self.prefix}-{role}")
        self.spaces.append(space)
        return space

    def _veth(self, a: Namespace, name_a: str, addr_a: str, b: Namespace, name_b: str, addr_b: str | None):
        tmp_a, tmp_b = f"{self.prefix}t{len(self.spaces)}a", f"{self.prefix}t{len(self.spaces)}b"
        sh("ip", "link", "add", tmp_a, "netns", a.name, "type", "veth", "peer", "name", tmp_b, "netns", b.name)
        for ns, tmp, name, addr in ((a, tmp_a, name_a, addr_a), (b, tmp_b, name_b, addr_b)):
            ns.ip("link", "set", tmp, "name", name)
            if addr:
                ns.ip("addr", "add", addr, "dev", name)
            ns.ip("link", "set", name, "up")

    def _plug(self, sw: Namespace, ns: Namespace, name: str, addr: str, port: str):
        self._veth(ns, name, addr, sw, port, None)
        sw.ip("link", "set", port, "master", "br0")

    # -- the client ----------------------------------------------------------------------------------
    def request(self, port: int = 80, timeout: float = 2.0) -> str:
        """One HTTP request from the client to VIP:port: the answering server's name, or "error: ..."."""
        def once():
            try:
                with socket.create_connection((self.VIP, port), timeout=timeout) as conn:
                    conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    data = b""
                    while chunk := conn.recv(4096):
                        data += chunk
                return data.split(b"\r\n\r\n", 1)[1].decode() if b"\r\n\r\n" in data else f"error: {data!r}"
            except OSError as exc:
                return f"error: {exc}"
        return self.client.call(once)

    def count(self, requests: int, port: int = 80) -> dict[str, int]:
        seen: dict[str, int] = {}
        for _ in range(requests):
            who = self.request(port)
            key = "error" if who.startswith("error") else who
            seen[key] = seen.get(key, 0) + 1
        return seen

    def open_echo(self, port: int = 9000) -> socket.socket:
        return self.client.call(lambda: socket.create_connection((self.VIP, port), timeout=3))

    def close(self) -> None:
        for listener in list(self.http.values()) + list(self.echo.values()):
            listener.stop()
        for space in reversed(self.spaces):
            space.close()


def wait_for(predicate, timeout: float, step: float = 0.1):
    """Poll until predicate() is truthy; return (value, seconds waited) or raise TimeoutError."""
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(step)
