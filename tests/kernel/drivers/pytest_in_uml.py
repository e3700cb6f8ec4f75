"""Run pytest on the given test files inside UML with the kernel IPVS backend selected."""

import os
import sys

import pytest

if __name__ == "__main__":
    os.environ["PIRANHA_IPVS_BACKEND"] = "kernel"
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-o", "timeout=200", *sys.argv[1:]]))
