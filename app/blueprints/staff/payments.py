"""Staff screens: online payments — the payments list (filters, each payment's history), events to
resolve (mismatches, unknown orders), the payouts queue, and reconciliation.

Views are thin: parse, call one payments service function, render the page or (HTMX) its
partial. Large payouts are approved on the approvals screen (kind ``payments.payout``).
"""

from __future__ import annotations

from flask import Response, abort, request
from flask_login import current_user

from app import navigation
from app.blueprints.staff import bp
from app.models.payments import PAYMENT_PURPOSES, PAYMENT_STATUSES, PAYOUT_STATUSES
from app.navigation import NavItem
from app.permissions import permission_required
from app.services import payments
from app.services.common import DomainError, NotFound, uow
from app.web import render, toast

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
    return render("staff/payments/detail.html", payment=payment)


@bp.get("/staff/payments-attention", endpoint="payments_attention")
@permission_required("payments.view")
def payments_attention() -> Response:
    return render("staff/payments/attention.html", events=payments.attention_events())


@bp.post("/staff/payments-attention/<int:event_id>/resolve", endpoint="payment_event_resolve")
@permission_required("payments.resolve")
def payment_event_resolve(event_id: int) -> Response:
    try:
        row = payments.resolve_event(event_id, by=current_user, remark=request.form.get("remark", ""))
    except NotFound:
        abort(404)
    except DomainError as exc:
        response = render(
            "staff/payments/_event_row.html", ev=payments.history.get_event(event_id), error=exc.message, status=422
        )
        return response
    uow.commit()
    return toast(render("staff/payments/_event_row.html", ev=row, error=None), "Marked resolved.")


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
    result = uow.run(payments.reconcile.run, label="payments reconciliation")
    return toast(
        render("staff/payments/reconcile.html", "staff/payments/_reconcile.html", result=result),
        f"Reconciled: {result.orders_credited} credited, {result.payouts_settled} payouts settled.",
    )
