"""Typed domain errors. Views turn them into form errors or RFC 7807 problems."""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation; nothing was written."""

    status = 422
    type = "domain-error"
    title = "The request was refused"

    def __init__(self, message: str, *, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: [message]} if field else {})


class ValidationError(DomainError):
    status = 422
    type = "validation-error"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    type = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    type = "conflict"
    title = "Conflict"


class PermissionDenied(DomainError):
    status = 403
    type = "forbidden"
    title = "Forbidden"


class AuthError(DomainError):
    status = 401
    type = "unauthorized"
    title = "Authentication failed"
