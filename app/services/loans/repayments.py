"""Repayments: allocation in the fixed order, prepayment, foreclosure, and the counter's loan rules.

Allocation (DESIGN §6): penal charges (oldest first), then overdue interest (instalments
due before today, oldest first), then overdue principal, then current dues (the next
instalment: interest, then principal); any excess is a prepayment of principal that
writes a new schedule version (shorter tenure by default, or lower EMI). A payment equal
to the foreclosure quote closes the loan; a larger one is refused, as is any payment to a
loan that is not active.

Booking: penal charges Cr penal income (they were a memorandum); interest of an instalment
already accrued at a month-end Cr interest receivable (and, when it was accrued into
interest suspense because the loan was an NPA, Dr suspense / Cr income as it is realised),
otherwise Cr interest income; principal Cr the loan account. These lines are registered
with ``ledger.kinds`` for kind ``loan``, so the counter (cash through the cashier's drawer)
and transfers book a loan repayment exactly like this service does.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.models.loans import Loan, LoanCharge, LoanScheduleRow
from app.models.users import StaffUser
from app.money import format_inr
from app.services import counter, ledger
from app.services.common import Conflict, NotFound, ValidationError
from app.services.counter import transfers
from app.services.ledger import calendar, coa, kinds

from . import collateral, events, schedule

REPAYABLE = ("active", "disbursed")
REDUCE_CHOICES = ("tenure", "emi")
_reduce_choice: contextvars.ContextVar[str] = contextvars.ContextVar("loan_prepayment_reduce", default="tenure")


@dataclass
class Allocation:
    """How one payment is split (paise). ``parts`` pairs schedule rows / charges with amounts."""

    amount_paise: int
    penal: list[tuple[LoanCharge, int]] = field(default_factory=list)
    interest: list[tuple[LoanScheduleRow, int]] = field(default_factory=list)
    principal: list[tuple[LoanScheduleRow, int]] = field(default_factory=list)
    overdue_interest_paise: int = 0
    overdue_principal_paise: int = 0
    current_paise: int = 0
    prepayment_paise: int = 0
    broken_interest_paise: int = 0
    foreclosure_charge_paise: int = 0
    closes: bool = False

    @property
    def penal_paise(self) -> int:
        return sum(a for _c, a in self.penal)

    @property
    def interest_paise(self) -> int:
        return sum(a for _r, a in self.interest) + self.broken_interest_paise

    @property
    def principal_paise(self) -> int:
        return sum(a for _r, a in self.principal) + self.prepayment_paise


@dataclass(frozen=True)
class Quote:
    """What closes the loan today (paise)."""

    on: date
    penal_paise: int
    interest_due_paise: int
    broken_interest_paise: int
    principal_paise: int
    charge_paise: int

    @property
    def total_paise(self) -> int:
        return (
            self.penal_paise
            + self.interest_due_paise
            + self.broken_interest_paise
            + self.principal_paise
            + self.charge_paise
        )


def open_charges(loan: Loan) -> list[LoanCharge]:
    return list(
        db.session.scalars(
            select(LoanCharge)
            .where(LoanCharge.loan_id == loan.id, LoanCharge.status == "open")
            .order_by(LoanCharge.charge_date, LoanCharge.id)
        )
    )


def _unpaid_rows(loan: Loan) -> list[LoanScheduleRow]:
    return [r for r in schedule.rows(loan) if r.status != "paid"]


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quote(loan: Loan, on: date | None = None) -> Quote:
    """The foreclosure quote: penal + interest due + broken-period interest + principal + charge."""
    return _quote(loan, on or calendar.current_business_date(), schedule.rows(loan), open_charges(loan))


def _quote(loan: Loan, day: date, rows: list[LoanScheduleRow], charges: list[LoanCharge]) -> Quote:
    """``quote`` from the loan's instalments and open charges already read."""
    due = [r for r in rows if r.status != "paid" and r.due_date <= day]
    last_due = max([r.due_date for r in rows if r.due_date <= day], default=loan.disbursed_on or day)
    principal = loan.outstanding_paise
    days = max((day - last_due).days, 0)
    broken = _half_up(Decimal(principal) * loan.rate_bp * days / 3_650_000) if loan.interest_type != "flat" else 0
    charge = 0
    if loan.product.foreclosure_charge_bp and not loan.product.floating_rate:
        charge = _half_up(Decimal(principal) * loan.product.foreclosure_charge_bp / 10000)
    return Quote(
        on=day,
        penal_paise=sum(c.amount_paise - c.paid_paise for c in charges),
        interest_due_paise=sum(r.interest_paise - r.interest_paid_paise for r in due),
        broken_interest_paise=broken,
        principal_paise=principal,
        charge_paise=charge,
    )


