"""The committed Sources/OCPP/Generated matches what Scripts/generate_ocpp.py makes from the
installed `ocpp` package's schemas: regenerate into a temporary folder and compare."""
import filecmp
import importlib.util
import json
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


def _generator():
    spec = importlib.util.spec_from_file_location("generate_ocpp", ROOT / "Scripts" / "generate_ocpp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _write_schemas(folder, files):
    schemas = folder / "v201" / "schemas"
    schemas.mkdir(parents=True)
    for name, definitions in files.items():
        properties = {definition[0].lower() + definition[1:]: {"$ref": f"#/definitions/{definition}"} for definition in definitions}
        request = {"type": "object", "additionalProperties": False, "properties": properties, "definitions": definitions}
        (schemas / f"{name}Request.json").write_text(json.dumps(request))
        (schemas / f"{name}Response.json").write_text(json.dumps({"type": "object", "properties": {}}))


def test_definitions_are_shared_only_when_identical(tmp_path):
    """Identical up to documentation → once, at version level; one name with two schemas → nested in
    each action, and so is every definition referring to it."""
    generator = _generator()
    unit = {"type": "string", "enum": ["A", "W"]}
    point = {"type": "object", "additionalProperties": False, "properties": {"unit": {"$ref": "#/definitions/UnitEnumType"}}}
    status_one = {"type": "string", "enum": ["Accepted", "Rejected"]}
    status_two = {"type": "string", "enum": ["Accepted", "Unknown"]}
    _write_schemas(tmp_path, {
        "First": {"UnitEnumType": unit, "PointType": point, "StatusEnumType": status_one},
        "Second": {"UnitEnumType": {**unit, "description": "other words"}, "PointType": point, "StatusEnumType": status_two},
    })
    files = generator.generate_version(tmp_path, "v201", "OCPP201", "ocpp2.0.1", "Request")
    shared = files["OCPP201/OCPP201+Types.swift"]
    assert "public enum UnitEnumType" in shared and "public struct PointType" in shared
    assert "StatusEnumType" not in shared
    for action in ("First", "Second"):
        source = files[f"OCPP201/OCPP201+{action}.swift"]
        assert "enum StatusEnumType" in source, "a name with two schemas stays in each action"
        assert "enum UnitEnumType" not in source and "struct PointType" not in source
        assert "public var pointType: PointType" in source

    # PointType refers to a definition whose schemas differ: it stays nested too.
    _write_schemas(tmp_path / "conflict", {
        "First": {"UnitEnumType": unit, "PointType": point},
        "Second": {"UnitEnumType": {**unit, "enum": ["A"]}, "PointType": point},
    })
    files = generator.generate_version(tmp_path / "conflict", "v201", "OCPP201", "ocpp2.0.1", "Request")
    assert "OCPP201/OCPP201+Types.swift" not in files
    for action in ("First", "Second"):
        source = files[f"OCPP201/OCPP201+{action}.swift"]
        assert "enum UnitEnumType" in source and "struct PointType" in source
