"""Fixed deposits: terms at opening, month-end accrual, periodic payouts, maturity, premature closure.

The interest figures come from the pure rules in ``app.services.interest`` (fd_maturity,
fd_payout_schedule, fd_premature, fd_exact_interest); this module only decides when they
apply and posts the results through the ledger:

* Month end: interest earned to date, less what is already accrued, is accrued
  Dr interest on FDs / Cr interest payable on FDs (GL only, one entry for all FDs).
* Payout (monthly / quarterly FDs): Dr interest payable (the accrual) and the expense for
  the rest / Cr the member's SB; TDS at the credit.
* Maturity: the interest still due is credited to the FD (cumulative) or paid to the SB
  (payout FDs), TDS deducted, then the FD is paid to the SB or renewed in place for the
  same tenure at the rate card in force on the maturity date.
* Premature closure: interest is recomputed at (rate for the period actually run − penalty)
  for the actual tenure; excess accrual is reversed and interest already paid beyond the
  recomputed figure is recovered from the principal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from sqlalchemy import func, select

from app.extensions import db
from app.models.deposits import FD_PAYOUTS, MATURITY_ACTIONS, DepositAccount, rate_of
from app.models.ledger import Account, JournalEntry
from app.models.members import Member
from app.models.users import StaffUser
from app.money import format_inr, round_half_up, round_interest
from app.services import ledger
from app.services.common import ValidationError, audit
from app.services.ledger import Line, calendar, coa
from app.settings import setting

from . import accounts as deposits
from . import catalogue, interest, kinds, tds
from .accrual import post_accrual
from .fd_terms import (  # noqa: F401  (re-exported: screens and tests use fixed.X)
    PAYOUT_LABELS,
    FdAsk,
    FdTerms,
    maturity_value,
    schedule,
    tenure_label,
    terms_for,
)
from .kinds import NewDeposit, Opening, Quote

# ---------------------------------------------------------------- helpers


def _post_kw(day: date, on: date, by: StaffUser | None = None) -> dict:
    return {
        "value_date": min(day, on),
        "allow_backdate": day < on,
        "posted_by_id": by.id if by else None,
        "channel": "system" if by is None else "branch",
    }


class _Credit(TypedDict):
    to: Account  # the account credited (the FD itself or the payout SB)
    day: date
    narration: str
    kind: str
    post_kw: dict


def _credit_interest(
    da: DepositAccount, account: Account, due: int, **credit: Unpack[_Credit]
) -> tuple[JournalEntry | None, int]:
    """Release the accrual and credit ``due`` (negative = recover from the FD) to ``to``; TDS on it."""
    to, day, narration, kind, post_kw = (
        credit["to"], credit["day"], credit["narration"], credit["kind"], credit["post_kw"]
    )  # fmt: skip
    lines = deposits.settlement_lines(coa.EXP_FD_INTEREST, coa.INTEREST_PAYABLE_FD, da.accrued_paise, due)
    if due > 0:
        lines.append(Line.cr(to, due, narration))
    elif due < 0:
        lines.append(Line.dr(account, -due, "Interest paid earlier recovered"))
    da.accrued_paise = 0
    if not lines:
        return None, 0
    entry = ledger.post(
        lines,
        kind=kind,
        narration=f"{narration} — {account.account_no}",
        reference=account.account_no,
        options=ledger.PostOptions(
            **post_kw,
            allow_frozen=True,
        ),
    )
    tds_paise = 0
    if due > 0:
        row = tds.deduct_on_credit(account, due, entry, day, debit_account=to, **post_kw)
        tds_paise = row.tds_paise
    return entry, tds_paise


def _open_fds():
    return (
        select(DepositAccount, Account)
        .join(Account, Account.id == DepositAccount.account_id)
        .where(DepositAccount.kind == "fd", Account.status != "closed", DepositAccount.matured_on.is_(None))
    )


# ---------------------------------------------------------------- month-end accrual


def accrue_interest(month_end: date) -> int:
    """Accrue FD interest earned up to ``month_end`` (GL: Dr expense / Cr interest payable).

    Cumulative FDs: interest to date by the FD rule; payout FDs: simple interest since the
    last payout. Only the increase over what is already accrued is booked. Idempotent per
    month end. Returns the paise accrued. A month end after the open business date is refused.
    """
    on = deposits.check_not_after_business_date(month_end, "month_end")
    total = 0
    count = 0
    rows = db.session.execute(
        _open_fds().where(
            DepositAccount.start_date <= month_end,
            (DepositAccount.accrued_through.is_(None)) | (DepositAccount.accrued_through < month_end),
        )
    ).all()
    for da, _account in rows:
        until = min(month_end, da.maturity_date)  # type: ignore[type-var]
        since = da.start_date if da.payout == "cumulative" else (da.last_payout_date or da.start_date)
        if until <= since:
            da.accrued_through = month_end
            continue
        exact = interest.fd_exact_interest(da.principal_paise, da.rate, since, until)  # type: ignore[arg-type]
        target = int(round_half_up(exact, Decimal(1)))
        delta = target - da.accrued_paise
        if delta > 0:
            total += delta
            da.accrued_paise = target
            count += 1
        da.accrued_through = month_end
    post_accrual("fd", (coa.EXP_FD_INTEREST, coa.INTEREST_PAYABLE_FD), total, count, month_end, on)
    return total


# ---------------------------------------------------------------- payouts


def pay_due_payouts(on: date, *, by: StaffUser | None = None, report: deposits.StepReport | None = None) -> int:
    """Pay every monthly / quarterly FD payout due on or before ``on`` (before maturity) to the SB.

    ``on`` may not be after the open business date. Each FD runs in its own savepoint: one
    that fails is rolled back, audited and listed in ``report.failed``; the rest go on. A
    payout whose savings account is frozen (or missing) is not paid: it stays due, is listed
    in ``report.held`` and is paid by the first run after the account is usable again (or
    credited to the FD at maturity) — a frozen account takes no credits (decision 0011.9).
    """
    today = deposits.check_not_after_business_date(on)
    report = report if report is not None else deposits.StepReport()
    paid = 0
    cutoff = on - timedelta(days=27)  # the shortest gap between two monthly payouts is 28 days
    rows = db.session.execute(
        _open_fds()
        .where(
            DepositAccount.payout.in_(("monthly", "quarterly")),
            func.coalesce(DepositAccount.last_payout_date, DepositAccount.start_date) <= cutoff,
        )
        .order_by(DepositAccount.id)
    ).all()
    for da, account in rows:
        if account.status == "frozen":
            continue
        due = [
            p
            for p in schedule(da)
            if p.due_date <= on
            and p.due_date < da.maturity_date  # the maturity payout goes with maturity
            and (da.last_payout_date is None or p.due_date > da.last_payout_date)
        ]
        if not due:
            continue
        target, why = _payout_target(da, account)
        if target is None:
            report.held.append(f"{account.account_no}: payout held, {why}")
            continue

        def work(da=da, account=account, due=due, target=target) -> int:
            for p in due:
                _payout(da, account, p, target, _post_kw(p.due_date, today, by))
            return len(due)

        done = deposits.isolated(account, "fd.payout", report, work)
        paid += done or 0
    return paid


def _payout_target(da: DepositAccount, account: Account) -> tuple[Account | None, str]:
    """The savings account that receives this FD's money, or (None, why) when none can take it."""
    target = da.payout_account
    if target is None or target.status == "closed":
        try:
            target = deposits.payout_target(db.session.get(Member, account.member_id), None)
        except ValidationError:
            return None, "no open savings account to pay into"
        da.payout_account_id = target.id
    if target.status == "frozen":
        return None, f"savings account {target.account_no} is frozen"
    return target, ""


