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


def _write_v16(folder, request, response=None):
    """One 1.6 action `Sample` (and `SetChargingProfile`/`StopTransaction` when named so) in a schema folder."""
    schemas = folder / "v16" / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    for name, schema in request.items():
        (schemas / f"{name}.json").write_text(json.dumps(schema))
        (schemas / f"{name}Response.json").write_text(json.dumps(response or {"type": "object", "properties": {}}))


def _object(properties, required=(), closed=True):
    schema = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def test_schema_shapes_become_the_expected_swift(tmp_path):
    generator = _generator()
    request = _object({
        "idTag": {"type": "string", "maxLength": 20},
        "note": {"type": "string"},
        "connectorId": {"type": "integer", "minimum": 1},
        "limit": {"type": "number", "minimum": 0, "multipleOf": 0.1},
        "timestamp": {"type": "string", "format": "date-time"},
        "flag": {"type": "boolean"},
        "unit": {"type": "string", "enum": ["Wh", "kWh", "L1-N"]},
        "keys": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 4},
        "points": {"type": "array", "minItems": 2, "items": _object({"value": {"type": "string"}}, ["value"], closed=False)},
    }, ["idTag", "connectorId", "points"])
    _write_v16(tmp_path, {"Sample": request})
    source = generator.generate_version(tmp_path, "v16", "OCPP16", "ocpp1.6", "")["OCPP16/OCPP16+Sample.swift"]
    for expected in [
        'idTag = try object.string("idTag", maxLength: 20)',
        'note = try object.optionalValue("note")',
        'connectorId = try object.int("connectorId", minimum: 1)',
        'limit = try object.optionalDouble("limit", minimum: 0, multipleOf: 0.1)',
        "public var timestamp: OCPPDateTime?",
        "public var flag: Bool?",
        'case l1N = "L1-N"',
        'keys = try object.optionalStringArray("keys", maxLength: 50, maxItems: 4)',
        'points = try object.array("points", minItems: 2)',
        "try object.check(known: Self.known, required: Self.required)",
        # The items of `points` are open: their extra members are kept.
        "try object.check(known: nil, required: Self.required)",
        "public var extra: JSONObject",
    ]:
        assert expected in source, expected


def test_overrides_are_applied(tmp_path):
    generator = _generator()
    period = _object({"startPeriod": {"type": "integer"}, "limit": {"type": "number"}}, ["startPeriod", "limit"])
    schedule = _object({"chargingRateUnit": {"type": "string", "enum": ["A", "W"]},
                        "chargingSchedulePeriod": {"type": "array", "items": period}}, ["chargingRateUnit", "chargingSchedulePeriod"])
    sample = _object({"value": {"type": "string"}, "unit": {"type": "string", "enum": ["Wh", "Celcius"]}}, ["value"])
    stop = _object({
        "reason": {"type": "string", "enum": ["Local", "Remote"]},
        "transactionData": {"type": "array", "items": _object({"sampledValue": {"type": "array", "items": sample}}, ["sampledValue"])},
    }, ["reason"])
    _write_v16(tmp_path, {"SetChargingProfile": _object({"connectorId": {"type": "integer"}, "schedule": schedule}, ["connectorId", "schedule"]),
                          "StopTransaction": stop})
    files = generator.generate_version(tmp_path, "v16", "OCPP16", "ocpp1.6", "")
    profile = files["OCPP16/OCPP16+SetChargingProfile.swift"]
    assert 'chargingSchedulePeriod = try object.array("chargingSchedulePeriod", minItems: 1)' in profile
    assert 'limit = try object.double("limit", minimum: 0, multipleOf: 0.1)' in profile
    assert 'startPeriod = try object.int("startPeriod", minimum: 0)' in profile
    assert 'connectorId = try object.int("connectorId", minimum: 0)' in profile
    stop_source = files["OCPP16/OCPP16+StopTransaction.swift"]
    assert 'reason = try object.optionalValue("reason")' in stop_source
    assert 'sampledValue = try object.array("sampledValue", minItems: 1)' in stop_source
    assert 'case celsius = "Celsius"' in stop_source and 'case celcius = "Celcius"' in stop_source


@pytest.mark.parametrize("node, complaint", [
    ({"type": "string", "pattern": "^[A-Z]+$"}, "pattern"),
    ({"type": "string", "minLength": 1}, "minLength"),
    ({"type": "integer", "maxLength": 5}, "maxLength"),
    ({"type": "integer", "multipleOf": 5}, "multipleOf"),
    ({"type": "integer", "exclusiveMinimum": 0}, "exclusiveMinimum"),
    ({"type": "string", "format": "date-time", "minimum": 0}, "minimum"),
    ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "uniqueItems"),
    ({"type": "array", "items": [{"type": "string"}]}, "one item schema"),
    ({"type": "object", "properties": {}, "minItems": 1}, "minItems"),
    ({"type": "object", "properties": {}, "additionalProperties": {"type": "string"}}, "additionalProperties"),
    ({"type": "integer", "enum": [1, 2]}, "enumeration"),
    ({"$ref": "#/definitions/Other", "maxLength": 3}, "maxLength"),
    ({"type": "string", "format": "email"}, "format"),
    ({"type": ["string", "null"]}, "type"),
    ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "oneOf"),
])
def test_a_keyword_the_generator_would_drop_stops_it(tmp_path, node, complaint):
    """Never a silently missing constraint: a keyword the generator does not turn into code, or one
    where it would have no effect, is an error naming it."""
    generator = _generator()
    _write_v16(tmp_path, {"Sample": _object({"field": node})})
    with pytest.raises(generator.SchemaError, match=complaint):
        generator.generate_version(tmp_path, "v16", "OCPP16", "ocpp1.6", "")
