"""OpenAPI 3.0.3 for /api/v1, built from ``app.url_map``, and Swagger UI at /api/docs.

Each API view describes itself with ``@api_doc`` (put it directly under the route decorator)::

    DEPOSIT = schema("Deposit", obj(amount=money(), mode=string(enum=["cash", "transfer"]),
                                    narration=string(), required=["amount", "mode"]))

    @bp.post("/v1/accounts/<account_no>/deposit")
    @api_doc("Cash or transfer deposit", tags=["accounts"], request=DEPOSIT,
             responses={201: ("The posted transaction", TRANSACTION)})
    @api_permission("teller.operate")
    @idempotent
    def deposit(account_no): ...

The document is derived from the URL map, so it lists exactly the routes that exist: path
parameters (``<x>`` → ``{x}``), methods, bearer security from the view's permission, the
``Idempotency-Key`` header for ``@idempotent`` views and the standard problem responses
(400/401/403/404/409/413/422/429) are filled in automatically. Undocumented views still
appear, with their endpoint name as the summary (``document_endpoint`` describes a view
from here when its module does not).

One rule about ``null`` holds for every response: a property that a response schema does
not list in ``required`` may be absent *or* null (``closed_on`` of an open account, the
``email`` of a member without one); ``build_document`` marks those properties nullable in
every schema a response uses, so the document says what the API sends. Request schemas are
left as declared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, url_for
from markupsafe import escape

from app.blueprints.api import bp
from app.blueprints.api.auth import api_public
from app.permissions import PERMISSIONS, PUBLIC
from app.security import build_csp

API_PREFIX = "/api/v1/"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
BODY_METHODS = {"POST", "PUT", "PATCH"}
_RULE_ARG = re.compile(r"<(?:(?P<conv>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_CONVERTER_TYPES = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}

# ---------------------------------------------------------------- schema helpers

#: Named component schemas, filled by ``schema()`` at import time of the route modules.
SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "RFC 7807 problem details.",
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "description": "Field errors: field name → messages.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        "required": ["type", "title", "status", "detail"],
    }
}


def schema(name: str, definition: dict[str, Any]) -> dict[str, str]:
    """Register a named component schema and return a ``$ref`` to it."""
    if name in SCHEMAS and SCHEMAS[name] != definition:
        raise ValueError(f"OpenAPI schema {name!r} is already registered with another definition")
    SCHEMAS[name] = definition
    return ref(name)


def ref(name: str) -> dict[str, str]:
    """A ``$ref`` to a registered component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(*, required: Sequence[str] = (), description: str = "", **properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema: ``obj(name=string(), age=integer(), required=["name"])``."""
    out: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    if required:
        out["required"] = list(required)
    if description:
        out["description"] = description
    return out


def string(description: str = "", **extra: Any) -> dict[str, Any]:
    """A string schema (``enum=``, ``format=``, ``pattern=``, ``example=`` pass through)."""
    return {"type": "string", **({"description": description} if description else {}), **extra}


def integer(description: str = "", **extra: Any) -> dict[str, Any]:
    """An integer schema."""
    return {"type": "integer", **({"description": description} if description else {}), **extra}


def boolean(description: str = "", **extra: Any) -> dict[str, Any]:
    """A boolean schema."""
    return {"type": "boolean", **({"description": description} if description else {}), **extra}


def array(items: dict[str, Any], description: str = "") -> dict[str, Any]:
    """An array schema."""
    return {"type": "array", "items": items, **({"description": description} if description else {})}


def money(description: str = "Amount in rupees, a string with two decimals") -> dict[str, Any]:
    """Money on the wire: a string with two decimals, never a JSON number (DESIGN.md §4)."""
    return {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "8884.88", "description": description}


def date(description: str = "") -> dict[str, Any]:
    """An ISO date (YYYY-MM-DD)."""
    return string(description, format="date", example="2025-04-01")


def nullable(definition: dict[str, Any]) -> dict[str, Any]:
    """``definition`` that may also be null (a required property that can be null)."""
    return {**definition, "nullable": True}


# ---------------------------------------------------------------- the decorator


@dataclass
class Operation:
    """What a view says about itself for the OpenAPI document."""

    summary: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    request: dict[str, Any] | None = None
    request_content_type: str = "application/json"
    responses: dict[int, Any] = field(default_factory=dict)
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    rate_limited: bool = False


def api_doc(
    summary: str,
    *,
    tags: Sequence[str] = (),
    description: str = "",
    request: dict[str, Any] | None = None,
    request_content_type: str = "application/json",
    responses: Mapping[int, Any] | None = None,
    query: Mapping[str, dict[str, Any]] | None = None,
    rate_limited: bool = False,
) -> Callable[[Callable], Callable]:
    """Describe an API view for /api/v1/openapi.json.

    ``responses`` maps a status to a schema, to ``(description, schema)`` or to a description
    alone (no body). ``query`` maps query parameter names to schemas (add ``"required": True``
    inside a schema to make the parameter required).
    """
    operation = Operation(
        summary=summary,
        description=description,
        tags=list(tags),
        request=request,
        request_content_type=request_content_type,
        responses=dict(responses or {}),
        query=dict(query or {}),
        rate_limited=rate_limited,
    )

    def decorator(view: Callable) -> Callable:
        view._openapi = operation  # type: ignore[attr-defined]
        return view

    return decorator


#: Descriptions of views whose module does not describe them itself, by endpoint name.
ENDPOINT_DOCS: dict[str, Operation] = {}


def document_endpoint(endpoint: str, summary: str, **kwargs: Any) -> None:
    """Describe the view ``endpoint`` (same arguments as ``api_doc``); its own ``@api_doc`` wins."""
    ENDPOINT_DOCS[endpoint] = api_doc(summary, **kwargs)(lambda: None)._openapi  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the document


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """Convert a Werkzeug rule to an OpenAPI path and its path parameters."""
    params: list[dict[str, Any]] = []

    def _sub(match: re.Match) -> str:
        name = match.group("name")
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": dict(_CONVERTER_TYPES.get(match.group("conv") or "", {"type": "string"})),
            }
        )
        return "{" + name + "}"

    return _RULE_ARG.sub(_sub, rule), params


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": ref("Problem")}}}


def _response(status: int, spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"description": spec}
    if isinstance(spec, tuple):
        description, body = spec
    else:
        description, body = ("OK" if status < 300 else "Refused"), spec
    media = "application/json" if status < 400 else "application/problem+json"
    return {"description": description, "content": {media: {"schema": body}}}


def _operation(rule: Any, view: Callable, method: str, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    doc: Operation = (
        getattr(view, "_openapi", None)
        or ENDPOINT_DOCS.get(rule.endpoint)
        or Operation(summary=rule.endpoint.rsplit(".", 1)[-1])
    )
    permission = getattr(view, "_permission", None)
    kinds = getattr(view, "_api_kinds", ())
    idempotent = getattr(view, "_idempotent", False)
    op: dict[str, Any] = {"summary": doc.summary, "operationId": f"{rule.endpoint.replace('.', '_')}_{method.lower()}"}
    if doc.description:
        op["description"] = doc.description
    if doc.tags:
        op["tags"] = list(doc.tags)
    params = list(path_params)
    for name, param_schema in doc.query.items():
        param_schema = dict(param_schema)
        required = bool(param_schema.pop("required", False))
        params.append({"name": name, "in": "query", "required": required, "schema": param_schema})
    if idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "Unique per operation; resend the same key only to retry the same request.",
                "schema": {"type": "string", "maxLength": 100},
            }
        )
    if params:
        op["parameters"] = params
    if doc.request is not None and method in BODY_METHODS:
        op["requestBody"] = {"required": True, "content": {doc.request_content_type: {"schema": doc.request}}}

    responses: dict[str, Any] = {str(status): _response(status, spec) for status, spec in sorted(doc.responses.items())}
    if not any(str(s).startswith("2") for s in responses):
        responses["200"] = {"description": "OK"}
    # Every request passes the input hygiene (app/hygiene.py): control characters in the path,
    # query, headers or body, and JSON nested too deeply, are refused with 400.
    extra: dict[int, str] = {400: "Malformed request, or refused input (control characters, JSON nested too deeply)"}
    if doc.request is not None and method in BODY_METHODS:
        extra[400] = "Malformed request body, or refused input (control characters, JSON nested too deeply)"
        extra[409] = "Conflicts with the current state (e.g. already approved, not in a state that allows it)"
        extra[404] = "A record the request names does not exist (or is not yours)"
        extra[413] = "Request body too large"
        extra[422] = "Invalid input (field errors in `errors`)"
    if doc.query:
        extra[422] = "Invalid query parameters (field errors in `errors`)"
    if path_params:
        extra[404] = "Not found (or not yours)"
    if permission != PUBLIC:
        extra[401] = "Missing, expired or invalid access token"
        extra[403] = "The caller may not do this"
        op["security"] = [{"bearerAuth": []}]
        who = ", ".join(kinds) if kinds else "staff"
        op["x-permission"] = permission
        if permission in PERMISSIONS:
            op["x-roles"] = sorted(PERMISSIONS[permission])
        op["description"] = (op.get("description", "") + f"\n\nRequires a bearer token ({who}).").strip()
    else:
        op["security"] = []
    if idempotent:
        extra[400] = "Missing or invalid Idempotency-Key (or malformed body)"
        extra[409] = "Idempotency-Key already used for a different request"
    if doc.rate_limited:
        extra[429] = "Too many attempts; wait and retry"
    for status, description in extra.items():
        responses.setdefault(str(status), _problem(description))
    op["responses"] = dict(sorted(responses.items()))
    return op


def _optional_nullable(definition: Any, components: dict[str, Any], seen: set[str]) -> Any:
    """A copy of a response schema whose non-required properties are nullable (refs followed once)."""
    if isinstance(definition, list):
        return [_optional_nullable(item, components, seen) for item in definition]
    if not isinstance(definition, dict):
        return definition
    target = definition.get("$ref", "")
    if target.startswith("#/components/schemas/"):
        name = target.rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            components[name] = _optional_nullable(components[name], components, seen)
        return definition
    out = {key: _optional_nullable(value, components, seen) for key, value in definition.items()}
    properties = out.get("properties")
    if isinstance(properties, dict):
        required = set(out.get("required", ()))
        for name, prop in properties.items():
            if name not in required and isinstance(prop, dict) and "$ref" not in prop:
                properties[name] = {**prop, "nullable": True}
            elif name not in required and isinstance(prop, dict):
                properties[name] = {"allOf": [prop], "nullable": True}
    return out


def _responses_nullable(paths: dict[str, Any], components: dict[str, Any]) -> None:
    seen: set[str] = {"Problem"}
    for operations in paths.values():
        for op in operations.values():
            for response in op["responses"].values():
                for media in response.get("content", {}).values():
                    media["schema"] = _optional_nullable(media["schema"], components, seen)


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document for every rule under /api/v1 in ``app.url_map``."""
    paths: dict[str, dict[str, Any]] = {}
    tags: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(API_PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        path, path_params = openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            operation = _operation(rule, view, method, path_params)
            tags.update(operation.get("tags", []))
            paths.setdefault(path, {})[method.lower()] = operation
    components = dict(SCHEMAS)
    _responses_nullable(paths, components)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{app.config['SOCIETY_NAME']} API",
            "version": "1.0.0",
            "description": (
                "JSON API for mobile apps. Sign in at /api/v1/auth/login for a short-lived access token "
                "and a rotating refresh token; send `Authorization: Bearer <access_token>`. Errors are "
                "RFC 7807 problem+json. Money is a string with two decimals. Money-moving POSTs need an "
                "`Idempotency-Key` header. In responses, a property that is not required may be null."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in sorted(tags)],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": dict(sorted(components.items())),
        },
    }


