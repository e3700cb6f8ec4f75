"""Accessible forms: every visible control of every page has a label, and errors are tied to their field."""

from html.parser import HTMLParser

import pytest

PAGES = ["/login", "/control", "/global", "/redundancy", "/virtual", "/virtual/web", "/virtual/web/real",
         "/virtual/web/real/web1", "/virtual/web/scripts", "/failover", "/history", "/users", "/users/viewer/password"]


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls, self.labels, self.described = [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append(attrs)
        if attrs.get("aria-describedby"):
            self.described.append(attrs["aria-describedby"])


@pytest.mark.parametrize("path", PAGES)
def test_every_control_has_a_label(client, auth, path):
    if path != "/login":
        auth.login()
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    parser = Controls()
    parser.feed(page)
    assert parser.controls or path == "/control", path  # a page that lost its form would pass vacuously
    for control in parser.controls:
        labelled = control.get("id") in parser.labels or control.get("aria-label")
        assert labelled, (path, control)
    for ids in parser.described:
        for element_id in ids.split():
            assert f'id="{element_id}"' in page, (path, element_id)


def test_field_error_is_announced_and_described(app, client, auth):
    auth.login()
    response = client.post("/virtual/web/real/web1", data={"name": "web1", "address": "300.1.1.1", "weight": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="address-help address-error"' in page
