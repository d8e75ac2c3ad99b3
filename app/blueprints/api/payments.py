"""API: online payments through Razorpay — orders, payment reads, the webhook, payouts (DESIGN.md §9).

Members create orders for and read only their own loans, accounts, payments and payouts;
anything else answers 404 exactly as a number that does not exist. The webhook is public,
CSRF-exempt (the API blueprint is) and trusted only after its signature check; it answers
quickly and leaves the work to a job.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, after_this_request, g, jsonify, request

from app import jobs
from app.blueprints.api import bp
from app.blueprints.api.auth import api_permission, api_public, current_subject
from app.blueprints.api.common import domain_problem, json_body
from app.blueprints.api.idempotency import idempotent
from app.blueprints.api.openapi import api_doc, integer, money, nullable, obj, ref, schema, string
from app.errors import problem
from app.jobs import payments as payment_jobs
from app.models.payments import PAYMENT_PURPOSES, PAYMENT_STATUSES, PAYOUT_MODES, PAYOUT_STATUSES, Payment, Payout
from app.money import MoneyError, parse_amount, to_json
from app.services import payments
from app.services.access import member_auth, member_id_of
from app.services.common import AuthError, ValidationError, idempotency, notifications, uow
from app.services.common import validators as v
from app.services.ledger import get_entry
from app.settings import setting

PROBLEM = ref("Problem")
ORDER_REQUEST = schema(
    "PaymentOrderRequest",
    obj(
        purpose=string(enum=list(PAYMENT_PURPOSES)),
        loan_no=string("The loan paid (purpose emi)"),
        account_no=string("The savings or RD account credited (purpose deposit, rd)"),
        amount=money(),
        required=["purpose", "amount"],
    ),
)
ORDER = schema(
    "PaymentOrder",
    obj(
        payment_id=string(example="PAY000000001"),
        gateway=string(enum=["razorpay"]),
        gateway_order_id=string(),
        amount=money(),
        currency=string(enum=["INR"]),
        key_id=string("Razorpay key id for Checkout"),
        status=string(enum=list(PAYMENT_STATUSES)),
        required=["payment_id", "gateway", "gateway_order_id", "amount", "currency", "key_id", "status"],
    ),
)
PAYMENT = schema(
    "Payment",
    obj(
        payment_id=string(),
        status=string(enum=list(PAYMENT_STATUSES)),
        amount=money(),
        purpose=string(enum=list(PAYMENT_PURPOSES)),
        entry_no=nullable(string("The journal entry of the credit (null until paid)")),
        gateway_order_id=string(),
        gateway_payment_id=nullable(string()),
        required=["payment_id", "status", "amount", "purpose", "entry_no"],
    ),
)
BENEFICIARY = obj(
    name=string(),
    account_number=string("9 to 18 digits (NEFT, IMPS, RTGS)"),
    ifsc=string("e.g. SBIN0001234"),
    vpa=string("UPI id (mode UPI)"),
    required=["name"],
)
PAYOUT_REQUEST = schema(
    "PayoutRequest",
    obj(
        from_account=string("The member's savings account"),
        amount=money(),
        mode=string(enum=list(PAYOUT_MODES)),
        beneficiary=BENEFICIARY,
        narration=string(),
        otp=string(
            "Members: the 6-digit SMS code, for payouts above the code threshold (PAYOUT_OTP_PAISE; 0 = every "
            "payout). Sent by the first call, which answers 428 otp-required"
        ),
        required=["from_account", "amount", "mode", "beneficiary"],
    ),
)
PAYOUT = schema(
    "Payout",
    obj(
        payout_id=string(example="PO000000001"),
        status=string(enum=list(PAYOUT_STATUSES)),
        amount=money(),
        mode=string(enum=list(PAYOUT_MODES)),
        utr=nullable(string("Bank reference once processed")),
        from_account=string(),
        attempts=integer("Times sent to the gateway"),
        required=["payout_id", "status", "amount", "utr"],
    ),
)


def _amount(data: dict[str, Any]) -> int:
    try:
        return parse_amount(data.get("amount"), field="amount")
    except MoneyError as exc:
        raise ValidationError(str(exc), field="amount") from exc


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{name}: a string.", field=name)
    return (value or "").strip()


def _staff():
    return g.api_user if member_id_of(current_subject()) is None else None


def payment_json(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.payment_id,
        "status": payment.status,
        "amount": to_json(payment.amount_paise),
        "purpose": payment.purpose,
        "entry_no": get_entry(payment.entry_id).number if payment.entry_id else None,
        "gateway_order_id": payment.gateway_order_id,
        "gateway_payment_id": payment.gateway_payment_id,
    }


def payout_json(payout: Payout) -> dict[str, Any]:
    return {
        "payout_id": payout.payout_id,
        "status": payout.status,
        "amount": to_json(payout.amount_paise),
        "mode": payout.mode,
        "utr": payout.utr,
        "from_account": payout.account.account_no,
        "attempts": payout.attempts,
    }


@bp.post("/v1/payments/orders")
@api_doc(
    "Create a payment order (Razorpay)",
    tags=["payments"],
    description="An order at the gateway to pay an EMI (loan_no), an RD instalment or a deposit into SB "
    "(account_no). Members: their own loans and accounts only (others answer 404). Open Razorpay Checkout "
    "with key_id and gateway_order_id; the credit happens once the payment is verified or its webhook arrives.",
    request=ORDER_REQUEST,
    responses={201: ("The order", ORDER), 503: "The gateway did not answer; try again"},
)
@api_permission("payments.create", allow_members=True)
@idempotent
def payment_order_create() -> tuple[Response, int]:
    data = json_body()
    purpose = _text(data, "purpose")
    number = _text(data, "loan_no" if purpose == "emi" else "account_no")
    req = payments.OrderRequest(purpose=purpose, number=number, amount_paise=_amount(data))
    payment = payments.create_order(current_subject(), req, by=_staff())
    uow.commit()
    body = {
        "payment_id": payment.payment_id,
        "gateway": "razorpay",
        "gateway_order_id": payment.gateway_order_id,
        "amount": to_json(payment.amount_paise),
        "currency": payment.currency,
        "key_id": payments.gateway.current().key_id,
        "status": payment.status,
    }
    return jsonify(body), 201


@bp.get("/v1/payments/<payment_id>")
@api_doc("Read a payment", tags=["payments"], responses={200: ("The payment", PAYMENT), 404: "No such payment"})
@api_permission("payments.view", allow_members=True)
def payment_read(payment_id: str) -> Response:
    return jsonify(payment_json(payments.get_payment(current_subject(), payment_id)))


@bp.post("/v1/payments/webhook")
@api_doc(
    "Razorpay webhook",
    tags=["payments"],
    description="Razorpay's event JSON. X-Razorpay-Signature is the hex HMAC-SHA256 of the raw body with the "
    "webhook secret; X-Razorpay-Event-Id is unique per event (a repeat changes nothing). Answers quickly; the "
    "work is done by a job.",
    request=obj(event=string(), payload=obj(), required=["event"]),
    responses={
        200: ("Accepted", obj(status=string(enum=["accepted", "duplicate"]), required=["status"])),
        400: "Bad or missing signature, or not an event; nothing changed",
    },
)
@api_public
def payment_webhook() -> Response:
    raw = request.get_data(cache=True)
    row, new = payments.receive(
        raw, request.headers.get("X-Razorpay-Signature"), request.headers.get("X-Razorpay-Event-Id")
    )
    uow.commit()
    if new:
        jobs.enqueue(payment_jobs.process_webhook, row.id)
    return jsonify({"status": "accepted" if new else "duplicate"})


def _payout_request(data: dict[str, Any]) -> payments.PayoutRequest:
    return payments.PayoutRequest(
        from_account=_text(data, "from_account"),
        amount_paise=_amount(data),
        mode=_text(data, "mode").upper(),
        beneficiary=data.get("beneficiary"),
        narration=_text(data, "narration") or None,
    )


def _code_problem(login, amount_paise: int) -> Response:
    """Send the payout code (purpose ``payout``, as the portal) and answer 428: repeat with ``otp``."""
    member_auth.issue_otp(login, "payout")
    uow.commit()
    notifications.dispatch()
    threshold = int(setting("PAYOUT_OTP_PAISE"))
    which = "Every payout needs" if threshold <= 0 else f"Payouts above {to_json(threshold)} need"
    return problem(
        428,
        "Code required",
        f"{which} the code we sent by SMS to {v.mask_mobile(login.mobile)}. Send the same request again "
        'with "otp": "<code>" and the same Idempotency-Key.',
        type_="otp-required",
        otp_required=True,
        amount=to_json(amount_paise),
    )


def member_code(view: Callable) -> Callable:
    """A member's payout above ``PAYOUT_OTP_PAISE`` needs the SMS code of purpose ``payout``.

    Outside ``@idempotent`` so that a sent code and a wrong attempt are kept (the idempotent
    wrapper rolls back every refusal); a completed key is passed through to be replayed.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        subject = current_subject()
        if subject.kind != "member":
            return view(*args, **kwargs)
        key = idempotency.validate_key(request.headers.get("Idempotency-Key"))
        done = idempotency.find(subject.scope, key)
        if done is not None and done.response_status is not None:
            return view(*args, **kwargs)  # a retry: @idempotent answers the stored payout
        data = json_body()
        req = _payout_request(data)
        payments.check_request(subject, req)  # a bad request is refused before any code is sent
        if not payments.code_needed(req.amount_paise):
            return view(*args, **kwargs)
        login = subject.entity
        code = str(data.get("otp") or "").strip()
        if not code:
            return _code_problem(login, req.amount_paise)
        try:
            member_auth.check_code(login, "payout", code)
        except AuthError as exc:
            uow.commit()  # the wrong attempt is counted
            return domain_problem(exc)
        uow.commit()  # the code is spent, whatever the payout's fate
        return view(*args, **kwargs)

    return wrapper