def _payout(
    da: DepositAccount, account: Account, due_payout: interest.FdPayout, target: Account, post_kw: dict
) -> None:
    amount, due = due_payout.interest_paise, due_payout.due_date
    _credit_interest(
        da,
        account,
        amount,
        to=target,
        day=due,
        narration=f"FD interest payout to {due:%d-%m-%Y}",
        kind="payout",
        post_kw=post_kw,
    )
    da.interest_paid_paise += amount
    da.last_payout_date = due
    audit.record(
        "fd.payout",
        "account",
        account.account_no,
        after={"due": due, "interest_paise": amount, "to": target.account_no},
    )


# ---------------------------------------------------------------- maturity


def mature(on: date, *, by: StaffUser | None = None, report: deposits.StepReport | None = None) -> int:
    """Mature every FD whose maturity date is on or before ``on``; returns how many matured.

    ``on`` may not be after the open business date. Each FD runs in its own savepoint; one
    that fails is rolled back, audited and listed in ``report.failed``.
    """
    today = deposits.check_not_after_business_date(on)
    report = report if report is not None else deposits.StepReport()
    rows = db.session.execute(_open_fds().where(DepositAccount.maturity_date <= on).order_by(DepositAccount.id)).all()
    done = 0
    for da, account in rows:
        if deposits.isolated(
            account, "fd.mature", report, lambda da=da, account=account: _mature_one(da, account, today, by)
        ):
            done += 1
    return done


