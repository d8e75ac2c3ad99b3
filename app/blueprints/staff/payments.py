"""Staff screens: online payments — the payments list (filters, each payment's history), events to
resolve (mismatches, unknown orders: a remark marks one resolved), the payouts queue; the
reconciliation screen is ``payments_recon`` on the same blueprint.

Views are thin: parse, call one payments service function, render the page or (HTMX) its
partial. Large payouts are approved on the approvals screen (kind ``payments.payout``).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from app import navigation
from app.blueprints.staff import bp
from app.extensions import db
from app.models.payments import PAYMENT_PURPOSES, PAYMENT_STATUSES, PAYOUT_STATUSES
from app.navigation import NavItem
from app.permissions import permission_required
from app.services import payments
from app.services.common import Conflict, DomainError, NotFound, uow
from app.web import is_htmx, render, toast

navigation.add(NavItem("Payments", "staff.payments", "payments.view"), before="ledger.index")


def _filters() -> dict[str, str]:
    return {
        "status": request.args.get("status", "") if request.args.get("status") in PAYMENT_STATUSES else "",
        "purpose": request.args.get("purpose", "") if request.args.get("purpose") in PAYMENT_PURPOSES else "",
        "member_no": (request.args.get("member_no") or "").strip().upper()[:20],
    }


@bp.get("/staff/payments", endpoint="payments")
@permission_required("payments.view")
def payments_list() -> Response:
    f = _filters()
    rows = payments.orders.payments(
        status=f["status"] or None, purpose=f["purpose"] or None, member_no=f["member_no"] or None
    )
    return render(
        "staff/payments/index.html",
        "staff/payments/_list.html",
        rows=rows,
        f=f,
        statuses=PAYMENT_STATUSES,
        purposes=PAYMENT_PURPOSES,
        attention=len(payments.attention_events()),
    )


@bp.get("/staff/payments/<payment_id>", endpoint="payment_detail")
@permission_required("payments.view")
def payment_detail(payment_id: str) -> Response:
    try:
        payment = payments.get_payment(current_user, payment_id)
    except NotFound:
        abort(404)
    return render("staff/payments/detail.html", **_payment_attention(payment))


def _payment_attention(payment: Any, **refusal: Any) -> dict[str, Any]:
    """The payment's events that need (or needed) staff: unresolved with the resolve form, resolved with who."""
    flagged = [e for e in payment.events if e.needs_attention]
    return {"payment": payment, "flagged": flagged, **_refusal(**refusal)}


def _attention_context(**refusal: Any) -> dict[str, Any]:
    return {"events": payments.attention_events(), "resolved": payments.resolved_events(), **_refusal(**refusal)}


def _refusal(errors: dict | None = None, remarks: dict | None = None, notice: str | None = None) -> dict[str, Any]:
    """A refused resolve: the message by the event's form (``errors``), the remark kept, or a ``notice`` above."""
    return {"errors": errors or {}, "remarks": remarks or {}, "notice": notice}


@bp.get("/staff/payments-attention", endpoint="payments_attention")
@permission_required("payments.view")
def payments_attention() -> Response:
    return render("staff/payments/attention.html", "staff/payments/_attention.html", **_attention_context())


@bp.post("/staff/payments-attention/<int:event_id>/resolve", endpoint="payment_event_resolve")
@permission_required("payments.resolve")
def payment_event_resolve(event_id: int) -> Response:
    """Record how a mismatch or unknown event was settled (remark required, at most 255 characters)."""
    remark = request.form.get("remark", "")
    back = (request.form.get("back") or "").strip()
    payment = None
    if back:
        try:
            payment = payments.get_payment(current_user, back)
        except NotFound:
            abort(404)
    try:
        row = payments.resolve_event(event_id, by=current_user, remark=remark)
    except NotFound:
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        refusal = {"errors": {event_id: exc.message}, "remarks": {event_id: remark[:1000]}}
        if isinstance(exc, Conflict):  # already resolved: its form is gone, so say it above the lists
            refusal = {"notice": exc.message}
        if payment is not None:
            response = render("staff/payments/detail.html", "staff/payments/_payment_attention.html",
                              status=exc.status, **_payment_attention(payment, **refusal))  # fmt: skip
        else:
            response = render("staff/payments/attention.html", "staff/payments/_attention.html",
                              status=exc.status, oob=is_htmx(), **_attention_context(**refusal))  # fmt: skip
        return toast(response, exc.message, "error")
    uow.commit()
    message = f"Event #{row.id} resolved."
    if not is_htmx():
        flash(message, "success")
        if payment is not None:
            return redirect(url_for("staff.payment_detail", payment_id=payment.payment_id))
        return redirect(url_for("staff.payments_attention"))
    if payment is not None:
        response = render("staff/payments/_payment_attention.html", **_payment_attention(payment))
    else:
        response = render("staff/payments/_attention.html", oob=True, **_attention_context())
    return toast(response, message)


@bp.get("/staff/payouts", endpoint="payouts")
@permission_required("payments.view")
def payouts_queue() -> Response:
    status = request.args.get("status", "") if request.args.get("status") in PAYOUT_STATUSES else ""
    rows = payments.payouts.payouts(status=status or None)
    return render(
        "staff/payments/payouts.html",
        "staff/payments/_payouts.html",
        rows=rows,
        current=status,
        statuses=PAYOUT_STATUSES,
    )


@bp.post("/staff/payments-reconcile", endpoint="payments_reconcile")
@permission_required("payments.resolve")
def payments_reconcile() -> Response:
    """The payouts page's "Reconcile now": the same pass as the reconciliation screen's button."""
    return payments_recon.run_now(partial="staff/payments/_reconcile.html")


from app.blueprints.staff import payments_recon  # noqa: E402  (the reconciliation screen, same blueprint)
