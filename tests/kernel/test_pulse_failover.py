"""Failover with lvsd and real IPVS: two directors inside User-Mode Linux, each running the real pulse, which
starts the real lvsd and nanny when it becomes active; a client keeps opening connections to the VIP.

One UML boot runs tests/integration/pulse_kernel_driver.py; the tests below judge its results.json and the
measured client outage is printed (pytest -s shows it; -rA lists it too).
"""

import json

import pytest

from tests.kernel.uml import available, run_driver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if available():
        pytest.skip(available())
    workdir = tmp_path_factory.mktemp("pulse-failover")
    run = run_driver("tests/integration/pulse_kernel_driver.py", workdir, str(workdir), timeout=400)
    path = workdir / "results.json"
    if not path.exists():
        pytest.fail(f"the driver wrote no results (exit status {run.exit_status}):\n{run.log[-4000:]}")
    data = json.loads(path.read_text())
    data["_logs"] = {name: (workdir / f"{name}.log").read_text(errors="replace")[-3000:]
                     for name in ("d1", "d2") if (workdir / f"{name}.log").exists()}
    print(f"\nkernel-tier failover (keepalive 0.2 s, deadtime 0.6 s, lvsd + IPVS): client outage "
          f"{data.get('outage_s')} s; {data.get('takeover_serving_after_kill_s')} s until the other director "
          f"served (lvsd up, both real servers in IPVS)")
    return data


def test_driver_ran_without_error(results):
    assert "error" not in results, f"{results['error']}\n{results.get('last_status')}\n{results['_logs']}"


def test_one_director_serves_through_ipvs_and_the_other_stands_by(results):
    assert results.get("standby_ok"), results["_logs"]
    assert results.get("answers_before", 0) > 10


def test_partner_takes_over_vip_nat_router_and_lvsd(results):
    assert results.get("takeover_vips") == ["10.0.0.100", "10.1.0.254"], results["_logs"]
    assert results.get("takeover_lvsd_state") == "running" and results.get("takeover_partner") == "dead"
    assert "master sync daemon" in results.get("sync_daemon", ""), results.get("sync_daemon")


def test_client_outage_is_bounded_and_service_resumes(results):
    assert results.get("answers_after", 0) > 10, results["_logs"]
    assert results["outage_s"] is not None and results["outage_s"] < 15.0
    assert results.get("errors_after_recovery") == 0


def test_reload_on_the_serving_director_adds_a_vip_and_an_ipvs_service(results):
    assert results.get("reload", {}).get("vips_added") == ["10.0.0.101/24 on eth0:2"], results.get("reload")
    assert results["reload"]["child"] == "lvsd reloaded"
    assert results.get("vip2_answer") == "rs1", results["_logs"]
