"""Recurring deposits: terms, instalment schedule, instalments (cash, transfer, standing
instruction), overdue marking and late fees, month-end accrual, maturity and premature closure.

Instalment k (1 = the first, paid at opening) is due on start + (k − 1) calendar months.
Credits to an RD must be whole instalments; each one pays the oldest unpaid instalment and
records the month of the term in which it counts: the month it was paid, or its own due
month when paid in advance (an advance instalment earns no more than one paid on time).
Maturity = ``interest.rd_maturity_actual`` over the instalments actually paid (DESIGN.md
§6), so missed or late instalments earn less. An instalment paid after its due date plus
the product's grace days is charged the product's missed-instalment fee, debited from the
RD right after the credit (docs/decisions/0011-deposit-rules.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from app.extensions import db
from app.models.deposits import DepositAccount, DepositProduct, RdInstallment, rate_of
from app.models.ledger import Account, JournalEntry
from app.models.members import Member
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import DomainError, ValidationError, audit
from app.services.ledger import Line, calendar, coa
from app.services.ledger import kinds as deposit_rules
from app.settings import setting

from . import accounts as deposits
from . import catalogue, interest, kinds, tds
from .accrual import post_accrual
from .kinds import NewDeposit, Opening, Quote
from .rd_instalments import (  # noqa: F401  (re-exported: screens and tests use recurring.X)
    RdTerms,
    _unpaid,
    check_credit,
    create_schedule,
    installments,
    record_instalment,
    term_month,
    terms_for,
)


def mark_overdue(on: date) -> int:
    """Mark instalments unpaid after their due date + grace days as overdue (set-based per product)."""
    deposits.check_not_after_business_date(on)
    total = 0
    for product in db.session.scalars(select(DepositProduct).where(DepositProduct.kind == "rd")):
        grace = int(product.setting("grace_days", 0) or 0)
        accounts = select(DepositAccount.account_id).where(DepositAccount.product_id == product.id)
        result = db.session.execute(
            update(RdInstallment)
            .where(
                RdInstallment.status == "due",
                RdInstallment.due_date < on - timedelta(days=grace),
                RdInstallment.account_id.in_(accounts),
            )
            .values(status="overdue")
            .execution_options(synchronize_session=False)
        )
        total += int(result.rowcount or 0)
    if total:
        audit.record("rd.overdue", "deposits", on.isoformat(), after={"instalments": total})
    return total


# ---------------------------------------------------------------- standing instructions


@dataclass
class SiResult:
    paid: int = 0
    failed: list[str] = field(default_factory=list)


def run_standing_instructions(on: date) -> SiResult:
    """Debit the SB of every RD with a standing instruction for instalments due by ``on``.

    Pays as many whole instalments as the SB can afford above its floor; an RD whose SB
    cannot pay even one is listed in ``failed`` (and tried again the next day). ``on`` may not
    be after the open business date.
    """
    deposits.check_not_after_business_date(on)
    result = SiResult()
    rows = db.session.execute(
        select(DepositAccount, Account)
        .join(Account, Account.id == DepositAccount.account_id)
        .where(
            DepositAccount.kind == "rd",
            DepositAccount.si_account_id.is_not(None),
            DepositAccount.matured_on.is_(None),
            DepositAccount.maturity_date > on,
            Account.status == "active",
            select(RdInstallment.id)
            .where(
                RdInstallment.account_id == Account.id,
                RdInstallment.status != "paid",
                RdInstallment.due_date <= on,
            )
            .exists(),
        )
        .order_by(DepositAccount.id)
    ).all()
    for da, account in rows:
        due = [r for r in _unpaid(account) if r.due_date <= on]
        sb = da.si_account
        r = int(da.installment_paise or 0)
        try:
            floor = deposit_rules.withdrawal_floor(sb)
        except DomainError:
            result.failed.append(account.account_no)
            continue
        n = min(len(due), max(sb.balance_paise - floor, 0) // r) if sb.status == "active" else 0
        if n <= 0:
            result.failed.append(account.account_no)
            audit.record("rd.si_failed", "account", account.account_no, after={"sb": sb.account_no, "due": len(due)})
            continue
        amount = n * r
        try:
            with db.session.begin_nested():
                entry = ledger.post(
                    [
                        Line.dr(sb, amount, f"RD {account.account_no} instalment", floor_paise=floor),
                        Line.cr(account, amount, "Standing instruction"),
                    ],
                    kind="transfer",
                    narration=f"Standing instruction: {n} RD instalment(s) {sb.account_no} → {account.account_no}",
                    idempotency_key=f"rd-si:{account.id}:{due[0].seq}:{n}",
                    reference=account.account_no,
                    options=ledger.PostOptions(
                        channel="system",
                    ),
                )
                record_instalment(account, amount, entry)
        except DomainError:
            result.failed.append(account.account_no)
            continue
        result.paid += n
    return result


# ---------------------------------------------------------------- accrual, maturity, closure


def _paid_months(account_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    if not account_ids:
        return out
    for acc_id, month in db.session.execute(
        select(RdInstallment.account_id, RdInstallment.paid_month).where(
            RdInstallment.account_id.in_(account_ids), RdInstallment.status == "paid"
        )
    ):
        out[acc_id].append(int(month))
    return out


def interest_earned(da: DepositAccount, months: int, paid_months: list[int], rate: Decimal, rounding: str) -> int:
    """Interest on the instalments paid within the first ``months`` months of the term."""
    counted = [m for m in paid_months if m <= months]
    if months < 1 or not counted:
        return 0
    return interest.rd_maturity_actual(int(da.installment_paise or 0), rate, months, counted, rounding).interest_paise  # type: ignore[arg-type]


def accrue_interest(month_end: date) -> int:
    """Accrue RD interest earned to ``month_end`` (GL: Dr interest on RDs / Cr interest payable).

    A month end after the open business date is refused.
    """
    on = deposits.check_not_after_business_date(month_end, "month_end")
    rows = db.session.execute(
        select(DepositAccount, Account)
        .join(Account, Account.id == DepositAccount.account_id)
        .where(
            DepositAccount.kind == "rd",
            Account.status != "closed",
            DepositAccount.matured_on.is_(None),
            DepositAccount.start_date <= month_end,
            (DepositAccount.accrued_through.is_(None)) | (DepositAccount.accrued_through < month_end),
        )
    ).all()
    paid = _paid_months([acc.id for _, acc in rows])
    total = count = 0
    for da, account in rows:
        months = min(interest.completed_months(da.start_date, month_end), da.months)
        target = interest_earned(da, months, paid[account.id], da.rate, "paise")  # type: ignore[arg-type]
        if target > da.accrued_paise:
            total += target - da.accrued_paise
            da.accrued_paise = target
            count += 1
        da.accrued_through = month_end
    post_accrual("rd", (coa.EXP_RD_INTEREST, coa.INTEREST_PAYABLE_RD), total, count, month_end, on)
    return total


@dataclass(frozen=True)
class RdQuote:
    """RD figures: on schedule, from the instalments actually paid, or on premature closure."""

    months: int
    rate: Decimal
    paid_installments: int
    deposited_paise: int
    interest_paise: int
    fees_paise: int
    payout_paise: int


def maturity_quote(account: Account, da: DepositAccount) -> RdQuote:
    """What the RD pays at maturity from the instalments paid so far (remaining ones on time)."""
    rows = installments(account)
    months = [r.paid_month for r in rows if r.status == "paid"] + [r.seq for r in rows if r.status != "paid"]
    result = interest.rd_maturity_actual(
        int(da.installment_paise or 0), da.rate, da.months, months, catalogue.rounding()
    )  # type: ignore[arg-type]
    fees = sum(r.fee_paise for r in rows)
    return RdQuote(
        da.months,
        da.rate,
        sum(1 for r in rows if r.status == "paid"),
        result.total_deposited_paise,
        result.interest_paise,
        fees,
        result.maturity_paise - fees,
    )  # type: ignore[arg-type]


def premature_quote(account: Account, da: DepositAccount, on: date) -> RdQuote:
    """Premature closure: (rate for the months actually run − penalty) on the instalments paid."""
    months_run = min(interest.completed_months(da.start_date, on), da.months)
    band = catalogue.rd_band(da.product, da.start_date, months_run) if months_run else None
    penalty = Decimal(str(da.product.setting("premature_penalty", "1.00")))
    rate = Decimal(0)
    earned = 0
    if band is not None:
        base = rate_of(band.rate_bp + (band.senior_extra_bp if da.senior else 0))
        rate = interest.premature_rate(base, penalty)  # type: ignore[arg-type]
        earned = interest_earned(da, months_run, _paid_months([account.id])[account.id], rate, catalogue.rounding())
    rows = installments(account)
    paid = [r for r in rows if r.status == "paid"]
    fees = sum(r.fee_paise for r in rows)
    deposited = len(paid) * int(da.installment_paise or 0)
    return RdQuote(months_run, rate, len(paid), deposited, earned, fees, deposited + earned - fees)


def _credit(da: DepositAccount, account: Account, amount: int, day: date, narration: str, post_kw: dict) -> None:
    lines = deposits.settlement_lines(coa.EXP_RD_INTEREST, coa.INTEREST_PAYABLE_RD, da.accrued_paise, amount)
    if amount > 0:
        lines.append(Line.cr(account, amount, narration))
    da.accrued_paise = 0
    if not lines:
        return
    entry = ledger.post(
        lines,
        kind="interest",
        narration=f"{narration} — {account.account_no}",
        reference=account.account_no,
        options=ledger.PostOptions(
            **post_kw,
            allow_frozen=True,
        ),
    )
    if amount > 0:
        tds.deduct_on_credit(account, amount, entry, day, **post_kw)


def _post_kw(day: date, today: date, by: StaffUser | None) -> dict:
    return {
        "value_date": min(day, today),
        "allow_backdate": day < today,
        "posted_by_id": by.id if by else None,
        "channel": "system" if by is None else "branch",
    }


def mature(on: date, *, by: StaffUser | None = None, report: deposits.StepReport | None = None) -> int:
    """Mature every RD due on or before ``on``: credit interest, pay to the SB (or hold).

    ``on`` may not be after the open business date. Each RD runs in its own savepoint; one
    that fails is rolled back, audited and listed in ``report.failed``. Returns how many matured.
    """
    today = deposits.check_not_after_business_date(on)
    report = report if report is not None else deposits.StepReport()
    rows = db.session.execute(
        select(DepositAccount, Account)
        .join(Account, Account.id == DepositAccount.account_id)
        .where(
            DepositAccount.kind == "rd",
            Account.status != "closed",
            DepositAccount.matured_on.is_(None),
            DepositAccount.maturity_date <= on,
        )
        .order_by(DepositAccount.id)
    ).all()
    paid = _paid_months([acc.id for _, acc in rows])
    done = 0
    for da, account in rows:
        work = lambda da=da, account=account: mature_one(da, account, today, by, paid[account.id])  # noqa: E731
        if deposits.isolated(account, "rd.mature", report, work):
            done += 1
    return done


def mature_one(
    da: DepositAccount, account: Account, today: date, by: StaffUser | None, paid_months: list[int] | None = None
) -> bool:
    """Mature one RD on its maturity date: credit the interest, pay the balance to the SB.

    The RD is held as matured (audited) when it is frozen or no savings account can take
    the money (none open, or the payout account is frozen): decision 0011.9.
    """
    day = da.maturity_date
    assert day is not None
    post_kw = _post_kw(day, today, by)
    if paid_months is None:
        paid_months = _paid_months([account.id])[account.id]
    earned = interest_earned(da, da.months, paid_months, da.rate, catalogue.rounding())  # type: ignore[arg-type]
    _credit(da, account, earned, day, f"RD interest at maturity {day:%d-%m-%Y}", post_kw)
    da.interest_paid_paise = earned
    da.matured_on = day
    db.session.refresh(account)
    target = None
    held = ""
    if account.status == "frozen":
        held = "frozen"
    else:
        target = da.payout_account
        if target is None or target.status == "closed":
            try:
                target = deposits.payout_target(db.session.get(Member, account.member_id), None)
            except ValidationError:
                target, held = None, "no open savings account to pay into"
        if target is not None and target.status == "frozen":
            target, held = None, f"savings account {target.account_no} is frozen"
    audit.record(
        "rd.matured",
        "account",
        account.account_no,
        after={"interest_paise": earned, "paid_to": target.account_no if target else None, "held": held or None},
    )
    if target is None:
        return True
    amount = account.balance_paise
    if amount > 0:
        ledger.post(
            [
                Line.dr(account, amount, "Maturity proceeds"),
                Line.cr(target, amount, f"RD {account.account_no} matured"),
            ],
            kind="maturity",
            narration=f"RD {account.account_no} matured {day:%d-%m-%Y}: {format_inr(amount)} to {target.account_no}",
            reference=account.account_no,
            options=ledger.PostOptions(**post_kw),
        )
    deposits.mark_closed(account, today, f"Matured {day:%d-%m-%Y}; paid to {target.account_no}")
    return True


def close(
    account: Account,
    *,
    mode: str,
    to_account_no: str | None,
    reason: str = "",
    by: StaffUser | None = None,
    form60_ref: str | None = None,
) -> list[JournalEntry]:
    """Close an RD: a matured RD that was held is paid out; otherwise premature closure."""
    today = calendar.current_business_date()
    da = deposits.deposit_of(account)
    post_kw = _post_kw(today, today, by)
    if da.matured_on is None and today >= da.maturity_date:  # type: ignore[operator]
        mature_one(da, account, today, by)  # this RD only, not every RD due
        db.session.refresh(account)
        if account.status == "closed":
            return []
    if da.matured_on is None:
        quote = premature_quote(account, da, today)
        _credit(
            da,
            account,
            quote.interest_paise,
            today,
            f"RD closed early after {quote.months} month(s): interest at {quote.rate}%",
            post_kw,
        )
        da.interest_paid_paise = quote.interest_paise
        audit.record(
            "rd.premature",
            "account",
            account.account_no,
            after={"months_run": quote.months, "rate": quote.rate, "interest_paise": quote.interest_paise},
        )
        reason = reason or "Closed before maturity at the member's request"
    db.session.refresh(account)
    entries = []
    amount = account.balance_paise
    if amount > 0:
        entries.append(
            deposits.pay_out(
                account, amount, deposits.Payout(mode, to_account_no, by, form60_ref), post_kw=post_kw,
                narration=f"RD {account.account_no} closed: {format_inr(amount)} paid",
            )
        )  # fmt: skip
    deposits.mark_closed(account, today, reason or "Matured deposit paid out")
    db.session.flush()
    return entries


# ---------------------------------------------------------------- the recurring-deposit kind


def _longest() -> int:
    return int(setting("RD_MAX_MONTHS"))


def default_settings() -> dict[str, Any]:
    """An RD product's settings before the product says otherwise (tenure limits are settings)."""
    return {
        "min_installment_paise": 100_00,
        "installment_multiple_paise": 10_00,
        "min_months": int(setting("RD_MIN_MONTHS")),
        "max_months": int(setting("RD_MAX_MONTHS")),
        "missed_fee_paise": 0,
        "grace_days": 0,
        "premature_penalty": "1.00",
    }


