"""Stored repayment schedules: build (reducing or flat, any frequency), store, regenerate.

A schedule is generated at disbursement and stored as version 1. A prepayment or a
reschedule writes a new version: the instalments already settled are carried over as they
are, the rest is rebuilt on the remaining principal; the old version stays in the table and
the change is a ``LoanEvent``. Quarterly and half-yearly products use the same formulas with
the period's rate (``rate × months per instalment``) and due dates that many months apart.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.extensions import db
from app.models.loans import FREQUENCIES, Loan, LoanScheduleRow, rate_of
from app.services.common import ValidationError
from app.services.deposits import add_months

from . import emi


def build(  # noqa: PLR0913  (keyword-only terms of the schedule)
    principal_paise: int,
    rate_bp: int,
    months: int,
    start: date,
    *,
    interest_type: str = "reducing",
    frequency: str = "monthly",
    emi_paise: int | None = None,
) -> emi.Schedule:
    """The schedule of a loan (pure): instalments every ``frequency`` from ``start``."""
    step = FREQUENCIES[frequency]
    if months % step:
        raise ValidationError(
            f"The tenure must be a multiple of {step} months for {frequency} instalments.", field="months"
        )
    count = months // step
    rate = Decimal(rate_bp) * step / 100
    if interest_type == "flat":
        sched = emi.flat_schedule(principal_paise, rate, count, start)
    else:
        sched = emi.emi_schedule(principal_paise, rate, count, start, emi_paise=emi_paise)
    if step == 1:
        return sched
    rows = tuple(
        emi.ScheduleRow(r.installment, add_months(start, step * r.installment), r.emi_paise, r.principal_paise,
                        r.interest_paise, r.balance_paise)
        for r in sched.rows
    )  # fmt: skip
    return emi.Schedule(sched.emi_paise, rows)


def preview(
    principal_paise: int, rate_bp: int, months: int, start: date, *, interest_type: str, frequency: str
) -> emi.Schedule:
    """The schedule an application would get if disbursed on ``start`` (the live EMI preview)."""
    return build(principal_paise, rate_bp, months, start, interest_type=interest_type, frequency=frequency)


def store(loan: Loan, sched: emi.Schedule, *, version: int, first_installment: int = 1) -> list[LoanScheduleRow]:
    """Write ``sched`` as ``version`` of the loan's schedule (numbering from ``first_installment``)."""
    rows = []
    for r in sched.rows:
        opening = r.balance_paise + r.principal_paise
        rows.append(
            LoanScheduleRow(
                loan_id=loan.id, version=version, installment=first_installment + r.installment - 1,
                due_date=r.due_date, opening_principal_paise=opening, principal_paise=r.principal_paise,
                interest_paise=r.interest_paise, emi_paise=r.emi_paise, closing_principal_paise=r.balance_paise,
                principal_paid_paise=0, interest_paid_paise=0, status="due",
            )
        )  # fmt: skip
    db.session.add_all(rows)
    loan.schedule_version = version
    loan.emi_paise = sched.emi_paise
    db.session.flush()
    return rows


def rows(loan: Loan, version: int | None = None) -> list[LoanScheduleRow]:
    """The stored instalments of a version (default: the current one), in order."""
    v = loan.schedule_version if version is None else version
    return list(
        db.session.scalars(
            select(LoanScheduleRow)
            .where(LoanScheduleRow.loan_id == loan.id, LoanScheduleRow.version == v)
            .order_by(LoanScheduleRow.installment)
        )
    )


def versions(loan: Loan) -> list[int]:
    return sorted(set(db.session.scalars(select(LoanScheduleRow.version).where(LoanScheduleRow.loan_id == loan.id))))


