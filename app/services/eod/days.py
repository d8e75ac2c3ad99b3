"""The holiday calendar, the next business day, and the pre-checks shown before a day-end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models.deposits import DepositAccount, RdInstallment
from app.models.eod import Holiday
from app.models.ledger import Account
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, ValidationError, approvals, audit
from app.services.ledger import calendar, coa
from app.settings import setting

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Approval requests of the day's work that must be decided before the day closes.
DAY_BOUND_APPROVALS = ("teller", "ledger", "transfers", "counter")
# Accounts that hold money only in passing: at zero at the end of every day.
ZERO_AT_DAY_END = {coa.SUSPENSE: "Suspense", coa.TELLER_CASH: "Teller cash in drawers"}


# ---------------------------------------------------------------- holidays


def holidays(from_date: date | None = None) -> list[Holiday]:
    stmt = select(Holiday).order_by(Holiday.holiday_date)
    if from_date is not None:
        stmt = stmt.where(Holiday.holiday_date >= from_date)
    return list(db.session.scalars(stmt))


def add_holiday(on: date, name: str) -> Holiday:
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the holiday a name.", field="name")
    if len(name) > 120:
        raise ValidationError("Keep the name under 120 characters.", field="name")
    if calendar.get_day(on) is not None:
        raise Conflict(f"{on:%d-%m-%Y} is already a business day; it cannot become a holiday.")
    if db.session.scalar(select(Holiday).where(Holiday.holiday_date == on)) is not None:
        raise Conflict(f"{on:%d-%m-%Y} is already a holiday.")
    holiday = Holiday(holiday_date=on, name=name)
    db.session.add(holiday)
    db.session.flush()
    audit.record("holiday.add", "holiday", on.isoformat(), after={"name": name})
    return holiday


def remove_holiday(on: date) -> None:
    holiday = db.session.scalar(select(Holiday).where(Holiday.holiday_date == on))
    if holiday is None:
        raise ValidationError(f"{on:%d-%m-%Y} is not a holiday.")
    audit.record("holiday.remove", "holiday", on.isoformat(), before={"name": holiday.name})
    db.session.delete(holiday)
    db.session.flush()


def weekly_off() -> set[int]:
    raw = str(setting("EOD_WEEKLY_OFF") or "")
    return {WEEKDAYS.index(d.strip()[:3].lower()) for d in raw.split(",") if d.strip()[:3].lower() in WEEKDAYS}


def is_holiday(on: date) -> bool:
    if on.weekday() in weekly_off():
        return True
    return db.session.scalar(select(func.count()).select_from(Holiday).where(Holiday.holiday_date == on)) > 0


def next_business_day(on: date) -> date:
    """The first day after ``on`` that is neither a holiday nor a weekly off."""
    day = on + timedelta(days=1)
    for _ in range(370):
        if not is_holiday(day):
            return day
        day += timedelta(days=1)
    raise Conflict("Every day of the coming year is a holiday; fix the holiday calendar.")


def previous_business_day(on: date) -> date | None:
    from app.models.calendar import BusinessDay

    return db.session.scalar(select(func.max(BusinessDay.business_date)).where(BusinessDay.business_date < on))


# ---------------------------------------------------------------- pre-checks


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    blocking: bool = True


def prechecks(on: date) -> list[Check]:
    """What must be settled before day ``on`` closes, each with its result."""
    out = []
    problems = calendar.close_problems(on)
    out.append(
        Check(
            "Cash drawers counted and closed", not problems, "; ".join(problems) or "every drawer of the day is closed"
        )
    )
    pending = [r for r in approvals.pending() if r.kind.split(".")[0] in DAY_BOUND_APPROVALS]
    out.append(
        Check(
            "Maker-checker items decided",
            not pending,
            "; ".join(f"#{r.id} {_label(r.kind)} awaits a checker" for r in pending)
            or "nothing of the day awaits a checker",
        )
    )
    nonzero = []
    for code in ZERO_AT_DAY_END:
        try:
            balance = ledger.gl_balance(code)
        except ValidationError:  # a chart without the account has nothing in it
            continue
        if balance:
            nonzero.append(f"{ZERO_AT_DAY_END[code]} (GL {code}) holds {format_inr(balance)}: clear it to zero")
    out.append(
        Check(
            "Suspense and clearing accounts at zero",
            not nonzero,
            "; ".join(nonzero) or "suspense and teller cash are nil",
        )
    )
    due = db.session.scalar(
        select(func.count(RdInstallment.id))
        .join(DepositAccount, DepositAccount.account_id == RdInstallment.account_id)
        .join(Account, Account.id == RdInstallment.account_id)
        .where(
            DepositAccount.si_account_id.is_not(None),
            RdInstallment.status != "paid",
            RdInstallment.due_date <= on,
            Account.status == "active",
        )
    )
    out.append(
        Check(
            "Standing instructions posted",
            True,
            f"{due} RD instalment(s) by standing instruction still unpaid; the day-end collects them"
            if due
            else "no standing instruction is waiting",
            blocking=False,
        )
    )
    return out


def _label(kind: str) -> str:
    handler = approvals.HANDLERS.get(kind)
    return handler.label if handler else kind


def blocking_problems(on: date) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in prechecks(on) if c.blocking and not c.ok]
