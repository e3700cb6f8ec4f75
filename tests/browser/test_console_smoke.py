"""Smoke test in Chromium: log in, add a virtual server with two real servers, see them listed; then
screenshot every panel (desktop and phone width) for a human to look at."""

import re

from playwright.sync_api import expect


def test_add_virtual_server_with_two_real_servers(live_server, page, login, screenshot):
    login(page)
    page.get_by_role("link", name="VIRTUAL SERVERS", exact=True).click()
    page.get_by_label("Name").fill("shop")
    page.get_by_label("Virtual IP address").fill("203.0.113.80")
    page.get_by_label("Device").fill("eth0:5")
    page.get_by_label("Application port").fill("443")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page).to_have_url(re.compile(r"/virtual/shop$"))
    expect(page.locator(".flash-success")).to_contain_text("virtual shop: added")

    page.get_by_role("link", name="REAL SERVER", exact=True).click()
    for name, address in (("shop1", "198.51.100.81"), ("shop2", "198.51.100.82")):
        page.get_by_label("Name").fill(name)
        page.get_by_label("Address").fill(address)
        page.get_by_label("Weight").fill("3")
        page.get_by_role("button", name="Add real server").click()
        expect(page.locator(".flash-success")).to_contain_text(f"real server {name} added")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("198.51.100.81")
    expect(rows.nth(1)).to_contain_text("198.51.100.82")
    screenshot(page, "real-servers-after-add")

    page.get_by_role("link", name="VIRTUAL SERVERS", exact=True).click()
    row = page.locator("table tbody tr", has_text="shop")
    expect(row).to_contain_text("203.0.113.80")
    expect(row).to_contain_text("443")
    expect(row).to_contain_text("eth0:5")
    expect(row.locator("td").nth(7)).to_have_text("2")
    expect(page.locator(".banner")).to_contain_text("3 unapplied changes — view diff")

    page.get_by_role("link", name="shop").first.click()
    page.get_by_label("Application port").fill("99999")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#port-error")).to_contain_text("out of range")
    expect(page.get_by_label("Application port")).to_have_value("99999")
    screenshot(page, "virtual-server-field-error")


PANELS = [
    ("login", "/login"),
    ("control", "/control"),
    ("global", "/global"),
    ("redundancy", "/redundancy"),
    ("virtual-list", "/virtual"),
    ("virtual-edit", "/virtual/web"),
    ("real-servers", "/virtual/web/real"),
    ("real-server-edit", "/virtual/web/real/web1"),
    ("monitoring-scripts", "/virtual/web/scripts"),
    ("failover", "/failover"),
    ("history", "/history"),
    ("users", "/users"),
]


def test_screenshots_of_every_panel(live_server, browser, login, screenshot):
    for width, suffix in ((1280, "desktop"), (390, "phone")):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        login(page)
        for name, path in PANELS:
            if name == "login":
                continue
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            assert page.locator("nav.tabs").is_visible()
            screenshot(page, f"{name}-{suffix}")
        page.get_by_role("button", name="Log out").click()
        page.goto(live_server.url + "/login")
        screenshot(page, f"login-{suffix}")
        context.close()
