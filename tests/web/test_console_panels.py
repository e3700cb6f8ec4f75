"""Every configuration panel through one generic test mixin: list, create, edit, delete, anonymous, invalid."""

from __future__ import annotations

import html

from markupsafe import escape

import pytest

from piranha_web.failover_services.routes import ATTRS as FAILOVER_ATTRS
from piranha_web.global_settings.routes import ATTRS as GLOBAL_ATTRS
from piranha_web.redundancy.routes import ATTRS as REDUNDANCY_ATTRS
from piranha_web.virtual_servers.forms import REAL_ATTRS, SCRIPT_ATTRS, VIRTUAL_ATTRS

from .panel_support import current_payload, draft_config, draft_state, payload


class PanelMixin:
    """A panel under test. Subclasses set the URLs and data; `find(config)` returns the block edited (the
    global settings when None)."""

    list_url: str
    list_shows: tuple[str, ...] = ()
    edit_url: str
    block: str
    attrs: list[str]
    find = None
    edit_changes: dict
    invalid_changes: dict          # field -> bad value
    invalid_message: str           # text of the error shown beside that field

    def read(self, config, field):
        """The value `field` has in the draft, as the form spells it (a whole number of seconds as an int)."""
        find = type(self).find
        value = getattr(find(config) if find else config, field)
        return int(value) if isinstance(value, float) and value.is_integer() else value

    def form(self, app, **changes):
        return dict(current_payload(app, self.block, self.attrs, type(self).find), **changes)

    def test_anonymous_is_sent_to_login(self, client):
        for url in {self.list_url, self.edit_url}:
            response = client.get(url)
            assert response.status_code == 302 and "/login" in response.headers["Location"]
            response = client.post(url, data={})
            assert response.status_code == 302 and "/login" in response.headers["Location"]

    def test_list(self, client, auth):
        auth.login("viewer")
        response = client.get(self.list_url)
        assert response.status_code == 200
        for text in self.list_shows:
            assert text in response.get_data(as_text=True)

    def test_edit_saves_to_the_draft(self, app, client, auth):
        auth.login()
        response = client.post(self.edit_url, data=self.form(app, **self.edit_changes))
        assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
        config = draft_config(app)
        for field, value in self.edit_changes.items():
            assert str(self.read(config, field)) == value
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "1 unapplied change — view diff" in page

    def test_invalid_input_shows_error_beside_field_and_keeps_input(self, app, client, auth):
        auth.login()
        before = draft_state(app)
        response = client.post(self.edit_url, data=self.form(app, **self.invalid_changes))
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        for field, value in self.invalid_changes.items():
            assert f'id="{field}-error"' in page
            assert str(escape(value)) in page  # the user's input is kept
        assert self.invalid_message in html.unescape(page)
        assert draft_state(app) == before


class CreatableMixin(PanelMixin):
    """A panel of a list of blocks: adds create and delete to the generic cases; `siblings(config)` is the list."""

    siblings = None
    create_url: str
    create_data: dict
    created_name: str
    delete_url: str

    def exists(self, config, name) -> bool:
        return any(block.name == name for block in type(self).siblings(config))

    def test_create_then_delete(self, app, client, auth):
        auth.login()
        response = client.post(self.create_url, data=dict(self.create_data, draft_version=draft_state(app)[0]))
        assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
        assert self.exists(draft_config(app), self.created_name)
        assert self.created_name in client.get(self.list_url).get_data(as_text=True)
        response = client.post(self.delete_url)
        assert response.status_code == 302
        assert not self.exists(draft_config(app), self.created_name)


class TestGlobalSettings(PanelMixin):
    list_url = edit_url = "/global"
    list_shows = ("192.0.2.10", "Primary server public IP", "Floating gateway address")
    block, attrs = "global", GLOBAL_ATTRS
    edit_changes = {"primary": "192.0.2.20", "network": "direct", "tcp_timeout": "900"}
    invalid_changes = {"primary": "300.1.1.1"}
    invalid_message = "'300.1.1.1' is not a valid IPv4 address"


