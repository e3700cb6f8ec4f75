"""/control in Chromium against two real pulses in namespaces (the backup over real ssh): the page updates by
itself at the chosen interval, says plainly when a pulse stops, pauses when hidden, works without
JavaScript, and runs a takeover. Screenshots: test-output/browser/control/.

The console (werkzeug, a thread) and Chromium both run inside the primary's namespace (d1), so nothing
listens or connects outside the namespaces this test creates. Real-server health and drain on real IPVS
are in tests/browser/test_control_lab.py (the lab) and tests/kernel/test_status_ipvs.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.conftest import require_root_and_tools

require_root_and_tools("ip", "sshd", "ssh", "ssh-keygen")

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.integration.apply_support import inside_netns  # noqa: E402
from tests.integration.test_monitor_console import PASSWORD, Monitored  # noqa: E402

pytestmark = pytest.mark.timeout(180)
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser" / "control"
INTERVAL = 1


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    setup = Monitored(tmp_path_factory.mktemp("control-live"))
    try:
        setup.cluster.start("d1")
        setup.cluster.start("d2")
        setup.cluster.wait_for(lambda: setup.cluster.active() == {"d1"}, 10, "d1 active, d2 standby")
        yield setup
    finally:
        setup.close()


@pytest.fixture(scope="module")
def console_url(monitored):
    """The console served inside d1 (its request threads, and so its ssh, stay in d1's namespace)."""
    started: dict = {}
    ready = threading.Event()

    def serve():
        with inside_netns(monitored.cluster.ns["d1"].name):
            server = make_server("10.213.0.1", 0, monitored.app, threaded=True)
            started["server"] = server
            ready.set()
            server.serve_forever()

    thread = threading.Thread(target=serve, name="console-in-d1", daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"http://10.213.0.1:{started['server'].server_port}"
    started["server"].shutdown()
    thread.join(10)


@pytest.fixture(scope="module")
def chromium(monitored, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Debian's chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright
    wrapper = tmp_path_factory.mktemp("chromium") / "chromium-in-d1"
    wrapper.write_text(f"#!/bin/sh\nexec ip netns exec {monitored.cluster.ns['d1'].name} {CHROMIUM} \"$@\"\n")
    wrapper.chmod(0o755)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(wrapper), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _login(browser, url, javascript: bool = True):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/control")
    return context, page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_without_javascript_the_page_is_a_correct_snapshot(chromium, console_url):
    context, page = _login(chromium, console_url, javascript=False)
    try:
        expect(page.locator('tr[data-node="primary"] .node-state')).to_contain_text("active")
        expect(page.locator('tr[data-node="backup"] .node-state')).to_contain_text("standby")
        expect(page.locator("#refresh-state")).to_contain_text("reload the page to update")
        _shot(page, "1-no-javascript")
    finally:
        context.close()


def test_the_page_follows_a_pulse_stopping_and_a_takeover_without_reloading(chromium, console_url, monitored):
    context, page = _login(chromium, console_url)
    try:
        page.select_option("#refresh-interval", str(INTERVAL))
        expect(page.locator("#refresh-state")).to_contain_text(f"every {INTERVAL} s")
        expect(page.locator('tr[data-node="backup"] .node-state')).to_contain_text("standby")
        page.evaluate("window.piranhaMarker = 'same page'")
        _shot(page, "2-both-running")

        stopped = time.monotonic()
        monitored.cluster.kill("d2")
        expect(page.locator('tr[data-node="backup"] .node-state')).to_contain_text("pulse not running",
                                                                                     timeout=10_000)
        seen = time.monotonic() - stopped
        print(f"backup's pulse stopped: shown after {seen:.2f} s at a {INTERVAL} s interval")
        assert seen <= 2 * INTERVAL + 1.0, f"shown {seen:.2f} s after the pulse stopped"
        assert page.evaluate("window.piranhaMarker") == "same page", "updated in place, not reloaded"
        expect(page.locator("ol.events")).to_contain_text("backup: pulse running → not running")
        _shot(page, "3-backup-pulse-stopped")

        monitored.cluster.start("d2")
        expect(page.locator('tr[data-node="backup"] .node-state')).to_contain_text("standby", timeout=10_000)
        page.locator('tr[data-node="backup"]').get_by_role("button", name="Take over").click()
        expect(page.locator(".flash")).to_contain_text("takeover sent to backup: active: true")
        expect(page.locator('tr[data-node="backup"] .node-state')).to_contain_text("active", timeout=10_000)
        expect(page.locator('tr[data-node="primary"] .node-state')).to_contain_text("standby")
        expect(page.locator("ol.events")).to_contain_text("backup became active")
        _shot(page, "4-after-takeover")
    finally:
        context.close()


def test_polling_pauses_while_the_tab_is_hidden(chromium, console_url):
    context, page = _login(chromium, console_url)
    try:
        page.select_option("#refresh-interval", str(INTERVAL))
        requests: list[float] = []
        page.on("request", lambda request: requests.append(time.monotonic()) if "/control/live" in request.url
                else None)
        page.wait_for_timeout(5000)
        assert len(requests) >= 2, "polling at the chosen interval (plus the time each look takes)"
        page.evaluate("""() => {
            Object.defineProperty(document, 'hidden', {value: true, configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }""")
        expect(page.locator("#refresh-state")).to_contain_text("paused while the tab is hidden")
        page.wait_for_timeout(1500)       # a look already under way may still finish
        hidden_at = len(requests)
        page.wait_for_timeout(3000)
        assert len(requests) == hidden_at, "no polling while hidden"
        page.evaluate("""() => {
            Object.defineProperty(document, 'hidden', {value: false, configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }""")
        page.wait_for_timeout(2000)
        assert len(requests) > hidden_at, "polling resumes when the tab is shown again"
    finally:
        context.close()
