"""Overdue handling: the loan steps of the day-end, each idempotent for a business date.

- ``update_dpd(on)``: days past due from the oldest unpaid instalment (set-based UPDATE).
- ``charge_penal(on)``: a penal charge on the overdue instalment amounts of instalments past
  the product's grace days (per day at the product's % a year, or a fixed sum once per
  instalment); never on earlier penal charges, never capitalised (a memorandum row until
  paid). One INSERT ... SELECT for every product; a rerun inserts nothing twice (ON CONFLICT on
  the unique loan, date and kind).
- ``classify_assets(on)``: SMA-0/1/2 by DPD, NPA above 90 days with ``npa_since``;
  sub-standard for 12 months as an NPA, then doubtful D1 / D2 / D3 (1, 1–3, over 3 years),
  loss when so marked; upgrade to standard only when every arrear is cleared (DPD 0). On
  slippage the unpaid interest taken to income in the current financial year is reversed
  into interest suspense. Every change is a ``LoanClassification`` row.
- ``post_provisions(on)``: each loan's provision at the rate of its class (settings), and
  the provision accounts brought to the totals with one posting each.
- ``accrue_interest(on)``: at a month end, the unpaid interest of instalments fallen due is
  booked as receivable: to income for performing loans, to interest suspense for NPAs.
- ``collect_standing_instructions(on)``: the dues of loans with a standing instruction are
  debited to the member's savings account (as much as it can pay), one savepoint each.
"""

from __future__ import annotations

import calendar as pycalendar
import logging
from datetime import date

from sqlalchemy import BigInteger, Integer, Select, and_, case, cast, exists, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.ledger import Account
from app.models.loans import NPA_CLASSES, Loan, LoanCharge, LoanClassification, LoanProduct, LoanScheduleRow
from app.services import ledger
from app.services.common import DomainError
from app.services.deposits import add_months, check_not_after_business_date, financial_year_bounds
from app.services.ledger import coa, kinds
from app.settings import setting

from . import repayments

log = logging.getLogger(__name__)
LIVE = ("active", "disbursed")
SL = LoanScheduleRow


def _current_rows():
    """Rows of each loan's current schedule version (a correlated condition)."""
    return and_(SL.loan_id == Loan.id, SL.version == Loan.schedule_version)


