import sys
from pathlib import Path

import pytest

# The interop suite drives the same real binary as the end-to-end suite.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from harness import temporary_data_dir  # noqa: E402


@pytest.fixture
def data_dir():
    yield from temporary_data_dir()
