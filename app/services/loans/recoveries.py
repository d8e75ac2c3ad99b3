"""Recoveries on written-off loans: money that comes in after the write-off.

The write-off closed the loan account against its provision, so a recovery is not a
repayment: it is income ("bad debts recovered", Cr 4108), Dr the acting cashier's drawer
(cash, through ``counter.receive_cash``, so the drawer, the PAN/Form 60 rule and the CTR see
it) or Dr the member's savings account. What can be recovered is capped at the amount
written off less what was recovered before; each recovery is a ``LoanEvent`` (audited, the
member told) and the figures are read back from those events, never stored twice.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.loans import Loan, LoanEvent
from app.models.users import StaffUser
from app.money import format_inr
from app.services import counter, ledger
from app.services.common import Conflict, ValidationError
from app.services.counter import transfers
from app.services.ledger import coa

from . import events


def _event_total(loan: Loan, kind: str) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(LoanEvent.amount_paise), 0)).where(
            LoanEvent.loan_id == loan.id, LoanEvent.kind == kind
        )
    )
    return int(total or 0)


def written_off_paise(loan: Loan) -> int:
    """The outstanding principal the write-off took off the books."""
    return _event_total(loan, "written_off") if loan.status == "written_off" else 0


def recovered_paise(loan: Loan) -> int:
    """Recovered since the write-off."""
    return _event_total(loan, "recovery")


def recoverable_paise(loan: Loan) -> int:
    """What may still be recovered (written off less recovered)."""
    return max(written_off_paise(loan) - recovered_paise(loan), 0)


def recover(  # noqa: PLR0913  (keyword-only options of a receipt)
    loan: Loan,
    amount_paise: int,
    *,
    mode: str,
    by: StaffUser | None,
    from_account_no: str | None = None,
    idempotency_key: str | None = None,
    channel: str = "branch",
) -> JournalEntry:
    """Take a recovery on a written-off loan in cash or from the member's savings (income, not principal)."""
    if mode not in ("cash", "transfer"):
        raise ValidationError("mode: cash or transfer.", field="mode")
    counter.check_amount(amount_paise, cash=mode == "cash")
    loan = events.lock(loan)
    done = ledger.entry_by_key(idempotency_key)
    if done is not None:
        return done
    if loan.status != "written_off":
        raise Conflict(f"Loan {loan.loan_no} is {loan.status}; recoveries are taken on written-off loans only.")
    left = recoverable_paise(loan)
    if amount_paise > left:
        raise ValidationError(f"At most {format_inr(left)} remains to be recovered on {loan.loan_no}.", field="amount")
    text = f"Recovery on written-off loan {loan.loan_no}"
    credit = [ledger.Line.cr(coa.INCOME_BAD_DEBTS_RECOVERED, amount_paise, text)]
    if mode == "cash":
        entry = counter.receive_cash(loan.account, amount_paise, credit, cashier=by, narration=text, kind="repayment",
                                     idempotency_key=idempotency_key, channel=channel).entry  # fmt: skip
    else:
        if not from_account_no:
            raise ValidationError("Name the savings account to pay from (from_account).", field="from_account")
        source = transfers.find_account(from_account_no, field="from_account", member_id=loan.member_id)
        entry = ledger.post([ledger.Line.dr(source, amount_paise, text), *credit], kind="repayment", narration=text,
                            idempotency_key=idempotency_key, reference=loan.loan_no,
                            options=ledger.PostOptions(posted_by_id=by.id if by else None, channel=channel))  # fmt: skip
    events.record(loan, "recovery", amount_paise=amount_paise, entry=entry, by=by,
                  data={"mode": mode, "left_paise": left - amount_paise})  # fmt: skip
    return entry
