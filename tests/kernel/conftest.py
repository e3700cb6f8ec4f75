"""Kernel tier: real IPVS inside User-Mode Linux. Skips with the reason when UML or root is missing."""

import pytest

from tests.kernel.uml import available


def pytest_collection_modifyitems(config, items):
    reason = available()
    if reason:
        for item in items:
            if "tests/kernel/" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))
