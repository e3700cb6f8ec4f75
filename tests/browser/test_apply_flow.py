"""Apply in Chromium: edit → diff shown → Apply → each step shown → history lists it → rollback → Apply again.

The module gets its own live server (conftest's fixture is per module): its pulse control socket and pidfile
are in its var dir, so an Apply never talks to the host's /run (no daemons there: the page must say "daemons
not running").
"""

import re
from pathlib import Path

from playwright.sync_api import expect


def _apply(page, message):
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page).to_have_url(re.compile(r"/apply/job/result\?id=[0-9a-f]{16}$"))
    result = page.locator("#apply-result")
    expect(result.locator("h2")).to_have_text("Applied")
    for step, state in (("validate", "ok"), ("write", "ok"), ("sync", "skipped"), ("reload", "notice")):
        expect(result.locator(f'tr[data-step="{step}"]')).to_contain_text(state)
    expect(result.locator('tr[data-step="reload"]')).to_contain_text("daemons not running")


def test_edit_apply_history_rollback(live_server, page, login, screenshot):
    lvs_cf = Path(live_server.app.config["PIRANHA_LVS_CF"])
    login(page)
    page.goto(f"{live_server.url}/virtual/web")
    page.get_by_label("Application port").fill("8080")
    page.get_by_role("button", name="Accept").click()
    banner = page.locator(".banner", has_text="unapplied change")
    expect(banner).to_contain_text("1 unapplied change")
    banner.get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"/apply$"))
    expect(page.locator("pre.diff .del", has_text="port = 80")).to_have_count(1)
    expect(page.locator("pre.diff .add", has_text="port = 8080")).to_have_count(1)
    expect(page.locator('tr[data-step="validate"]')).to_contain_text("valid; serial_no becomes 2")
    screenshot(page, "apply-review")
    _apply(page, "web moves to 8080")
    screenshot(page, "apply-result")
    text = lvs_cf.read_text()
    assert "port = 8080" in text and "serial_no = 2" in text

    page.get_by_role("link", name="HISTORY", exact=True).click()
    row = page.locator("table tbody tr", has_text="web moves to 8080")
    expect(row).to_contain_text("applied")
    expect(row).to_contain_text("admin")
    expect(row.locator("td").nth(4)).to_have_text("2")

    page.goto(f"{live_server.url}/history/1")
    page.once("dialog", lambda dialog: dialog.accept())  # "Make revision 1 the draft?"
    page.get_by_role("button", name="Roll back to this revision").click()
    expect(page).to_have_url(re.compile(r"/apply$"))
    expect(page.locator("pre.diff .del", has_text="port = 8080")).to_have_count(1)
    expect(page.locator("pre.diff .add", has_text="port = 80")).to_have_count(1)
    _apply(page, "back to port 80")
    text = lvs_cf.read_text()
    assert "port = 80\n" in text and "port = 8080" not in text and "serial_no = 3" in text
    page.get_by_role("link", name="HISTORY", exact=True).click()
    expect(page.locator("table tbody tr", has_text="back to port 80")).to_contain_text("applied")
