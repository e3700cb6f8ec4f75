"""Fixtures shared by the nanny tests."""

import pytest

from . import servers


@pytest.fixture(autouse=True)
def _release_refusing_ports():
    """Close the sockets that kept closed_port() ports refusing, after every test."""
    yield
    servers.release_held()
