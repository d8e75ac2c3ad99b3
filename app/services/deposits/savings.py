"""Savings interest by daily product (DESIGN.md §6), minimum-balance charges and SB closure.

The day-end calls ``accumulate_day(on)`` (or ``accumulate_until(on)``, which fills every
calendar day not yet added — holidays included) after the day's postings: ONE set-based
UPDATE adds each open SB account's end-of-day balance to its running product
(``sb_daily_products.product_paise``, integer paise-days). Each row remembers the last
day added (``last_product_date``), so running a day twice adds nothing the second time
and a crashed run resumes where it stopped. When a product's rate changes, the running
product of the old rate is first moved to a ``sb_product_segments`` row (one
INSERT ... SELECT per product), so a period keeps one product per rate segment.

At each crediting period end (quarterly by default, or half-yearly per product),
``credit_interest(period_end)`` computes Σ(product × rate) / 36500 per account with the
pure rule ``interest.savings_interest`` (rounded once, INTEREST_ROUNDING), posts Dr interest
on savings / Cr each account in batched entries, charges accounts whose average daily
balance fell below the product's minimum, and resets the products.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update

from app.extensions import db
from app.models.deposits import DepositAccount, DepositProduct, SbDailyProduct, SbProductSegment, rate_of
from app.models.ledger import Account, JournalEntry
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, ValidationError, audit, uow
from app.services.ledger import AccountRef, Line, calendar, coa
from app.services.ledger import kinds as deposit_rules
from app.settings import setting

from . import accounts as deposits
from . import catalogue, interest, kinds, tds
from .kinds import NewDeposit, Opening, Quote
from .sb_products import (  # noqa: F401  (re-exported: the day-end and screens use savings.X)
    HALF_YEAR_ENDS,
    QUARTER_ENDS,
    _open_segments,
    _savings_products,
    accumulate_day,
    accumulate_until,
    daily_product,
    interest_to_date,
    is_period_end,
    product_segments,
)

# Accounts per chunk (one interest entry, one commit with commit_chunks). The balance trigger
# sums an entry once since migration 0008, so big entries are linear; 5000 (was 2000) makes
# 200 chunks of a 1M credit instead of 500, each with a dozen statements, the posting's day
# and chart check and two audit rows (~0.15 s a chunk at 1M). The row locks are held until
# the caller commits: per chunk with commit_chunks, per day-end chunk (EOD_CHUNK_SIZE ids) there.
CHUNK = 5000


# ---------------------------------------------------------------- crediting


@dataclass
class CreditResult:
    accounts: int = 0
    interest_paise: int = 0
    charges_paise: int = 0
    tds_paise: int = 0
    entries: list[int] = field(default_factory=list)


def _expire_loaded(model: type, ids: Iterable[int]) -> None:
    """Expire ORM objects of ``model`` already in the session whose rows a Core UPDATE changed."""
    for _id, obj in ledger.loaded_objects(model, set(ids)):
        db.session.expire(obj)


@dataclass
class _Run:
    """One crediting run: the period, how entries are posted, and the chunk range."""

    period_end: date
    on: date
    chunk_size: int
    lo: int | None
    hi: int | None
    commit_chunks: bool
    mode: str = "rupee"
    with_tds: bool = False

    @property
    def label(self) -> str:
        return f"{self.period_end:%d-%m-%Y}"

    @property
    def post_kw(self) -> dict:
        return {"value_date": self.period_end, "allow_backdate": self.period_end < self.on, "channel": "system"}


@dataclass
class _Chunk:
    """A chunk's accounts with their interest pieces, credits and charges."""

    rows: list
    seg_ids: list[int] = field(default_factory=list)
    credits: list[tuple[AccountRef, int]] = field(default_factory=list)
    charges: list[tuple[AccountRef, int]] = field(default_factory=list)


def _chunk_rows(run: _Run, product_id: int, last_id: int) -> list:
    """The next chunk of a product's accounts not yet credited for the period (plain rows)."""
    sp, acc = SbDailyProduct.__table__, Account.__table__
    # Both tables bounded above too: the last, empty read of a range would otherwise walk
    # every account after it (a generic plan joins from ``accounts``).
    top = [sp.c.account_id <= run.hi, acc.c.id <= run.hi] if run.hi is not None else []
    return db.session.execute(
        select(
            sp.c.account_id,
            sp.c.rate_bp,
            sp.c.product_paise,
            sp.c.period_start,
            acc.c.account_no,
            acc.c.control_gl_id,
            acc.c.status,
            acc.c.balance_paise,
            acc.c.opened_on,
        )
        .select_from(sp.join(acc, acc.c.id == sp.c.account_id))
        .where(
            sp.c.product_id == product_id,
            sp.c.account_id > last_id,
            acc.c.id > last_id,  # lets the join start at the chunk, not scan every account before it
            acc.c.status != "closed",
            acc.c.opened_on <= run.period_end,
            sp.c.interest_through.is_(None) | (sp.c.interest_through < run.period_end),
            *top,
        )
        .order_by(sp.c.account_id)
        .limit(run.chunk_size)
    ).all()


