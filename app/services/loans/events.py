"""Loan events: every transition, prepayment, reschedule and repayment, audited and notified."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.loans import Loan, LoanEvent
from app.models.members import Member
from app.models.users import StaffUser
from app.money import format_inr
from app.services.common import NotFound, audit, notifications
from app.services.ledger import calendar

NOTIFY = {
    "applied": "Your loan application {loan_no} for {amount} has been received.",
    "sanctioned": "Your loan {loan_no} for {amount} has been sanctioned.",
    "rejected": "Your loan application {loan_no} was not approved: {remarks}",
    "disbursed": "Your loan {loan_no} of {amount} has been disbursed. EMI {emi}.",
    "tranche": "Your loan {loan_no}: a further {amount} has been released. EMI now {emi}.",
    "recovery": "Received {amount} towards your written-off loan {loan_no}. Thank you.",
    "closed": "Your loan {loan_no} is fully repaid and closed. Thank you.",
    "foreclosed": "Your loan {loan_no} has been foreclosed and closed.",
}


def get_loan(loan_no: str) -> Loan:
    """The loan with this number (NotFound otherwise)."""
    number = (loan_no or "").strip().upper()
    loan = db.session.scalar(select(Loan).where(Loan.loan_no == number)) if number else None
    if loan is None:
        raise NotFound(f"No loan {number or '(blank)'}.", field="loan_no")
    return loan


def lock(loan: Loan) -> Loan:
    """Re-read the loan under a row lock (one writer of a loan at a time)."""
    return db.session.scalars(
        select(Loan).where(Loan.id == loan.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def record(  # noqa: PLR0913  (keyword-only fields of an event)
    loan: Loan,
    kind: str,
    *,
    to_status: str | None = None,
    remarks: str | None = None,
    amount_paise: int | None = None,
    entry: JournalEntry | None = None,
    by: StaffUser | None = None,
    data: dict[str, Any] | None = None,
) -> LoanEvent:
    """Add an event (moving the loan to ``to_status`` if given), audit it, notify the member."""
    before = loan.status
    if to_status is not None:
        loan.status = to_status
    event = LoanEvent(
        loan_id=loan.id, kind=kind, from_status=before, to_status=loan.status, amount_paise=amount_paise,
        remarks=(remarks or None) and remarks[:255], data=data, entry_id=entry.id if entry is not None else None,
        actor_id=by.id if by is not None else None, business_date=calendar.business_date_or_none(),
    )  # fmt: skip
    db.session.add(event)
    audit.record(
        f"loans.{kind}", "loan", loan.loan_no, before={"status": before},
        after={"status": loan.status, "remarks": remarks, "amount_paise": amount_paise, **(data or {})},
    )  # fmt: skip
    _notify(loan, kind, remarks, amount_paise)
    db.session.flush()
    return event


def _notify(loan: Loan, kind: str, remarks: str | None, amount_paise: int | None = None) -> None:
    template = NOTIFY.get(kind)
    member = db.session.get(Member, loan.member_id)
    if template is None or member is None or not member.mobile:
        return
    body = template.format(
        loan_no=loan.loan_no, amount=format_inr(loan.principal_paise if amount_paise is None else amount_paise), remarks=remarks or "",
        emi=format_inr(loan.emi_paise or 0),
    )  # fmt: skip
    notifications.sms(member.mobile, f"loan_{kind}", body, member_id=member.id)


def history(loan: Loan) -> list[LoanEvent]:
    return list(db.session.scalars(select(LoanEvent).where(LoanEvent.loan_id == loan.id).order_by(LoanEvent.id)))
