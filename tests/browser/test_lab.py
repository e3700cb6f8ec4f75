"""The lab end to end: `./scripts/lab start`, then the console in Chromium drives the virtual cluster.

One lab per module (started by the fixture, `./scripts/lab stop` at teardown); the six scenarios of the issue
run in order against it. What the daemons do is read from their own JSON (pulse and lvsd status, through the
lab agent); what the client sees comes from the lab's traffic record. Screenshots: test-output/browser/lab/.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lab import AGENT_PORT, DIRECTORS, HOST_NAMESPACE, REAL_SERVERS, TAP_UML_ADDRESS
from lab.tcp_control import AgentClient
from tests.conftest import require_root_and_tools
from tests.kernel.uml import available

require_root_and_tools("ip", "ssh-keygen", "sshd", "rsync")
if available():
    pytest.skip(available(), allow_module_level=True)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-output" / "browser" / "lab"
PASSWORD = re.compile(r"one-time password: (\S+)")
URL = re.compile(r"Piranha lab is up: (http://127\.0\.0\.1:\d+/)")
CHECK_WINDOW = 10  # check_interval 1 s + timeout 1 s in the lab's lvs.cf, with room for a slow UML


@pytest.fixture(scope="module")
def lab():
    """The running lab: its URL and admin password; stopped (and checked gone) at teardown.

    A failed start cleans up after itself; a lab somebody else started is never stopped here.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = subprocess.run([str(REPO / "scripts" / "lab"), "start"], cwd=REPO, capture_output=True, text=True,
                             timeout=400, env={**os.environ, "PIRANHA_LAB_PORT": str(port)})
    if started.returncode != 0:
        pytest.fail(f"lab start failed:\n{started.stdout}\n{started.stderr}")
    try:
        url, password = URL.search(started.stdout), PASSWORD.search(started.stdout)
        assert url and password, f"lab start printed no URL or password:\n{started.stdout}"
        print(started.stdout)
        yield {"url": url.group(1).rstrip("/"), "password": password.group(1)}
    finally:
        stopped = subprocess.run([str(REPO / "scripts" / "lab"), "stop"], cwd=REPO, capture_output=True, text=True,
                                 timeout=200)
        assert stopped.returncode == 0, stopped.stderr
        assert not Path(f"/run/netns/{HOST_NAMESPACE}").exists(), "lab stop left the pl-lab namespace"
        leftovers = subprocess.run(["pgrep", "-f", "umid=pl-lab-|lab.forwarder"], capture_output=True, text=True)
        assert not leftovers.stdout.strip(), f"lab stop left processes: {leftovers.stdout}"


@pytest.fixture(scope="module")
def agent(lab):
    return AgentClient(TAP_UML_ADDRESS, AGENT_PORT, netns=HOST_NAMESPACE, timeout=20)


@pytest.fixture(scope="module")
def console(lab, browser):
    """One logged-in browser session for all scenarios (they follow each other like an operator's day)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_until(predicate, timeout: float, what: str, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(step)


def lab_now(agent) -> float:
    """The lab's clock (UML keeps its own): traffic records are stamped with it."""
    return agent.call("clock")["now"]


def active_director(status: dict) -> tuple[str | None, dict]:
    """(name, lvsd status) of the director whose pulse says active."""
    for name, director in status["directors"].items():
        pulse = director["status"] or {}
        if pulse.get("active"):
            return name, ((pulse.get("lvsd") or {}).get("status") or {})
    return None, {}


def servers(agent) -> dict[str, dict]:
    """The active director's view of each configured real server, by name."""
    return {s["server"]: s for s in active_director(agent.call("status"))[1].get("servers", [])}


def table_dests(agent) -> dict[str, dict]:
    """The live IPVS destinations of the VIP on the active director, by address."""
    table = active_director(agent.call("status"))[1].get("table", [])
    return {d["address"]: d for service in table for d in service["dests"]}


def apply_draft(page, lab, message: str) -> None:
    page.goto(f"{lab['url']}/apply")
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Apply", exact=True).click()
    result = page.locator("#apply-result")
    expect(result.locator("h2")).to_have_text("Applied", timeout=90_000)
    for step in ("validate", "write", "sync", "remote reload", "reload"):
        expect(result.locator(f'tr[data-step="{step}"]')).to_contain_text("ok")


