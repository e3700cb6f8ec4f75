"""Browser tier: the console served on 127.0.0.1:<free port> in a background thread, driven by Debian's
Chromium through Playwright. Screenshots go to test-output/browser/ (gitignored).

Fixtures: `live_server` (`.url`, `.app`, `.admin_password`), `browser` (one Chromium per module),
`page` (a fresh context per test), `login(page)` and `screenshot(page, name)`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from piranha_web import create_app
from piranha_web.cli import init_console
from piranha_web.users_service import set_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
ADMIN_PASSWORD = "browser-admin-password"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The console in a thread (werkzeug's server), with its own var dir; stopped at teardown."""
    var_dir = tmp_path_factory.mktemp("browser") / "var"
    app = create_app({"PIRANHA_VAR_DIR": str(var_dir), "SECRET_KEY": "browser-test-secret",
                      "PIRANHA_CONTROL_SOCKET": str(var_dir / "pulse.sock"),
                      "PIRANHA_PULSE_PIDFILE": str(var_dir / "pulse.pid")})
    with app.app_context():
        init_console()
        set_user("admin", ADMIN_PASSWORD, "admin")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-console", daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", app=app, admin_password=ADMIN_PASSWORD)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (scripts/test installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login(live_server):
    def do_login(page, username: str = "admin", password: str | None = None):
        page.goto(f"{live_server.url}/login")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(password or live_server.admin_password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/control")
    return do_login


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def screenshot(screenshot_dir):
    def take(page, name: str, full_page: bool = True) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path
    return take


