"""Member portal: pay an EMI online (Razorpay Checkout) and send money out (NEFT, IMPS, UPI).

Pay: the member names an amount for their own loan, we create a payment order and open the
checkout page — Razorpay's checkout.js, allowed by the CSP on that page only; its return is
verified server-side (signature + a fetch) before anything is credited; the webhook may come
first, the credit happens once either way. With no Razorpay keys (the sandbox gateway) the
page offers a development-only "pay" button that sends a correctly signed webhook to the
app; it answers 404 in production.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import jobs
from app.blueprints.portal import bp
from app.blueprints.portal.messages import amount_paise, translate
from app.jobs import payments as payment_jobs
from app.models.payments import PAYOUT_MODES
from app.permissions import member_required
from app.security import checkout_csp
from app.services import access, loans, payments
from app.services.common import DomainError, NotFound, uow
from app.web import render

SB_KINDS = ("savings", "current")


def _own_payment(payment_id: str):
    try:
        return payments.get_payment(current_user, payment_id)
    except NotFound:
        abort(404)


def _sandbox_allowed() -> bool:
    return payments.is_sandbox() and current_app.config.get("ENV_NAME") != "production"


@bp.route("/loans/<loan_no>/pay", methods=["GET", "POST"])
@member_required
def pay_emi(loan_no: str) -> Response:
    try:
        account = access.visible_loan(current_user, loan_no)
    except NotFound:
        abort(404)
    loan = loans.get_loan(account.account_no)
    summary = loans.summary(loan)
    error, raw = None, request.form.get("amount") if request.method == "POST" else None
    if request.method == "POST":
        try:
            req = payments.OrderRequest("emi", loan.loan_no, amount_paise(raw))
            payment = payments.create_order(current_user, req)
        except DomainError as exc:
            error = translate(exc.message)
        else:
            uow.commit()
            return redirect(url_for("portal.pay_checkout", payment_id=payment.payment_id))
    default = summary.next_due_paise if summary.next_due_date else 0
    return render(
        "portal/pay_emi.html",
        loan=loan,
        summary=summary,
        error=error,
        amount=raw,
        default=default,
        status=422 if error else 200,
    )


@bp.get("/pay/<payment_id>")
@member_required
def pay_checkout(payment_id: str) -> Response:
    payment = _own_payment(payment_id)
    sandbox = payments.is_sandbox()
    if not sandbox and payment.status == "created":
        g.csp = checkout_csp(current_app)  # checkout.js from Razorpay on this page only
    return render(
        "portal/pay_checkout.html",
        payment=payment,
        sandbox=sandbox,
        sandbox_allowed=_sandbox_allowed(),
        key_id=payments.gateway.current().key_id,
    )


@bp.post("/pay/<payment_id>/return")
@member_required
def pay_return(payment_id: str) -> Response:
    payment = _own_payment(payment_id)
    try:
        payments.verify_return(
            payment,
            razorpay_order_id=request.form.get("razorpay_order_id", ""),
            razorpay_payment_id=request.form.get("razorpay_payment_id", ""),
            razorpay_signature=request.form.get("razorpay_signature", ""),
        )
    except DomainError as exc:
        flash(translate(exc.message), "danger")
    else:
        uow.commit()
    return redirect(url_for("portal.pay_checkout", payment_id=payment.payment_id))


@bp.post("/pay/<payment_id>/sandbox")
@member_required
def pay_sandbox(payment_id: str) -> Response:
    """Development only: "pay" a sandbox order — the sandbox captures it and a signed webhook is sent to the app."""
    if not _sandbox_allowed():
        abort(404)
    payment = _own_payment(payment_id)
    if payment.status == "created":
        captured = payments.gateway.sandbox().capture(payment.gateway_order_id)
        body, headers = payments.signed_event("payment.captured", {"payment": {"entity": captured}})
        uow.commit()  # nothing of ours is open while the webhook runs in its own context
        answer = current_app.test_client().post(url_for("api.payment_webhook"), data=body, headers=headers)
        if answer.status_code != 200:
            flash(_("The sandbox webhook was refused (%(code)s).", code=answer.status_code), "danger")
    return redirect(url_for("portal.pay_checkout", payment_id=payment_id))


@bp.route("/send-money", methods=["GET", "POST"])
@member_required
def send_money() -> Response:
    accounts = [a for a in access.visible_accounts(current_user, kinds=SB_KINDS) if a.status == "active"]
    form = {
        k: (request.form.get(k) or "").strip()
        for k in ("from_account", "mode", "name", "account_number", "ifsc", "vpa", "amount", "narration")
    }
    error = None
    if request.method == "POST":
        mode = form["mode"].upper()
        ben = (
            {"name": form["name"], "vpa": form["vpa"]}
            if mode == "UPI"
            else {"name": form["name"], "account_number": form["account_number"], "ifsc": form["ifsc"]}
        )
        try:
            req = payments.PayoutRequest(
                form["from_account"], amount_paise(form["amount"]), mode, ben, form["narration"] or None
            )
            payout = payments.create_payout(current_user, req)
        except DomainError as exc:
            error = translate(exc.message)
        else:
            uow.commit()
            if payout.status == "queued":
                jobs.enqueue(payment_jobs.send_payout, payout.id)  # after the commit: the debit is saved first
            return redirect(url_for("portal.send_money_status", payout_id=payout.payout_id))
    return render(
        "portal/pay_send.html",
        accounts=accounts,
        form=form,
        modes=PAYOUT_MODES,
        error=error,
        status=422 if error else 200,
    )


@bp.get("/send-money/<payout_id>")
@member_required
def send_money_status(payout_id: str) -> Response:
    try:
        payout = payments.get_payout(current_user, payout_id)
    except NotFound:
        abort(404)
    return render("portal/pay_sent.html", payout=payout)