# ---------------------------------------------------------------- routes


@bp.get("/v1/openapi.json")
@api_doc("This OpenAPI document", tags=["meta"], responses={200: ("OpenAPI 3.0.3 document", {"type": "object"})})
@api_public
def openapi_document() -> Response:
    """Serve the OpenAPI document built from the live URL map."""
    return jsonify(build_document(current_app))


def swagger_csp(app: Flask) -> str:
    """The docs page's CSP: ours, plus the Swagger UI CDN for scripts and styles.

    Swagger UI sets a few inline styles itself, so this page alone allows inline *styles*;
    scripts stay limited to our origin and the CDN (the init code is a static file).
    """
    cdn = app.config["SWAGGER_UI_URL"].rstrip("/") + "/"
    return build_csp(app, extra_script=cdn, extra_style=f"{cdn} 'unsafe-inline'")


_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{cdn}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}"></div>
<script src="{cdn}/swagger-ui-bundle.js"></script>
<script src="{init}"></script>
</body>
</html>
"""


@bp.get("/docs")
@api_public
def swagger_ui() -> Response:
    """Swagger UI for the API, assets from ``SWAGGER_UI_URL`` (a CDN)."""
    g.csp = swagger_csp(current_app)
    html = _DOCS_PAGE.format(
        title=escape(f"{current_app.config['SOCIETY_NAME']} API"),
        cdn=escape(current_app.config["SWAGGER_UI_URL"].rstrip("/")),
        spec=escape(url_for("api.openapi_document")),
        init=escape(url_for("static", filename="js/swagger-init.js")),
    )
    return current_app.response_class(html, mimetype="text/html")


# ---------------------------------------------------------------- views described from here

_CALC_INPUT = {
    "principal": string("Amount in rupees, e.g. 100000 or 1,00,000.50", example="100000"),
    "annual_rate": string("Interest rate, per cent a year, e.g. 8.5", example="8.5"),
    "months": string("Tenure in whole months", example="12"),
    "start_date": date("First day (default: today)"),
}
_INVALID_INPUT = ("Invalid input (field errors in `errors`)", ref("Problem"))
document_endpoint(
    "api.calculator_emi",
    "EMI calculator (reducing balance)",
    tags=["calculators"],
    query={name: {**spec, "required": name != "start_date"} for name, spec in _CALC_INPUT.items()},
    responses={
        200: (
            "EMI, totals and the schedule",
            schema(
                "EmiResult",
                obj(
                    emi=money(),
                    total_interest=money(),
                    total_payment=money(),
                    schedule=array(
                        obj(
                            installment=integer(),
                            due_date=date(),
                            emi=money(),
                            principal=money(),
                            interest=money(),
                            balance=money(),
                            required=["installment", "due_date", "emi", "principal", "interest", "balance"],
                        )
                    ),
                    required=["emi", "total_interest", "total_payment", "schedule"],
                ),
            ),
        ),
        422: _INVALID_INPUT,
    },
)
document_endpoint(
    "api.calculator_fd",
    "Fixed-deposit maturity calculator",
    tags=["calculators"],
    query={
        "principal": {**_CALC_INPUT["principal"], "required": True},
        "annual_rate": {**_CALC_INPUT["annual_rate"], "required": True},
        "months": _CALC_INPUT["months"],
        "days": string("Further days of tenure", example="0"),
        "start_date": _CALC_INPUT["start_date"],
        "payout": string("cumulative (default), monthly or quarterly"),
    },
    responses={
        200: (
            "Maturity amount, interest and date",
            schema(
                "FdResult",
                obj(
                    maturity_amount=money(),
                    interest=money(),
                    maturity_date=date(),
                    required=["maturity_amount", "interest", "maturity_date"],
                ),
            ),
        ),
        422: _INVALID_INPUT,
    },
)
document_endpoint(
    "api.calculator_rd",
    "Recurring-deposit maturity calculator",
    tags=["calculators"],
    query={
        "installment": {**string("Monthly instalment in rupees", example="1000"), "required": True},
        "annual_rate": {**_CALC_INPUT["annual_rate"], "required": True},
        "months": {**_CALC_INPUT["months"], "required": True},
    },
    responses={
        200: (
            "Maturity amount, total deposited and interest",
            schema(
                "RdResult",
                obj(
                    maturity_amount=money(),
                    total_deposited=money(),
                    interest=money(),
                    required=["maturity_amount", "total_deposited", "interest"],
                ),
            ),
        ),
        422: _INVALID_INPUT,
    },
)