def rebuild(loan: Loan, remaining_paise: int, *, reduce: str, on: date) -> list[LoanScheduleRow]:
    """A new schedule version after a prepayment: settled instalments kept, the rest rebuilt.

    ``reduce="tenure"`` keeps the EMI and ends the loan earlier; ``reduce="emi"`` keeps the
    remaining number of instalments and lowers the EMI. Flat-rate loans keep their
    instalment count and take the remaining principal evenly (interest on the original
    principal does not change on a flat loan; what is left of it is spread the same way).
    """
    if reduce not in ("tenure", "emi"):
        raise ValidationError("Choose whether the prepayment reduces the tenure or the EMI.", field="reduce")
    current = rows(loan)
    settled = [r for r in current if r.status == "paid"]
    open_rows = [r for r in current if r.status != "paid"]
    new_version = loan.schedule_version + 1
    for r in settled:
        db.session.add(_copy(r, new_version))
    if remaining_paise <= 0 or not open_rows:
        loan.schedule_version = new_version
        db.session.flush()
        return rows(loan)
    start = settled[-1].due_date if settled else (loan.disbursed_on or on)
    step = FREQUENCIES[loan.frequency]
    left = len(open_rows)
    if loan.interest_type == "flat":
        interest_left = sum(r.interest_paise - r.interest_paid_paise for r in open_rows)
        sched = _flat_rest(remaining_paise, interest_left, left, start, step)
    else:
        keep_emi = loan.emi_paise if reduce == "tenure" else None
        sched = build(remaining_paise, loan.rate_bp, left * step, start, frequency=loan.frequency, emi_paise=keep_emi)
    emi_before = loan.emi_paise
    store(loan, sched, version=new_version, first_installment=len(settled) + 1)
    if reduce == "tenure" and loan.interest_type != "flat":
        loan.emi_paise = emi_before
    return rows(loan)


def add_tranche(loan: Loan, amount_paise: int, on: date) -> list[LoanScheduleRow]:
    """A new version after a tranche of ``amount_paise`` released on ``on`` (the outstanding already includes it).

    The instalments left are rebuilt on the new outstanding (their number kept, the EMI
    rising); the first of them is relieved of the tranche's share of that period's interest
    for the days before the money was released (period rate × days before / days in the
    period, half-up), so the tranche bears interest only from the day it went out.
    """
    period_start = max((r.due_date for r in rows(loan) if r.status == "paid" and r.due_date <= on),
                       default=loan.disbursed_on or on)  # fmt: skip
    new = rebuild(loan, loan.outstanding_paise, reduce="emi", on=on)
    first_open = next((r for r in new if r.status != "paid"), None)
    days = (on - period_start).days
    if first_open is not None and days > 0:
        period_days = (first_open.due_date - period_start).days
        period_rate = Decimal(loan.rate_bp) * FREQUENCIES[loan.frequency] / 120_000
        credit = int((amount_paise * period_rate * days / period_days).quantize(Decimal(1), ROUND_HALF_UP))
        credit = min(credit, first_open.interest_paise)
        first_open.interest_paise -= credit
        first_open.emi_paise -= credit
        db.session.flush()
    return new


def _flat_rest(principal: int, interest: int, count: int, start: date, step: int) -> emi.Schedule:
    part_p, part_i = principal // count, interest // count
    out, bal, int_left = [], principal, interest
    for k in range(1, count + 1):
        p, i = (bal, int_left) if k == count else (part_p, part_i)
        bal -= p
        int_left -= i
        out.append(emi.ScheduleRow(k, add_months(start, step * k), p + i, p, i, bal))
    return emi.Schedule(part_p + part_i, tuple(out))


def _copy(r: LoanScheduleRow, version: int) -> LoanScheduleRow:
    return LoanScheduleRow(
        loan_id=r.loan_id, version=version, installment=r.installment, due_date=r.due_date,
        opening_principal_paise=r.opening_principal_paise, principal_paise=r.principal_paise,
        interest_paise=r.interest_paise, emi_paise=r.emi_paise, closing_principal_paise=r.closing_principal_paise,
        principal_paid_paise=r.principal_paid_paise, interest_paid_paise=r.interest_paid_paise, status=r.status,
        paid_on=r.paid_on, interest_accrued_on=r.interest_accrued_on, accrued_to=r.accrued_to,
    )  # fmt: skip


def rate_text(rate_bp: int) -> str:
    return f"{rate_of(rate_bp)}%"
