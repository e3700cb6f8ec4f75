"""A table of hostile input run against every field of every configuration form.

Every submission gets a page, never a 500. A refused value shows its error beside the field and leaves the
draft untouched; an accepted value (free text may hold braces or non-ASCII) must come back exactly from the
stored draft, which always parses and validates. Structured fields (addresses, ports, masks, devices,
numbers, names) must refuse every hostile value.
"""

from __future__ import annotations

import pytest

from piranha import lvscf
from piranha_web import revisions
from piranha_web.failover_services.routes import ATTRS as FAILOVER_ATTRS
from piranha_web.global_settings.routes import ATTRS as GLOBAL_ATTRS
from piranha_web.keyword_forms import attribute_keywords
from piranha_web.redundancy.routes import ATTRS as REDUNDANCY_ATTRS
from piranha_web.virtual_servers.forms import REAL_ATTRS, SCRIPT_ATTRS, VIRTUAL_ATTRS

from .panel_support import current_payload, draft_state

HOSTILE = {
    "newline": "80\nserver evil {",
    "carriage return": "eth0\r",
    "open brace": "{",
    "close brace": "}",
    "double quote": 'a"b',
    "single quote": "it's",
    "nul": "a\0b",
    "10,000 characters": "9" * 10_000,
    "non-ASCII": "dé1",
    "shell in a device": "eth0:1 ; rm -rf /",
    "bad IPv4": "300.1.1.1",
    "negative": "-1",
    "comment": "# nothing",
}
# Linux allows these as interface names (up to 15 characters, no blank or '/'), so a device field may take them.
INTERFACE_LIKE = {"300.1.1.1", "-1"}
DEVICES = {"device", "nat_router_device", "syncd_iface"}
FREE_TEXT = {"rsh_command", "active_cmd", "inactive_cmd", "send", "expect", "send_program", "start_cmd",
             "stop_cmd", "heartbeat_key_file"}


def _web(config):
    return config.virtual_server("web")


def _web1(config):
    return config.virtual_server("web").server("web1")


FORMS = [
    ("/global", "global", GLOBAL_ATTRS, None, lambda config, attr: config.explicit(attr)),
    ("/redundancy", "global", REDUNDANCY_ATTRS, None, lambda config, attr: config.explicit(attr)),
    ("/virtual/web", "virtual", VIRTUAL_ATTRS + ["name"], _web, lambda config, attr: getattr(_web(config), attr)),
    ("/virtual/web/scripts", "virtual", SCRIPT_ATTRS, _web, lambda config, attr: getattr(_web(config), attr)),
    ("/virtual/web/real/web1", "server", REAL_ATTRS + ["name"], _web1,
     lambda config, attr: getattr(_web1(config), attr)),
]


def _text_fields(block, attrs):
    from piranha.lvscf.converters import Boolean
    mapping = attribute_keywords(block)
    return [a for a in attrs if a == "name" or not (isinstance(mapping[a].type, Boolean) or mapping[a].choices)]


CASES = [(url, block, attrs, find, read, field)
         for url, block, attrs, find, read in FORMS for field in _text_fields(block, attrs)]


@pytest.mark.parametrize("url,block,attrs,find,read,field", CASES,
                         ids=[f"{c[0]}:{c[5]}" for c in CASES])
def test_hostile_values(app, client, auth, url, block, attrs, find, read, field):
    auth.login()
    attrs = [a for a in attrs if a != "name"]
    for label, value in HOSTILE.items():
        before = draft_state(app)
        data = current_payload(app, block, attrs, find)
        data[field] = value
        response = client.post(url, data=data)
        assert response.status_code in (302, 400), (label, response.status_code)
        if response.status_code == 400:
            page = response.get_data(as_text=True)
            assert f'id="{field}-error"' in page or 'class="form-errors"' in page, label
            assert draft_state(app) == before, label
            continue
        acceptable = field in FREE_TEXT or field == "name" or (field in DEVICES and value in INTERFACE_LIKE)
        assert acceptable, f"{field} accepted {label}: {value!r}"
        with app.app_context():
            text = revisions.current_draft().text
            config = lvscf.loads(text)
            assert config.validate() == []
            stored_name = value if field == "name" else None
            assert (stored_name or read(config, field)) == value, label
            if field == "name":
                url = url.rsplit("/", 1)[0] + "/" + value
                # put the name back so the next value starts from the same panel
                data[field] = "web1" if url.startswith("/virtual/web/real") else "web"
                assert client.post(url, data=dict(data, draft_version=revisions.draft_version())).status_code == 302
                url = url.rsplit("/", 1)[0] + "/" + data[field]


