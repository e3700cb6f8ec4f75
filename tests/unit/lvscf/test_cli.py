"""`piranha-ctl check-config PATH`: silent exit 0 for a valid file, PATH:LINE: message and exit 1 otherwise."""

import subprocess
import sys
from pathlib import Path

import pytest

from piranha.control.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "lvs_cf"


def test_valid_file_prints_nothing_and_exits_0(capsys):
    assert main(["check-config", str(DATA / "valid" / "gui-0.8.6.cf")]) == 0
    assert capsys.readouterr() == ("", "")


def test_warnings_go_to_stderr_and_keep_exit_0_unless_strict(capsys):
    path = str(DATA / "valid" / "legacy-keys.cf")
    assert main(["check-config", path]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[0] == f"{path}:4: service: set again (first on line 3); the last value wins (warning)"
    assert main(["check-config", "--strict", path]) == 1


@pytest.mark.parametrize("name", ["syntax", "semantic", "values"])
def test_invalid_file_prints_path_line_message_and_exits_1(name, capsys):
    path = DATA / "invalid" / f"{name}.cf"
    assert main(["check-config", str(path)]) == 1
    expected = [f"{path}:{line}" for line in (DATA / "invalid" / f"{name}.expected").read_text().splitlines()]
    assert capsys.readouterr().out.splitlines() == expected


def test_problem_without_a_line_prints_the_path_only(capsys):
    path = DATA / "invalid" / "empty.cf"
    assert main(["check-config", str(path)]) == 1
    assert capsys.readouterr().out == f"{path}: empty configuration: the file has no content\n"


def test_missing_file(tmp_path, capsys):
    assert main(["check-config", str(tmp_path / "nope.cf")]) == 1
    assert "cannot read" in capsys.readouterr().out


def test_installed_command_runs_as_a_process():
    path = DATA / "invalid" / "fos.cf"
    result = subprocess.run([sys.executable, "-m", "piranha.control.cli", "check-config", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == \
        f"{path}:5: primary_private: needs backup_private, the backup's end of the heartbeat path"
