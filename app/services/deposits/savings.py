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
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, insert, literal, select, update

from app.extensions import db
from app.models.deposits import DepositAccount, DepositProduct, SbDailyProduct, SbProductSegment, rate_of
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, ValidationError, audit, uow
from app.services.ledger import AccountRef, Line, calendar, coa
from app.services.ledger import kinds as deposit_rules
from app.settings import setting

from . import accounts as deposits
from . import catalogue, interest, kinds, tds
from .kinds import NewDeposit, Opening

# Accounts per chunk (one interest entry, one commit with commit_chunks). The balance trigger
# sums an entry once since migration 0008, so big entries are linear; 2000 halves the
# per-chunk overhead (statements, commit, audit sealing) of 500 and locks each chunk's
# accounts for a fraction of a second.
CHUNK = 2000
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
    if lo is not None and hi is not None:
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


def accumulate_until(
    on: date, *, commit_each_day: bool = False, lo: int | None = None, hi: int | None = None
) -> int:
    """Run ``accumulate_day`` for every calendar day not yet added, up to ``on`` (holidays too).

    ``commit_each_day`` (batch runs: CLI, catch-up) commits after each day, so a long
    catch-up neither holds one huge transaction nor keeps every day's old row versions
    (PostgreSQL can prune them in place only once they are committed). A date after the open
    business date is refused before anything is added (its balances are not known yet).
    """
    deposits.check_not_after_business_date(on)
    sp = SbDailyProduct.__table__
    acc = Account.__table__
    in_range = sp.c.account_id.between(lo, hi) if lo is not None and hi is not None else literal(True)
    first = db.session.scalar(
        select(func.min(sp.c.last_product_date)).where(
            sp.c.account_id == acc.c.id,
            acc.c.status != "closed",
            sp.c.last_product_date < on,
            in_range,
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
    ``interest.savings_interest``, the entries are posted with ``ledger.post(..., bulk=True)`` (the
    posting rules of ``post`` with set-based writes), and the chunk's products are reset and
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
    post_kw = {"value_date": period_end, "allow_backdate": period_end < on, "channel": "system"}
    mode = catalogue.rounding()
    with_tds = bool(setting("SB_INTEREST_TDS"))
    sp = SbDailyProduct.__table__
    acc = Account.__table__
    seg = SbProductSegment.__table__
    next_start = period_end + timedelta(days=1)
    label = f"{period_end:%d-%m-%Y}"
    rates: dict[int, Decimal] = {}

    def rate(bp: int) -> Decimal:
        if bp not in rates:
            rates[bp] = rate_of(bp)  # type: ignore[assignment]
        return rates[bp]

    for product in due:
        product_id, code = product.id, product.code
        min_balance = int(product.setting("min_balance_paise", 0) or 0)
        fee = int(product.setting("min_balance_charge_paise", 0) or 0)
        free = bool(product.setting("interest_free"))
        last_id = lo - 1 if lo is not None else 0
        top = [sp.c.account_id <= hi] if hi is not None else []
        while True:
            rows = db.session.execute(
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
                    acc.c.opened_on <= period_end,
                    sp.c.interest_through.is_(None) | (sp.c.interest_through < period_end),
                    *top,
                )
                .order_by(sp.c.account_id)
                .limit(chunk_size)
            ).all()
            if not rows:
                break
            first_id, last_id = rows[0].account_id, rows[-1].account_id
            ids = [r.account_id for r in rows]
            # Claim the chunk: reset its products (only rows not yet credited for the period).
            claimed = db.session.execute(
                update(sp)
                .where(
                    ledger.id_in(sp.c.account_id, ids),
                    sp.c.interest_through.is_(None) | (sp.c.interest_through < period_end),
                )
                .values(product_paise=0, period_start=next_start, interest_through=period_end)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != len(ids):
                raise Conflict(
                    f"Savings interest to {label} was credited to some of these accounts by another run; "
                    "run the crediting again."
                )
            _expire_loaded(SbDailyProduct, ids)
            in_chunk = set(ids)
            segments: dict[int, list[tuple[Decimal, int]]] = defaultdict(list)
            seg_ids: list[int] = []
            for s in db.session.execute(
                select(seg.c.id, seg.c.account_id, seg.c.rate_bp, seg.c.product_paise)
                .where(seg.c.account_id >= first_id, seg.c.account_id <= last_id, seg.c.credited_on.is_(None))
                .order_by(seg.c.id)
            ):
                if s.account_id in in_chunk:
                    segments[s.account_id].append((rate(s.rate_bp), s.product_paise))
                    seg_ids.append(s.id)
            credits: list[tuple[AccountRef, int]] = []
            charges: list[tuple[AccountRef, int]] = []
            for row in rows:
                ref = AccountRef(row.account_id, row.account_no, row.control_gl_id)
                pieces = [*segments.get(row.account_id, ()), (rate(row.rate_bp or 0), row.product_paise)]
                amount = 0 if free else interest.savings_interest(pieces, mode)
                if amount > 0:
                    credits.append((ref, amount))
                if min_balance and fee and row.status == "active":
                    days = (period_end - max(row.period_start or row.opened_on, row.opened_on)).days + 1
                    total_product = sum(p for _, p in pieces)
                    if total_product < min_balance * days:
                        charge = min(fee, max(row.balance_paise + amount, 0))
                        if charge > 0:
                            charges.append((ref, charge))
            if credits:
                total = sum(a for _, a in credits)
                entry = ledger.post(
                    [Line.dr(coa.EXP_SB_INTEREST, total)]
                    + [Line.cr(ref, a, f"SB interest to {label}") for ref, a in credits],
                    kind="interest",
                    narration=f"Savings interest for the period ending {label} ({code})",
                    options=ledger.PostOptions(
                        **post_kw,
                        allow_frozen=True,
                    ),
                )
                result.entries.append(entry.id)
                result.interest_paise += total
                if with_tds:
                    for ref, a in credits:
                        account = db.session.get(Account, ref.id)
                        row = tds.deduct_on_credit(account, a, entry, period_end, **post_kw)
                        result.tds_paise += row.tds_paise
            if charges:
                total = sum(c for _, c in charges)
                entry = ledger.post(
                    [Line.dr(ref, c, f"Minimum balance charge to {label}") for ref, c in charges]
                    + [Line.cr(coa.INCOME_SERVICE_CHARGES, total)],
                    kind="charge",
                    narration=f"Charge for average balance below {format_inr(min_balance)} ({code}, {label})",
                    options=ledger.PostOptions(**post_kw),
                )
                result.entries.append(entry.id)
                result.charges_paise += total
            if seg_ids:
                db.session.execute(
                    update(seg)
                    .where(ledger.id_in(seg.c.id, seg_ids))
                    .values(credited_on=period_end)
                    .execution_options(synchronize_session=False)
                )
                _expire_loaded(SbProductSegment, seg_ids)
            result.accounts += len(rows)
            audit.record(
                "savings.interest_credited",
                "deposit_product",
                code,
                after={
                    "period_end": period_end,
                    "accounts": len(rows),
                    "interest": {ref.account_no: a for ref, a in credits},
                    "charges": {ref.account_no: c for ref, c in charges},
                },
            )
            db.session.flush()
            if commit_chunks:
                uow.commit()
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
                account, balance, mode, to_account_no, by=by, form60_ref=form60_ref,
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
        after_open=after_opening,
        close=close_account,
    )
)
deposit_rules.register_withdrawal_floor("savings", deposits.savings_floor)