def _take(left: int, want: int) -> int:
    return max(0, min(left, want))


def allocate(loan: Loan, amount_paise: int, on: date | None = None) -> Allocation:
    """Split ``amount_paise`` in the fixed order (pure: nothing is changed)."""
    day = on or calendar.current_business_date()
    rows, charges = schedule.rows(loan), open_charges(loan)  # read once: the quote and the split share them
    q = _quote(loan, day, rows, charges)
    if amount_paise > q.total_paise:
        raise ValidationError(
            f"{format_inr(amount_paise)} is more than the {format_inr(q.total_paise)} that closes loan {loan.loan_no} "
            "today (the foreclosure amount).",
            field="amount",
        )
    alloc = Allocation(amount_paise)
    left = amount_paise
    for charge in charges:
        part = _take(left, charge.amount_paise - charge.paid_paise)
        if part:
            alloc.penal.append((charge, part))
            left -= part
    unpaid = [r for r in rows if r.status != "paid"]
    if amount_paise == q.total_paise:
        return _foreclosure(unpaid, alloc, left, q, day)
    overdue = [r for r in unpaid if r.due_date < day]
    for r in overdue:
        part = _take(left, r.interest_paise - r.interest_paid_paise)
        if part:
            alloc.interest.append((r, part))
            alloc.overdue_interest_paise += part
            left -= part
    for r in overdue:
        part = _take(left, r.principal_paise - r.principal_paid_paise)
        if part:
            alloc.principal.append((r, part))
            alloc.overdue_principal_paise += part
            left -= part
    current = next((r for r in unpaid if r.due_date >= day), None)
    if current is not None and left:
        i_part = _take(left, current.interest_paise - current.interest_paid_paise)
        p_part = _take(left - i_part, current.principal_paise - current.principal_paid_paise)
        if i_part:
            alloc.interest.append((current, i_part))
        if p_part:
            alloc.principal.append((current, p_part))
        alloc.current_paise = i_part + p_part
        left -= i_part + p_part
    if left:
        remaining = loan.outstanding_paise - sum(a for _r, a in alloc.principal)
        if left >= remaining:
            raise ValidationError(
                f"This pays off the whole principal: pay the foreclosure amount {format_inr(q.total_paise)} "
                "to close the loan instead.",
                field="amount",
            )
        alloc.prepayment_paise = left
    return alloc


def _foreclosure(unpaid: list[LoanScheduleRow], alloc: Allocation, left: int, q: Quote, day: date) -> Allocation:
    for r in unpaid:
        if r.due_date <= day and r.interest_paise > r.interest_paid_paise:
            alloc.interest.append((r, r.interest_paise - r.interest_paid_paise))
        if r.principal_paise > r.principal_paid_paise:
            alloc.principal.append((r, r.principal_paise - r.principal_paid_paise))
    alloc.broken_interest_paise = q.broken_interest_paise
    alloc.foreclosure_charge_paise = q.charge_paise
    alloc.closes = True
    assert left == q.interest_due_paise + q.broken_interest_paise + q.principal_paise + q.charge_paise
    return alloc