def normalize_settings(out: dict[str, Any]) -> dict[str, Any]:
    """Check an RD product's settings (merged over the defaults)."""
    out["min_installment_paise"] = catalogue.paise_setting(out["min_installment_paise"], "min_installment_paise") or 100
    out["installment_multiple_paise"] = (
        catalogue.paise_setting(out["installment_multiple_paise"], "installment_multiple_paise") or 100
    )
    out["min_months"] = catalogue.int_setting(out["min_months"], "min_months", 1, _longest())
    out["max_months"] = catalogue.int_setting(out["max_months"], "max_months", out["min_months"], _longest())
    out["missed_fee_paise"] = catalogue.paise_setting(out["missed_fee_paise"], "missed_fee_paise")
    out["grace_days"] = catalogue.int_setting(out["grace_days"], "grace_days", 0, 31)
    out["premature_penalty"] = str(rate_of(catalogue.parse_rate_bp(out["premature_penalty"], "premature_penalty")))
    return out


def prepare_opening(new: NewDeposit) -> Opening:
    """Terms of a new RD filled into its deposit details; the first instalment is the first money."""
    req, da = new.req, new.da
    installment = deposits.check_amount(req.installment_paise, "installment")
    if req.amount_paise and req.amount_paise != installment:
        raise ValidationError(
            f"The first deposit {format_inr(req.amount_paise)} does not match the instalment {format_inr(installment)}.",
            field="installment",
        )
    terms = terms_for(new.product, new.member, installment, req.months, new.on)
    da.rate_bp, da.senior, da.maturity_date = terms.rate_bp, terms.senior, terms.maturity_date
    da.months, da.installment_paise, da.due_day = req.months, installment, new.on.day
    da.expected_interest_paise = terms.interest_paise
    da.maturity_action = "credit_sb"
    if req.si_account_no:
        da.si_account_id = deposits.own_savings(new.member, req.si_account_no, "si_account").id
    if req.payout_account_no or req.si_account_no:
        da.payout_account_id = deposits.payout_target(new.member, req.payout_account_no or req.si_account_no).id
    return Opening(installment, f"Recurring deposit opened: {terms.describe()}", terms.rate_bp)