def _days_between(later: date, column) -> object:
    """``later - column`` in whole days, on PostgreSQL and SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return literal(later) - column
    return cast(func.julianday(literal(later.isoformat())) - func.julianday(column), Integer)


def _joined_current():
    """Schedule rows of the current version of live loans (a join condition)."""
    return and_(Loan.id == SL.loan_id, SL.version == Loan.schedule_version, Loan.status.in_(LIVE))


def update_dpd(on: date) -> int:
    """Set each live loan's DPD from its oldest unpaid instalment due before ``on``; returns loans changed."""
    check_not_after_business_date(on)
    oldest = (
        select(SL.loan_id.label("loan_id"), func.min(SL.due_date).label("oldest"))
        .join(Loan, _joined_current())
        .where(SL.status != "paid", SL.due_date < on)
        .group_by(SL.loan_id)
        .subquery()
    )
    days = _days_between(on, oldest.c.oldest)
    late = db.session.execute(
        update(Loan).where(Loan.id == oldest.c.loan_id, Loan.dpd != days).values(dpd=days)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    overdue = exists().where(_current_rows(), SL.status != "paid", SL.due_date < on)
    cleared = db.session.execute(
        update(Loan).where(Loan.status.in_(LIVE), Loan.dpd != 0, ~overdue).values(dpd=0)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    db.session.expire_all()
    return int(late.rowcount or 0) + int(cleared.rowcount or 0)


def _charges_on(on: date) -> int:
    return int(db.session.scalar(select(func.count(LoanCharge.id)).where(LoanCharge.charge_date == on)) or 0)


def _insert_ignoring_duplicates(table):
    """``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite (a rerun writes nothing twice)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def charge_penal(on: date) -> int:
    """Accrue the day's penal charges for every product in one statement (idempotent per date); returns charges written.

    Per day at the product's % a year on the arrears past its grace days (half-up of
    base × rate / 365), or its fixed sum for each instalment crossing its grace today; never
    on earlier charges. A rerun of the date inserts nothing for loans already charged (the
    unique loan, date and kind).
    """
    check_not_after_business_date(on)
    before = _charges_on(on)
    late = _days_between(on, SL.due_date)
    arrears = (
        select(
            SL.loan_id.label("loan_id"),
            LoanProduct.penal_mode.label("mode"),
            LoanProduct.penal_rate_bp.label("rate"),
            LoanProduct.penal_fixed_paise.label("fixed"),
            cast(func.sum(SL.emi_paise - SL.principal_paid_paise - SL.interest_paid_paise), BigInteger).label("base"),
            cast(func.sum(case((late == LoanProduct.grace_days + 1, 1), else_=0)), BigInteger).label("crossing"),
        )
        .join(Loan, _joined_current())
        .join(LoanProduct, LoanProduct.id == Loan.product_id)
        .where(SL.status != "paid", SL.due_date < on, late > LoanProduct.grace_days)
        .group_by(SL.loan_id, LoanProduct.penal_mode, LoanProduct.penal_rate_bp, LoanProduct.penal_fixed_paise)
        .subquery()
    )
    a = arrears.c
    amount = case(
        (a.mode == "percent", (a.base * a.rate + 1_825_000) // 3_650_000),
        (a.mode == "fixed", a.crossing * a.fixed),
        else_=0,
    )
    source = select(a.loan_id, literal(on), literal("penal"), a.base, amount, literal(0), literal("open")).where(
        amount > 0
    )
    cols = ["loan_id", "charge_date", "kind", "base_paise", "amount_paise", "paid_paise", "status"]
    db.session.execute(_insert_ignoring_duplicates(LoanCharge.__table__).from_select(cols, source))
    return _charges_on(on) - before


def _class_case(on: date):
    cut12, cut24, cut48 = add_months(on, -12), add_months(on, -24), add_months(on, -48)
    npa_since = case((and_(Loan.npa_since.is_(None), Loan.dpd > 90), literal(on)), else_=Loan.npa_since)
    return case(
        (Loan.loss_marked.is_(True), "loss"),
        (and_(Loan.npa_since.is_not(None), Loan.dpd == 0), "standard"),
        (npa_since.is_not(None), case((npa_since > cut12, "substandard"), (npa_since > cut24, "d1"),
                                      (npa_since > cut48, "d2"), else_="d3")),
        (Loan.dpd == 0, "standard"),
        (Loan.dpd <= 30, "sma0"),
        (Loan.dpd <= 60, "sma1"),
        else_="sma2",
    )  # fmt: skip


def classify_assets(on: date) -> int:
    """Classify every live loan for ``on`` (history rows for changes); returns loans whose class changed."""
    check_not_after_business_date(on)
    new_class = _class_case(on)
    live = Loan.status.in_(LIVE)
    changed = and_(live, new_class != Loan.asset_class)
    # A subquery, not a list of ids: on a bad day tens of thousands of loans slip at once.
    slipping = select(Loan.id).where(live, Loan.npa_since.is_(None), Loan.dpd > 90, Loan.loss_marked.is_(False))
    _reverse_income_on_slippage(slipping, on)
    cols = ["loan_id", "on_date", "from_class", "to_class", "dpd", "created_at"]
    source = select(Loan.id, literal(on), Loan.asset_class, new_class, Loan.dpd, func.current_timestamp()).where(
        changed
    )
    count = int(db.session.scalar(select(func.count(Loan.id)).where(changed)) or 0)
    if count:
        db.session.execute(insert(LoanClassification.__table__).from_select(cols, source))
    db.session.execute(
        update(Loan)
        .where(live, or_(new_class != Loan.asset_class, and_(Loan.npa_since.is_(None), Loan.dpd > 90),
                         and_(Loan.npa_since.is_not(None), Loan.dpd == 0)))
        .values(
            asset_class=new_class,
            npa_since=case((and_(Loan.npa_since.is_(None), Loan.dpd > 90), literal(on)),
                           (and_(Loan.npa_since.is_not(None), Loan.dpd == 0, Loan.loss_marked.is_(False)), None),
                           else_=Loan.npa_since),
        )
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    db.session.expire_all()
    return count


def _reverse_income_on_slippage(loan_ids: Select, on: date) -> int:
    """Unpaid interest accrued to income this financial year → interest suspense, for loans turning NPA."""
    if db.session.scalar(loan_ids.limit(1)) is None:
        return 0
    fy_start, _ = financial_year_bounds(on)
    unpaid = SL.interest_paise - SL.interest_paid_paise
    where = and_(SL.loan_id.in_(loan_ids), SL.accrued_to == "income", SL.interest_accrued_on >= fy_start, unpaid > 0)
    total = int(db.session.scalar(select(func.coalesce(func.sum(unpaid), 0)).where(where)) or 0)
    if total:
        ledger.post(
            [ledger.Line.dr(coa.INCOME_LOAN_INTEREST, total, "Interest reversed on slippage to NPA"),
             ledger.Line.cr(coa.INTEREST_SUSPENSE, total, "Interest of NPAs held in suspense")],
            kind="eod", narration=f"Loans turned NPA on {on:%d-%m-%Y}: interest of the year reversed to suspense",
            idempotency_key=f"loans:slippage:{on.isoformat()}",
        )  # fmt: skip
    db.session.execute(
        update(SL).where(where).values(accrued_to="suspense").execution_options(synchronize_session=False)
    )
    return total


def provision_bp_case():
    secured = Loan.secured.is_(True)
    s = {k: int(setting(f"PROVISION_{k}_BP")) for k in ("STANDARD", "SUBSTANDARD", "D1", "D2", "D3", "LOSS")}
    unsecured = int(setting("PROVISION_DOUBTFUL_UNSECURED_BP"))
    return case(
        (Loan.asset_class.in_(("standard", "sma0", "sma1", "sma2")), s["STANDARD"]),
        (Loan.asset_class == "substandard", s["SUBSTANDARD"]),
        (Loan.asset_class == "loss", s["LOSS"]),
        (~secured, unsecured),
        (Loan.asset_class == "d1", s["D1"]),
        (Loan.asset_class == "d2", s["D2"]),
        else_=s["D3"],
    )


def post_provisions(on: date) -> int:
    """Each loan's provision by class, and the standard / NPA provision accounts brought to the totals.

    Returns how many loans' provisions changed (only those rows are written).
    """
    check_not_after_business_date(on)
    balance = select(Account.balance_paise).where(Account.id == Loan.account_id).correlate(Loan).scalar_subquery()
    provision = (balance * provision_bp_case() + 5000) // 10000
    result = db.session.execute(  # only the loans whose provision changed are written (most days: few)
        update(Loan)
        .where(Loan.status.in_(LIVE), Loan.provision_paise != provision)
        .values(provision_paise=provision)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    for classes, gl, expense, label in (
        (NPA_CLASSES, coa.NPA_PROVISION, coa.EXP_NPA_PROVISION, "NPA"),
        (("standard", "sma0", "sma1", "sma2"), coa.STANDARD_ASSET_PROVISION, coa.EXP_STD_PROVISION, "standard assets"),
    ):
        need = int(db.session.scalar(select(func.coalesce(func.sum(Loan.provision_paise), 0))
                                     .where(Loan.status.in_(LIVE), Loan.asset_class.in_(classes))) or 0)  # fmt: skip
        held = ledger.gl_balance(gl)
        diff = need - held
        if diff:
            lines = ([ledger.Line.dr(expense, diff), ledger.Line.cr(gl, diff)] if diff > 0
                     else [ledger.Line.dr(gl, -diff), ledger.Line.cr(expense, -diff)])  # fmt: skip
            ledger.post(lines, kind="provision", narration=f"Provision for {label} on {on:%d-%m-%Y}",
                        idempotency_key=f"loans:provision:{gl}:{on.isoformat()}:{need}")  # fmt: skip
    return int(result.rowcount or 0)


def is_month_end(on: date) -> bool:
    return on.day == pycalendar.monthrange(on.year, on.month)[1]


def accrue_interest(on: date) -> int:
    """At a month end book unpaid interest of instalments due by ``on``: income, or suspense for NPAs."""
    check_not_after_business_date(on)
    if not is_month_end(on):
        return 0
    unpaid = SL.interest_paise - SL.interest_paid_paise
    base = and_(SL.loan_id == Loan.id, SL.version == Loan.schedule_version, SL.due_date <= on,
                SL.interest_accrued_on.is_(None), Loan.status.in_(LIVE))  # fmt: skip
    npa = Loan.asset_class.in_(NPA_CLASSES)
    sums = db.session.execute(
        select(
            func.coalesce(func.sum(case((~npa, unpaid), else_=0)), 0),
            func.coalesce(func.sum(case((npa, unpaid), else_=0)), 0),
            func.count(SL.id),
        ).select_from(SL).join(Loan, Loan.id == SL.loan_id).where(base)
    ).one()  # fmt: skip
    to_income, to_suspense, rows = int(sums[0]), int(sums[1]), int(sums[2])
    if to_income + to_suspense:
        lines = [ledger.Line.dr(coa.INTEREST_RECEIVABLE_LOANS, to_income + to_suspense, "Interest due on loans")]
        if to_income:
            lines.append(ledger.Line.cr(coa.INCOME_LOAN_INTEREST, to_income, "Interest on performing loans"))
        if to_suspense:
            lines.append(ledger.Line.cr(coa.INTEREST_SUSPENSE, to_suspense, "Interest on NPAs (suspense)"))
        ledger.post(lines, kind="interest", narration=f"Loan interest accrued to {on:%d-%m-%Y}",
                    idempotency_key=f"loans:accrue:{on.isoformat()}")  # fmt: skip
    db.session.execute(  # one pass, joined to the loans (UPDATE ... FROM): where each row went
        update(SL).where(base)
        .values(interest_accrued_on=on, accrued_to=case((npa, "suspense"), else_="income"))
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    db.session.expire_all()
    return rows


def collect_standing_instructions(on: date) -> int:
    """Debit today's and overdue dues from the SB of loans with a standing instruction; returns loans collected."""
    check_not_after_business_date(on)
    due_now = exists().where(_current_rows(), SL.status != "paid", SL.due_date <= on)
    si = aliased(Account)
    can_pay = and_(si.status == "active", si.balance_paise > si.min_balance_paise)  # the exact floor: _collect_one
    loans = list(db.session.scalars(
        select(Loan).join(si, si.id == Loan.si_account_id)
        .where(Loan.status.in_(LIVE), can_pay, due_now).order_by(Loan.id)
    ))  # fmt: skip
    done = 0
    for loan in loans:
        try:
            with db.session.begin_nested():
                if _collect_one(loan, on):
                    done += 1
        except DomainError as exc:
            log.info("standing instruction for %s not collected: %s", loan.loan_no, exc.message)
    return done


def _collect_one(loan: Loan, on: date) -> bool:
    sb = loan.si_account
    if sb is None or sb.status != "active":
        return False
    rows = [r for r in repayments.schedule.rows(loan) if r.status != "paid" and r.due_date <= on]
    due = sum(r.unpaid_paise for r in rows) + sum(c.amount_paise - c.paid_paise for c in repayments.open_charges(loan))
    available = sb.balance_paise - kinds.withdrawal_floor(sb)
    amount = min(due, available)
    if amount <= 0:
        return False
    repayments.repay(loan, amount, mode="transfer", by=None, from_account_no=sb.account_no,
                     idempotency_key=f"loan-si:{loan.loan_no}:{on.isoformat()}", channel="system")  # fmt: skip
    return True
