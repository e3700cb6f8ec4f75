"""The IPVS contract suite of tests/unit/ipvs, run against the real kernel's IPVS inside User-Mode Linux."""

import pytest

from tests.kernel.uml import run_driver

pytestmark = pytest.mark.slow


def test_contract_suite_passes_against_the_kernel(tmp_path):
    result = run_driver("tests/kernel/drivers/pytest_in_uml.py", tmp_path, "tests/unit/ipvs/test_contract.py",
                        timeout=240)
    assert result.exit_status == 0, result.log
    assert " passed" in result.log and "skipped" not in result.log, result.log
