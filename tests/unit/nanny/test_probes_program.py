"""send_program: argv without a shell, %h/%p per argument, exit status and output both count."""

import asyncio
import json
import shlex
import sys

import pytest

from piranha.nanny.probes import build_argv, check
from piranha.nanny.probes.program import run_program
from piranha.nanny.spec import CheckSpec

pytestmark = pytest.mark.timeout(30)
PY = shlex.quote(sys.executable)


def spec(program, **kw):
    return CheckSpec(id="vs/rs", address="127.0.0.1", port=8080, send_program=program, **{"timeout": 5.0, **kw})


def py(code):
    return f"{PY} -c {shlex.quote(code)}"


def test_exit_zero_without_expect_is_up():
    result = asyncio.run(check(spec(py("pass"))))
    assert result.up and "status 0" in result.message


def test_nonzero_exit_is_down():
    result = asyncio.run(check(spec(py("raise SystemExit(3)"))))
    assert not result.up and result.message.endswith("exited with status 3")


def test_nonzero_exit_is_down_even_when_output_matches_expect():
    """Piranha reported a failed script as up when an expect was set; we do not."""
    result = asyncio.run(check(spec(py("print('OK'); raise SystemExit(1)"), expect="OK")))
    assert not result.up and "status 1" in result.message


@pytest.mark.parametrize("printed, expect, use_regex, up", [
    ("OK", "OK", False, True),
    ("FAIL", "OK", False, False),
    ("OK and more", "OK", False, False),       # whole output must equal expect, as Piranha's strcmp
    ("load 0.5 OK", r"\bOK$", True, True),
    ("anything", "*", False, True),
])
def test_output_against_expect(printed, expect, use_regex, up):
    result = asyncio.run(check(spec(py(f"print({printed!r})"), expect=expect, use_regex=use_regex)))
    assert result.up is up, result.message


def test_host_and_port_are_substituted_inside_each_argument():
    template = py("import json, sys; print(json.dumps(sys.argv[1:]))") + " %h --port=%p '%h %p'"
    expect = json.dumps(["127.0.0.1", "--port=8080", "127.0.0.1 8080"])
    result = asyncio.run(check(spec(template, expect=expect)))
    assert result.up, result.message


def test_build_argv_keeps_a_hostile_value_as_one_argument():
    assert build_argv("check_web -H %h -p %p", "x; rm -rf /", 80) == ["check_web", "-H", "x; rm -rf /", "-p", "80"]
    assert build_argv("a $(reboot) `id` %h", "h", 1) == ["a", "$(reboot)", "`id`", "h"]


def test_a_substituted_value_is_never_interpreted_by_a_shell(tmp_path):
    marker = tmp_path / "pwned"
    argv = build_argv(py("import sys; print(len(sys.argv) - 1)") + " %h", f"x; touch {marker}", 1)
    outcome = asyncio.run(run_program(argv, 5))
    assert outcome.failure is None and outcome.output == b"1\n"
    assert not marker.exists()


def test_timeout_kills_the_program_and_its_children(tmp_path):
    pidfile = tmp_path / "pids"
    program = f"sh -c 'sleep 30 & echo $$ $! > {pidfile}; wait'"
    result = asyncio.run(check(spec(program, timeout=0.5)))
    assert not result.up and "did not finish within 0.5 s" in result.message
    assert result.latency < 3
    for pid in map(int, pidfile.read_text().split()):
        assert not _running(pid)


def _running(pid):
    """True if pid is a live process (a zombie waiting for init to reap it is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_missing_program_is_down_with_the_reason():
    result = asyncio.run(check(spec("/nonexistent/nn-check %h")))
    assert not result.up and result.message == "cannot run /nonexistent/nn-check: No such file or directory"


def test_unsplittable_template_is_refused():
    with pytest.raises(ValueError, match="cannot be split"):
        build_argv("check 'unclosed", "h", 1)


def test_output_is_capped():
    outcome = asyncio.run(run_program([sys.executable, "-c", "print('x' * 100000)"], 5))
    assert outcome.failure is None and len(outcome.output) == 4096
