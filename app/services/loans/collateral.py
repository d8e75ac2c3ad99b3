"""Security for loans: gold valued at the day's rate within the LTV bands, liens on deposits.

Gold (DESIGN §6): net weight × purity / 22 × the 22 carat rate, the rate being the lower of
the 30-day average and the previous day's rate (``GoldRate`` rows, entered daily). The
loan may be at most the product's LTV of that value and never above the RBI band for the
borrower's total gold borrowing (85% up to ₹2.5 lakh, 80% up to ₹5 lakh, 75% above:
setting ``GOLD_LTV_BANDS``). A lien on an FD/RD or savings account is at most 90% of its
balance (``DEPOSIT_LIEN_MAX_BP``); while a loan is open the lien blocks closing the deposit
and withdrawing below the lien (the rules registered in ``ledger.kinds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import Account
from app.models.loans import GoldRate, Loan, LoanCollateral, rate_of
from app.money import format_inr
from app.services.common import ValidationError, audit
from app.services.ledger import kinds
from app.settings import setting

LIEN_KINDS = ("fd", "rd", "savings")
OPEN_STATUSES = ("applied", "appraised", "sanctioned", "disbursed", "active")


@dataclass(frozen=True)
class GoldItem:
    description: str
    gross_weight_mg: int
    net_weight_mg: int
    purity_carat: int


def ltv_bands() -> list[tuple[int | None, int]]:
    """The RBI gold LTV bands as (borrower's total up to paise or None, max LTV bp)."""
    bands: list[tuple[int | None, int]] = []
    for part in str(setting("GOLD_LTV_BANDS")).split(","):
        upto, bp = part.split(":")
        bands.append((int(upto) if upto.strip() else None, int(bp)))
    return bands


def band_ltv_bp(total_paise: int) -> int:
    for upto, bp in ltv_bands():
        if upto is None or total_paise <= upto:
            return bp
    return ltv_bands()[-1][1]


def record_gold_rate(on: date, rate_22k_paise: int) -> GoldRate:
    """Enter the day's 22 carat rate per gram (one a day; a second entry replaces it)."""
    if rate_22k_paise <= 0:
        raise ValidationError("The gold rate must be more than zero.", field="rate")
    row = db.session.scalar(select(GoldRate).where(GoldRate.rate_date == on)) or GoldRate(rate_date=on)
    before = row.rate_22k_paise
    row.rate_22k_paise = rate_22k_paise
    db.session.add(row)
    db.session.flush()
    audit.record(
        "loans.gold_rate", "gold_rate", on.isoformat(), before={"rate": before}, after={"rate": rate_22k_paise}
    )
    return row


def gold_rate(on: date) -> int:
    """Lower of the 30-day average and the previous day's 22 carat rate (ValidationError when none)."""
    prev = db.session.scalar(
        select(GoldRate.rate_22k_paise).where(GoldRate.rate_date < on).order_by(GoldRate.rate_date.desc()).limit(1)
    )
    if prev is None:
        raise ValidationError(
            "No gold rate has been entered before today; enter the day's 22 carat rate first.", field="gold"
        )
    avg = db.session.scalar(
        select(func.avg(GoldRate.rate_22k_paise)).where(
            GoldRate.rate_date < on, GoldRate.rate_date >= on - timedelta(days=30)
        )
    )
    average = int(Decimal(str(avg)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) if avg is not None else prev
    return min(int(prev), average)


def gold_value(item: GoldItem, rate_22k_paise: int) -> int:
    """Value of one item: net grams × purity/22 × the 22 carat rate, half-up to the paisa."""
    if item.net_weight_mg <= 0 or item.gross_weight_mg < item.net_weight_mg:
        raise ValidationError("Net weight must be above zero and not above the gross weight.", field="gold")
    if not 1 <= item.purity_carat <= 24:
        raise ValidationError("Purity is in carats, 1 to 24.", field="gold")
    value = Decimal(item.net_weight_mg) / 1000 * Decimal(item.purity_carat) / 22 * rate_22k_paise
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check_gold_ltv(amount_paise: int, value_paise: int, product_ltv_bp: int, other_gold_paise: int = 0) -> int:
    """The LTV in bp; ValidationError when the loan breaks the product's or the RBI band's LTV."""
    if value_paise <= 0:
        raise ValidationError("The gold pledged has no value.", field="gold")
    allowed = min(product_ltv_bp, band_ltv_bp(amount_paise + other_gold_paise))
    ltv = int((Decimal(amount_paise) * 10000 / value_paise).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    limit = int(Decimal(value_paise) * allowed / 10000)
    if amount_paise > limit:
        raise ValidationError(
            f"Gold worth {format_inr(value_paise)} supports a loan of at most {format_inr(limit)} "
            f"({rate_of(allowed).normalize():f}% LTV); {format_inr(amount_paise)} is {rate_of(ltv)}%.",
            field="principal",
        )
    return ltv


def add_gold(loan: Loan, items: list[GoldItem], on: date, *, declared: bool) -> list[LoanCollateral]:
    if not declared:
        raise ValidationError("The member's declaration of ownership of the gold is required.", field="gold")
    rate = gold_rate(on)
    rows = []
    for item in items:
        value = gold_value(item, rate)
        row = LoanCollateral(
            loan_id=loan.id, kind="gold", description=item.description[:255], gross_weight_mg=item.gross_weight_mg,
            net_weight_mg=item.net_weight_mg, purity_carat=item.purity_carat, rate_per_gram_paise=rate,
            value_paise=value, ownership_declared=True,
        )  # fmt: skip
        db.session.add(row)
        rows.append(row)
    total = sum(r.value_paise for r in rows)
    ltv = check_gold_ltv(loan.principal_paise, total, loan.product.max_ltv_bp, _other_gold(loan))
    for r in rows:
        r.details = {"ltv_bp": ltv}
    db.session.flush()
    return rows


def _other_gold(loan: Loan) -> int:
    """The borrower's other live gold loans (the RBI band is on the borrower's total)."""
    value = db.session.scalar(
        select(func.coalesce(func.sum(Loan.principal_paise), 0)).where(
            Loan.member_id == loan.member_id,
            Loan.id != loan.id,
            Loan.status.in_(OPEN_STATUSES),
            Loan.id.in_(select(LoanCollateral.loan_id).where(LoanCollateral.kind == "gold")),
        )
    )
    return int(value or 0)


def liened_paise(account: Account) -> int:
    """The total of active liens on a deposit account."""
    value = db.session.scalar(
        select(func.coalesce(func.sum(LoanCollateral.lien_paise), 0)).where(
            LoanCollateral.deposit_account_id == account.id, LoanCollateral.lien_active.is_(True)
        )
    )
    return int(value or 0)


def add_lien(loan: Loan, account: Account, lien_paise: int) -> LoanCollateral:
    """Mark a lien on the member's deposit (≤ 90% of its balance, less existing liens)."""
    if account.kind not in LIEN_KINDS or account.member_id != loan.member_id:
        raise ValidationError(f"{account.account_no} is not a deposit of this member.", field="deposit_account")
    if account.status != "active":
        raise ValidationError(f"Deposit {account.account_no} is {account.status}.", field="deposit_account")
    cap = int(Decimal(account.balance_paise) * int(setting("DEPOSIT_LIEN_MAX_BP")) / 10000) - liened_paise(account)
    if lien_paise <= 0 or lien_paise > cap:
        raise ValidationError(
            f"A lien on {account.account_no} may be at most {format_inr(max(cap, 0))} "
            f"({rate_of(int(setting('DEPOSIT_LIEN_MAX_BP'))).normalize():f}% of its balance {format_inr(account.balance_paise)}, "
            "less existing liens).",
            field="deposit_account",
        )
    if loan.principal_paise > lien_paise:
        raise ValidationError(
            f"The loan ({format_inr(loan.principal_paise)}) is more than the lien ({format_inr(lien_paise)}).",
            field="principal",
        )
    row = LoanCollateral(loan_id=loan.id, kind="deposit", deposit_account_id=account.id, lien_paise=lien_paise,
                         value_paise=account.balance_paise, lien_active=True,
                         description=f"Lien on {account.account_no}")  # fmt: skip
    db.session.add(row)
    db.session.flush()
    audit.record("loans.lien", "account", account.account_no, after={"loan": loan.loan_no, "lien_paise": lien_paise})
    return row


def add_details(loan: Loan, kind: str, description: str, value_paise: int) -> LoanCollateral:
    """Property or vehicle security (details and the valuation)."""
    row = LoanCollateral(loan_id=loan.id, kind=kind, description=description[:255], value_paise=max(value_paise, 0))
    db.session.add(row)
    db.session.flush()
    return row


def release_liens(loan: Loan) -> int:
    """Release every active lien of a loan (on closure or rejection)."""
    count = 0
    for row in loan.collateral:
        if row.lien_active:
            row.lien_active = False
            count += 1
            audit.record("loans.lien_release", "loan", loan.loan_no, after={"account_id": row.deposit_account_id})
    return count


def _lien_floor(account: Account) -> int:
    return liened_paise(account)


def _closure_check(account: Account) -> None:
    held = liened_paise(account)
    if held:
        raise ValidationError(
            f"{account.account_no} carries a lien of {format_inr(held)} for a loan; it cannot be closed "
            "until the loan is repaid.",
            field="account",
        )


kinds.register_lien(_lien_floor)
kinds.register_closure_check(_closure_check)
