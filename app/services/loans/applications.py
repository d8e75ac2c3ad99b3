"""Loan applications: the terms checked against the product, security, guarantors, eligibility.

Eligibility is a list of named checks (``CHECKS``), each returning a ``Check`` with its
reason, shown to the appraiser as they are: active member, KYC current (the members face's
rule), share linkage, existing exposure, age at maturity, guarantors. A member who is not
active or whose KYC is not current cannot apply at all (nothing is saved); the other checks
are recorded on the application and must pass (share linkage: or be bought out of the
disbursement) before it can be sanctioned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import Account
from app.models.loans import Loan, LoanGuarantor, LoanProduct, rate_of
from app.models.members import Member
from app.models.users import StaffUser
from app.money import format_inr
from app.services import members
from app.services.common import ValidationError, numbering
from app.services.deposits import add_months
from app.services.ledger import calendar
from app.services.members import shares
from app.settings import setting

from . import collateral, events, products, schedule

LIVE = ("disbursed", "active")
PENDING = ("applied", "appraised", "sanctioned")


@dataclass(frozen=True)
class Check:
    name: str
    label: str
    ok: bool
    reason: str
    blocking: bool = True


@dataclass
class Application:
    """What a clerk (or the API) submits; money in paise, rate in bp (None: the product's)."""

    member_no: str
    principal_paise: int
    months: int
    product_code: str | None = None
    rate_bp: int | None = None
    purpose: str | None = None
    guarantor_nos: list[str] = field(default_factory=list)
    gold_items: list[collateral.GoldItem] = field(default_factory=list)
    gold_declared: bool = False
    lien_account_no: str | None = None
    lien_paise: int = 0
    security_details: str | None = None
    security_value_paise: int = 0
    si_account_no: str | None = None


def _member(member_no: str, *, field_name: str = "member_no") -> Member:
    member = members.find(member_no) if member_no else None
    if member is None:
        raise ValidationError(f"No member {member_no or '(blank)'}.", field=field_name)
    return member


def check_terms(product: LoanProduct, principal: int, months: int, rate_bp: int) -> None:
    """Amount, tenure and rate inside the product's limits (ValidationError naming the field)."""
    if not product.active:
        raise ValidationError(f"Product {product.code} is not offered now.", field="product_code")
    if not product.min_amount_paise <= principal <= product.max_amount_paise:
        raise ValidationError(
            f"{product.name} lends {format_inr(product.min_amount_paise)} to {format_inr(product.max_amount_paise)}; "
            f"{format_inr(principal)} is outside that.",
            field="principal",
        )
    step = product.months_per_installment
    if not product.min_months <= months <= product.max_months or months % step:
        raise ValidationError(
            f"{product.name} runs {product.min_months} to {product.max_months} months"
            + (f" in steps of {step}" if step > 1 else "")
            + f"; {months} months is not allowed.",
            field="months",
        )
    if not product.min_rate_bp <= rate_bp <= product.max_rate_bp:
        raise ValidationError(
            f"{product.name} charges {rate_of(product.min_rate_bp)}% to {rate_of(product.max_rate_bp)}% a year; "
            f"{rate_of(rate_bp)}% is outside that.",
            field="annual_rate",
        )


# ---------------------------------------------------------------- eligibility checks


def exposure_paise(member: Member, *, exclude_id: int | None = None) -> int:
    """Outstanding principal of the member's live loans plus pending applications."""
    live = db.session.scalar(
        select(func.coalesce(func.sum(Account.balance_paise), 0))
        .select_from(Loan).join(Account, Account.id == Loan.account_id)
        .where(Loan.member_id == member.id, Loan.status.in_(LIVE), Loan.id != (exclude_id or 0))
    )  # fmt: skip
    pending = db.session.scalar(
        select(func.coalesce(func.sum(Loan.principal_paise), 0)).where(
            Loan.member_id == member.id, Loan.status.in_(PENDING), Loan.id != (exclude_id or 0)
        )
    )
    return int(live or 0) + int(pending or 0)


def guarantee_count(member: Member) -> int:
    """How many live or pending loans the member guarantees."""
    return int(
        db.session.scalar(
            select(func.count(LoanGuarantor.id))
            .join(Loan, Loan.id == LoanGuarantor.loan_id)
            .where(LoanGuarantor.member_id == member.id, Loan.status.in_(LIVE + PENDING))
        )
        or 0
    )


def share_need_paise(product: LoanProduct, principal_paise: int) -> int:
    """The share capital a loan of ``principal_paise`` under ``product`` asks the member to hold."""
    return int(Decimal(principal_paise) * product.share_link_bp / 10000)


def share_shortfall_paise(loan: Loan) -> int:
    """Share capital still to buy so that shares are worth the product's % of the loan (face-value multiples)."""
    need = share_need_paise(loan.product, loan.principal_paise)
    held = shares.holding(loan.member).amount_paise
    short = max(need - held, 0)
    face = shares.face_value()
    return -(-short // face) * face if short else 0


def _active(loan: Loan, on: date) -> Check:
    m = loan.member
    ok = m.status == "active"
    return Check("active_member", "Active member", ok, "Active member." if ok else f"{m.member_no} is {m.status}.")


def _kyc(loan: Loan, on: date) -> Check:
    problem = members.eligibility_problem(loan.member, on)
    ok = members.kyc_current(loan.member, on)
    return Check(
        "kyc_current", "KYC current", ok, "KYC approved and current." if ok else (problem or "KYC not current.")
    )


def _shares(loan: Loan, on: date) -> Check:
    short = share_shortfall_paise(loan)
    if not short:
        return Check(
            "share_linkage",
            "Share linkage",
            True,
            f"Shares cover {rate_of(loan.product.share_link_bp).normalize():f}% of the loan.",
        )
    return Check("share_linkage", "Share linkage", False,
                 f"Shares short by {format_inr(short)}; bought out of the disbursement (to savings).", blocking=False)  # fmt: skip


def _exposure(loan: Loan, on: date) -> Check:
    other = exposure_paise(loan.member, exclude_id=loan.id)
    if loan.product.kind != "personal":
        return Check("exposure", "Existing exposure", True, f"Other loans {format_inr(other)} (secured product).")
    capital = shares.holding(loan.member).amount_paise + share_shortfall_paise(loan)
    cap = capital * int(setting("LOAN_SHARE_MULTIPLE"))
    total = other + loan.principal_paise
    ok = total <= cap
    reason = f"Exposure {format_inr(total)} against a limit of {format_inr(cap)} ({setting('LOAN_SHARE_MULTIPLE')}× share capital)."
    return Check("exposure", "Existing exposure", ok, reason)


def _age(loan: Loan, on: date) -> Check:
    end = add_months(on, loan.months)
    dob = loan.member.date_of_birth
    age = end.year - dob.year - ((end.month, end.day) < (dob.month, dob.day))
    limit = int(setting("LOAN_MAX_AGE_AT_MATURITY"))
    ok = age <= limit
    return Check("age_at_maturity", "Age at maturity", ok, f"{age} years at the last instalment (limit {limit}).")


def _guarantors(loan: Loan, on: date) -> Check:
    need = products.guarantors_required(loan.product, loan.principal_paise)
    have = loan.guarantors
    limit = int(setting("GUARANTOR_MAX_GUARANTEES"))
    problems = []
    for g in have:
        m = g.member
        if not members.is_eligible_for_accounts(m, on):
            problems.append(f"{m.member_no} is not an active member with current KYC")
        elif guarantee_count(m) > limit:
            problems.append(f"{m.member_no} already guarantees {guarantee_count(m) - 1} loans (limit {limit})")
    if len(have) < need:
        problems.append(f"{need} guarantor(s) needed for {format_inr(loan.principal_paise)}, {len(have)} given")
    ok = not problems
    reason = (
        "; ".join(problems) + "."
        if problems
        else (f"{len(have)} guarantor(s); {need} needed." if need else "No guarantor needed.")
    )
    return Check("guarantors", "Guarantors", ok, reason)


CHECKS: list[Callable[[Loan, date], Check]] = [_active, _kyc, _shares, _exposure, _age, _guarantors]


def eligibility(loan: Loan, on: date | None = None) -> list[Check]:
    """Run every named check for ``loan`` (what the appraiser sees)."""
    day = on or calendar.business_date_or_today()
    return [check(loan, day) for check in CHECKS]


def blocking_failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok and c.blocking]


# ---------------------------------------------------------------- apply


def new_loan_no(product: LoanProduct) -> str:
    serial = numbering.next_value(f"loan:{product.prefix}")
    body = f"{product.prefix}{serial:07d}"
    digits = "".join(str(ord(c) - 55) if c.isalpha() else c for c in body)
    return body + numbering.luhn_check_digit(digits)


def apply(app_: Application, *, by: StaffUser | None, channel: str = "branch") -> Loan:
    """Record an application (status ``applied``); refuses bad terms or an ineligible member."""
    product = products.get_product(app_.product_code)
    member = _member(app_.member_no)
    on = calendar.current_business_date()
    members.ensure_eligible_for_accounts(member, on)
    rate_bp = app_.rate_bp if app_.rate_bp is not None else products.current_rate_bp(product, on)
    if not isinstance(app_.principal_paise, int) or app_.principal_paise <= 0:
        raise ValidationError("The loan amount must be more than zero.", field="principal")
    check_terms(product, app_.principal_paise, app_.months, rate_bp)
    loan = Loan(
        loan_no=new_loan_no(product), member_id=member.id, product_id=product.id, principal_paise=app_.principal_paise,
        rate_bp=rate_bp, months=app_.months, interest_type=product.interest_type, frequency=product.frequency,
        purpose=(app_.purpose or "").strip()[:200] or None, status="applied", applied_on=on,
        secured=product.security_type != "none", applied_by_id=by.id if by is not None else None,
    )  # fmt: skip
    loan.member, loan.product = member, product
    db.session.add(loan)
    db.session.flush()
    _attach_guarantors(loan, member, app_.guarantor_nos)
    _attach_security(loan, product, app_, on)
    if app_.si_account_no:
        loan.si_account_id = _own_savings(member, app_.si_account_no, "si_account").id
    loan.emi_paise = schedule.preview(loan.principal_paise, rate_bp, loan.months, on,
                                      interest_type=loan.interest_type, frequency=loan.frequency).emi_paise  # fmt: skip
    loan.eligibility = [asdict(c) for c in eligibility(loan, on)]
    events.record(loan, "applied", to_status="applied", remarks=loan.purpose, amount_paise=loan.principal_paise, by=by,
                  data={"channel": channel})  # fmt: skip
    return loan


def _attach_guarantors(loan: Loan, borrower: Member, numbers: list[str]) -> None:
    seen: set[int] = set()
    for no in numbers:
        if not (no or "").strip():
            continue
        g = _member(no.strip().upper(), field_name="guarantors")
        if g.id == borrower.id:
            raise ValidationError("A borrower cannot guarantee their own loan.", field="guarantors")
        if g.id in seen:
            continue
        seen.add(g.id)
        db.session.add(LoanGuarantor(loan_id=loan.id, member_id=g.id))
    db.session.flush()
    db.session.refresh(loan, ["guarantors"])


def _own_savings(member: Member, account_no: str, field_name: str) -> Account:
    acc = db.session.scalar(select(Account).where(Account.account_no == account_no.strip().upper()))
    if acc is None or acc.kind != "savings" or acc.member_id != member.id or acc.status != "active":
        raise ValidationError(f"{account_no} is not an active savings account of {member.member_no}.", field=field_name)
    return acc


def _attach_security(loan: Loan, product: LoanProduct, app_: Application, on: date) -> None:
    kind = product.security_type
    if kind == "gold":
        if not app_.gold_items:
            raise ValidationError("A gold loan needs the gold items pledged (weights and purity).", field="gold")
        collateral.add_gold(loan, app_.gold_items, on, declared=app_.gold_declared)
    elif kind == "deposit":
        if not app_.lien_account_no:
            raise ValidationError("Name the deposit to be placed under lien.", field="deposit_account")
        acc = db.session.scalar(select(Account).where(Account.account_no == app_.lien_account_no.strip().upper()))
        if acc is None:
            raise ValidationError(f"No account {app_.lien_account_no}.", field="deposit_account")
        collateral.add_lien(loan, acc, app_.lien_paise or loan.principal_paise)
    elif kind in ("property", "vehicle"):
        if not (app_.security_details or "").strip():
            raise ValidationError(f"Describe the {kind} offered as security.", field="security_details")
        collateral.add_details(loan, kind, app_.security_details or "", app_.security_value_paise)
    db.session.refresh(loan, ["collateral"])


def applications(status: str | None = None) -> list[Loan]:
    stmt = select(Loan).order_by(Loan.id.desc())
    if status:
        stmt = stmt.where(Loan.status == status)
    return list(db.session.scalars(stmt.limit(500)))