class TestRedundancy(PanelMixin):
    list_url = edit_url = "/redundancy"
    list_shows = ("inactive", "Heartbeat runs on port")
    block, attrs = "global", REDUNDANCY_ATTRS
    edit_changes = {"backup_active": True, "backup": "192.0.2.12", "keepalive": "3", "deadtime": "9"}
    invalid_changes = {"heartbeat_port": "70000"}
    invalid_message = "'70000' is out of range (1-65535)"

    def test_edit_saves_to_the_draft(self, app, client, auth):
        auth.login()
        data = self.form(app, **payload(self.edit_changes))
        assert client.post(self.edit_url, data=data).status_code == 302
        config = draft_config(app)
        assert (config.backup_active, config.backup, config.keepalive, config.deadtime) == (True, "192.0.2.12", 3, 9)
        assert "status up\">active" in client.get("/redundancy").get_data(as_text=True)

    def test_rule_between_fields_lands_beside_the_field(self, app, client, auth):
        """deadtime must exceed keepalive: a model rule, shown beside its field by the shared helper."""
        auth.login()
        before = draft_state(app)
        response = client.post(self.edit_url, data=self.form(app, keepalive="10", deadtime="5"))
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert 'id="deadtime-error"' in page or 'id="keepalive-error"' in page
        assert draft_state(app) == before


def _web(config):
    return config.virtual_server("web")


class TestVirtualServers(CreatableMixin):
    list_url = "/virtual"
    list_shows = ("web", "203.0.113.10", "mail", "eth0:2", "255.255.255.0")
    edit_url = "/virtual/web"
    block, attrs, find = "virtual", VIRTUAL_ATTRS, staticmethod(_web)
    siblings = staticmethod(lambda config: config.virtual_servers)
    edit_changes = {"port": "8080", "scheduler": "rr", "persistent": "300", "fwmark": "7",
                    "sorry_server": "198.51.100.99"}
    invalid_changes = {"device": "eth0:1 ; rm -rf /"}
    invalid_message = "is not an interface name"
    create_url = "/virtual"
    create_data = {"name": "dns", "address": "203.0.113.53", "device": "eth0:3", "port": "53", "protocol": "udp"}
    created_name = "dns"
    delete_url = "/virtual/dns/delete"

    def test_rename_moves_the_panel(self, app, client, auth):
        auth.login()
        response = client.post(self.edit_url, data=self.form(app, name="www"))
        assert response.status_code == 302 and response.headers["Location"].endswith("/virtual/www")
        assert [v.name for v in draft_config(app).virtual_servers] == ["www", "mail"]

    def test_duplicate_name_is_a_field_error(self, app, client, auth):
        auth.login()
        response = client.post(self.edit_url, data=self.form(app, name="mail"))
        assert response.status_code == 400
        assert 'id="name-error"' in response.get_data(as_text=True)

    def test_toggle(self, app, client, auth):
        auth.login()
        assert client.post("/virtual/web/toggle").status_code == 302
        assert _web(draft_config(app)).active is False
        assert client.post("/virtual/web/toggle").status_code == 302
        assert _web(draft_config(app)).active is True

    def test_unknown_virtual_server_is_404(self, client, auth):
        auth.login()
        assert client.get("/virtual/nope").status_code == 404
        assert client.post("/virtual/nope/delete").status_code == 404


def _web1(config):
    return config.virtual_server("web").server("web1")


class TestRealServers(CreatableMixin):
    list_url = "/virtual/web/real"
    list_shows = ("web1", "198.51.100.11", "web2", "198.51.100.12")
    edit_url = "/virtual/web/real/web1"
    block, attrs, find = "server", REAL_ATTRS, staticmethod(_web1)
    siblings = staticmethod(lambda config: config.virtual_server("web").servers)
    edit_changes = {"address": "198.51.100.31", "port": "8080", "weight": "5"}
    invalid_changes = {"weight": "-1"}
    invalid_message = "'-1' is out of range (0-65535)"
    create_url = "/virtual/web/real"
    create_data = {"name": "web3", "address": "198.51.100.13", "weight": "2", "active": "y"}
    created_name = "web3"
    delete_url = "/virtual/web/real/web3/delete"

    def test_toggle(self, app, client, auth):
        auth.login()
        assert client.post("/virtual/web/real/web2/toggle").status_code == 302
        assert draft_config(app).virtual_server("web").server("web2").active is False

    def test_blank_port_means_the_virtual_servers_port(self, app, client, auth):
        auth.login()
        client.post(self.edit_url, data=self.form(app, port="8080"))
        assert client.post(self.edit_url, data=self.form(app, port="")).status_code == 302
        assert _web1(draft_config(app)).port is None