def lab_control(page, lab, row: str, button: str) -> float:
    """Click a LAB ONLY button on /lab/ in the row `row` (a data- selector); returns the click time."""
    page.goto(f"{lab['url']}/lab/")
    clicked = time.time()
    page.locator(row).get_by_role("button", name=button).click()
    expect(page.locator(".flash")).to_contain_text("done")
    return clicked


def open_control(page, lab) -> None:
    """/control, its live part refreshed every second (control.js)."""
    page.goto(f"{lab['url']}/control")
    page.locator("#refresh-interval").select_option("1")


def node_state(page, director: str):
    """The Role cell of a director's row on /control, found by its address (its name there follows its role)."""
    row = page.locator("#control-live table.directors tr[data-node]", has_text=DIRECTORS[director][0])
    return row.locator(".node-state")


def server_row(page, name: str):
    return page.locator(f'#control-live tr[data-server="web/{name}"]')


def test_1_login_shows_primary_active_backup_standby_three_servers_and_rising_counters(lab, console, agent):
    console.goto(f"{lab['url']}/login")
    console.get_by_label("User name").fill("admin")
    console.get_by_label("Password").fill(lab["password"])
    console.get_by_role("button", name="Log in").click()
    console.wait_for_url("**/control")
    console.locator("#refresh-interval").select_option("1")
    expect(node_state(console, "dir1")).to_contain_text("active")
    expect(node_state(console, "dir2")).to_contain_text("standby")
    for name in ("rs1", "rs2", "rs3"):
        expect(server_row(console, name)).to_have_attribute("data-health", "up")
    expect(console.locator("#control-live tr[data-server]")).to_have_count(3)
    expect(console.locator("#lab-controls h2")).to_contain_text("LAB ONLY")
    first = {n: int(console.locator(f'tr[data-lab-service="{n}"] .lab-answers').inner_text()) for n in ("rs1", "rs2")}
    shot(console, "1-control")

    status = agent.call("status")
    assert active_director(status)[0] == "dir1"
    assert status["directors"]["dir2"]["status"]["partner"]["state"] not in ("dead", "unknown")
    up = {n for n, s in servers(agent).items() if s["health"] == "up" and s["in_ipvs"]}
    assert up == {"rs1", "rs2", "rs3"}
    before = sum(d["stats"]["conns"] for d in table_dests(agent).values())
    time.sleep(3)
    after = sum(d["stats"]["conns"] for d in table_dests(agent).values())
    print(f"IPVS connections of the VIP: {before} -> {after} in 3 s")
    assert after > before + 10, "the connection counters of the VIP do not rise"
    expect(console.locator('#control-live div[data-virtual="web"] h3')).to_contain_text(re.compile(r"[1-9]\d* conn/s"))
    console.reload()
    later = {n: int(console.locator(f'tr[data-lab-service="{n}"] .lab-answers').inner_text()) for n in ("rs1", "rs2")}
    assert all(later[n] > first[n] for n in first), f"answer counters on the page do not rise: {first} -> {later}"
    shot(console, "1-control-later")


def test_2_add_a_real_server_and_apply_to_both_directors(lab, console, agent):
    console.goto(f"{lab['url']}/virtual/web/real")
    console.locator("#name").fill("rs4")
    console.locator("#address").fill(REAL_SERVERS["rs4"])
    console.get_by_role("button", name="Add real server").click()
    expect(console.locator("body")).to_contain_text("rs4")
    console.goto(f"{lab['url']}/apply")
    expect(console.locator("body")).to_contain_text("server rs4")
    expect(console.locator("body")).to_contain_text(REAL_SERVERS["rs4"])
    shot(console, "2-apply-diff")
    apply_draft(console, lab, "lab: add rs4")
    shot(console, "2-apply-result")
    serial = re.search(r"serial_no (\d+)", console.locator("#apply-summary").inner_text()).group(1)
    for director in ("dir1", "dir2"):
        text = (REPO / "var" / "lab" / director / "lvs.cf").read_text()
        assert "server rs4" in text and f"serial_no = {serial}" in text, f"{director}'s lvs.cf lacks rs4"
    open_control(console, lab)
    expect(server_row(console, "rs4")).to_have_attribute("data-health", "up", timeout=CHECK_WINDOW * 1000)
    since = lab_now(agent)
    time.sleep(3)
    traffic = agent.call("traffic", since=since)
    print(f"client after adding rs4: {traffic['by_server']}, {traffic['errors']} errors")
    assert traffic["by_server"].get("rs4", 0) > 0, f"rs4 receives no traffic: {traffic}"
    assert servers(agent)["rs4"]["in_ipvs"]
    shot(console, "2-control-rs4")


