"""Helpers shared by the HTML blueprints: full page or HTMX partial, toasts, form errors, retries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import Flask, Response, make_response, render_template, request
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from app.services.common import DomainError, uow


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


def select_choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms ``SelectChoice`` options (raw tuples are deprecated in 3.3)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


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


# ---------------------------------------------------------------- retrying unsafe requests

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
VIEW_ATTEMPTS = 3


def _handles_its_own_retries(view: Callable) -> bool:
    """Views that already retry (``@idempotent`` API routes, or already wrapped)."""
    seen = view
    while seen is not None:
        if getattr(seen, "_idempotent", False) or getattr(seen, "_retrying", False):
            return True
        seen = getattr(seen, "__wrapped__", None)
    return False


def retrying_view(view: Callable) -> Callable:
    """Re-run a whole view for an unsafe request on a serialisation failure or deadlock.

    On PostgreSQL a unit of work may fail with 40001/40P01 (ADR 0003). For POST/PUT/
    PATCH/DELETE the view runs through the one unit-of-work runner (``uow.run`` with
    ``commit=False``: the view commits itself through ``uow.commit()``): rolled back and run
    again from the start, up to ``VIEW_ATTEMPTS`` times; the last failure propagates (a 500,
    nothing saved). Safe methods run once. Sealing the audit chain after a commit never
    raises (see ``uow.seal_after_commit``), so committed work is never re-run.
    """
    if _handles_its_own_retries(view):
        return view

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method in SAFE_METHODS:
            return view(*args, **kwargs)
        return uow.run(
            lambda: view(*args, **kwargs),
            attempts=VIEW_ATTEMPTS,
            commit=False,
            label=f"{request.method} {request.path}",
        )

    wrapper._retrying = True  # type: ignore[attr-defined]
    return wrapper


def install_view_retries(app: Flask) -> None:
    """Wrap every registered view with ``retrying_view`` (called once by ``create_app``)."""
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = retrying_view(view)