def _mature_one(da: DepositAccount, account: Account, today: date, by: StaffUser | None) -> bool:
    day = da.maturity_date
    assert day is not None
    post_kw = _post_kw(day, today, by)
    member = db.session.get(Member, account.member_id)
    target, why = _payout_target(da, account)
    if da.payout == "cumulative":
        total = maturity_value(da).interest_paise
        _credit_interest(
            da, account, total - da.interest_paid_paise, to=account, day=day,
            narration=f"FD interest at maturity {day:%d-%m-%Y}", kind="interest", post_kw=post_kw,
        )  # fmt: skip
        da.interest_paid_paise = total
    else:
        for p in schedule(da):
            if da.last_payout_date is not None and p.due_date <= da.last_payout_date:
                continue
            if target is not None:
                _payout(da, account, p, target, _post_kw(p.due_date, today, by))
                continue
            # No savings account can take the payout: it stays with the (held) deposit.
            _credit_interest(
                da, account, p.interest_paise, to=account, day=p.due_date,
                narration=f"FD interest to {p.due_date:%d-%m-%Y} held with the deposit ({why})",
                kind="interest", post_kw=_post_kw(p.due_date, today, by),
            )  # fmt: skip
            da.interest_paid_paise += p.interest_paise
            da.last_payout_date = p.due_date
    db.session.refresh(account)
    before = {
        "start": da.start_date,
        "maturity": da.maturity_date,
        "rate_bp": da.rate_bp,
        "principal": da.principal_paise,
    }
    if account.status == "frozen":
        da.matured_on = day
        audit.record("fd.matured_held", "account", account.account_no, before=before, after={"reason": "frozen"})
        return True
    if da.maturity_action == "auto_renew":
        renewed = _renew(da, account, member, day)
        if renewed is not None:
            audit.record("fd.renewed", "account", account.account_no, before=before, after=renewed)
            return True
    da.matured_on = day
    if target is None:
        audit.record("fd.matured_held", "account", account.account_no, before=before, after={"reason": why})
        return True
    amount = account.balance_paise
    ledger.post(
        [Line.dr(account, amount, "Maturity proceeds"), Line.cr(target, amount, f"FD {account.account_no} matured")],
        kind="maturity",
        narration=f"FD {account.account_no} matured {day:%d-%m-%Y}: {format_inr(amount)} to {target.account_no}",
        reference=account.account_no,
        options=ledger.PostOptions(**post_kw),
    )
    deposits.mark_closed(account, today, f"Matured {day:%d-%m-%Y}; paid to {target.account_no}")
    return True


def _renew(da: DepositAccount, account: Account, member: Member, day: date) -> dict | None:
    """Renew for the same tenure at the rate card in force on ``day``; None if not possible."""
    product = da.product
    principal = account.balance_paise
    if not product.active or principal <= 0:
        return None
    try:
        terms = terms_for(product, member, FdAsk(principal, da.months, da.days, da.payout or "cumulative"), day)
    except ValidationError:
        return None
    da.start_date = day
    da.maturity_date = terms.maturity_date
    da.rate_bp = terms.rate_bp
    da.senior = terms.senior
    da.principal_paise = principal
    da.expected_interest_paise = terms.interest_paise
    da.accrued_paise = 0
    da.accrued_through = None
    da.interest_paid_paise = 0
    da.last_payout_date = None
    da.renewals += 1
    return {"start": day, "maturity": terms.maturity_date, "rate_bp": terms.rate_bp, "principal": principal}