def test_3_stopped_service_turns_down_and_the_client_sees_no_errors_after(lab, console, agent):
    stopped_at = lab_control(console, lab, 'tr[data-lab-service="rs1"]', "Stop service")
    open_control(console, lab)
    expect(server_row(console, "rs1")).to_have_attribute("data-health", "down", timeout=15_000)
    shown_at = time.time()
    wait_until(lambda: not servers(agent)["rs1"]["in_ipvs"], CHECK_WINDOW, "rs1 out of the table")
    removed_at = lab_now(agent)
    print(f"rs1 down on the page {shown_at - stopped_at:.1f} s after its service stopped (the page itself takes "
          f"a few seconds to load in the lab)")
    shot(console, "3-rs1-down")
    time.sleep(4)
    traffic = agent.call("traffic", since=removed_at + 0.5)
    print(f"client once rs1 was removed: {traffic['by_server']}, {traffic['errors']} errors")
    assert traffic["requests"] >= 20 and traffic["errors"] == 0, traffic
    assert "rs1" not in traffic["by_server"]
    lab_control(console, lab, 'tr[data-lab-service="rs1"]', "Start service")
    wait_until(lambda: servers(agent)["rs1"]["in_ipvs"], 3 * CHECK_WINDOW, "rs1 back in the table")


