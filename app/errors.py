"""Error handlers: HTML pages for browsers, RFC 7807 problem+json under /api/."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.security import is_htmx_request, login_redirect, request_actor
from app.services.common import DomainError

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://sahakari.example/problems/"


def problem(
    status: int, title: str, detail: str = "", *, type_: str | None = None, errors: dict | None = None, **extra
) -> Response:
    """An RFC 7807 application/problem+json response."""
    body = {
        "type": PROBLEM_BASE + (type_ or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_problem() -> bool:
    return request.path.startswith("/api/")


def _audit_csrf_failure(exc: CSRFError) -> None:
    """Record a refused CSRF check as a security event (its own small unit of work).

    Auditing must never turn the 400 into a 500, so a failure to write is only logged.
    """
    from app.extensions import db
    from app.services.common import audit, uow

    try:
        db.session.rollback()
        audit.record(
            "security.csrf_failed",
            after={
                "method": request.method,
                "path": request.path[:200],
                "reason": (exc.description or "")[:200],
                "referrer": (request.referrer or "")[:200] or None,
            },
            actor=request_actor(),  # the CSRF check runs before the request's actor is set
        )
        uow.commit()
    except Exception:  # pragma: no cover - the database being down must not hide the 400
        db.session.rollback()
        log.exception("could not audit a CSRF failure on %s", request.path)


def init_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        from app.extensions import db

        db.session.rollback()
        if wants_problem():
            return problem(exc.status, exc.title, exc.message, type_=exc.type, errors=exc.errors)
        return render_template("errors/error.html", code=exc.status, title=exc.title, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        _audit_csrf_failure(exc)
        if wants_problem():
            return problem(400, "CSRF token missing or invalid", exc.description, type_="csrf")
        return render_template(
            "errors/error.html",
            code=400,
            title="Session expired",
            message="The form was missing its security token or it has expired. Reload the page and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        response = _http_response(exc)
        for name, value in exc.get_headers():  # e.g. Allow on 405, Retry-After on 429
            if name.lower() != "content-type":
                response.headers.setdefault(name, value)
        return response

    def _http_response(exc: HTTPException) -> Response:
        if wants_problem():
            return problem(exc.code or 500, exc.name, exc.description or "")
        if exc.code == 401 and is_htmx_request():
            return login_redirect()  # htmx: navigate to sign-in instead of a failed swap
        messages = {
            401: "Please sign in to continue.",
            403: "Your role does not allow this action.",
            404: "We could not find that page.",
            429: "Too many attempts. Please wait a minute and try again.",
        }
        code = exc.code or 500
        page = render_template(
            "errors/error.html", code=code, title=exc.name, message=messages.get(code, exc.description)
        )
        return Response(page, status=code, mimetype="text/html")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from app.extensions import db

        db.session.rollback()
        log.exception("unhandled error on %s", request.path)
        if app.config.get("TESTING") and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        if wants_problem():
            return problem(500, "Internal Server Error", "Something went wrong; nothing was changed.")
        return render_template(
            "errors/error.html",
            code=500,
            title="Something went wrong",
            message="Nothing was changed. Please try again; if it keeps happening, tell your administrator.",
        ), 500