@bp.post("/v1/payouts")
@api_doc(
    "Send money out (NEFT, IMPS, UPI, RTGS)",
    tags=["payments"],
    description="From the member's savings to an outside bank account (name, account_number, ifsc) or a UPI id "
    "(name, vpa). The amount leaves the account at once; a reversal or failure returns it once. Staff payouts "
    "above the approval threshold wait for a checker (pending_approval). A member's payout above the code "
    "threshold (`PAYOUT_OTP_PAISE`; 0, the default, means every payout, as in the portal) takes two calls: the "
    "first sends a 6-digit SMS code and answers 428 `otp-required` (problem+json, `otp_required: true`); repeat "
    "the same request with `otp` and the same `Idempotency-Key`. A wrong code answers 401 and is counted (after "
    "`MEMBER_OTP_MAX_ATTEMPTS` the code dies); a code is spent once used.",
    request=PAYOUT_REQUEST,
    responses={
        202: ("The payout, accepted", PAYOUT),
        401: ("Wrong or expired SMS code (members)", PROBLEM),
        428: ("An SMS code is needed; it was sent (members)", PROBLEM),
    },
)
@api_permission("payments.create", allow_members=True)
@member_code
@idempotent
def payout_create() -> tuple[Response, int]:
    req = _payout_request(json_body())
    payout = payments.create_payout(current_subject(), req, by=_staff())
    uow.commit()
    if payout.status == "queued":
        pk = payout.id

        @after_this_request
        def _send(response: Response) -> Response:  # after the commit: the debit is saved before sending
            if response.status_code == 202:
                jobs.enqueue(payment_jobs.send_payout, pk)
            return response

    return jsonify(payout_json(payout)), 202


@bp.get("/v1/payouts/<payout_id>")
@api_doc("Read a payout", tags=["payments"], responses={200: ("The payout", PAYOUT), 404: "No such payout"})
@api_permission("payments.view", allow_members=True)
def payout_read(payout_id: str) -> Response:
    return jsonify(payout_json(payments.get_payout(current_subject(), payout_id)))
