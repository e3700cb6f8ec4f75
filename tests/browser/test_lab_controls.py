"""The LAB ONLY blueprint against a stand-in lab agent on a real Unix socket (Flask test client, no UML).

Kept beside the lab's browser test because the lab owns it; it needs no browser and no root. The stand-in
speaks the real control protocol (piranha.control.protocol.serve) and answers like lab.commands.Commands.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading

import pytest
from sqlalchemy import select

from piranha.control.protocol import CommandError, serve
from piranha_web import create_app
from piranha_web.cli import init_console
from piranha_web.extensions import db
from piranha_web.lab import register_if_lab
from piranha_web.models import AuditEntry
from piranha_web.users_service import set_user

PASSWORDS = {"admin": "lab-admin-password", "operator": "lab-operator-password", "viewer": "lab-viewer-password"}


def agent_status(running: dict[str, bool]) -> dict:
    """The shape of lab.commands.Commands.do_status, with dir1 active and its lvsd seeing rs1-rs3."""
    lvsd = {"servers": [{"server": n, "address": f"10.1.0.1{i}", "port": 80, "health": "up" if running[n] else "down",
                         "in_ipvs": running[n], "current_weight": 1 if running[n] else None}
                        for i, n in enumerate(("rs1", "rs2", "rs3"), 1)],
            "table": [{"dests": [{"address": f"10.1.0.1{i}", "port": 80, "weight": 1, "active_conns": 2,
                                  "stats": {"conns": 40 + i}} for i in (1, 2, 3)]}]}
    pulse = {"active": True, "address": "10.0.0.1", "lvsd": {"status": lvsd}}
    return {"directors": {"dir1": {"pulse": {"running": True}, "status": pulse},
                          "dir2": {"pulse": {"running": True}, "status": {"active": False, "address": "10.0.0.2"}}},
            "services": {n: {"address": f"10.1.0.1{i}", "port": 80, "running": running[n], "served": 7}
                         for i, n in enumerate(running, 1)},
            "link": {"directors_connected": True},
            "traffic": {"requests": 50, "by_server": {"rs1": 17, "rs2": 17, "rs3": 16}, "errors": 0}}


class StandInAgent:
    """Records every request; `service` changes what `status` reports, an unknown server is refused."""

    def __init__(self, path: str):
        self.path, self.calls = path, []
        self.running = {"rs1": True, "rs2": True, "rs3": True, "rs4": True}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def handle(self, command: str, args: dict):
        self.calls.append((command, args))
        if command == "status":
            return agent_status(self.running)
        if command == "service":
            if args.get("server") not in self.running:
                raise CommandError(f"no real server {args.get('server')!r}")
            self.running[args["server"]] = args["action"] == "start"
            return {"running": self.running[args["server"]]}
        return {"done": command}

    def start(self):
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(serve(self.path, self.handle, mode=0o600), self.loop).result(5)
        return self

    def stop(self):
        async def close():
            self.server.close()
            await self.server.wait_closed()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def actions(self):
        return [c for c in self.calls if c[0] != "status"]


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    var = tmp_path_factory.mktemp("lab-controls") / "var"
    app = create_app(settings(var))
    with app.app_context():
        init_console()
        for role, password in PASSWORDS.items():
            set_user(role, password, role)
    return var


def settings(var, **overrides) -> dict:
    return {"TESTING": True, "WTF_CSRF_ENABLED": False, "PIRANHA_VAR_DIR": str(var), "SECRET_KEY": "lab-test",
            "PIRANHA_CONTROL_SOCKET": str(var / "pulse.sock"), "PIRANHA_PULSE_PIDFILE": str(var / "pulse.pid"),
            **overrides}


@pytest.fixture
def agent(tmp_path):
    stand_in = StandInAgent(str(tmp_path / "agent.sock")).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def lab_app(var_dir, agent):
    app = create_app(settings(var_dir))
    assert register_if_lab(app, agent.path)
    return app


def login(client, role: str):
    reply = client.post("/login", data={"username": role, "password": PASSWORDS[role]})
    assert reply.status_code == 302, reply.data[:300]


def audits(app, action="lab.control") -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                       .order_by(AuditEntry.id)))


def test_outside_the_lab_there_is_no_lab_blueprint(var_dir):
    app = create_app(settings(var_dir))
    assert register_if_lab(app, None) is False and register_if_lab(app, "") is False
    client = app.test_client()
    login(client, "admin")
    assert client.get("/lab/").status_code == 404
    assert b"LAB ONLY" not in client.get("/control").data


def test_lab_page_and_control_page_show_the_lab_controls(lab_app, agent):
    client = lab_app.test_client()
    login(client, "viewer")
    for path in ("/lab/", "/control"):
        page = client.get(path).get_data(as_text=True)
        assert "LAB ONLY" in page, path
        assert re.search(r'data-lab-service="rs1".*?lab-health">\s*<span class="status up">up', page, re.S)
        assert 'data-lab-director="dir1"' in page and ">active<" in page and ">standby<" in page
        assert "Client, last 5 s: 50 requests" in page
    assert agent.actions() == []


def test_anonymous_and_viewer_cannot_act(lab_app, agent):
    client = lab_app.test_client()
    reply = client.post("/lab/service", data={"server": "rs1", "action": "stop"})
    assert reply.status_code in (302, 401) and "/login" in reply.headers.get("Location", "/login")
    login(client, "viewer")
    assert client.post("/lab/service", data={"server": "rs1", "action": "stop"}).status_code == 403
    assert agent.actions() == []


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_operator_and_admin_stop_a_service_audited(lab_app, agent, role):
    client = lab_app.test_client()
    login(client, role)
    reply = client.post("/lab/service", data={"server": "rs2", "action": "stop", "next": "/control"})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/control")
    assert agent.actions() == [("service", {"server": "rs2", "action": "stop"})]
    page = client.get("/lab/").get_data(as_text=True)
    assert "LAB: service rs2: stop done." in page
    assert re.search(r'data-lab-service="rs2".*?status down">stopped', page, re.S)
    entry = audits(lab_app)[-1]
    assert entry.username == role and entry.outcome == "ok"
    assert json.loads(entry.detail) == {"control": "service", "server": "rs2", "action": "stop"}


def test_pulse_and_link_controls_reach_the_agent(lab_app, agent):
    client = lab_app.test_client()
    login(client, "operator")
    client.post("/lab/pulse", data={"director": "dir1", "action": "stop"})
    client.post("/lab/link", data={"action": "cut"})
    assert agent.actions() == [("pulse", {"director": "dir1", "action": "stop"}), ("link", {"action": "cut"})]


def test_bad_requests_are_refused_before_the_agent_and_audited(lab_app, agent):
    client = lab_app.test_client()
    login(client, "operator")
    client.post("/lab/service", data={"server": "rs1", "action": "explode"})
    page = client.get("/lab/").get_data(as_text=True)
    assert "Lab control service: action &#39;explode&#39; is not one of stop, start." in page
    client.post("/lab/reboot", data={"action": "now"})
    assert "Unknown lab control &#39;reboot&#39;." in client.get("/lab/").get_data(as_text=True)
    assert agent.actions() == []
    assert audits(lab_app)[-1].outcome == "refused"


def test_the_agents_refusal_is_shown_and_audited(lab_app, agent):
    client = lab_app.test_client()
    login(client, "operator")
    client.post("/lab/service", data={"server": "rs9", "action": "stop"})
    assert "Lab control failed: no real server &#39;rs9&#39;" in client.get("/lab/").get_data(as_text=True)
    assert audits(lab_app)[-1].outcome == "failed"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "/\t/evil.example", "https://evil.example/"])
def test_next_never_leaves_the_site(lab_app, agent, target):
    client = lab_app.test_client()
    login(client, "operator")
    reply = client.post("/lab/link", data={"action": "restore", "next": target})
    assert reply.headers["Location"].endswith("/lab/")


def test_unreachable_agent_is_said_plainly(var_dir, tmp_path):
    app = create_app(settings(var_dir))
    register_if_lab(app, str(tmp_path / "no-agent.sock"))
    client = app.test_client()
    login(client, "operator")
    page = client.get("/lab/").get_data(as_text=True)
    assert "Lab agent unreachable:" in page
    client.post("/lab/service", data={"server": "rs1", "action": "stop"})
    assert "Lab control failed:" in client.get("/lab/").get_data(as_text=True)


def test_csrf_is_required(var_dir, agent):
    app = create_app(settings(var_dir, WTF_CSRF_ENABLED=True))
    register_if_lab(app, agent.path)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "operator", "password": PASSWORDS["operator"], "csrf_token": token})
    assert client.post("/lab/service", data={"server": "rs1", "action": "stop"}).status_code == 400
    assert agent.actions() == []
    page = client.get("/lab/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/lab/service", data={"server": "rs1", "action": "stop", "csrf_token": token}).status_code == 302
    assert agent.actions() == [("service", {"server": "rs1", "action": "stop"})]
