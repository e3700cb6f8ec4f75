"""Settings of status collection: the partner's piranha-ctl (explicit, or taken from Apply's remote reload
command), cache and timeout values refused with the setting's name."""

import pytest

from piranha_web.apply.settings import SettingsError
from piranha_web.status.settings import StatusSettings


@pytest.mark.parametrize("config, words", [
    ({}, ("piranha-ctl",)),
    ({"PIRANHA_REMOTE_RELOAD": "/opt/bin/piranha-ctl --socket '/run/my dir/p.sock' reload"},
     ("/opt/bin/piranha-ctl", "--socket", "/run/my dir/p.sock")),
    ({"PIRANHA_REMOTE_RELOAD": "systemctl reload pulse"}, ("piranha-ctl",)),
    ({"PIRANHA_REMOTE_CTL": "ctl --socket /s", "PIRANHA_REMOTE_RELOAD": "piranha-ctl --socket /t reload"},
     ("ctl", "--socket", "/s")),
])
def test_the_partners_piranha_ctl(config, words, monkeypatch):
    for name in ("PIRANHA_REMOTE_CTL", "PIRANHA_REMOTE_RELOAD"):
        monkeypatch.delenv(name, raising=False)
    assert StatusSettings.from_mapping(config).remote_ctl == words


@pytest.mark.parametrize("config, message", [
    ({"PIRANHA_STATUS_CACHE_SECONDS": "soon"}, "PIRANHA_STATUS_CACHE_SECONDS 'soon' is not a number of seconds"),
    ({"PIRANHA_STATUS_CACHE_SECONDS": "-1"}, "PIRANHA_STATUS_CACHE_SECONDS '-1' is below 0"),
    ({"PIRANHA_CONTROL_TIMEOUT": "0"}, "PIRANHA_CONTROL_TIMEOUT '0' is below 0.1"),
    ({"PIRANHA_REMOTE_CTL": "  "}, "PIRANHA_REMOTE_CTL is empty"),
])
def test_bad_values_name_the_setting(config, message):
    with pytest.raises(SettingsError) as refused:
        StatusSettings.from_mapping(config)
    assert str(refused.value) == message


def test_a_bad_setting_is_shown_on_the_page_not_a_crash(make_app, auth, tmp_path):
    app = make_app(PIRANHA_CONTROL_TIMEOUT="fast", PIRANHA_CONTROL_SOCKET=str(tmp_path / "p.sock"))
    client = app.test_client()
    client.post("/login", data={"username": "viewer", "password": "viewer-password-1"})
    page = client.get("/control").get_data(as_text=True)
    assert "console settings: PIRANHA_CONTROL_TIMEOUT &#39;fast&#39; is not a number of seconds" in page