def test_4_drain_a_server_until_it_leaves_the_table_without_client_errors(lab, console, agent):
    started = lab_now(agent)
    # Long requests, something for the drain to wait for: they outlast the action's round trip, which also
    # records the drain on the standby over ssh (several seconds inside UML).
    agent.call("hold", count=8, seconds=40)
    wait_until(lambda: (table_dests(agent)[REAL_SERVERS["rs2"]]["active_conns"] or 0) > 0, 10,
               "held connections on rs2")
    open_control(console, lab)
    server_row(console, "rs2").get_by_role("button", name="Drain").click()
    expect(console.locator(".flash")).to_contain_text("drain web/rs2 sent to")
    progress = server_row(console, "rs2").locator(".drain-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text("active left")
    shot(console, "4-rs2-draining")
    dest = table_dests(agent)[REAL_SERVERS["rs2"]]
    assert dest["weight"] == 0 and dest["active_conns"] > 0, f"draining rs2 should be at weight 0, busy: {dest}"
    drained_from = lab_now(agent)
    time.sleep(2)
    quiet = agent.call("traffic", since=drained_from)
    assert quiet["requests"] > 0 and "rs2" not in quiet["by_server"], f"rs2 still gets new requests: {quiet}"
    wait_until(lambda: REAL_SERVERS["rs2"] not in table_dests(agent), 60, "rs2 out of the table")
    print(f"rs2 drained out {lab_now(agent) - drained_from:.1f} s after its weight went to 0")
    expect(progress).to_be_hidden(timeout=20_000)
    expect(server_row(console, "rs2")).to_contain_text("out", timeout=20_000)
    shot(console, "4-rs2-out")
    time.sleep(2)
    traffic = agent.call("traffic", since=started)
    print(f"client while rs2 drained: {traffic['by_server']}, {traffic['errors']} errors")
    assert traffic["errors"] == 0, traffic
    recent = agent.call("traffic", since=lab_now(agent) - 2)
    assert "rs2" not in recent["by_server"] and recent["requests"] > 0, recent


def test_5_stopping_the_primary_pulse_fails_over_to_the_backup(lab, console, agent):
    lab_before = lab_now(agent)
    stopped_at = lab_control(console, lab, 'tr[data-lab-director="dir1"]', "Stop pulse")
    wait_until(lambda: active_director(agent.call("status"))[0] == "dir2", 30, "dir2 active")
    became_active = time.time()
    wait_until(lambda: agent.call("traffic", since=lab_now(agent) - 2)["by_server"] and
               agent.call("traffic", since=lab_now(agent) - 2)["errors"] == 0, 30, "client traffic back")
    traffic = agent.call("traffic", since=lab_before)
    print(f"failover: dir2 active {became_active - stopped_at:.1f} s after dir1's pulse stopped; client outage "
          f"{traffic['longest_outage_s']} s ({traffic['errors']} failed requests of {traffic['requests']})")
    assert traffic["longest_outage_s"] < 20, traffic
    # rs2 was drained on dir1 (test 4); the console recorded it on the standby too, so dir2 keeps it out.
    wait_until(lambda: table_dests(agent), 30, "dir2's table built")
    assert REAL_SERVERS["rs2"] not in table_dests(agent), f"the drain was lost in the failover: {table_dests(agent)}"
    open_control(console, lab)
    expect(node_state(console, "dir2")).to_contain_text("active", timeout=20_000)
    expect(node_state(console, "dir1")).to_contain_text("pulse not running")
    expect(server_row(console, "rs2")).to_have_attribute("data-health", "disabled", timeout=20_000)
    shot(console, "5-backup-active")
    server_row(console, "rs2").get_by_role("button", name="Enable").click()
    expect(console.locator(".flash")).to_contain_text("enable web/rs2 sent to")
    wait_until(lambda: REAL_SERVERS["rs2"] in table_dests(agent), 30, "rs2 back after Enable on dir2")
    lab_control(console, lab, 'tr[data-lab-director="dir1"]', "Start pulse")
    wait_until(lambda: agent.call("status")["directors"]["dir1"]["status"], 30, "dir1's pulse answering")
    time.sleep(4)
    status = agent.call("status")
    assert active_director(status)[0] == "dir2", "the backup gave the VIP back (no failback expected)"
    assert not status["directors"]["dir1"]["status"]["active"]
    open_control(console, lab)
    expect(node_state(console, "dir1")).to_contain_text("standby", timeout=20_000)
    expect(node_state(console, "dir2")).to_contain_text("active")
    shot(console, "5-primary-standby")


def test_6_roll_back_to_the_first_revision_and_the_table_returns(lab, console, agent):
    console.goto(f"{lab['url']}/history/1")
    console.get_by_role("button", name="Roll back to this revision").click()
    apply_draft(console, lab, "lab: back to revision 1")
    shot(console, "6-apply-rollback")
    expected = {REAL_SERVERS[n] for n in ("rs1", "rs2", "rs3")}
    wait_until(lambda: set(table_dests(agent)) == expected and
               all(d["weight"] == 1 for d in table_dests(agent).values()), 3 * CHECK_WINDOW,
               "the first revision's table (rs1-rs3, weight 1)")
    since = lab_now(agent)
    time.sleep(3)
    traffic = agent.call("traffic", since=since)
    print(f"client after rollback: {traffic['by_server']}, {traffic['errors']} errors")
    assert set(traffic["by_server"]) == {"rs1", "rs2", "rs3"} and traffic["errors"] == 0, traffic
    open_control(console, lab)
    expect(console.locator("#control-live tr[data-server]")).to_have_count(3, timeout=20_000)
    for name in ("rs1", "rs2", "rs3"):
        expect(server_row(console, name)).to_have_attribute("data-health", "up")
    shot(console, "6-control-after-rollback")


def test_7_cutting_the_directors_link_splits_and_restoring_it_heals(lab, console, agent):
    lab_control(console, lab, "div[data-lab-link]", "Cut the link")
    wait_until(lambda: all((d["status"] or {}).get("active") for d in agent.call("status")["directors"].values()),
               30, "both directors active once they cannot hear each other")
    console.goto(f"{lab['url']}/lab/")
    expect(console.locator("div[data-lab-link]")).to_have_attribute("data-lab-link", "cut")
    shot(console, "7-link-cut")
    restored_at = lab_control(console, lab, "div[data-lab-link]", "Restore the link")
    wait_until(lambda: sum(bool((d["status"] or {}).get("active"))
                           for d in agent.call("status")["directors"].values()) == 1, 30, "one active director again")
    healed_at = time.time()
    wait_until(lambda: agent.call("traffic", since=lab_now(agent) - 3)["errors"] == 0, 30, "client served again")
    traffic = agent.call("traffic", since=lab_now(agent) - 3)
    print(f"split brain healed {healed_at - restored_at:.1f} s after the link came back; "
          f"client now {traffic['by_server']}")
    assert traffic["requests"] > 0 and traffic["by_server"], traffic
    console.goto(f"{lab['url']}/lab/")
    expect(console.locator("div[data-lab-link]")).to_have_attribute("data-lab-link", "up")
    shot(console, "7-link-restored")
