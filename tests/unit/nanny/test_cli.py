"""Piranha's single-server command line, kept for debugging one check."""

import http.server
import os
import subprocess
import sys
import threading
import time

import pytest

from piranha.nanny.main import main

from .servers import closed_port

pytestmark = pytest.mark.timeout(30)


def serve_http(address, port):
    """An HTTP server thread on a loopback address; nanny's reset-on-close is not an error worth printing."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass

    return Server((address, port), Quiet)


@pytest.fixture
def http_server():
    """A one-thread HTTP server on 127.0.0.1:0, stopped after the test."""
    server = serve_http("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join(5)
    server.server_close()


def test_count_bounds_the_checks_and_exit_status_is_the_last_verdict(http_server, capsys):
    assert main(["-h", "127.0.0.1", "-p", str(http_server), "-s", "GET / HTTP/1.0\\r\\n\\r\\n",
                 "-x", "HTTP/1.0 200", "-t", "0.2", "-c", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(f"up 127.0.0.1:{http_server} ") and "matched" in lines[0]
    assert lines[1] == f"[ active ] making 127.0.0.1:{http_server} available"


def test_rport_and_refused(capsys):
    port = closed_port()
    assert main(["-h", "127.0.0.1", "-p", "80", "-r", str(port), "-t", "0.2", "-c", "1"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"down 127.0.0.1:{port} ") and "refused" in out[0]
    assert out[1] == f"[inactive] shutting down 127.0.0.1:{port} due to connection failure"


def test_send_program_from_the_command_line(capsys):
    assert main(["-h", "127.0.0.1", "-p", "8080", "-e", "sh -c 'echo %h:%p' --", "-x", "127.0.0.1:8080",
                 "-t", "1", "-c", "1"]) == 0
    assert "printed '127.0.0.1:8080'" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["-t", "1"], "give -h RIP"),
    (["-h", "not-an-ip", "-p", "81"], "address 'not-an-ip' is not an IPv4 or IPv6 address"),
    (["-h", "127.0.0.1", "-p", "70000"], "port 70000 is not in 1-65535"),
    (["-h", "127.0.0.1", "-c", "0"], "--count 0 must be at least 1"),
    (["--stream", "-h", "127.0.0.1"], "--stream takes its checks from stdin"),
])
def test_bad_arguments_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


def test_console_script_help():
    helped = subprocess.run([sys.executable, "-m", "piranha.nanny.main", "--help"], capture_output=True,
                            text=True, timeout=30)
    assert helped.returncode == 0 and "-h RIP" in helped.stdout


def test_plain_connect_when_nothing_is_configured(http_server):
    done = subprocess.run([sys.executable, "-m", "piranha.nanny.main", "-h", "127.0.0.1", "-p", "80", "-r",
                           str(http_server), "-t", "1", "-c", "1"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and ": connected" in done.stdout
    assert "no monitor configured" not in done.stderr      # the probed port is not 80


def test_default_web_probe_on_port_80():
    try:
        server = serve_http("127.78.80.1", 80)
    except PermissionError:
        pytest.skip("binding port 80 (on a loopback address) needs root")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        done = subprocess.run([sys.executable, "-m", "piranha.nanny.main", "-h", "127.78.80.1", "-p", "80",
                               "-t", "1", "-c", "1"], capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
    assert done.returncode == 0 and "reply 'HTTP/1.0 200" in done.stdout
    assert "nanny: no monitor configured, assuming web service on port 80" in done.stderr


def test_sigterm_stops_a_running_program_check(tmp_path):
    pidfile = tmp_path / "pid"
    program = f"sh -c 'echo $$ > {pidfile}; exec sleep 30'"
    proc = subprocess.Popen([sys.executable, "-m", "piranha.nanny.main", "-h", "127.0.0.1", "-p", "8080", "-e",
                             program, "-t", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            time.sleep(0.05)
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and "terminated, stopped checking 127.0.0.1:8080" in err
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
