"""Maker-checker: sensitive actions become pending requests that another user approves.

A domain registers a kind with the permission a checker needs and the function that
carries the action out. ``approve`` runs that function in the checker's unit of work; if
it raises, nothing is saved and the request stays pending.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import utcnow
from app.models.users import StaffUser
from app.permissions import PERMISSIONS

from . import audit
from .errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError


@dataclass(frozen=True)
class Handler:
    kind: str
    label: str
    permission: str
    execute: Callable[[ApprovalRequest, StaffUser], dict | None]


HANDLERS: dict[str, Handler] = {}


def register(
    kind: str, *, label: str, permission: str, execute: Callable[[ApprovalRequest, StaffUser], dict | None]
) -> None:
    """Declare an approvable action (called once at import time by each domain service)."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)
    HANDLERS[kind] = Handler(kind, label, permission, execute)


def submit(
    kind: str,
    payload: dict[str, Any],
    *,
    maker: StaffUser | None,
    summary: str,
    entity: tuple[str, Any] | None = None,
    amount_paise: int | None = None,
) -> ApprovalRequest:
    """Create a pending request (the caller commits); ``maker`` None: a member asked (portal).

    ``entity`` is ``(entity_type, entity_id)`` of what the request is about, when it is about one thing.
    """
    entity_type, entity_id = entity if entity is not None else (None, None)
    if kind not in HANDLERS:
        raise ValidationError(f"Unknown approval kind {kind!r}.")
    req = ApprovalRequest(
        kind=kind,
        status="pending",
        summary=summary[:255],
        payload=payload,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        amount_paise=amount_paise,
        maker_id=maker.id if maker is not None else None,
        created_at=utcnow(),
    )
    db.session.add(req)
    db.session.flush()
    audit.record(
        "approval.submit", "approval_request", req.id, after={"kind": kind, "summary": req.summary, "payload": payload}
    )
    return req


def get(request_id: int) -> ApprovalRequest:
    req = db.session.get(ApprovalRequest, request_id)
    if req is None:
        raise NotFound("No such approval request.")
    return req


def refusal(req: ApprovalRequest, user: StaffUser) -> DomainError | None:
    """Why ``user`` may not approve or reject ``req`` now (None when they may).

    The one rule, asked by the service, the queues and the templates alike: the request is
    pending, its kind is registered, the decider is not its maker, and the decider's role
    holds the kind's permission.
    """
    handler = HANDLERS.get(req.kind)
    if handler is None:
        return ValidationError(f"Unknown approval kind {req.kind!r}.")
    if req.status != "pending":
        return Conflict(f"This request is already {req.status}.")
    if req.maker_id == user.id:
        return PermissionDenied("You made this request; a different user must approve or reject it.")
    if user.role not in PERMISSIONS[handler.permission]:
        return PermissionDenied(f"Your role cannot decide '{handler.label}' requests.")
    return None


def can_decide(req: ApprovalRequest, user: StaffUser) -> bool:
    """Whether ``user`` may approve or reject ``req`` (see ``refusal``)."""
    return getattr(user, "id", None) is not None and refusal(req, user) is None


def _check_decider(req: ApprovalRequest, checker: StaffUser) -> Handler:
    problem = refusal(req, checker)
    if problem is not None:
        raise problem
    return HANDLERS[req.kind]


def approve(request_id: int, *, checker: StaffUser, note: str | None = None) -> ApprovalRequest:
    """Approve and carry out a pending request (maker ≠ checker)."""
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update())
    if req is None:
        raise NotFound("No such approval request.")
    handler = _check_decider(req, checker)
    result = handler.execute(req, checker)
    req.status = "approved"
    req.checker_id = checker.id
    req.decided_at = utcnow()
    req.decision_note = note
    req.result = result
    audit.record(
        "approval.approve",
        "approval_request",
        req.id,
        before={"status": "pending"},
        after={"status": "approved", "kind": req.kind, "result": result, "note": note},
    )
    return req


def reject(request_id: int, *, checker: StaffUser, note: str) -> ApprovalRequest:
    """Reject a pending request; a reason is required."""
    if not (note or "").strip():
        raise ValidationError("Give a reason for rejecting.", field="note")
    req = get(request_id)
    _check_decider(req, checker)
    req.status = "rejected"
    req.checker_id = checker.id
    req.decided_at = utcnow()
    req.decision_note = note.strip()
    audit.record(
        "approval.reject",
        "approval_request",
        req.id,
        before={"status": "pending"},
        after={"status": "rejected", "note": req.decision_note},
    )
    return req


def cancel(request_id: int, *, maker: StaffUser) -> ApprovalRequest:
    """The maker withdraws their own pending request."""
    req = get(request_id)
    if req.maker_id != maker.id:
        raise PermissionDenied("Only the maker can withdraw a request.")
    if req.status != "pending":
        raise Conflict(f"This request is already {req.status}.")
    req.status = "cancelled"
    req.decided_at = utcnow()
    audit.record(
        "approval.cancel", "approval_request", req.id, before={"status": "pending"}, after={"status": "cancelled"}
    )
    return req


def pending(kind_prefix: str | None = None) -> list[ApprovalRequest]:
    stmt = select(ApprovalRequest).where(ApprovalRequest.status == "pending").order_by(ApprovalRequest.id)
    if kind_prefix:
        stmt = stmt.where(ApprovalRequest.kind.startswith(kind_prefix))
    return list(db.session.scalars(stmt))