# ---------------------------------------------------------------- premature closure


@dataclass(frozen=True)
class PrematureQuote:
    """What closing an FD today would pay (before TDS)."""

    closed_on: date
    days_run: int
    base_rate_bp: int  # the rate offered on the start date for the period actually run
    penalty: Decimal
    rate: Decimal  # applied: base − penalty, not below 0
    interest_paise: int  # for the whole period run
    already_paid_paise: int
    due_paise: int  # negative: recovered from the principal
    payout_paise: int  # principal + due

    @property
    def base_rate(self) -> Decimal:
        return rate_of(self.base_rate_bp)  # type: ignore[return-value]


def premature_quote(da: DepositAccount, on: date) -> PrematureQuote:
    """Premature closure figures on ``on``: (rate for the period run − penalty) for the actual days.

    Cumulative FDs recompute by the FD rule (compounding quarterly from 180 days); monthly /
    quarterly payout FDs never compounded, so they get simple interest at the reduced rate
    (decision 0011.7). Interest already paid beyond the figure is recovered from the principal.
    """
    days_run = (on - da.start_date).days
    penalty = Decimal(str(da.product.setting("premature_penalty", "1.00")))
    band = catalogue.fd_band(da.product, da.start_date, days_run)
    base_bp = (band.rate_bp + (band.senior_extra_bp if da.senior else 0)) if band else 0
    if band is None or days_run <= 0:
        total = 0
        rate = Decimal(0)
    else:
        rate = interest.premature_rate(rate_of(base_bp), penalty)  # type: ignore[arg-type]
        if da.payout in ("monthly", "quarterly"):
            # A payout FD never compounds: simple interest P × r × d / 36500 at the reduced rate.
            exact = Decimal(da.principal_paise) * rate * days_run / 36500
            total = int(round_interest(exact / 100, catalogue.rounding()) * 100)  # type: ignore[arg-type]
        else:
            total = interest.fd_premature(
                da.principal_paise,
                rate_of(base_bp),
                penalty,
                da.start_date,
                on,
                catalogue.rounding(),  # type: ignore[arg-type]
            ).interest_paise
    due = total - da.interest_paid_paise
    return PrematureQuote(
        on, days_run, base_bp, penalty, rate, total, da.interest_paid_paise, due, da.principal_paise + due
    )


def close(
    account: Account,
    *,
    mode: str,
    to_account_no: str | None,
    reason: str = "",
    by: StaffUser | None = None,
    form60_ref: str | None = None,
) -> list[JournalEntry]:
    """Close an FD: pay a matured FD that was held, or close it prematurely with the penalty."""
    today = calendar.current_business_date()
    da = deposits.deposit_of(account)
    entries: list[JournalEntry] = []
    post_kw = _post_kw(today, today, by)
    if da.matured_on is None and today >= da.maturity_date:  # type: ignore[operator]
        _mature_one(da, account, today, by)
        if account.status == "closed":
            return entries
    if da.matured_on is None:
        quote = premature_quote(da, today)
        entry, _tds = _credit_interest(
            da,
            account,
            quote.due_paise,
            to=account,
            day=today,
            narration=(
                f"Premature closure after {quote.days_run} days: interest at {quote.rate}% "
                f"({quote.base_rate}% − {quote.penalty}% penalty)"
            ),
            kind="interest",
            post_kw=post_kw,
        )
        if entry is not None:
            entries.append(entry)
        da.interest_paid_paise = quote.interest_paise
        audit.record(
            "fd.premature",
            "account",
            account.account_no,
            after={
                "days_run": quote.days_run,
                "base_rate_bp": quote.base_rate_bp,
                "penalty": quote.penalty,
                "interest_paise": quote.interest_paise,
                "due_paise": quote.due_paise,
            },
        )
        reason = reason or "Closed before maturity at the member's request"
    db.session.refresh(account)
    amount = account.balance_paise
    if amount > 0:
        entries.append(
            deposits.pay_out(
                account, amount, deposits.Payout(mode, to_account_no, by, form60_ref), post_kw=post_kw,
                narration=f"FD {account.account_no} closed: {format_inr(amount)} paid",
            )
        )  # fmt: skip
    deposits.mark_closed(account, today, reason or "Matured deposit paid out")
    db.session.flush()
    return entries


