"""Helpers shared by the HTML blueprints: full page or HTMX partial, toasts, form errors."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, render_template, request
from flask_wtf import FlaskForm

from app.services.errors import DomainError


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def render(template_name: str, partial: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render the full page, or only ``partial`` for an HTMX request; always ``Vary: HX-Request``."""
    template = partial if (partial and is_htmx()) else template_name
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request")
    return response


def toast(response: Response, message: str, level: str = "success", **events: Any) -> Response:
    """Attach a toast (and optional extra client events) through the HX-Trigger header."""
    payload: dict[str, Any] = {"toast": {"message": message, "level": level}}
    payload.update(events)
    response.headers["HX-Trigger"] = json.dumps(payload)
    return response


def apply_domain_error(form: FlaskForm, exc: DomainError) -> None:
    """Show a service's error next to the right field, or at the top of the form."""
    placed = False
    for name, messages in (exc.errors or {}).items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + list(messages)
            placed = True
    if not placed:
        form.form_errors.append(exc.message)  # type: ignore[attr-defined]