def quote(new: NewDeposit) -> Quote:
    """Rate, maturity date and amount of the RD asked for (every instalment on time)."""
    terms = terms_for(new.product, new.member, new.req.installment_paise, new.req.months, new.on)
    return Quote(terms.describe(), terms.maturity_paise, terms.interest_paise)


def after_opening(new: NewDeposit, account: Account, opening: Opening, entry: JournalEntry | None) -> None:
    """The instalment schedule, with the first instalment paid by the opening entry."""
    create_schedule(account, new.da)
    if entry is not None:
        record_instalment(account, opening.amount_paise, entry)


def maturity_steps(on: date, report: deposits.StepReport) -> dict[str, Any]:
    """The RD part of the day-end: standing instructions, overdue marking, maturities."""
    si = run_standing_instructions(on)
    return {
        "rd_standing_instructions": si.paid,
        "rd_overdue": mark_overdue(on),
        "rd_matured": mature(on, report=report),
    }


kinds.register(
    kinds.Kind(
        name="rd",
        label="Recurring deposit",
        control_gl=coa.RD_DEPOSITS,
        order=3,
        default_settings=default_settings,
        normalize_settings=normalize_settings,
        prepare=prepare_opening,
        quote=quote,
        after_open=after_opening,
        close=close,
        bands=kinds.Bands("months", _longest),
        maturity_steps=maturity_steps,
        accrue_month_end=accrue_interest,
    )
)
deposit_rules.register_credit_check("rd", check_credit)
deposit_rules.register_after_credit("rd", record_instalment)