# ---------------------------------------------------------------- the fixed-deposit kind


def default_settings() -> dict[str, Any]:
    """An FD product's settings before the product says otherwise (tenure limits are settings)."""
    return {
        "min_amount_paise": 1_000_00,
        "max_amount_paise": None,
        "min_days": int(setting("FD_MIN_DAYS")),
        "max_days": int(setting("FD_MAX_DAYS")),
        "payouts": list(FD_PAYOUTS),
        "maturity_actions": list(MATURITY_ACTIONS),
        "premature_penalty": "1.00",
    }


def _choices(out: dict[str, Any], name: str, allowed: tuple[str, ...], message: str) -> list[str]:
    chosen = [a for a in allowed if a in set(out[name] or [])]
    if not chosen or set(out[name]) - set(allowed):
        raise ValidationError(message, field=name)
    return chosen


def normalize_settings(out: dict[str, Any]) -> dict[str, Any]:
    """Check an FD product's settings (merged over the defaults)."""
    longest = int(setting("FD_MAX_DAYS"))
    out["min_amount_paise"] = catalogue.paise_setting(out["min_amount_paise"], "min_amount_paise") or 100
    out["max_amount_paise"] = catalogue.paise_setting(out["max_amount_paise"], "max_amount_paise", optional=True)
    out["min_days"] = catalogue.int_setting(out["min_days"], "min_days", 1, longest)
    out["max_days"] = catalogue.int_setting(out["max_days"], "max_days", out["min_days"], longest)
    out["payouts"] = _choices(
        out, "payouts", FD_PAYOUTS, "Choose at least one payout option (cumulative, monthly, quarterly)."
    )
    out["maturity_actions"] = _choices(
        out, "maturity_actions", MATURITY_ACTIONS, "Choose at least one maturity action."
    )
    out["premature_penalty"] = str(rate_of(catalogue.parse_rate_bp(out["premature_penalty"], "premature_penalty")))
    if out["max_amount_paise"] is not None and out["max_amount_paise"] < out["min_amount_paise"]:
        raise ValidationError("The maximum amount is below the minimum.", field="max_amount_paise")
    return out


def prepare_opening(new: NewDeposit) -> Opening:
    """Terms of a new FD (rate, maturity, interest) filled into its deposit details."""
    req, da = new.req, new.da
    amount = deposits.check_amount(req.amount_paise, "principal")
    terms = terms_for(
        new.product, new.member, FdAsk(amount, req.months, req.days, req.payout, req.maturity_action), new.on
    )
    da.rate_bp, da.senior, da.maturity_date = terms.rate_bp, terms.senior, terms.maturity_date
    da.months, da.days, da.principal_paise = req.months, req.days, amount
    da.payout, da.maturity_action = req.payout, req.maturity_action
    da.expected_interest_paise = terms.interest_paise
    if req.payout != "cumulative" or req.maturity_action == "credit_sb":
        da.payout_account_id = deposits.payout_target(new.member, req.payout_account_no).id
    return Opening(amount, f"Fixed deposit opened: {terms.describe()}", terms.rate_bp)


def quote(new: NewDeposit) -> Quote:
    """Rate, maturity date and interest of the FD asked for."""
    req = new.req
    terms = terms_for(new.product, new.member, FdAsk(req.amount_paise, req.months, req.days, req.payout), new.on)
    return Quote(terms.describe(), terms.maturity_paise, terms.interest_paise)


def maturity_steps(on: date, report: deposits.StepReport) -> dict[str, Any]:
    """The FD part of the day-end: payouts due, then maturities."""
    return {"fd_payouts": pay_due_payouts(on, report=report), "fd_matured": mature(on, report=report)}


kinds.register(
    kinds.Kind(
        name="fd",
        label="Fixed deposit",
        control_gl=coa.FD_DEPOSITS,
        order=2,
        default_settings=default_settings,
        normalize_settings=normalize_settings,
        prepare=prepare_opening,
        quote=quote,
        close=close,
        bands=kinds.Bands("days", lambda: int(setting("FD_MAX_DAYS"))),
        maturity_steps=maturity_steps,
        accrue_month_end=accrue_interest,
    )
)