class TestMonitoringScripts(PanelMixin):
    list_url = edit_url = "/virtual/web/scripts"
    list_shows = ("GET / HTTP/1.0\\r\\n\\r\\n", "%h", "%p")
    block, attrs, find = "virtual", SCRIPT_ATTRS, staticmethod(_web)
    edit_changes = {"send_program": "/usr/local/bin/check %h %p", "expect": "OK"}
    invalid_changes = {"expect": 'say "hi"'}
    invalid_message = "contains a double quote"

    def test_clearing_a_field_removes_it(self, app, client, auth):
        auth.login()
        assert client.post(self.edit_url, data=self.form(app, send="")).status_code == 302
        assert _web(draft_config(app)).send is None


def _db(config):
    return config.failover_service("db")


class TestFailoverServices(CreatableMixin):
    list_url = "/failover"
    list_shows = ("db", "192.0.2.50")
    edit_url = "/failover/db"
    block, attrs, find = "failover", FAILOVER_ATTRS, staticmethod(_db)
    siblings = staticmethod(lambda config: config.failover_services)
    edit_changes = {"port": "5432", "start_cmd": "/usr/bin/systemctl start postgresql", "timeout": "3"}
    invalid_changes = {"address": "192.0.2.300"}
    invalid_message = "'192.0.2.300' is not a valid IPv4 address"
    create_url = "/failover"
    create_data = {"name": "ftp", "address": "192.0.2.21", "device": "eth0:4", "port": "21", "protocol": "tcp",
                   "start_cmd": "/bin/true", "stop_cmd": "/bin/true"}
    created_name = "ftp"
    delete_url = "/failover/ftp/delete"

    @pytest.fixture(autouse=True)
    def _with_a_failover_service(self, app, client, auth):
        auth.login()
        response = client.post("/failover", data={"name": "db", "address": "192.0.2.50", "device": "eth0:3",
                                                  "port": "3306", "protocol": "tcp", "start_cmd": "/bin/true",
                                                  "stop_cmd": "/bin/true", "draft_version": "0"})
        assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
        auth.logout()

    def test_edit_saves_to_the_draft(self, app, client, auth):
        auth.login()
        response = client.post(self.edit_url, data=self.form(app, **self.edit_changes))
        assert response.status_code == 302
        service = _db(draft_config(app))
        assert (service.port, service.start_cmd, service.timeout) == (5432, "/usr/bin/systemctl start postgresql", 3)


def test_a_tampered_draft_version_is_a_visible_error(app, client, auth):
    auth.login()
    data = current_payload(app, "global", GLOBAL_ATTRS) | {"draft_version": "abc", "primary": "192.0.2.20"}
    response = client.post("/global", data=data)
    assert response.status_code == 400
    assert 'class="form-errors"' in response.get_data(as_text=True)
    assert draft_state(app) == (0, None)


def test_virtual_server_list_pages_and_search(app, client, auth, monkeypatch):
    from piranha_web.virtual_servers import routes
    monkeypatch.setattr(routes, "PAGE_SIZE", 1)
    auth.login("viewer")
    total = len(draft_config(app).virtual_servers)
    assert total >= 2
    first = client.get("/virtual").get_data(as_text=True)
    assert f"Page 1 of {total}" in first and "?page=2\">Next" in first and "Previous" not in first
    last = client.get("/virtual?page=999").get_data(as_text=True)
    assert f"Page {total} of {total}" in last and f"?page={total - 1}\">Previous" in last and "Next</a>" not in last
    found = client.get("/virtual?q=WEB").get_data(as_text=True)
    assert "1 virtual server ·" in found and "Page 1 of" not in found
