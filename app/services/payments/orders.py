"""Collections: payment orders for an EMI, an RD instalment or a deposit into SB, and the credit.

The credit happens once, from whichever comes first of the verified browser return
(:func:`verify_return`) or the webhook (``webhooks``): both call :func:`credit`, which takes
the payment's row lock, re-reads its status, and posts with the ledger idempotency key
``payment:<payment_id>`` — on PostgreSQL the second caller waits for the first and then sees
``paid``; the key is the backstop. Dr Razorpay clearing / Cr the purpose (a loan repayment is
split by the loans' credit rules: penal, interest, principal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.loans import Loan
from app.models.members import Member
from app.models.payments import PAYMENT_PURPOSES, Payment
from app.models.users import StaffUser

from .. import access, ledger, loans
from ..common import DomainError, NotFound, ValidationError, audit
from ..ledger import coa, kinds
from . import gateway, history

PURPOSE_KINDS = {"emi": ("loan",), "deposit": ("savings", "current"), "rd": ("rd",)}
MAX_ORDER_PAISE = 10_00_000_00  # ₹10 lakh per online payment


@dataclass(frozen=True)
class OrderRequest:
    purpose: str
    number: str  # loan_no or account_no
    amount_paise: int


def _target(subject: Any, req: OrderRequest) -> tuple[Account, Loan | None]:
    if req.purpose not in PAYMENT_PURPOSES:
        raise ValidationError("purpose: emi, deposit or rd.", field="purpose")
    field = "loan_no" if req.purpose == "emi" else "account_no"
    if not (req.number or "").strip():
        raise ValidationError(f"{field}: required.", field=field)
    try:
        account = access.visible_account(subject, req.number, kinds=PURPOSE_KINDS[req.purpose])
    except NotFound:
        raise NotFound(
            f"No {'loan' if req.purpose == 'emi' else 'account'} {req.number.strip().upper()!r}.", field=field
        ) from None
    loan = db.session.scalar(select(Loan).where(Loan.account_id == account.id)) if req.purpose == "emi" else None
    return account, loan


def create_order(subject: Any, req: OrderRequest, *, by: StaffUser | None = None) -> Payment:
    """A payment order at the gateway for the subject's own loan/account (someone else's: NotFound)."""
    account, loan = _target(subject, req)
    if req.amount_paise <= 0:
        raise ValidationError("amount: more than zero.", field="amount")
    if req.amount_paise > MAX_ORDER_PAISE:
        raise ValidationError("amount: at most ₹10,00,000 in one online payment.", field="amount")
    kinds.check_credit(account, req.amount_paise)  # the account must accept it (a closed loan, an RD multiple…)
    payment = Payment(
        payment_id=history.new_payment_id(),
        purpose=req.purpose,
        member_id=loan.member_id if loan is not None else account.member_id,
        loan_id=loan.id if loan is not None else None,
        account_id=account.id,
        amount_paise=req.amount_paise,
        currency="INR",
        status="created",
        created_by_id=by.id if by is not None else None,
    )
    gw = gateway.current()
    payment.gateway = gw.name
    order = gw.create_order(
        req.amount_paise, "INR", payment.payment_id, {"payment_id": payment.payment_id, "purpose": req.purpose}
    )
    payment.gateway_order_id = order["id"]
    db.session.add(payment)
    db.session.flush()
    history.note("order.created", payment=payment, status_to="created", detail={"gateway_order_id": order["id"]})
    audit.record(
        "payment.create",
        "payment",
        payment.payment_id,
        after={"purpose": req.purpose, "account": account.account_no, "amount_paise": req.amount_paise},
    )
    return payment


def get_payment(subject: Any, payment_id: str) -> Payment:
    """The payment numbered ``payment_id`` if the subject may see it (members: their own)."""
    number = (payment_id or "").strip().upper()
    payment = db.session.scalar(select(Payment).where(Payment.payment_id == number)) if number else None
    own = access.member_id_of(subject)
    if payment is None or (own is not None and payment.member_id != own):
        raise NotFound(f"No payment {payment_id!r}.")
    return payment


def by_order(gateway_order_id: str | None) -> Payment | None:
    if not gateway_order_id:
        return None
    return db.session.scalar(select(Payment).where(Payment.gateway_order_id == gateway_order_id))


def credit(
    payment: Payment, *, gateway_payment_id: str | None, amount_paise: int, currency: str, source: str
) -> Payment:
    """Credit the purpose once; a second call (any source) changes nothing. Caller commits."""
    p = history.lock_payment(payment.id)
    if p.status in ("paid", "refunded", "mismatch"):
        history.note(f"{source}.duplicate", payment=p, detail={"gateway_payment_id": gateway_payment_id})
        return p
    if amount_paise != p.amount_paise or (currency or "").upper() != p.currency:
        p.received_paise = amount_paise
        p.gateway_payment_id = gateway_payment_id
        history.move(
            p,
            "mismatch",
            f"{source}.mismatch",
            attention=True,
            detail={"received_paise": amount_paise, "currency": currency, "expected_paise": p.amount_paise},
        )
        return p
    account = db.session.get(Account, p.account_id)
    try:
        kinds.check_credit(account, amount_paise)
    except DomainError as exc:
        p.received_paise = amount_paise
        p.gateway_payment_id = gateway_payment_id
        history.move(p, "mismatch", f"{source}.refused", attention=True, detail={"reason": exc.message})
        return p
    lines = [
        ledger.Line.dr(coa.RAZORPAY_CLEARING, amount_paise, f"Razorpay {gateway_payment_id or p.gateway_order_id}"),
        *kinds.credit_lines(account, amount_paise),
    ]
    label = {"emi": "EMI", "deposit": "Deposit", "rd": "RD instalment"}[p.purpose]
    entry = ledger.post(
        lines,
        kind="payment",
        narration=f"{label} online {p.payment_id}",
        idempotency_key=f"payment:{p.payment_id}",
        reference=p.payment_id,
        options=ledger.PostOptions(channel="gateway"),
    )
    kinds.after_credit(account, amount_paise, entry)
    p.entry_id = entry.id
    p.gateway_payment_id = gateway_payment_id
    p.received_paise = amount_paise
    history.move(
        p, "paid", f"{source}.credited", detail={"gateway_payment_id": gateway_payment_id, "entry": entry.number}
    )
    return p


def mark_failed(payment: Payment, *, source: str, detail: dict | None = None) -> Payment:
    p = history.lock_payment(payment.id)
    if not history.move(p, "failed", f"{source}.failed", detail=detail):
        history.note(f"{source}.failed_ignored", payment=p, detail=detail)
    return p


def verify_return(
    payment: Payment, *, razorpay_order_id: str, razorpay_payment_id: str, razorpay_signature: str
) -> Payment:
    """The browser's checkout return: trusted only after the signature check and a fetch of the payment."""
    gw = gateway.current()
    if razorpay_order_id != payment.gateway_order_id or not gateway.signature_ok(
        f"{razorpay_order_id}|{razorpay_payment_id}", razorpay_signature, gw.key_secret
    ):
        raise ValidationError(
            "The payment could not be verified; if money left your account it will be credited "
            "once the bank confirms it."
        )
    fetched = gw.fetch_payment(razorpay_payment_id)
    if fetched.get("order_id") != payment.gateway_order_id:
        raise ValidationError("The payment does not belong to this order.")
    if fetched.get("status") != "captured":
        return payment
    return credit(
        payment,
        gateway_payment_id=razorpay_payment_id,
        amount_paise=int(fetched["amount"]),
        currency=fetched.get("currency", "INR"),
        source="return",
    )


