"""Issue 15, item 5: the OpenAPI document says what the API answers (nulls and status codes).

Before: 24 response fields declared non-null came back null (``closed_on``, ``status_reason``,
``guardian``, ``email``, ``rejection_reason`` ...), 409 on ``kyc/reject`` and 422 on the
calculators were undocumented, and the 400 of refused input was documented nowhere.
"""

from __future__ import annotations

import pytest

from app.blueprints.api.openapi import build_document


@pytest.fixture
def document(app):
    with app.test_request_context():
        return build_document(app)


def _component(document, name):
    return document["components"]["schemas"][name]


def _response_schema_names(document) -> set[str]:
    names = set()
    for operations in document["paths"].values():
        for op in operations.values():
            for status, response in op["responses"].items():
                if not status.startswith("2"):
                    continue
                for media in response.get("content", {}).values():
                    ref = media["schema"].get("$ref", "")
                    if ref:
                        names.add(ref.rsplit("/", 1)[-1])
    return names


def _property(document, field: str) -> list[tuple[str, dict]]:
    """Every (schema name, property) of that name in the component schemas."""
    found = []
    for name, definition in document["components"]["schemas"].items():
        prop = definition.get("properties", {}).get(field)
        if prop is not None:
            found.append((name, prop))
    return found


@pytest.mark.parametrize("field", ["closed_on", "status_reason", "guardian", "email", "rejection_reason"])
def test_fields_that_can_be_null_are_declared_nullable(document, field):
    used_by_responses = _response_schema_names(document)
    found = [(name, prop) for name, prop in _property(document, field) if name in used_by_responses]
    assert found, f"no response schema declares {field}"
    for name, prop in found:
        assert prop.get("nullable") is True, f"{name}.{field} may be null but is not declared nullable"


def test_required_response_fields_stay_non_nullable(document):
    problem = _component(document, "Problem")
    assert all("nullable" not in prop for prop in problem["properties"].values() if prop.get("type") != "object")
    token_pair = _component(document, "TokenPair")
    assert "nullable" not in token_pair["properties"]["access_token"]


def test_request_schemas_are_left_as_declared(document):
    login = _component(document, "LoginRequest")
    assert all("nullable" not in prop for prop in login["properties"].values())


def test_kyc_reject_documents_409(document):
    assert "409" in document["paths"]["/api/v1/members/{member_no}/kyc/reject"]["post"]["responses"]


@pytest.mark.parametrize("kind", ["emi", "fd", "rd"])
def test_calculators_document_their_inputs_and_422(document, kind):
    op = document["paths"][f"/api/v1/calculators/{kind}"]["get"]
    assert "422" in op["responses"]
    assert {p["name"] for p in op["parameters"] if p["in"] == "query"} >= {"annual_rate", "months"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("Result")


def test_every_operation_documents_400_and_authenticated_ones_401_403(document):
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            assert "400" in op["responses"], f"{method} {path}: refused input (400) undocumented"
            if op["security"]:
                assert {"401", "403"} <= op["responses"].keys(), f"{method} {path}"
            if "{" in path:
                assert "404" in op["responses"], f"{method} {path}"
            if method == "post" and "requestBody" in op:
                assert {"413", "422"} <= op["responses"].keys(), f"{method} {path}"


def test_login_documents_its_rate_limit(document):
    assert "429" in document["paths"]["/api/v1/auth/login"]["post"]["responses"]
