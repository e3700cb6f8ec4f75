"""Load-based weights: parsing uptime/rup/ruptime output and Piranha's formula."""

import asyncio
import shlex
import sys

import pytest

from piranha.nanny import loadmon
from piranha.nanny.spec import LOAD_MONITORS, CheckSpec

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("output, load", [
    (b" 10:31:02 up 3 days,  2:01,  2 users,  load average: 0.42, 0.30, 0.25\n", 0.42),
    (b"rs1   up  2 days, 21:13,  load average: 1.50, 1.00, 0.50\n", 1.5),
    (b"rs1   up  1+00:00,   0 users,  load 0.07, 0.05, 0.01\n", 0.07),
    (b"rs1   down  3:12\n", None),
    (b"", None),
])
def test_parse_load(output, load):
    assert loadmon.parse_load(output) == load


@pytest.mark.parametrize("current, configured, load, new", [
    (4, 4, 0.0, 6.0),          # idle: + C/2 · cbrt(1)
    (39, 4, 0.0, 40),          # capped at SCALE · C
    (10, 4, 9.0, 6.0),         # busy: − C/2 · cbrt(8)
    (5, 4, 9.0, 4),            # floored at C
    (4, 4, 1.0, None),         # exactly 1: unchanged
    (4, 4, 0.999, None),       # change below C/4: not applied
])
def test_next_weight(current, configured, load, new):
    assert loadmon.next_weight(current, configured, load) == new


def test_load_argv():
    base = dict(id="a", address="10.0.0.5", port=80)
    assert loadmon.load_argv(CheckSpec(**base, load_monitor="uptime", rsh_command="ssh -o BatchMode=yes")) == \
        ["ssh", "-o", "BatchMode=yes", "10.0.0.5", "uptime"]
    assert loadmon.load_argv(CheckSpec(**base, load_monitor="ruptime")) == ["ruptime", "10.0.0.5"]


def test_measure_load_runs_the_command():
    code = "import sys; print(sys.argv[1:], 'load average: 0.25, 0.1, 0.0')"
    rsh = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
    spec = CheckSpec(id="a", address="127.0.0.1", port=80, load_monitor="uptime", rsh_command=rsh, timeout=5)
    load, message = asyncio.run(loadmon.measure_load(spec))
    assert load == 0.25 and message == "load 0.25"


def test_measure_load_reports_a_failing_command():
    spec = CheckSpec(id="a", address="127.0.0.1", port=80, load_monitor="uptime", rsh_command="false", timeout=5)
    assert asyncio.run(loadmon.measure_load(spec)) == (None, "false exited with status 1")


@pytest.mark.parametrize("kind", [k for k in LOAD_MONITORS if k != "none"])
def test_every_load_monitor_of_the_schema_has_a_command(kind):
    argv = loadmon.load_argv(CheckSpec(id="a", address="10.0.0.5", port=80, load_monitor=kind))
    assert "10.0.0.5" in argv
