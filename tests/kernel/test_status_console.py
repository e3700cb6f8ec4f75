"""The console's whole chain on real IPVS, inside User-Mode Linux: /api/v1/status, /control, /metrics and the
operator's drain/enable go console → pulse's control socket → lvsd → the kernel, checked with ipvsadm.

Both directors run the real pulse (which starts the real lvsd and nanny) as in tests/kernel/
test_pulse_failover.py (tests/integration/pulse_kernel_driver.py builds the namespaces); the console is the
Flask app driven by its test client in this driver process. This file is also the driver run inside UML.
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if __name__ != "__main__":
    from tests.kernel.uml import available, run_driver

    pytestmark = pytest.mark.slow

STEPS = ["status_is_live_and_matches_ipvsadm", "drain_through_the_console", "enable_through_the_api", "metrics"]
PASSWORD = "kernel-operator-password-1"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if available():
        pytest.skip(available())
    workdir = tmp_path_factory.mktemp("status-console")
    run = run_driver(Path(__file__).relative_to(REPO), workdir, str(workdir), timeout=300)
    path = workdir / "results.json"
    if not path.exists():
        pytest.fail(f"the driver wrote no results (exit status {run.exit_status}):\n{run.log[-4000:]}")
    data = json.loads(path.read_text())
    data["_log"] = run.log[-3000:]
    return data


@pytest.mark.parametrize("step", STEPS)
def test_step(results, step):
    assert step in results, f"{step} did not run: {sorted(results)}\n{results['_log']}"
    outcome = results[step]
    print(step, json.dumps(outcome.get("figures", {}), sort_keys=True))
    assert outcome["ok"], f"{outcome['detail']}\n--- driver log (tail) ---\n{results['_log']}"


# ---- inside UML ---------------------------------------------------------------------------------------
def _weights(ipvsadm: str) -> dict[str, int]:
    """{real server address: weight} of the VIP's service from `ipvsadm -Ln`."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"-> (\d+\.\d+\.\d+\.\d+):80\s+\w+\s+(\d+)", ipvsadm)}


class Driver:
    def __init__(self, workdir: Path):
        sys.path.insert(0, str(REPO))
        from tests.integration.pulse_kernel_driver import SERVERS, Cluster
        from tests.kernel.drivers.lab import wait_for

        self.servers, self.wait_for = SERVERS, wait_for
        self.cluster = Cluster(workdir)
        self.cluster.start("d1")
        wait_for(lambda: self.cluster.serving("d1"), 60)
        self.cluster.start("d2")
        self.app = self._console(workdir)
        self.client = self.app.test_client()
        login = self.client.post("/login", data={"username": "operator", "password": PASSWORD})
        assert login.status_code == 302, login.status_code

    def _console(self, workdir: Path):
        from piranha_web import create_app
        from piranha_web.cli import init_console
        from piranha_web.users_service import set_user

        var_dir = workdir / "console"
        var_dir.mkdir()
        (var_dir / "lvs.cf").write_text(self.cluster.config.read_text())
        app = create_app({
            "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "kernel", "PIRANHA_VAR_DIR": str(var_dir),
            "PIRANHA_DATABASE_URL": f"sqlite:///{var_dir / 'piranha.db'}", "PIRANHA_LVS_CF": str(var_dir / "lvs.cf"),
            "PIRANHA_CONTROL_SOCKET": self.cluster.sock("d1"), "PIRANHA_SYNC": "none",
            "PIRANHA_BACKUP_CHECK_SECONDS": 0, "PIRANHA_SSH_CONNECT_TIMEOUT": 1,
            "PIRANHA_STATUS_CACHE_SECONDS": 600})
        with app.app_context():
            init_console()
            set_user("operator", PASSWORD, "operator")
        return app

    def ipvsadm(self) -> str:
        return self.cluster.d["d1"].run("ipvsadm", "-Ln")

    def status(self) -> dict:
        response = self.client.get("/api/v1/status")
        assert response.status_code == 200, response.status_code
        return response.get_json()

    def server(self, name: str) -> dict:
        return next(s for v in self.status()["virtual_servers"] for s in v["servers"] if s["name"] == name)

    def close(self) -> None:
        self.cluster.close()


