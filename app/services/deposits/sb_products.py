"""Savings daily products: the day-end adds each open SB account's end-of-day balance to its
running product (``sb_daily_products.product_paise``, integer paise-days), once per
calendar day (holidays included), set-based; a rate change first moves the running product
of the old rate to a ``sb_product_segments`` row. Interest to date reads them back.
See ``savings`` for crediting and closure.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import case, func, insert, literal, select, update

from app.extensions import db
from app.models.deposits import DepositAccount, DepositProduct, SbDailyProduct, SbProductSegment, rate_of
from app.models.ledger import Account, GLAccount, JournalLine
from app.services.common import ValidationError, audit, uow
from app.services.ledger import coa

from . import accounts as deposits
from . import catalogue, interest

QUARTER_ENDS = (3, 6, 9, 12)
HALF_YEAR_ENDS = (3, 9)


def _sb_gl_id() -> int:
    gl_id = db.session.scalar(select(GLAccount.id).where(GLAccount.code == coa.SB_DEPOSITS))
    if gl_id is None:
        raise ValidationError("The chart of accounts has no savings deposits GL.")
    return gl_id


def _savings_products() -> list[DepositProduct]:
    return list(db.session.scalars(select(DepositProduct).where(DepositProduct.kind == "savings")))


# ---------------------------------------------------------------- daily product


def accumulate_day(on: date, *, lo: int | None = None, hi: int | None = None) -> int:
    """Add every open SB account's end-of-day balance on ``on`` to its running daily product.

    ``lo``/``hi`` limit it to accounts with ids in that range (the day-end's chunks).

    Set-based (a few statements whatever the number of accounts) and idempotent per date:
    rows whose last product date is already ``on`` or later are left alone. The balance is
    the one at the end of ``on`` — normally the cached balance; if postings of later days
    exist (a catch-up run), they are taken off. Returns how many accounts were updated.
    """
    db.session.flush()
    sp = SbDailyProduct.__table__
    acc = Account.__table__
    jl = JournalLine.__table__
    pending = sp.c.last_product_date < on
    chunk = [acc.c.id.between(lo, hi)] if lo is not None and hi is not None else []
    if chunk:
        pending = pending & sp.c.account_id.between(lo, hi)
    for product in _savings_products():
        card_rate = _rate_on(product, on)
        if card_rate is None:
            continue
        # The rate changed since the segment began: keep the old segment's product apart.
        db.session.execute(
            insert(SbProductSegment).from_select(
                ["account_id", "period_start", "rate_bp", "product_paise", "closed_on"],
                select(
                    sp.c.account_id,
                    sp.c.period_start,
                    sp.c.rate_bp,
                    sp.c.product_paise,
                    literal(on - timedelta(days=1)),
                ).where(
                    sp.c.product_id == product.id,
                    pending,
                    sp.c.rate_bp != card_rate,
                    sp.c.product_paise > 0,
                ),
            )
        )
        db.session.execute(
            update(sp)
            .where(
                sp.c.product_id == product.id,
                pending,
                (sp.c.rate_bp != card_rate) | sp.c.rate_bp.is_(None),
            )
            .values(product_paise=0, rate_bp=card_rate)
        )
    balance = acc.c.balance_paise
    later = db.session.scalar(
        select(jl.c.id).where(jl.c.gl_account_id == _sb_gl_id(), jl.c.business_date > on).limit(1)
    )
    if later is not None:
        after = (
            select(func.coalesce(func.sum(jl.c.credit_paise - jl.c.debit_paise), 0))
            .where(jl.c.account_id == acc.c.id, jl.c.business_date > on)
            .scalar_subquery()
        )
        balance = balance - after
    result = db.session.execute(
        update(sp)
        .where(
            sp.c.account_id == acc.c.id,
            pending,
            acc.c.status != "closed",
            acc.c.opened_on <= on,
            *chunk,  # the join reads the chunk's accounts only, not a hash of every account per chunk
        )
        .values(
            product_paise=sp.c.product_paise + case((balance > 0, balance), else_=0),
            last_product_date=on,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    updated = int(result.rowcount or 0)
    if updated:
        audit.record("savings.daily_product", "deposits", on.isoformat(), after={"accounts": updated})
    return updated


def _rate_on(product: DepositProduct, on: date) -> int | None:
    try:
        return catalogue.savings_rate_bp(product, on)
    except ValidationError:
        return None


def accumulate_until(on: date, *, commit_each_day: bool = False, lo: int | None = None, hi: int | None = None) -> int:
    """Run ``accumulate_day`` for every calendar day not yet added, up to ``on`` (holidays too).

    ``commit_each_day`` (batch runs: CLI, catch-up) commits after each day, so a long
    catch-up neither holds one huge transaction nor keeps every day's old row versions
    (PostgreSQL can prune them in place only once they are committed). A date after the open
    business date is refused before anything is added (its balances are not known yet).
    """
    deposits.check_not_after_business_date(on)
    sp = SbDailyProduct.__table__
    acc = Account.__table__
    ranged = lo is not None and hi is not None
    behind = [sp.c.last_product_date < on, *([sp.c.account_id.between(lo, hi)] if ranged else [])]
    # The products alone first (no join): none behind (a second run, the crediting after the
    # period-end step) or all a day behind (an ordinary day-end) settle it. Only when some are
    # further behind does it matter whether those accounts are closed (closed ones stop).
    first = db.session.scalar(select(func.min(sp.c.last_product_date)).where(*behind))
    if first is None:
        return 0
    if first < on - timedelta(days=1):
        first = db.session.scalar(
            select(func.min(sp.c.last_product_date)).where(
                sp.c.account_id == acc.c.id,
                acc.c.status != "closed",
                *behind,
                *([acc.c.id.between(lo, hi)] if ranged else []),
            )
        )
        if first is None:
            return 0
    total = 0
    day = first + timedelta(days=1)
    while day <= on:
        total += accumulate_day(day, lo=lo, hi=hi)
        if commit_each_day:
            uow.commit()
        day += timedelta(days=1)
    return total


# ---------------------------------------------------------------- interest to date


def is_period_end(product: DepositProduct, day: date) -> bool:
    """Whether ``day`` ends a crediting period of the product (quarter or half-year end)."""
    if (day + timedelta(days=1)).day != 1:
        return False
    months = HALF_YEAR_ENDS if product.setting("interest_frequency") == "half_yearly" else QUARTER_ENDS
    return day.month in months


def _open_segments(account_ids: list[int]) -> dict[int, list[SbProductSegment]]:
    out: dict[int, list[SbProductSegment]] = defaultdict(list)
    if not account_ids:
        return out
    for seg in db.session.scalars(
        select(SbProductSegment)
        .where(SbProductSegment.account_id.in_(account_ids), SbProductSegment.credited_on.is_(None))
        .order_by(SbProductSegment.id)
    ):
        out[seg.account_id].append(seg)
    return out


def daily_product(account: Account) -> SbDailyProduct:
    """The running daily product row of a savings account."""
    row = db.session.get(SbDailyProduct, account.id)
    if row is None:
        raise ValidationError(f"Account {account.account_no} is not a savings account.")
    return row


def product_segments(da: DepositAccount, account: Account, through: date | None = None) -> list[tuple]:
    """(rate, product paise) for the current period up to ``through`` (default: as accumulated).

    Days after the last accumulated day up to ``through`` are added from the ledger with
    the pure rule ``interest.daily_products`` (used for closure and the account page).
    """
    sb = daily_product(account)
    pieces = [(rate_of(s.rate_bp), s.product_paise) for s in _open_segments([account.id])[account.id]]
    if sb.rate_bp is not None:
        pieces.append((rate_of(sb.rate_bp), sb.product_paise))
    last = sb.last_product_date
    if through is not None and last is not None and last < through:
        nets = dict(
            db.session.execute(
                select(JournalLine.business_date, func.sum(JournalLine.credit_paise - JournalLine.debit_paise))
                .where(JournalLine.account_id == account.id, JournalLine.business_date > last)
                .group_by(JournalLine.business_date)
            ).all()
        )
        eod = []
        day = last + timedelta(days=1)
        while day <= through:
            after = sum(int(v) for d, v in nets.items() if d > day)
            eod.append((day, account.balance_paise - after))
            day += timedelta(days=1)
        changes = catalogue.savings_rate_changes(da.product)
        pieces.extend(interest.daily_products(eod, changes))
    return pieces


def interest_to_date(da: DepositAccount, account: Account, through: date) -> int:
    """Savings interest earned in the current period up to ``through`` (rounded once)."""
    if da.product.setting("interest_free"):
        return 0
    return interest.savings_interest(product_segments(da, account, through), catalogue.rounding())
