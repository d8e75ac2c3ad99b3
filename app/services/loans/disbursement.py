"""Disbursement: the loan account opened, money paid out through the ledger, the schedule stored.

Dr the loan account (under the product's "loans to members" control GL) for the principal;
Cr the member's savings account with the net amount, or pay it in cash from the acting
cashier's drawer (``counter.pay_cash``); Cr processing fee income and GST payable
with the fee. A share-linkage shortfall is bought out of the disbursed money (from the
savings account, through the members face). Then the schedule is generated and stored as
version 1 from the disbursement date, and the loan becomes active.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.loans import Loan
from app.models.users import StaffUser
from app.money import format_inr
from app.services import counter, ledger
from app.services.common import Conflict, ValidationError
from app.services.ledger import calendar, coa
from app.services.members import shares

from . import applications, events, schedule

MODES = ("transfer", "cash")


def fee_paise(loan: Loan) -> tuple[int, int]:
    """(processing fee, GST on it), each half-up to the paisa."""
    product = loan.product
    fee = int((Decimal(loan.principal_paise) * product.processing_fee_bp / 10000).quantize(Decimal(1), ROUND_HALF_UP))
    gst = int((Decimal(fee) * product.gst_bp / 10000).quantize(Decimal(1), ROUND_HALF_UP))
    return fee, gst


def _target(loan: Loan, to_account_no: str | None) -> Account:
    if not to_account_no:
        raise ValidationError("Name the member's savings account to credit (to_account).", field="to_account")
    acc = db.session.scalar(select(Account).where(Account.account_no == to_account_no.strip().upper()))
    if acc is None or acc.kind != "savings" or acc.member_id != loan.member_id:
        raise ValidationError(f"{to_account_no} is not a savings account of this member.", field="to_account")
    if acc.status != "active":
        raise ValidationError(f"Savings account {acc.account_no} is {acc.status}.", field="to_account")
    return acc


def _open_account(loan: Loan, on) -> Account:
    acc = Account(
        account_no=loan.loan_no, kind="loan", title=f"{loan.product.name} {loan.member.name}"[:160],
        member_id=loan.member_id, control_gl_id=loan.product.control_gl_id, balance_paise=0, min_balance_paise=0,
        enforce_limit=True, status="active", branch_id=loan.member.branch_id, opened_on=on,
    )  # fmt: skip
    db.session.add(acc)
    db.session.flush()
    loan.account_id = acc.id
    loan.account = acc
    return acc


def disburse(
    loan: Loan,
    *,
    by: StaffUser | None,
    to_account_no: str | None = None,
    mode: str = "transfer",
    idempotency_key: str | None = None,
    channel: str = "branch",
) -> Loan:
    """Disburse a sanctioned loan in full (refuses anything not sanctioned; nothing posted then)."""
    loan = events.lock(loan)
    if loan.status != "sanctioned":
        raise Conflict(f"Loan {loan.loan_no} is {loan.status}; only a sanctioned loan can be disbursed.")
    if mode not in MODES:
        raise ValidationError("mode: transfer or cash.", field="mode")
    on = calendar.current_business_date()
    fee, gst = fee_paise(loan)
    short = applications.share_shortfall_paise(loan)
    target = _target(loan, to_account_no) if mode == "transfer" else None
    if short and target is None:
        raise ValidationError(
            f"Shares worth {format_inr(short)} are still to be bought; disburse to the member's savings account "
            "(the shares are bought from it) or collect the shares first.",
            field="to_account",
        )
    net = loan.principal_paise - fee - gst
    if net <= 0:
        raise ValidationError("The fee exceeds the loan.", field="principal")
    account = _open_account(loan, on)
    text = f"Loan {loan.loan_no} disbursed to {loan.member.member_no} {loan.member.name}"
    fee_lines = [ledger.Line.cr(coa.INCOME_PROCESSING_FEE, fee, "Processing fee")] if fee else []
    if gst:
        fee_lines.append(ledger.Line.cr(coa.GST_PAYABLE, gst, "GST on processing fee"))
    key = idempotency_key or f"loan-disburse:{loan.loan_no}"
    if target is not None:
        entry = ledger.post(
            [ledger.Line.dr(account, loan.principal_paise, "Loan disbursed"), ledger.Line.cr(target, net, text), *fee_lines],
            kind="disbursement", narration=text, idempotency_key=key, reference=loan.loan_no,
            options=ledger.PostOptions(posted_by_id=by.id if by else None, channel=channel),
        )  # fmt: skip
    else:
        entry = counter.pay_cash(account, net, cashier=by, narration=text, kind="disbursement", channel=channel,
                                idempotency_key=key).entry  # fmt: skip
        if fee_lines:
            ledger.post([ledger.Line.dr(account, fee + gst, "Processing fee and GST"), *fee_lines], kind="fee",
                        narration=f"Processing fee {loan.loan_no}", idempotency_key=f"{key}:fee", reference=loan.loan_no,
                        options=ledger.PostOptions(posted_by_id=by.id if by else None, channel=channel))  # fmt: skip
    loan.processing_fee_paise = fee
    loan.disbursed_on = on
    loan.disbursed_by_id = by.id if by else None
    events.record(loan, "disbursed", to_status="disbursed", amount_paise=loan.principal_paise, entry=entry, by=by,
                  data={"mode": mode, "net_paise": net, "fee_paise": fee, "gst_paise": gst})  # fmt: skip
    if short and target is not None:
        count = short // shares.face_value()
        shares.purchase(loan.member, shares=count, mode="transfer", from_account_no=target.account_no, by=by,
                        channel=channel, idempotency_key=f"{key}:shares")  # fmt: skip
    sched = schedule.build(loan.principal_paise, loan.rate_bp, loan.months, on, interest_type=loan.interest_type,
                           frequency=loan.frequency)  # fmt: skip
    schedule.store(loan, sched, version=1)
    events.record(loan, "activated", to_status="active", by=by, data={"emi_paise": sched.emi_paise})
    return loan
