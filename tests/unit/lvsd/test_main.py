"""The lvsd command line: --check-config, refusals with line numbers, option errors."""

import subprocess
import sys

from tests.unit.lvsd.cfgen import server, text, virtual

LVSD = [sys.executable, "-m", "piranha.lvsd.main"]


def _run(*args):
    return subprocess.run([*LVSD, *args], capture_output=True, text=True, timeout=30)


def test_check_config_accepts_a_valid_file(tmp_path):
    path = tmp_path / "lvs.cf"
    path.write_text(text(virtual("web", "192.0.2.10", [server("a", "10.1.0.1")]), serial=7))
    proc = _run("-c", str(path), "--check-config")
    assert proc.returncode == 0, proc.stderr
    assert "valid (serial 7)" in proc.stdout


def test_check_config_refuses_with_file_line_and_value(tmp_path):
    path = tmp_path / "lvs.cf"
    path.write_text(text(virtual("web", "192.0.2.10", [server("a", "10.1.0.1")], scheduler="fastest")))
    proc = _run("-c", str(path), "-t")
    assert proc.returncode == 1
    assert f"{path}:" in proc.stderr and "'fastest'" in proc.stderr


def test_missing_file_and_bad_option_are_explained(tmp_path):
    proc = _run("-c", str(tmp_path / "nope.cf"), "--check-config")
    assert proc.returncode == 1 and "No such file" in proc.stderr
    proc = _run("-c", str(tmp_path / "nope.cf"), "--ramp-step", "0")
    assert proc.returncode == 2 and "--ramp-step 0 must be positive" in proc.stderr
