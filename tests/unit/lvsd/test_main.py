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


def test_a_kernel_without_ipvs_is_reported_clearly(tmp_path):
    """The host kernel of the test machines has no IPVS; lvsd says so instead of a traceback.

    Runs only where IPVS can neither be found nor auto-loaded, so the host's table is never touched.
    """
    import os

    import pytest

    has_module = subprocess.run(["modinfo", "ip_vs"], capture_output=True).returncode == 0
    if os.path.exists("/proc/net/ip_vs") or has_module:
        pytest.skip("this kernel has IPVS: lvsd would program the host's table")
    path = tmp_path / "lvs.cf"
    path.write_text(text(virtual("web", "192.0.2.10", [server("a", "10.1.0.1")])))
    proc = _run("-c", str(path), "--nodaemon", "--socket", str(tmp_path / "s.sock"), "--socket-group", "")
    assert proc.returncode == 1
    assert "cannot program IPVS: no IPVS in this kernel (is the ip_vs module loaded?)" in proc.stderr
