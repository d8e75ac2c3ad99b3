"""Staff screens: the maker-checker approval queue (pending, my requests, recently decided).

The approval service decides who may approve what (``approvals.can_decide``: maker ≠
checker, per-kind permission); this screen and the templates ask it, then forward decisions. Decisions are
inline HTMX posts that swap the request's row and raise a toast; without JavaScript they
are plain form posts that redirect back to the queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app import navigation
from app.auth_loader import current_staff
from app.blueprints.staff import bp
from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import UTC, utcnow
from app.models.users import StaffUser
from app.navigation import NavItem
from app.pagination import paginate
from app.permissions import has_permission, permission_required
from app.services.common import DomainError, approvals, uow
from app.web import is_htmx, render, toast

navigation.add(NavItem("Approvals", "staff.approvals", "approvals.view"), before="ledger.index")

TABS = {"pending": "Pending", "mine": "My requests", "decided": "Recently decided"}


def kind_label(kind: str) -> str:
    """The human label of an approval kind (its code when no handler is registered)."""
    handler = approvals.HANDLERS.get(kind)
    return handler.label if handler else kind


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago ``moment`` was, compactly: ``45 s``, ``12 min``, ``3 h``, ``2 d``."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def pending_counts(user: Any) -> dict[str, int]:
    """Pending requests in total, and how many of them ``user`` may decide."""
    rows = db.session.execute(
        select(ApprovalRequest.kind, ApprovalRequest.maker_id, func.count())
        .where(ApprovalRequest.status == "pending")
        .group_by(ApprovalRequest.kind, ApprovalRequest.maker_id)
    ).all()
    total = sum(n for _kind, _maker, n in rows)
    mine = 0
    if has_permission(user, "approvals.decide"):
        for kind, maker_id, n in rows:
            if approvals.can_decide(ApprovalRequest(kind=kind, maker_id=maker_id, status="pending"), user):
                mine += n
    return {"pending": total, "for_me": mine}


@bp.app_context_processor
def _approval_globals() -> dict[str, Any]:
    return {
        "approval_counts": lambda: pending_counts(current_user),
        "can_decide": lambda req: approvals.can_decide(req, current_user),
    }


def _query(tab: str, kind: str | None, user: StaffUser) -> Select:
    stmt = select(ApprovalRequest).options(selectinload(ApprovalRequest.maker), selectinload(ApprovalRequest.checker))
    if tab == "mine":
        stmt = stmt.where(ApprovalRequest.maker_id == user.id).order_by(ApprovalRequest.id.desc())
    elif tab == "decided":
        stmt = stmt.where(ApprovalRequest.status != "pending").order_by(
            ApprovalRequest.decided_at.desc(), ApprovalRequest.id.desc()
        )
    else:
        stmt = stmt.where(ApprovalRequest.status == "pending").order_by(ApprovalRequest.id)
    if kind:
        stmt = stmt.where(ApprovalRequest.kind == kind)
    return stmt


def _row_context() -> dict[str, Any]:
    from app.services.ledger import reports as ledger_reports

    return {
        "kind_label": kind_label,
        "decidable": lambda req: approvals.can_decide(req, current_user),
        "age": age,
        "gl_names": ledger_reports.gl_names(),
    }


def _page(error: str | None = None, status: int = 200) -> Response:
    tab = request.args.get("tab", "pending")
    tab = tab if tab in TABS else "pending"
    kind = request.args.get("kind") or None
    try:
        page_no = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_no = 1
    page = paginate(_query(tab, kind, current_staff()), page_no)
    return render(
        "staff/approvals.html",
        status=status,
        page=page,
        tab=tab,
        tabs=TABS,
        kind=kind,
        kinds=sorted((k, h.label) for k, h in approvals.HANDLERS.items()),
        counts=pending_counts(current_user),
        error=error,
        **_row_context(),
    )


@bp.get("/staff/approvals", endpoint="approvals")
@permission_required("approvals.view")
def approvals_queue():
    """The approval queue: pending requests, my requests, recently decided."""
    return _page()


def _result_text(req: ApprovalRequest) -> str:
    result = req.result or {}
    if result.get("entry_no"):
        return f" — posted {result['entry_no']}"
    if result.get("gl"):
        return f" — GL {result['gl']}"
    return ""


def _decide(request_id: int, action: str) -> Response:
    req = approvals.get(request_id)  # NotFound → 404
    me = current_staff()
    note = (request.form.get("note") or "").strip()
    try:
        if action == "approve":
            approvals.approve(req.id, checker=me, note=note or None)
            message = f"Request #{req.id} approved{_result_text(req)}."
        elif action == "reject":
            approvals.reject(req.id, checker=me, note=note)
            message = f"Request #{req.id} rejected."
        else:
            approvals.cancel(req.id, maker=me)
            message = f"Request #{req.id} withdrawn."
        uow.commit()
    except DomainError as exc:
        db.session.rollback()
        return _refused(request_id, exc)
    if is_htmx():
        response = render("staff/_approval_row.html", req=approvals.get(request_id), row_error=None, **_row_context())
        return toast(response, message)
    flash(message, "success")
    return redirect(url_for("staff.approvals", tab=request.args.get("tab", "pending")))


def _refused(request_id: int, exc: DomainError) -> Response:
    """The refusal (403 maker/role, 409 already decided, 422 missing reason) in the row and a toast."""
    if not is_htmx():
        return _page(error=exc.message, status=exc.status)
    response = render(
        "staff/_approval_row.html",
        status=exc.status,
        req=approvals.get(request_id),
        row_error=exc.message,
        **_row_context(),
    )
    return toast(response, exc.message, "error")


@bp.post("/staff/approvals/<int:request_id>/approve")
@permission_required("approvals.decide")
def approval_approve(request_id: int):
    """Approve a request (and carry out its action); the maker cannot approve their own."""
    return _decide(request_id, "approve")


@bp.post("/staff/approvals/<int:request_id>/reject")
@permission_required("approvals.decide")
def approval_reject(request_id: int):
    """Reject a request with a reason."""
    return _decide(request_id, "reject")


@bp.post("/staff/approvals/<int:request_id>/cancel")
@permission_required("approvals.view")
def approval_cancel(request_id: int):
    """The maker withdraws their own pending request."""
    return _decide(request_id, "cancel")
