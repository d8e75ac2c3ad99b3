"""Member portal: pay an EMI online (Razorpay Checkout) and send money out (NEFT, IMPS, UPI).

Pay: the member names an amount for their own loan, we create a payment order and open the
checkout page — Razorpay's checkout.js, allowed by the CSP on that page only; its return is
verified server-side (signature + a fetch) before anything is credited; the webhook may come
first, the credit happens once either way. With no Razorpay keys (the sandbox gateway) the
page offers a development-only "pay" button that sends a correctly signed webhook to the
app; it answers 404 in production.
"""

from __future__ import annotations

import time

from flask import Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import jobs
from app.blueprints.portal import bp
from app.blueprints.portal.forms import CodeForm
from app.blueprints.portal.messages import amount_paise, translate
from app.blueprints.portal.routes import pending_step
from app.extensions import db
from app.jobs import payments as payment_jobs
from app.models.payments import PAYOUT_MODES
from app.permissions import member_required
from app.security import checkout_csp
from app.services import access, loans, payments
from app.services.access import member_auth
from app.services.common import DomainError, NotFound, notifications, uow
from app.services.common import validators as v
from app.web import apply_domain_error, render

SB_KINDS = ("savings", "current")
PAYOUT_KEY = "portal_payout"
PAYOUT_FIELDS = ("from_account", "mode", "name", "account_number", "ifsc", "vpa", "amount", "narration")


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


def _payout_request(form: dict) -> payments.PayoutRequest:
    """The member's payout as asked, with the field checks that need no posting (ValidationError)."""
    mode = form["mode"].upper()
    ben = (
        {"name": form["name"], "vpa": form["vpa"]}
        if mode == "UPI"
        else {"name": form["name"], "account_number": form["account_number"], "ifsc": form["ifsc"]}
    )
    payments.clean_beneficiary(mode, ben)
    return payments.PayoutRequest(
        form["from_account"], amount_paise(form["amount"]), mode, ben, form["narration"] or None
    )


def _send_page(form: dict, error: str | None) -> Response:
    accounts = [a for a in access.visible_accounts(current_user, kinds=SB_KINDS) if a.status == "active"]
    return render(
        "portal/pay_send.html",
        accounts=accounts,
        form=form,
        modes=PAYOUT_MODES,
        error=error,
        status=422 if error else 200,
    )


@bp.route("/send-money", methods=["GET", "POST"])
@member_required
def send_money() -> Response:
    """Money out of the society (NEFT, IMPS, UPI): checked here, then confirmed by an SMS code."""
    form = {k: (request.form.get(k) or "").strip() for k in PAYOUT_FIELDS}
    if request.method != "POST":
        return _send_page(form, None)
    try:
        asked = _payout_request(form)
        member_auth.issue_otp(current_user, "payout")
    except DomainError as exc:
        uow.commit()  # a refused code request is counted
        return _send_page(form, translate(exc.message))
    session[PAYOUT_KEY] = {"form": form, "amount_paise": asked.amount_paise, "at": time.time()}
    uow.commit()
    notifications.dispatch()
    return redirect(url_for("portal.send_money_confirm"))


@bp.route("/send-money/confirm", methods=["GET", "POST"])
@member_required
def send_money_confirm() -> Response:
    """The SMS code for a payout; then the SB is debited and the payout queued."""
    pending = pending_step(PAYOUT_KEY)
    if pending is None:
        flash(_("Please start the payment again."), "warning")
        return redirect(url_for("portal.send_money"))
    code = CodeForm()
    if code.validate_on_submit():
        try:
            member_auth.check_code(current_user, "payout", code.code.data)
        except DomainError as exc:
            uow.commit()
            apply_domain_error(code, exc)
        else:
            return _create_payout(pending["form"])
    return render(
        "portal/pay_confirm.html",
        form=code,
        pending=pending["form"],
        amount=int(pending["amount_paise"]),
        masked=v.mask_mobile(current_user.mobile),
        status=422 if request.method == "POST" else 200,
    )


def _create_payout(form: dict) -> Response:
    session.pop(PAYOUT_KEY, None)
    try:
        payout = payments.create_payout(current_user, _payout_request(form))
    except DomainError as exc:
        db.session.rollback()  # nothing of the refused payout stays (the member starts again with a new code)
        return _send_page(form, translate(exc.message))
    uow.commit()
    if payout.status == "queued":
        jobs.enqueue(payment_jobs.send_payout, payout.id)  # after the commit: the debit is saved first
    return redirect(url_for("portal.send_money_status", payout_id=payout.payout_id))


@bp.get("/send-money/<payout_id>")
@member_required
def send_money_status(payout_id: str) -> Response:
    try:
        payout = payments.get_payout(current_user, payout_id)
    except NotFound:
        abort(404)
    return render("portal/pay_sent.html", payout=payout)
