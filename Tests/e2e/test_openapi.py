"""The served OpenAPI document is valid OpenAPI 3.1 (checked by openapi-spec-validator)."""
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
import pytest


def test_openapi_document_is_valid_openapi_3_1(server):
    status, document, headers = server.json("GET", "/openapi.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises with the first violation
    # Needs no token: clients fetch it before they can log in.
    assert document["paths"]["/openapi.json"]["get"]["security"] == []


def test_the_validator_rejects_a_broken_document(server):
    # Guards the test above against a validator that accepts anything.
    _, document, _ = server.json("GET", "/openapi.json")
    document["paths"]["/health"]["get"]["parameters"] = [{"name": "x", "in": "nowhere", "schema": {}}]
    with pytest.raises(OpenAPIValidationError):
        validate(document)