def refund_processed(payment: Payment, *, amount_paise: int, refund_id: str | None) -> Payment:
    """A refund at the gateway: the credit reversed through the ledger (a savings deposit; an EMI, the
    repayment un-applied from the schedule); an RD instalment, a part refund, or an EMI that cannot be
    reversed on its own (it prepaid, closed the loan, or later payments followed) goes to staff."""
    p = history.lock_payment(payment.id)
    if p.status != "paid" or p.entry_id is None:
        history.note("refund.ignored", payment=p, detail={"refund_id": refund_id, "status": p.status})
        return p
    detail = {"refund_id": refund_id, "amount_paise": amount_paise}
    if p.purpose not in ("deposit", "emi") or amount_paise != p.amount_paise:
        history.note(
            "refund.needs_staff",
            payment=p,
            attention=True,
            detail={**detail, "reason": "reverse the credit through its own screen (loan/RD rules)"},
        )
        return p
    reason = f"Razorpay refund {refund_id or ''}".strip()
    try:
        if p.purpose == "emi":
            reversal = loans.reverse_repayment(db.session.get(Loan, p.loan_id), p.entry_id, reason=reason)
        else:
            reversal = ledger.reverse(ledger.get_entry(p.entry_id), reason=reason)
    except DomainError as exc:
        history.note("refund.needs_staff", payment=p, attention=True, detail={**detail, "reason": exc.message})
        return p
    p.refund_entry_id = reversal.id
    history.move(p, "refunded", "refund.processed", detail={**detail, "entry": reversal.number})
    return p


def payments(
    *, status: str | None = None, purpose: str | None = None, member_no: str | None = None, limit: int = 100
) -> list[Payment]:
    stmt = select(Payment).order_by(Payment.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Payment.status == status)
    if purpose:
        stmt = stmt.where(Payment.purpose == purpose)
    if member_no:
        stmt = stmt.join(Member, Member.id == Payment.member_id).where(Member.member_no == member_no.strip().upper())
    return list(db.session.scalars(stmt))
