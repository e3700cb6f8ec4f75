"""/control in Chromium against the lab (real IPVS in User-Mode Linux, pulse → lvsd → nanny on both directors):
a real server's state follows its listener within two refresh intervals, and the console's Drain takes a
server to weight 0 and then out of the table, shown on the page, kept across a reload, undone by Enable.

The lab (./scripts/lab start) is started and stopped by tests/browser/test_lab.py's fixtures. Screenshots:
test-output/browser/control-lab/.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import require_root_and_tools
from tests.kernel.uml import available

require_root_and_tools("ip", "ssh-keygen", "sshd", "rsync")
if available():
    pytest.skip(available(), allow_module_level=True)

from lab import REAL_SERVERS  # noqa: E402
from tests.browser.test_lab import agent, lab, servers, table_dests, wait_until  # noqa: E402,F401

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser" / "control-lab"
INTERVAL = 2           # seconds between the page's looks (the console runs inside UML: each look takes a while)
HELD, HOLD_SECONDS = 6, 25   # long requests from the lab's client (agent `hold`) for the drain to wait for;
#                              they outlast the action's round trip, which records the drain on the standby over ssh


@pytest.fixture(scope="module")
def control(lab, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{lab['url']}/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(lab["password"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/control")
    page.select_option("#refresh-interval", str(INTERVAL))
    yield page
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def row(page, server: str):
    return page.locator(f'tr[data-server="web/{server}"]')


def test_live_view_of_the_lab(control, agent):
    wait_until(lambda: all(s["health"] == "up" for s in servers(agent).values()), 60, "rs1-rs3 up")
    for name in ("rs1", "rs2", "rs3"):
        expect(row(control, name)).to_have_attribute("data-health", "up", timeout=20_000)
    expect(control.locator('tr[data-node="primary"] .node-state')).to_contain_text("active")
    expect(control.locator('tr[data-node="backup"] .node-state')).to_contain_text("standby")
    expect(control.locator("#sync-warning")).to_have_count(0)
    shot(control, "1-lab-running")


def _look_durations(page, seconds: float) -> list[float]:
    """How long each of the page's looks (/control/live) takes, over `seconds`."""
    durations: list[float] = []

    def finished(request):
        if "/control/live" in request.url:
            durations.append(request.timing["responseEnd"] / 1000.0)
    page.on("requestfinished", finished)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("requestfinished", finished)
    return durations


def test_a_stopped_listener_shows_down_within_two_intervals(control, agent):
    looks = _look_durations(control, 4 * INTERVAL)
    print(f"/control/live inside the lab: {len(looks)} looks in {4 * INTERVAL} s, each "
          f"{min(looks):.2f}-{max(looks):.2f} s")
    stopped = time.monotonic()
    agent.call("service", server="rs3", action="stop")
    try:
        wait_until(lambda: servers(agent)["rs3"]["health"] == "down", 30, "lvsd reports rs3 down", step=0.1)
        reported = time.monotonic()
        expect(row(control, "rs3")).to_have_attribute("data-health", "down", timeout=4 * INTERVAL * 1000)
        shown = time.monotonic()
        print(f"rs3 stopped: lvsd reported it down after {reported - stopped:.1f} s (its checks), the page "
              f"showed it {shown - reported:.1f} s later (interval {INTERVAL} s), {shown - stopped:.1f} s in all")
        assert shown - reported <= 2 * INTERVAL, f"the page showed rs3 down {shown - reported:.1f} s after lvsd"
        expect(control.locator("ol.events")).to_contain_text("web/rs3: up → down")
        shot(control, "2-rs3-down")
    finally:
        agent.call("service", server="rs3", action="start")
    expect(row(control, "rs3")).to_have_attribute("data-health", "up", timeout=60_000)


def test_drain_shows_progress_and_takes_the_server_out_until_enabled(control, agent):
    rs2 = REAL_SERVERS["rs2"]
    held_at = time.monotonic()
    agent.call("hold", count=HELD, seconds=HOLD_SECONDS)      # long requests: rr gives rs2 its share
    wait_until(lambda: table_dests(agent)[rs2]["active_conns"] > 0, 10, "held connections on rs2")
    held_on_rs2 = table_dests(agent)[rs2]["active_conns"]
    row(control, "rs2").locator("input.drain-timeout").fill("60")
    row(control, "rs2").get_by_role("button", name="Drain").click()
    started = time.monotonic()
    expect(control.locator(".flash")).to_contain_text("drain web/rs2 sent to primary")
    expect(row(control, "rs2")).to_have_attribute("data-health", "draining", timeout=3 * INTERVAL * 1000)
    progress = row(control, "rs2").locator(".drain-progress")
    expect(progress).to_contain_text("active left")
    start_conns = int(progress.locator("progress").get_attribute("max"))
    assert 1 <= start_conns <= held_on_rs2, "the drain started with rs2's held connections active"
    assert table_dests(agent)[rs2]["weight"] == 0, "weight 0 while draining"
    shot(control, "3-rs2-draining")
    seen = [progress.inner_text().split("·")[0].strip()]
    while time.monotonic() - started < HOLD_SECONDS + 30:
        state = row(control, "rs2").get_attribute("data-health")
        if state != "draining":
            break
        text = row(control, "rs2").locator(".drain-progress").inner_text().split("·")[0].strip()
        if text != seen[-1]:
            seen.append(text)
        time.sleep(0.2)
    out_after = time.monotonic() - started
    out_after_hold = time.monotonic() - held_at
    print(f"rs2 draining {start_conns} held connections ({HOLD_SECONDS} s requests): page showed "
          f"{' → '.join(seen)}, then out after {out_after:.1f} s")
    assert row(control, "rs2").get_attribute("data-health") == "disabled"
    assert out_after_hold >= HOLD_SECONDS - 3, "not out before its connections ended"
    expect(row(control, "rs2")).to_contain_text("drained")
    assert rs2 not in table_dests(agent), "rs2 left the IPVS table"
    assert servers(agent)["rs2"]["admin"]["reason"].startswith("drained")
    shot(control, "4-rs2-drained")

    control.locator('tr[data-node="primary"]').get_by_role("button", name="Reload").click()
    expect(control.locator(".flash")).to_contain_text("reload sent to primary")
    time.sleep(2 * INTERVAL)
    assert rs2 not in table_dests(agent) and row(control, "rs2").get_attribute("data-health") == "disabled"

    row(control, "rs2").get_by_role("button", name="Enable").click()
    expect(control.locator(".flash")).to_contain_text("enable web/rs2 sent to primary")
    wait_until(lambda: rs2 in table_dests(agent), 30, "rs2 back in the table")
    expect(row(control, "rs2")).to_have_attribute("data-health", "up", timeout=20_000)
    shot(control, "5-rs2-enabled")