def _claim(run: _Run, ids: list[int]) -> None:
    """Claim the chunk: reset its products (only rows not yet credited for the period)."""
    sp = SbDailyProduct.__table__
    claimed = db.session.execute(
        update(sp)
        .where(
            ledger.id_in(sp.c.account_id, ids),
            sp.c.interest_through.is_(None) | (sp.c.interest_through < run.period_end),
        )
        .values(product_paise=0, period_start=run.period_end + timedelta(days=1), interest_through=run.period_end)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != len(ids):
        raise Conflict(
            f"Savings interest to {run.label} was credited to some of these accounts by another run; "
            "run the crediting again."
        )
    _expire_loaded(SbDailyProduct, ids)


def _segments(chunk: _Chunk) -> dict[int, list[tuple[int, int]]]:
    """The chunk's open rate segments (rate bp, product) by account; their ids go to ``chunk.seg_ids``."""
    seg = SbProductSegment.__table__
    first_id, last_id = chunk.rows[0][0], chunk.rows[-1][0]
    in_chunk = {r[0] for r in chunk.rows}
    segments: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for s in db.session.execute(
        select(seg.c.id, seg.c.account_id, seg.c.rate_bp, seg.c.product_paise)
        .where(seg.c.account_id >= first_id, seg.c.account_id <= last_id, seg.c.credited_on.is_(None))
        .order_by(seg.c.id)
    ):
        if s.account_id in in_chunk:
            segments[s.account_id].append((s.rate_bp, s.product_paise))
            chunk.seg_ids.append(s.id)
    return segments


def _work_out(run: _Run, product: DepositProduct, chunk: _Chunk) -> None:
    """Each account's interest (the pure rule, in basis points) and minimum-balance charge."""
    min_balance = int(product.setting("min_balance_paise", 0) or 0)
    fee = int(product.setting("min_balance_charge_paise", 0) or 0)
    free = bool(product.setting("interest_free"))
    segments = _segments(chunk)
    rule, mode, credits = interest.savings_interest_bp, run.mode, chunk.credits
    # Rows unpacked in _chunk_rows' column order (a Row's attribute access costs ~10x more).
    for account_id, rate_bp, product_paise, period_start, account_no, gl_id, status, balance, opened_on in chunk.rows:
        running = (rate_bp or 0, product_paise)
        earlier = segments.get(account_id)
        pieces = [*earlier, running] if earlier else (running,)
        amount = 0 if free else rule(pieces, mode)
        if amount > 0:
            credits.append((AccountRef(account_id, account_no, gl_id), amount))
        if not (min_balance and fee and status == "active"):
            continue
        days = (run.period_end - max(period_start or opened_on, opened_on)).days + 1
        if sum(p for _, p in pieces) < min_balance * days:
            charge = min(fee, max(balance + amount, 0))
            if charge > 0:
                chunk.charges.append((AccountRef(account_id, account_no, gl_id), charge))


def _post_chunk(run: _Run, product: DepositProduct, chunk: _Chunk, result: CreditResult) -> None:
    """One interest entry (and TDS), one charges entry, and the segments marked credited."""
    label, code = run.label, product.code
    if chunk.credits:
        refs, amounts = [ref for ref, _ in chunk.credits], [a for _, a in chunk.credits]
        total = sum(amounts)
        entry = ledger.post_many(  # = post([Line.dr(EXP_SB_INTEREST, total)] + [Line.cr(ref, a, note), ...])
            ledger.Batch(coa.EXP_SB_INTEREST, refs, amounts, line_narration=f"SB interest to {label}"),
            kind="interest",
            narration=f"Savings interest for the period ending {label} ({code})",
            options=ledger.PostOptions(**run.post_kw, allow_frozen=True),
        )
        result.entries.append(entry.id)
        result.interest_paise += total
        if run.with_tds:
            for ref, a in chunk.credits:
                account = db.session.get(Account, ref.id)
                result.tds_paise += tds.deduct_on_credit(account, a, entry, run.period_end, **run.post_kw).tds_paise
    if chunk.charges:
        total = sum(c for _, c in chunk.charges)
        min_balance = int(product.setting("min_balance_paise", 0) or 0)
        entry = ledger.post(
            [Line.dr(ref, c, f"Minimum balance charge to {label}") for ref, c in chunk.charges]
            + [Line.cr(coa.INCOME_SERVICE_CHARGES, total)],
            kind="charge",
            narration=f"Charge for average balance below {format_inr(min_balance)} ({code}, {label})",
            options=ledger.PostOptions(**run.post_kw),
        )
        result.entries.append(entry.id)
        result.charges_paise += total
    if chunk.seg_ids:
        seg = SbProductSegment.__table__
        db.session.execute(
            update(seg)
            .where(ledger.id_in(seg.c.id, chunk.seg_ids))
            .values(credited_on=run.period_end)
            .execution_options(synchronize_session=False)
        )
        _expire_loaded(SbProductSegment, chunk.seg_ids)


def _credit_product(run: _Run, product: DepositProduct, result: CreditResult) -> None:
    last_id = run.lo - 1 if run.lo is not None else 0
    while True:
        rows = _chunk_rows(run, product.id, last_id)
        if not rows:
            return
        last_id = rows[-1][0]
        chunk = _Chunk(rows)
        _claim(run, [r[0] for r in rows])
        _work_out(run, product, chunk)
        _post_chunk(run, product, chunk, result)
        result.accounts += len(rows)
        audit.record(
            "savings.interest_credited",
            "deposit_product",
            product.code,
            after={
                "period_end": run.period_end,
                "accounts": len(rows),
                # each account's credit is in the interest entry's own ``ledger.post`` audit row
                # (its balances and lines digest); this row says what the chunk did in total
                "interest_paise": sum(a for _, a in chunk.credits),
                "credited_accounts": len(chunk.credits),
                "charges": {ref.account_no: c for ref, c in chunk.charges},
            },
        )
        db.session.flush()
        if run.commit_chunks:
            uow.commit()


def credit_interest(
    period_end: date,
    *,
    chunk_size: int = CHUNK,
    commit_chunks: bool = False,
    lo: int | None = None,
    hi: int | None = None,
) -> CreditResult:
    """Credit savings interest for the period ending ``period_end`` to every SB account.

    Only products whose crediting period ends that day take part (the day-end may call this
    every day). Accumulates through ``period_end`` first. For each chunk of accounts: one
    entry Dr interest on savings deposits / Cr each account, TDS if ``SB_INTEREST_TDS``, one
    entry for minimum-balance charges, then products reset. Idempotent: accounts already
    credited for the period are skipped. ``commit_chunks`` commits after each chunk (CLI),
    so a run that stops midway is resumed by running it again.

    Set-based: each chunk's products, accounts and open segments are read as plain rows
    (Core SELECTs), the interest is computed in Python by the pure rule
    ``interest.savings_interest``, the entries are posted with ``ledger.post`` (whose writes are
    set-based for any number of lines), and the chunk's products are reset and
    its segments marked with one UPDATE each. ``lo``/``hi`` limit it to account ids in that
    range (the day-end's chunks). The reset is done first and claims the chunk:
    it only touches rows not yet credited for the period, so if another run credited any of
    them meanwhile, this chunk is refused and rolled back by the caller.
    """
    result = CreditResult()
    on = calendar.current_business_date()
    if period_end > on:  # checked before anything is accumulated or credited
        raise ValidationError(
            f"The period ending {period_end:%d-%m-%Y} has not ended yet (the business date is {on:%d-%m-%Y}).",
            field="period_end",
        )
    due = [p for p in _savings_products() if is_period_end(p, period_end)]
    if not due:
        return result
    accumulate_until(period_end, commit_each_day=commit_chunks, lo=lo, hi=hi)
    run = _Run(
        period_end, on, chunk_size, lo, hi, commit_chunks, catalogue.rounding(), bool(setting("SB_INTEREST_TDS"))
    )
    for product in due:
        _credit_product(run, product, result)
    return result


# ---------------------------------------------------------------- closure


def close_account(
    account: Account,
    *,
    mode: str,
    to_account_no: str | None,
    reason: str = "",
    by: StaffUser | None = None,
    form60_ref: str | None = None,
) -> list[JournalEntry]:
    """Close a savings account: credit interest to date (up to yesterday), pay out the balance."""
    on = calendar.current_business_date()
    da = deposits.deposit_of(account)
    linked = db.session.scalars(
        select(Account.account_no)
        .join(DepositAccount, DepositAccount.account_id == Account.id)
        .where(
            (DepositAccount.payout_account_id == account.id) | (DepositAccount.si_account_id == account.id),
            Account.status != "closed",
        )
    ).all()
    if linked:
        raise ValidationError(
            f"Deposits {', '.join(linked)} pay into or draw from {account.account_no}; change or close them first."
        )
    entries: list[JournalEntry] = []
    posted_by = by.id if by else None
    amount = interest_to_date(da, account, on - timedelta(days=1))
    if amount > 0:
        entry = ledger.post(
            [Line.dr(coa.EXP_SB_INTEREST, amount), Line.cr(account, amount, "Interest to date on closure")],
            kind="interest",
            narration=f"Savings interest to {on - timedelta(days=1):%d-%m-%Y} on closing {account.account_no}",
            options=ledger.PostOptions(
                posted_by_id=posted_by,
                allow_frozen=False,
            ),
        )
        entries.append(entry)
        if setting("SB_INTEREST_TDS"):
            row = tds.deduct_on_credit(account, amount, entry, on, posted_by_id=posted_by)
            if row.tds_entry_id:
                entries.append(db.session.get(JournalEntry, row.tds_entry_id))
    db.session.refresh(account)
    balance = account.balance_paise
    if balance > 0:
        entries.append(
            deposits.pay_out(
                account, balance, deposits.Payout(mode, to_account_no, by, form60_ref),
                narration=f"Closure of {account.account_no}: balance paid",
            )
        )  # fmt: skip
    for seg in _open_segments([account.id])[account.id]:
        seg.credited_on = on
    sb = daily_product(account)
    sb.product_paise = 0
    sb.interest_through = on - timedelta(days=1)
    deposits.mark_closed(account, on, reason or "Closed at the member's request")
    db.session.flush()
    return entries


# ---------------------------------------------------------------- the savings kind

INTEREST_FREQUENCIES = ("quarterly", "half_yearly")


def default_settings() -> dict[str, Any]:
    """A savings product's settings before the product says otherwise."""
    return {
        "min_balance_paise": 0,
        "min_balance_charge_paise": 0,
        "min_opening_paise": 0,
        "interest_frequency": "quarterly",
        "interest_free": False,
    }


def normalize_settings(out: dict[str, Any]) -> dict[str, Any]:
    """Check a savings product's settings (merged over the defaults)."""
    for name in ("min_balance_paise", "min_balance_charge_paise", "min_opening_paise"):
        out[name] = catalogue.paise_setting(out[name], name)
    if out["interest_frequency"] not in INTEREST_FREQUENCIES:
        raise ValidationError("Interest is credited quarterly or half-yearly.", field="interest_frequency")
    out["interest_free"] = bool(out["interest_free"])
    if out["min_opening_paise"] < out["min_balance_paise"]:
        out["min_opening_paise"] = out["min_balance_paise"]
    return out


def prepare_opening(new: NewDeposit) -> Opening:
    """The opening deposit (at least the product's minimum) and the rate in force."""
    amount = deposits.check_amount(new.req.amount_paise, "amount", allow_zero=True)
    minimum = int(new.product.setting("min_opening_paise", 0) or 0)
    if amount < minimum:
        raise ValidationError(
            f"The opening deposit for {new.product.name} must be at least {format_inr(minimum)}.", field="amount"
        )
    return Opening(amount, "Savings account opened", catalogue.savings_rate_bp(new.product, new.on))


def quote(new: NewDeposit) -> Quote:
    """The product's rate in force and how often interest is credited."""
    rate = catalogue.savings_rate_bp(new.product, new.on)
    every = str(new.product.setting("interest_frequency")).replace("_", "-")
    return Quote(f"{new.product.name} at {rate_of(rate)}% a year, credited {every}")


def after_opening(new: NewDeposit, account: Account, opening: Opening, entry: JournalEntry | None) -> None:
    """Start the account's daily products from the opening day."""
    db.session.add(
        SbDailyProduct(
            account_id=account.id,
            product_id=new.product.id,
            rate_bp=opening.rate_bp,
            product_paise=0,
            period_start=new.on,
            last_product_date=new.on - timedelta(days=1),
        )
    )
    db.session.flush()


kinds.register(
    kinds.Kind(
        name="savings",
        label="Savings",
        control_gl=coa.SB_DEPOSITS,
        order=1,
        default_settings=default_settings,
        normalize_settings=normalize_settings,
        prepare=prepare_opening,
        quote=quote,
        after_open=after_opening,
        close=close_account,
    )
)
deposit_rules.register_withdrawal_floor("savings", deposits.savings_floor)
