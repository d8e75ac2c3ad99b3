"""Reversing a repayment (a gateway refund, a cheque returned): the entry mirrored, the schedule un-paid.

Only the latest money movement of a live loan can be reversed, and only a plain repayment:
one that prepaid principal rebuilt the schedule and one that closed the loan changed its
state, so those (and later payments) are refused with the reason, for staff to handle. The
repayment event keeps what it paid on each instalment and charge; the reversal takes exactly
that off the current schedule version and the penal charges, posts ``ledger.reverse`` of the
entry (interest back out of income or receivable, principal back onto the loan account) and
records a ``repayment_reversed`` event. DPD and the asset class follow at the next day-end.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.loans import Loan, LoanCharge, LoanEvent
from app.models.users import StaffUser
from app.services import ledger
from app.services.common import Conflict, NotFound

from . import events, schedule

MONEY_EVENTS = ("repayment", "prepayment", "tranche", "recovery", "repayment_reversed", "written_off")


def _event(loan: Loan, entry_id: int) -> LoanEvent:
    ev = db.session.scalar(
        select(LoanEvent).where(
            LoanEvent.loan_id == loan.id, LoanEvent.kind == "repayment", LoanEvent.entry_id == entry_id
        )
    )
    if ev is None:
        raise NotFound(f"Entry {entry_id} is not a repayment of loan {loan.loan_no}.")
    return ev


def _check(loan: Loan, ev: LoanEvent) -> None:
    if loan.status not in ("active", "disbursed"):
        raise Conflict(f"Loan {loan.loan_no} is {loan.status}; a repayment that closed it is reversed by hand.")
    data = ev.data or {}
    if data.get("prepayment_paise"):
        raise Conflict(
            f"The payment prepaid principal and rebuilt the schedule of {loan.loan_no}; staff must reverse it."
        )
    if "rows" not in data or data.get("version") != loan.schedule_version:
        raise Conflict(f"The schedule of {loan.loan_no} changed after this payment; staff must reverse it.")
    later = db.session.scalar(
        select(LoanEvent.id).where(LoanEvent.loan_id == loan.id, LoanEvent.id > ev.id, LoanEvent.kind.in_(MONEY_EVENTS))
    )
    if later is not None:
        raise Conflict(f"Later payments on {loan.loan_no} must be reversed first.")


def _unpay(loan: Loan, data: dict) -> None:
    by_no = {r.installment: r for r in schedule.rows(loan)}
    for installment, interest, principal in data["rows"]:
        row = by_no[installment]
        row.interest_paid_paise -= interest
        row.principal_paid_paise -= principal
        row.status = "partial" if row.interest_paid_paise or row.principal_paid_paise else "due"
        row.paid_on = None
    for charge_id, part in data.get("charges", []):
        charge = db.session.get(LoanCharge, charge_id)
        charge.paid_paise -= part
        charge.status = "open"


def reverse_repayment(loan: Loan, entry_id: int, *, reason: str, by: StaffUser | None = None) -> JournalEntry:
    """Reverse the repayment posted as ``entry_id`` (Conflict when it is not the latest plain one)."""
    loan = events.lock(loan)
    ev = _event(loan, entry_id)
    _check(loan, ev)
    entry = db.session.get(JournalEntry, entry_id)
    reversal = ledger.reverse(entry, reason=reason, posted_by_id=by.id if by else None)
    _unpay(loan, ev.data or {})
    db.session.flush()
    events.record(loan, "repayment_reversed", amount_paise=ev.amount_paise, entry=reversal, by=by, remarks=reason,
                  data={"reverses": entry.number})  # fmt: skip
    return reversal
