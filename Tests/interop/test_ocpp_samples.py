"""The sample payloads Tests/OCPPTests round-trips through the generated Swift types
(Tests/interop/ocpp_samples) are valid by the official schemas the `ocpp` package ships, and the
1.6 samples set every property of every message somewhere, so the Swift round trip exercises every
generated field."""
import importlib.util
import json
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent / "ocpp_samples"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ocpp") is None, reason="the ocpp package is not installed")


def _schema_folder(version):
    spec = importlib.util.find_spec("ocpp")
    return Path(list(spec.submodule_search_locations)[0]) / version / "schemas"


def _schema(version, action, kind):
    suffix = {"v16": {"request": "", "response": "Response"}, "v201": {"request": "Request", "response": "Response"}}
    return json.loads((_schema_folder(version) / f"{action}{suffix[version][kind]}.json").read_text(encoding="utf-8"))


def _samples(version):
    return json.loads((SAMPLES / f"{version}.json").read_text(encoding="utf-8"))


def _resolve(node, definitions):
    while "$ref" in node:
        node = definitions[node["$ref"].split("/")[-1]]
    return node


def _paths(node, definitions, prefix=""):
    """Every property path a schema declares (`meterValue[].sampledValue[].unit`)."""
    node = _resolve(node, definitions)
    found = set()
    if node.get("type") == "object":
        for name, child in node.get("properties", {}).items():
            found.add(prefix + name)
            found |= _paths(child, definitions, prefix + name + ".")
    elif node.get("type") == "array":
        found |= _paths(node["items"], definitions, prefix.rstrip(".") + "[].")
    return found


def _present(value, prefix=""):
    """Every property path a payload sets."""
    found = set()
    if isinstance(value, dict):
        for name, child in value.items():
            found.add(prefix + name)
            found |= _present(child, prefix + name + ".")
    elif isinstance(value, list):
        for item in value:
            found |= _present(item, prefix.rstrip(".") + "[].")
    return found


@pytest.mark.parametrize("version", ["v16", "v201"])
def test_samples_are_valid_by_the_official_schemas(version):
    jsonschema = pytest.importorskip("jsonschema")
    for action, pair in _samples(version).items():
        for kind in ("request", "response"):
            schema = _schema(version, action, kind)
            validator = jsonschema.validators.validator_for(schema)(schema)
            errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(pair[kind])]
            assert not errors, f"{version} {action} {kind}: {errors}"


def test_every_16_action_has_a_sample_setting_every_property():
    samples = _samples("v16")
    actions = sorted(path.name[: -len(".json")] for path in _schema_folder("v16").glob("*.json") if not path.name.endswith("Response.json"))
    assert sorted(samples) == actions
    for action in actions:
        for kind in ("request", "response"):
            schema = _schema("v16", action, kind)
            missing = _paths(schema, schema.get("definitions", {})) - _present(samples[action][kind])
            assert not missing, f"{action} {kind}: no sample sets {sorted(missing)}"