def lines_for(loan: Loan, alloc: Allocation) -> list[ledger.Line]:
    """The credit side of a repayment (totals ``alloc.amount_paise``)."""
    account = loan.account
    assert account is not None
    receivable = suspense = income = 0
    for r, part in alloc.interest:
        if r.interest_accrued_on is None:
            income += part
        else:
            receivable += part
            if r.accrued_to == "suspense":
                suspense += part
    income += alloc.broken_interest_paise
    lines: list[ledger.Line] = []
    if alloc.penal_paise:
        lines.append(ledger.Line.cr(coa.INCOME_PENAL, alloc.penal_paise, "Penal charges"))
    if receivable:
        lines.append(ledger.Line.cr(coa.INTEREST_RECEIVABLE_LOANS, receivable, "Interest (accrued)"))
    if suspense:
        lines.append(ledger.Line.dr(coa.INTEREST_SUSPENSE, suspense, "Interest realised from suspense"))
        lines.append(ledger.Line.cr(coa.INCOME_LOAN_INTEREST, suspense, "Interest realised"))
    if income:
        lines.append(ledger.Line.cr(coa.INCOME_LOAN_INTEREST, income, "Interest"))
    if alloc.foreclosure_charge_paise:
        lines.append(ledger.Line.cr(coa.INCOME_SERVICE_CHARGES, alloc.foreclosure_charge_paise, "Foreclosure charge"))
    if alloc.principal_paise:
        lines.append(ledger.Line.cr(account, alloc.principal_paise, "Principal"))
    return lines


def apply_allocation(loan: Loan, alloc: Allocation, entry: JournalEntry, *, by: StaffUser | None, reduce: str) -> None:
    """Mark what was paid on the schedule and charges; prepayment → new version; closure."""
    day = entry.business_date
    for charge, part in alloc.penal:
        charge.paid_paise += part
        charge.status = "paid" if charge.paid_paise == charge.amount_paise else "open"
    for r, part in alloc.interest:
        r.interest_paid_paise += part
    for r, part in alloc.principal:
        r.principal_paid_paise += part
    for r, _part in alloc.interest + alloc.principal:
        settled = r.principal_paid_paise == r.principal_paise and (
            r.interest_paid_paise == r.interest_paise or alloc.closes
        )
        r.status = "paid" if settled else "partial"
        r.paid_on = day if settled else r.paid_on
    db.session.flush()
    data = {
        "penal_paise": alloc.penal_paise, "interest_paise": alloc.interest_paise,
        "principal_paise": alloc.principal_paise, "prepayment_paise": alloc.prepayment_paise,
        "version": loan.schedule_version, "charges": [[c.id, part] for c, part in alloc.penal],
        "rows": _row_parts(alloc),
    }  # fmt: skip
    events.record(loan, "repayment", amount_paise=alloc.amount_paise, entry=entry, by=by, data=data)
    if alloc.prepayment_paise:
        schedule.rebuild(loan, loan.outstanding_paise, reduce=reduce, on=day)
        events.record(loan, "prepayment", amount_paise=alloc.prepayment_paise, entry=entry, by=by,
                      remarks=f"Prepayment reduces the {reduce}", data={"version": loan.schedule_version})  # fmt: skip
    if alloc.closes or (loan.outstanding_paise == 0 and not _unpaid_rows(loan)):
        _close(loan, entry, by=by, foreclosed=alloc.closes and any(r.due_date > day for r, _ in alloc.principal))


def _row_parts(alloc: Allocation) -> list[list[int]]:
    """[instalment, interest paid, principal paid] per schedule row the payment touched (for a reversal)."""
    parts: dict[int, list[int]] = {}
    for r, part in alloc.interest:
        parts.setdefault(r.installment, [r.installment, 0, 0])[1] += part
    for r, part in alloc.principal:
        parts.setdefault(r.installment, [r.installment, 0, 0])[2] += part
    return [parts[k] for k in sorted(parts)]


def _close(loan: Loan, entry: JournalEntry, *, by: StaffUser | None, foreclosed: bool) -> None:
    loan.closed_on = entry.business_date
    loan.dpd = 0
    collateral.release_liens(loan)
    account = loan.account
    if account is not None and account.balance_paise == 0:
        account.status = "closed"
        account.closed_on = entry.business_date
        account.status_reason = "Loan repaid"
    events.record(loan, "foreclosed" if foreclosed else "closed", to_status="foreclosed" if foreclosed else "closed",
                  entry=entry, by=by)  # fmt: skip


# ---------------------------------------------------------------- entry points


@dataclass
class RepaymentResult:
    loan: Loan
    entry: JournalEntry | None
    allocation: Allocation | None
    replayed: bool = False
    pending: object | None = None  # a large transfer waiting for a checker


