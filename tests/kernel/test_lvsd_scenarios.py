"""The real lvsd and nanny in a director namespace inside User-Mode Linux, judged by what a client sees.

One UML boot runs every scenario in order (tests/kernel/drivers/scenarios.py); each test below checks one
scenario's verdict and figures from that run's results.json.
"""

import json

import pytest

from tests.kernel.uml import available, run_driver

pytestmark = pytest.mark.slow

SCENARIOS = ["nat_rr", "nat_wrr", "nat_wlc", "reload_keeps_long_connection", "persistence", "fwmark",
             "server_killed", "server_restarted", "quiesce", "sorry_server", "invalid_reload", "sync_daemon",
             "clean_stop"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if available():
        pytest.skip(available())
    workdir = tmp_path_factory.mktemp("lvsd-scenarios")
    run = run_driver("tests/kernel/drivers/scenarios.py", workdir, str(workdir), timeout=420)
    path = workdir / "results.json"
    if not path.exists():
        pytest.fail(f"the driver wrote no results (exit status {run.exit_status}):\n{run.log[-4000:]}")
    data = json.loads(path.read_text())
    data["_log"] = (workdir / "lvsd.log").read_text(errors="replace") if (workdir / "lvsd.log").exists() else ""
    return data


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(results, scenario):
    assert scenario in results, f"{scenario} did not run: {sorted(results)}"
    outcome = results[scenario]
    assert outcome["ok"], f"{outcome['detail']}\n--- lvsd log (tail) ---\n{results['_log'][-3000:]}"


def test_lvsd_logs_in_piranhas_wording(results):
    log = results["_log"]
    for line in ("starting virtual service web active: 80", "rereading configuration file",
                 "shutting down virtual service web", "No real servers; activate sorry_server 10.1.0.50"):
        assert line in log, f"{line!r} missing from lvsd's log"
