"""Small helpers shared by the API views: JSON bodies, problem responses for domain errors."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request

from app.errors import problem
from app.services.common import DomainError, ValidationError


def domain_problem(exc: DomainError) -> Response:
    """The RFC 7807 response for a domain error (same shape as the app-wide handler)."""
    return problem(exc.status, exc.title, exc.message, type_=exc.type, errors=exc.errors)


def json_body() -> dict[str, Any]:
    """The request's JSON object; a 400 problem when the body is not a JSON object."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(
            problem(
                400,
                "Malformed request",
                "Send a JSON object in the request body with Content-Type: application/json.",
                type_="malformed-request",
            )
        )
    return data


def require_str(data: dict[str, Any], *names: str, max_length: int = 200) -> list[str]:
    """The named string fields, stripped; ValidationError (422) listing every missing one."""
    values: list[str] = []
    errors: dict[str, list[str]] = {}
    for name in names:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = ["This field is required."]
        elif len(value) > max_length:
            errors[name] = [f"At most {max_length} characters."]
        else:
            values.append(value.strip() if name not in {"password"} else value)
    if errors:
        raise ValidationError(f"Check the field(s): {', '.join(errors)}.", errors=errors)
    return values


def client_ip() -> str | None:
    """The caller's address as the app sees it (behind a proxy, configure ProxyFix)."""
    return request.remote_addr


def user_agent() -> str | None:
    """The caller's User-Agent header."""
    return request.user_agent.string or None
