"""``nanny --stream`` end to end: a real nanny process, plans on its stdin, events from its stdout."""

import json
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from .servers import closed_port

pytestmark = pytest.mark.timeout(60)


class Nanny:
    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, "-m", "piranha.nanny.main", "--stream", *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buffer = b""

    def plan(self, checks):
        self.send(json.dumps({"op": "plan", "checks": checks}).encode() + b"\n")

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def event(self, timeout=5.0, op=None):
        """The next event (of kind ``op``), or fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                event = json.loads(line)
                if op is None or event["op"] == op:
                    return event
            left = deadline - time.monotonic()
            assert left > 0, f"no {op or 'event'} within {timeout} s"
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = self.proc.stdout.raw.read(65536)
                assert chunk, "nanny closed stdout"
                self.buffer += chunk

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except OSError:         # stdin's last flush into a dead process
                pass


@pytest.fixture
def nanny():
    started = []

    def start(*args):
        started.append(Nanny(*args))
        return started[-1]
    yield start
    for n in started:
        n.stop()


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    yield sock
    sock.close()


def check(id, port, **kw):
    return {"id": id, "address": "127.0.0.1", "port": port, "interval": 0.1, "timeout": 0.5, **kw}


def test_plan_in_events_out_and_eof_exits(nanny, listener):
    port = listener.getsockname()[1]
    n = nanny()
    n.plan([check("web/a", port), check("web/b", closed_port())])
    resync = n.event()
    assert resync["op"] == "resync" and {s["id"] for s in resync["states"]} == {"web/a", "web/b"}
    got = {}
    while len(got) < 2:
        event = n.event(op="state")
        got[event["id"]] = event
    assert got["web/a"]["up"] is True and got["web/a"]["result"] == "connected"
    assert got["web/b"]["up"] is False and "refused" in got["web/b"]["result"]
    listener.close()
    down = n.event(op="state")
    assert (down["id"], down["up"]) == ("web/a", False)
    n.proc.stdin.close()
    assert n.proc.wait(timeout=10) == 0
    assert b"stdin closed: stopping" in n.proc.stderr.read()


def test_sigterm_exits_cleanly(nanny, listener):
    n = nanny()
    n.plan([check("a", listener.getsockname()[1])])
    assert n.event(op="state")["up"] is True
    n.proc.send_signal(signal.SIGTERM)
    assert n.proc.wait(timeout=10) == 0
    assert b"signal received: stopping" in n.proc.stderr.read()


def test_bad_plan_is_refused_and_the_running_plan_stays(nanny, listener):
    n = nanny("--resync", "0.2")
    n.plan([check("a", listener.getsockname()[1])])
    assert n.event(op="state")["up"] is True
    n.send(b"this is not json\n")
    n.plan([check("a", 80, protocol="sctp")])
    n.plan([{"id": "x", "address": "127.0.0.1"}])
    resync = n.event(op="resync", timeout=5)
    assert [(s["id"], s["up"]) for s in resync["states"]] == [("a", True)]
    n.proc.stdin.close()
    assert n.proc.wait(timeout=10) == 0
    errors = n.proc.stderr.read().decode()
    assert "plan refused, the running plan stays: not JSON" in errors
    assert "plan refused, the running plan stays: checks[0]: a: protocol 'sctp' is not one of tcp, udp" in errors
    assert "checks[0]:" in errors and "missing 1 required positional argument: 'port'" in errors


def test_replacing_the_plan_keeps_state(nanny, listener):
    port = listener.getsockname()[1]
    n = nanny()
    n.plan([check("a", port), check("b", port, send="x")])
    assert {n.event(op="state")["id"], n.event(op="state")["id"]} == {"a", "b"}
    n.plan([check("a", port), check("c", port, timeout=0.4)])
    resync = n.event(op="resync")
    assert [(s["id"], s["up"]) for s in resync["states"]] == [("a", True), ("c", False)]
    assert n.event(op="state")["id"] == "c"


def test_stdin_must_be_a_pipe(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text("{}\n")
    with plan.open() as stdin:
        done = subprocess.run([sys.executable, "-m", "piranha.nanny.main", "--stream"], stdin=stdin,
                              capture_output=True, timeout=30)
    assert done.returncode == 2 and b"--stream needs a pipe on stdin" in done.stderr
