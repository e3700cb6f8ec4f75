"""A real server's service: HTTP on ADDRESS:80 inside its namespace, answering with the server's own name.

`GET /slow/N` answers after N seconds (at most MAX_SLOW): a connection that stays active, as a download
would, so draining has something to wait for.

It runs as threads of the agent (starting Python inside UML is slow), so the lab can stop the service
(connection refused, as when the daemon dies) and start it again in a moment.
"""

from __future__ import annotations

import re
import select
import socket
import threading
import time

from lab.netns import Namespace

MAX_SLOW = 60
_SLOW = re.compile(rb"^GET /slow/(\d{1,3}) ")


class RealServerService:
    def __init__(self, ns: Namespace, name: str, address: str, port: int):
        self.ns, self.name, self.address, self.port = ns, name, address, port
        self.served = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._sock is not None

    def start(self) -> None:
        if self._sock is not None:
            return

        def listen() -> socket.socket:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.address, self.port))
            sock.listen(256)
            return sock

        self._sock = self.ns.call(listen)
        self._thread = threading.Thread(target=self._serve, args=(self._sock,), name=f"rs-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
            self._thread.join(5)

    def _serve(self, sock: socket.socket) -> None:
        while self._sock is sock:
            try:
                ready, _, _ = select.select([sock], [], [], 0.2)
                if ready:
                    conn, _ = sock.accept()
                    threading.Thread(target=self._answer, args=(conn,), daemon=True).start()
            except (OSError, ValueError):
                return

    def _answer(self, conn: socket.socket) -> None:
        body = f"{self.name}\n".encode()
        with conn:
            conn.settimeout(10)
            try:
                slow = _SLOW.match(conn.recv(4096))
                if slow:
                    time.sleep(min(int(slow.group(1)), MAX_SLOW))
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                self.served += 1
            except OSError:
                pass

    def describe(self) -> dict:
        return {"name": self.name, "address": self.address, "port": self.port, "running": self.running,
                "served": self.served}