def status_is_live_and_matches_ipvsadm(d: Driver, figures: dict) -> None:
    doc = d.status()
    nodes = {n["name"]: n for n in doc["nodes"]}
    figures["nodes"] = {name: (n["reach"], n["state"]) for name, n in nodes.items()}
    assert nodes["primary"]["state"] == "active" and nodes["primary"]["here"]
    assert [x["state"] for x in nodes["primary"]["daemons"]] == ["running", "running", "running"], nodes["primary"]
    assert nodes["primary"]["config"]["checksum"] and nodes["primary"]["config"]["serial"] == 1
    assert nodes["backup"]["reach"] == "unreachable", "no sshd in this test: said plainly"
    assert doc["live"] is True and doc["active_node"] == "primary"
    web = doc["virtual_servers"][0]
    assert web["name"] == "web" and web["state"] == "up" and web["scheduler"] == "rr"
    weights = _weights(d.ipvsadm())
    figures["ipvsadm"] = weights
    assert {s["address"]: s["current_weight"] for s in web["servers"]} == weights
    assert all(s["health"] == "up" and s["result"] for s in web["servers"]), web["servers"]
    page = d.client.get("/control").get_data(as_text=True)
    assert 'data-server="web/rs1" data-health="up"' in page and "live from primary" in page


def drain_through_the_console(d: Driver, figures: dict) -> None:
    rs1 = d.servers["rs1"]
    response = d.client.post("/control/action", data={"action": "drain", "server": "web/rs1",
                                                      "drain_timeout": "20"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "drain web/rs1 sent to primary" in text, text[text.find("flash"):][:400]
    started = time.monotonic()
    d.wait_for(lambda: rs1 not in _weights(d.ipvsadm()), 15)
    figures["out_after_s"] = round(time.monotonic() - started, 2)
    server = d.server("rs1")
    assert server["health"] == "disabled" and server["admin"]["reason"].startswith("drained"), server
    assert server["in_ipvs"] is False
    page = d.client.get("/control").get_data(as_text=True)
    assert 'data-server="web/rs1" data-health="disabled"' in page and "drained" in page
    d.client.post("/control/action", data={"action": "reload", "node": "primary"})
    time.sleep(1.5)
    assert rs1 not in _weights(d.ipvsadm()), "a reload does not undo the drain"
    events = d.status()["events"]
    figures["events"] = [e["message"] for e in events][:6]
    assert any(e["kind"] == "action" and "drain web/rs1 on primary (ok)" in e["message"] for e in events)


def enable_through_the_api(d: Driver, figures: dict) -> None:
    from piranha_web.api import tokens
    from piranha_web.users_service import find_user

    with d.app.app_context():
        _, token = tokens.create(find_user("operator"), "kernel")
    api = d.app.test_client()
    response = api.post("/api/v1/actions/enable", json={"server": "web/rs1"},
                        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    d.wait_for(lambda: _weights(d.ipvsadm()).get(d.servers["rs1"]) == 1, 15)
    assert d.server("rs1")["health"] == "up"


def metrics(d: Driver, figures: dict) -> None:
    text = d.client.get("/metrics").get_data(as_text=True)
    for line in ('piranha_real_server_health{server="rs1",state="up",virtual="web"} 1.0',
                 'piranha_real_server_weight{kind="current",server="rs2",virtual="web"} 1.0',
                 'piranha_director_active{director="primary"} 1.0',
                 'piranha_director_up{director="backup"} 0.0'):
        assert line in text, line
    figures["families"] = len(re.findall(r"^# TYPE ", text, re.M))


def main(workdir: Path) -> int:
    results: dict[str, dict] = {}
    try:
        driver = Driver(workdir)
    except Exception as exc:
        (workdir / "results.json").write_text(json.dumps({"setup": {"ok": False, "detail": traceback.format_exc()}}))
        print("setup failed:", exc, flush=True)
        return 1
    try:
        for name in STEPS:
            figures: dict = {}
            try:
                globals()[name](driver, figures)
                results[name] = {"ok": True, "detail": "", "figures": figures}
            except Exception as exc:
                results[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
                                 "figures": figures}
            print(name, results[name], flush=True)
            (workdir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    finally:
        driver.close()
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
