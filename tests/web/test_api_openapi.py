"""The OpenAPI document matches the URL map; Swagger UI is served under its own CSP."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify

from app.blueprints.api.auth import api_permission, api_public
from app.blueprints.api.idempotency import idempotent
from app.blueprints.api.openapi import api_doc, money, obj, openapi_path, schema
from app.permissions import PUBLIC

IGNORED = {"HEAD", "OPTIONS"}


def _register_sample_routes(app) -> None:
    """Test-only routes exercising path parameters, permissions and idempotency in the document."""
    bp = Blueprint("test_openapi", __name__)
    thing = schema("TestThing", obj(amount=money(), required=["amount"]))

    @bp.post("/api/v1/test/<int:item_id>/things/<name>")
    @api_doc("Make a thing", tags=["test"], request=thing, responses={201: ("The thing", thing)})
    @api_permission("transfers.create")
    @idempotent
    def make_thing(item_id, name):
        return jsonify({}), 201

    @bp.get("/api/v1/test/plain")
    @api_public
    def plain():  # no @api_doc: still listed
        return jsonify({})

    app.register_blueprint(bp)


def url_map_operations(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED:
            found.add((path, method.lower()))
    return found


def doc_operations(doc) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item}


def test_document_lists_exactly_the_api_v1_routes(app, client):
    _register_sample_routes(app)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    doc = response.get_json()
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] and doc["info"]["version"]
    expected = url_map_operations(app)
    assert {("/api/v1/auth/login", "post"), ("/api/v1/me", "get"), ("/api/v1/openapi.json", "get")} <= expected
    assert doc_operations(doc) == expected
    assert "/api/docs" not in doc["paths"]
    operation_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_path_parameters_security_and_idempotency_are_derived(app, client):
    _register_sample_routes(app)
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/test/{item_id}/things/{name}"]["post"]
    params = {(p["name"], p["in"]): p for p in op["parameters"]}
    assert params[("item_id", "path")]["schema"] == {"type": "integer"}
    assert params[("name", "path")]["schema"] == {"type": "string"}
    assert params[("Idempotency-Key", "header")]["required"] is True
    assert op["security"] == [{"bearerAuth": []}]
    assert op["x-permission"] == "transfers.create"
    assert set(op["x-roles"]) == {"clerk", "cashier", "manager"}
    assert {"201", "400", "401", "403", "409", "422"} <= set(op["responses"])
    assert op["responses"]["409"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TestThing"}
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"

    login = doc["paths"]["/api/v1/auth/login"]["post"]
    assert login["security"] == []
    assert {"200", "400", "401", "403", "422", "429"} <= set(login["responses"])
    assert login["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LoginRequest"
    }
    assert "429" in login["responses"]
    assert doc["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert doc["paths"]["/api/v1/test/plain"]["get"]["summary"] == "plain"


def test_every_reference_resolves(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    refs = set(re.findall(r'"\$ref":\s*"#/components/schemas/([^"]+)"', str(doc).replace("'", '"')))
    assert refs and refs <= set(doc["components"]["schemas"])
    for name in ("TokenPair", "OtpChallenge", "RefreshRequest", "Problem"):
        assert name in doc["components"]["schemas"]


def test_public_views_are_marked_public(app):
    for endpoint in ("api.openapi_document", "api.swagger_ui", "api.login", "api.otp", "api.refresh", "api.logout"):
        assert app.view_functions[endpoint]._permission == PUBLIC


def test_openapi_path_conversion():
    assert openapi_path("/api/v1/loans/<loan_no>/schedule")[0] == "/api/v1/loans/{loan_no}/schedule"
    path, params = openapi_path("/api/v1/x/<int:a>/<path:b>/<uuid:c>")
    assert path == "/api/v1/x/{a}/{b}/{c}"
    assert [p["schema"]["type"] for p in params] == ["integer", "string", "string"]


def test_swagger_ui_page_uses_the_cdn_under_its_own_csp(app, client):
    cdn = app.config["SWAGGER_UI_URL"].rstrip("/")
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f'src="{cdn}/swagger-ui-bundle.js"' in page
    assert f'href="{cdn}/swagger-ui.css"' in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    assert 'src="/static/js/swagger-init.js"' in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []  # no inline script

    csp = dict(
        part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";") if part.strip()
    )
    assert f"{cdn}/" in csp["script-src"].split()
    assert f"{cdn}/" in csp["style-src"].split()
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["default-src"] == "'self'"

    init = client.get("/static/js/swagger-init.js")
    assert init.status_code == 200 and b"SwaggerUIBundle" in init.data and b"data-spec-url" in init.data
    init.close()

    # Other pages keep the strict policy without the Swagger CDN.
    other = client.get("/api/v1/openapi.json").headers["Content-Security-Policy"]
    assert cdn not in other
