"""The committed Sources/OCPP/Generated matches what Scripts/generate_ocpp.py makes from the
installed `ocpp` package's schemas: regenerate into a temporary folder and compare."""
import filecmp
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "Sources" / "OCPP" / "Generated"


@pytest.mark.skipif(importlib.util.find_spec("ocpp") is None, reason="the ocpp package is not installed")
def test_generated_sources_match_the_schemas(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "Scripts" / "generate_ocpp.py"), "--output", str(tmp_path)], check=True, capture_output=True
    )
    fresh = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.swift"))
    committed = sorted(str(path.relative_to(COMMITTED)) for path in COMMITTED.rglob("*.swift"))
    assert fresh == committed, "generated files added or removed: run Scripts/generate_ocpp.py"
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, COMMITTED, fresh, shallow=False)
    assert not mismatch and not errors, f"generated files differ: {mismatch + errors}; run Scripts/generate_ocpp.py"