def test_failover_form_hostile_values(app, client, auth):
    """The failover panel, on a service created for the purpose."""
    auth.login()
    response = client.post("/failover", data={"name": "db", "address": "192.0.2.50", "device": "eth0:3",
                                              "port": "3306", "protocol": "tcp", "start_cmd": "/bin/true",
                                              "stop_cmd": "/bin/true", "draft_version": "0"})
    assert response.status_code == 302
    for field in ["address", "device", "vip_nmask", "port", "timeout"]:
        for label, value in HOSTILE.items():
            before = draft_state(app)
            data = current_payload(app, "failover", FAILOVER_ATTRS, lambda c: c.failover_service("db"))
            if field in DEVICES and value in INTERFACE_LIKE:
                continue
            data[field] = value
            response = client.post("/failover/db", data=data)
            assert response.status_code == 400, (field, label)
            assert f'id="{field}-error"' in response.get_data(as_text=True)
            assert draft_state(app) == before


CREATE_FORMS = [
    ("/virtual", {"name": "dns", "address": "203.0.113.53", "device": "eth0:3", "port": "53", "protocol": "udp"}),
    ("/virtual/web/real", {"name": "web3", "address": "198.51.100.13", "weight": "2", "active": "y"}),
    ("/failover", {"name": "ftp", "address": "192.0.2.21", "device": "eth0:4", "port": "21", "protocol": "tcp",
                   "start_cmd": "/bin/true", "stop_cmd": "/bin/true"}),
]


@pytest.mark.parametrize("url,valid", CREATE_FORMS, ids=[url for url, _ in CREATE_FORMS])
def test_hostile_values_in_add_forms(app, client, auth, url, valid):
    auth.login()
    for field in valid:
        for label, value in HOSTILE.items():
            before = draft_state(app)
            data = dict(valid, draft_version=before[0])
            data[field] = value
            response = client.post(url, data=data)
            assert response.status_code in (302, 400), (field, label, response.status_code)
            if response.status_code == 400:
                assert draft_state(app) == before
                continue
            assert field in FREE_TEXT | {"name", "protocol", "active"} or (field in DEVICES and value in INTERFACE_LIKE), \
                (field, label)
            with app.app_context():
                assert lvscf.loads(revisions.current_draft().text).validate() == []
                # undo: go back to the state before this accepted value
                draft = revisions.current_draft()
                if before[1] is None:
                    from piranha_web.extensions import db
                    db.session.delete(draft)
                    db.session.commit()
                else:
                    draft.set_text(before[1])
                    draft.version = before[0]
                    from piranha_web.extensions import db
                    db.session.commit()


@pytest.mark.parametrize("label", list(HOSTILE))
def test_hostile_values_in_login_and_user_forms(app, client, auth, label):
    value = HOSTILE[label]
    response = client.post("/login", data={"username": value, "password": value})
    assert response.status_code in (400, 401)
    auth.login()
    for field in ("username", "password", "role"):
        data = {"username": "dave", "role": "viewer", "password": "dave-password-1", "confirm": "dave-password-1"}
        data[field] = value
        if field == "password":
            data["confirm"] = value
        response = client.post("/users", data=data)
        assert response.status_code in (302, 400), (field, response.status_code)
        if field != "password" and not (field == "username" and value == "300.1.1.1"):  # a fine user name
            assert response.status_code == 400, field
    response = client.post("/users/admin/password", data={"password": value, "confirm": value})
    assert response.status_code in (302, 400)
