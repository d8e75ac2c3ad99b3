"""The terms and instalments of a recurring deposit: rate from the product's band for the
tenure (plus the senior-citizen extra), the instalment schedule, which credits an RD takes
(whole instalments, before maturity) and marking instalments paid with late fees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models.deposits import DepositAccount, RdInstallment, rate_of
from app.models.ledger import Account, JournalEntry
from app.models.members import Member
from app.money import format_inr
from app.services import ledger
from app.services.common import ValidationError, audit
from app.services.ledger import Line, calendar, coa
from app.settings import setting

from . import accounts as deposits
from . import catalogue, interest


@dataclass(frozen=True)
class RdTerms:
    installment_paise: int
    months: int
    rate_bp: int
    senior: bool
    start: date
    maturity_date: date
    interest_paise: int  # with every instalment paid on time

    @property
    def rate(self) -> Decimal:
        return rate_of(self.rate_bp)  # type: ignore[return-value]

    @property
    def maturity_paise(self) -> int:
        return self.installment_paise * self.months + self.interest_paise

    def describe(self) -> str:
        return (
            f"{format_inr(self.installment_paise)} a month for {self.months} months at {self.rate}%"
            f"{' (senior citizen)' if self.senior else ''}, maturing {self.maturity_date:%d-%m-%Y} "
            f"with {format_inr(self.maturity_paise)}"
        )


def terms_for(product, member: Member, installment_paise: int, months: int, start: date) -> RdTerms:
    """Validate an RD against its product; rate from the band for ``months`` (+ senior extra)."""
    if isinstance(months, bool) or not isinstance(months, int) or months <= 0:
        raise ValidationError("Give the RD tenure in whole months.", field="months")
    low, high = (
        int(product.setting("min_months", setting("RD_MIN_MONTHS"))),
        int(product.setting("max_months", setting("RD_MAX_MONTHS"))),
    )
    band = catalogue.rd_band(product, start, months)
    if not low <= months <= high or band is None:
        raise ValidationError(
            f"{product.name} has no rate for {months} months; supported tenures: {catalogue.describe_bands(product, start)}.",
            field="months",
        )
    minimum = int(product.setting("min_installment_paise", 100) or 100)
    multiple = int(product.setting("installment_multiple_paise", 100) or 100)
    if installment_paise < minimum:
        raise ValidationError(
            f"The minimum instalment for {product.name} is {format_inr(minimum)}.", field="installment"
        )
    if installment_paise % multiple:
        raise ValidationError(f"The instalment must be a multiple of {format_inr(multiple)}.", field="installment")
    senior = catalogue.is_senior(member, start)
    rate_bp = band.rate_bp + (band.senior_extra_bp if senior else 0)
    result = interest.rd_maturity(installment_paise, rate_of(rate_bp), months, catalogue.rounding())  # type: ignore[arg-type]
    return RdTerms(
        installment_paise, months, rate_bp, senior, start, interest.add_months(start, months), result.interest_paise
    )


def create_schedule(account: Account, da: DepositAccount) -> list[RdInstallment]:
    """One row per instalment: k due on start + (k − 1) months."""
    rows = [
        RdInstallment(
            account_id=account.id,
            seq=k,
            due_date=interest.add_months(da.start_date, k - 1),
            amount_paise=da.installment_paise,
            status="due",
        )
        for k in range(1, da.months + 1)
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def installments(account: Account) -> list[RdInstallment]:
    return list(
        db.session.scalars(
            select(RdInstallment).where(RdInstallment.account_id == account.id).order_by(RdInstallment.seq)
        )
    )


def term_month(da: DepositAccount, on: date) -> int:
    """The month of the term ``on`` falls in (1 = from the start date to a month later)."""
    return interest.completed_months(da.start_date, on) + 1


def _unpaid(account: Account) -> list[RdInstallment]:
    return list(
        db.session.scalars(
            select(RdInstallment)
            .where(RdInstallment.account_id == account.id, RdInstallment.status != "paid")
            .order_by(RdInstallment.seq)
        )
    )


def check_credit(account: Account, amount_paise: int) -> None:
    """An RD takes only whole instalments, no more than remain, before maturity."""
    da = deposits.deposit_of(account)
    on = calendar.current_business_date()
    if da.matured_on is not None or on >= da.maturity_date:  # type: ignore[operator]
        raise ValidationError(
            f"Recurring deposit {account.account_no} has matured; it takes no more instalments.", field="amount"
        )
    r = int(da.installment_paise or 0)
    if amount_paise <= 0 or amount_paise % r:
        raise ValidationError(
            f"Recurring deposit {account.account_no} takes instalments of {format_inr(r)}; "
            f"{format_inr(amount_paise)} is not a whole number of instalments.",
            field="amount",
        )
    remaining = len(_unpaid(account))
    if amount_paise // r > remaining:
        raise ValidationError(
            f"Only {remaining} instalment(s) of {format_inr(r)} remain on {account.account_no}.", field="amount"
        )


def record_instalment(account: Account, amount_paise: int, entry: JournalEntry) -> list[RdInstallment]:
    """Mark the oldest unpaid instalments paid by ``entry`` (already posted) and charge late fees."""
    check_credit(account, amount_paise)
    da = deposits.deposit_of(account)
    on = entry.business_date
    month = term_month(da, on)
    grace = int(da.product.setting("grace_days", 0) or 0)
    fee = min(int(da.product.setting("missed_fee_paise", 0) or 0), int(da.installment_paise or 0))
    rows = _unpaid(account)[: amount_paise // int(da.installment_paise or 1)]
    late: list[RdInstallment] = []
    for row in rows:
        row.status = "paid"
        row.paid_on = on
        row.paid_month = min(max(row.seq, month), da.months)
        row.entry_id = entry.id
        if fee and on > row.due_date + timedelta(days=grace):
            row.fee_paise = fee
            late.append(row)
    if late:
        total = fee * len(late)
        fee_entry = ledger.post(
            [
                Line.dr(account, total, f"Late fee for {len(late)} instalment(s)"),
                Line.cr(coa.INCOME_SERVICE_CHARGES, total),
            ],
            kind="fee",
            narration=f"RD late instalment fee: {', '.join(f'#{r.seq} due {r.due_date:%d-%m-%Y}' for r in late)}",
            reference=account.account_no,
        )
        for row in late:
            row.fee_entry_id = fee_entry.id
    audit.record(
        "rd.installment",
        "account",
        account.account_no,
        after={
            "paid": [r.seq for r in rows],
            "entry": entry.number,
            "late_fee_paise": fee * len(late),
        },
    )
    db.session.flush()
    return rows
