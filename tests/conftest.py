"""Shared by every tier: skip reasons for tiers that need root or tools, so a developer sees why."""

import os
import shutil

import pytest


def require_root_and_tools(*tools: str) -> None:
    """Skip the calling module unless running as root with every tool on PATH (CI runs as root with all)."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces); CI runs this tier as root", allow_module_level=True)
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (scripts/test installs them)", allow_module_level=True)
