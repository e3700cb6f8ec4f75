"""piranha-ctl's runtime commands against a missing daemon: clear words and distinct exit codes."""

from piranha.control import cli


def test_status_without_pulse_says_not_running(tmp_path, capsys):
    code = cli.main(["--socket", str(tmp_path / "pulse.sock"), "status"])
    assert code == 3
    assert "pulse is not running" in capsys.readouterr().err


def test_socket_from_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PIRANHA_CONTROL_SOCKET", str(tmp_path / "env.sock"))
    assert cli.main(["reload"]) == 3
    assert str(tmp_path / "env.sock") in capsys.readouterr().err