def loan_of_account(account: Account) -> Loan:
    loan = db.session.scalar(select(Loan).where(Loan.account_id == account.id))
    if loan is None:
        raise NotFound(f"Account {account.account_no} is not a loan.")
    return loan


def _check_repayable(loan: Loan) -> None:
    if loan.status not in REPAYABLE:
        raise Conflict(
            f"Loan {loan.loan_no} is {loan.status.replace('_', ' ')}; it takes no repayments.", field="amount"
        )


def repay(  # noqa: PLR0913  (keyword-only options of a payment)
    loan: Loan,
    amount_paise: int,
    *,
    mode: str,
    by: StaffUser | None,
    from_account_no: str | None = None,
    reduce: str = "tenure",
    idempotency_key: str | None = None,
    channel: str = "branch",
    form60_ref: str | None = None,
) -> RepaymentResult:
    """Take a repayment in cash (the acting cashier's drawer) or by transfer from the member's savings."""
    if reduce not in REDUCE_CHOICES:
        raise ValidationError("reduce: tenure or emi.", field="reduce")
    if mode not in ("cash", "transfer"):
        raise ValidationError("mode: cash or transfer.", field="mode")
    counter.check_amount(amount_paise, cash=mode == "cash")
    loan = events.lock(loan)
    done = ledger.entry_by_key(idempotency_key)
    if done is not None:
        return RepaymentResult(loan, done, None, replayed=True)
    _check_repayable(loan)
    account = loan.account
    assert account is not None
    token = _reduce_choice.set(reduce)
    try:
        if mode == "cash":
            result = counter.cash_deposit(counter.cashier_drawer(by), account, amount_paise, cashier=by, narration=f"EMI {loan.loan_no}",
                                         form60_ref=form60_ref, idempotency_key=idempotency_key, channel=channel)  # fmt: skip
            entry = result.entry
        else:
            if not from_account_no:
                raise ValidationError("Name the savings account to pay from (from_account).", field="from_account")
            source = transfers.find_account(from_account_no, field="from_account", member_id=loan.member_id)
            done = transfers.transfer(source, account, amount_paise, maker=by, member_id=None if by else loan.member_id, narration=f"EMI {loan.loan_no}",
                                      idempotency_key=idempotency_key, channel=channel)  # fmt: skip
            if done.entry is None:
                return RepaymentResult(loan, None, None, pending=done.approval)
            entry = done.entry
    finally:
        _reduce_choice.reset(token)
    return RepaymentResult(loan, entry, _last_allocation.get())


_last_allocation: contextvars.ContextVar[Allocation | None] = contextvars.ContextVar(
    "loan_last_allocation", default=None
)
_pending: contextvars.ContextVar[tuple[tuple[int, int], Allocation] | None] = contextvars.ContextVar(
    "loan_pending_allocation", default=None
)


# ---------------------------------------------------------------- rules for the counter (ledger.kinds)


def _credit_check(account: Account, amount_paise: int) -> None:
    loan = loan_of_account(account)
    _check_repayable(loan)
    allocate(loan, amount_paise)


def _credit_lines(account: Account, amount_paise: int) -> list[ledger.Line]:
    """Lines of a repayment; the allocation is kept for ``_after_credit`` (the same request, next step)."""
    loan = loan_of_account(account)
    alloc = allocate(loan, amount_paise)
    _pending.set(((account.id, amount_paise), alloc))
    return lines_for(loan, alloc)


def _after_credit(account: Account, amount_paise: int, entry: JournalEntry) -> None:
    loan = loan_of_account(account)
    stashed = _pending.get()
    if stashed is None or stashed[0] != (account.id, amount_paise):
        raise Conflict(f"The repayment to {account.account_no} was booked without its allocation; nothing saved.")
    alloc = stashed[1]
    _pending.set(None)
    apply_allocation(loan, alloc, entry, by=_staff(entry), reduce=_reduce_choice.get())
    _last_allocation.set(alloc)


def _staff(entry: JournalEntry) -> StaffUser | None:
    return db.session.get(StaffUser, entry.posted_by_id) if entry.posted_by_id else None


kinds.register_credit_check("loan", _credit_check)
kinds.register_credit_lines("loan", _credit_lines)
kinds.register_after_credit("loan", _after_credit)
