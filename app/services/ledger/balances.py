"""GL balances from the day-end snapshot plus the lines after it, and writing that snapshot.

GL balances are never cached on a row (ADR 0005): a balance as of a date is the latest
snapshot in ``gl_daily_balances`` on or before it plus the lines after the snapshot, read
through ``ix_journal_lines_date_gl`` (business date, GL, amounts included), so it costs
what the days after the snapshot cost however long the journal grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import GLAccount, GLDailyBalance, JournalLine
from app.services.common import ValidationError

from . import calendar


def _gl_by_code(codes: list[str]) -> dict[str, GLAccount]:
    wanted = set(codes)
    rows = db.session.scalars(select(GLAccount).where(GLAccount.code.in_(wanted))).all()
    found = {gl.code: gl for gl in rows}
    missing = wanted - found.keys()
    if missing:
        raise ValidationError(f"Unknown GL account {', '.join(sorted(missing))}.", field="gl")
    return found


@dataclass
class GLBalance:
    gl: GLAccount
    debit_paise: int = 0
    credit_paise: int = 0

    @property
    def balance_paise(self) -> int:
        """Balance on the account's normal side."""
        net = self.debit_paise - self.credit_paise
        return net if self.gl.normal_side == "debit" else -net

    @property
    def net_debit(self) -> int:
        return self.debit_paise - self.credit_paise


def gl_totals(
    as_of: date | None = None, *, since: date | None = None, gl_ids: list[int] | None = None
) -> dict[int, tuple[int, int]]:
    """Cumulative (debit, credit) per GL id up to ``as_of`` inclusive (optionally only ``gl_ids``).

    Reads the latest day-end snapshot on or before ``as_of`` plus the lines after it, so
    reports stay fast however long the ledger grows. With ``since``, only lines from that
    date on are summed (no snapshot).
    """
    totals: dict[int, tuple[int, int]] = {}
    snap_date = None
    if as_of is not None and since is None:
        snap_date = db.session.scalar(
            select(func.max(GLDailyBalance.business_date)).where(GLDailyBalance.business_date <= as_of)
        )
    if snap_date is not None:
        snap = select(
            GLDailyBalance.gl_account_id, GLDailyBalance.debit_total_paise, GLDailyBalance.credit_total_paise
        ).where(GLDailyBalance.business_date == snap_date)
        if gl_ids is not None:
            snap = snap.where(GLDailyBalance.gl_account_id.in_(gl_ids))
        for gl_id, dr, cr in db.session.execute(snap):
            totals[gl_id] = (dr, cr)
    stmt = select(
        JournalLine.gl_account_id, func.sum(JournalLine.debit_paise), func.sum(JournalLine.credit_paise)
    ).group_by(JournalLine.gl_account_id)
    if as_of is not None:
        stmt = stmt.where(JournalLine.business_date <= as_of)
    lower = snap_date or (since and date.fromordinal(since.toordinal() - 1))
    if lower is not None:
        stmt = stmt.where(JournalLine.business_date > lower)
    if gl_ids is not None:
        stmt = stmt.where(JournalLine.gl_account_id.in_(gl_ids))
    for gl_id, dr, cr in db.session.execute(stmt):
        base_dr, base_cr = totals.get(gl_id, (0, 0))
        totals[gl_id] = (base_dr + int(dr or 0), base_cr + int(cr or 0))
    return totals


def gl_balances(as_of: date | None = None) -> list[GLBalance]:
    """Every GL account with its cumulative debits and credits as of a date."""
    totals = gl_totals(as_of)
    out = []
    for gl in db.session.scalars(select(GLAccount).order_by(GLAccount.code)):
        dr, cr = totals.get(gl.id, (0, 0))
        out.append(GLBalance(gl, dr, cr))
    return out


def gl_balance(code: str, as_of: date | None = None) -> int:
    """One GL account's balance on its normal side (snapshot plus later lines when ``as_of`` is given)."""
    gl = _gl_by_code([code])[code]
    if as_of is not None:
        dr, cr = gl_totals(as_of, gl_ids=[gl.id]).get(gl.id, (0, 0))
        return GLBalance(gl, dr, cr).balance_paise
    dr, cr = db.session.execute(
        select(
            func.coalesce(func.sum(JournalLine.debit_paise), 0), func.coalesce(func.sum(JournalLine.credit_paise), 0)
        ).where(JournalLine.gl_account_id == gl.id)
    ).one()
    return GLBalance(gl, int(dr), int(cr)).balance_paise


def snapshot_day(on: date) -> int:
    """Write the day-end GL snapshot for ``on`` (idempotent); returns rows written.

    Locks business day ``on`` exclusively first, so postings in flight on it finish (and
    later ones wait, then find the day closed) before the totals are read.
    """
    calendar.lock_day(on)
    if db.session.scalar(select(func.count()).select_from(GLDailyBalance).where(GLDailyBalance.business_date == on)):
        return 0
    totals = gl_totals(on)
    rows = [
        GLDailyBalance(gl_account_id=gl_id, business_date=on, debit_total_paise=dr, credit_total_paise=cr)
        for gl_id, (dr, cr) in totals.items()
    ]
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)


def close_day(on: date, *, by_id: int | None = None) -> int:
    """Day-end for the ledger: lock the day, write its GL snapshot and close it (one unit of work)."""
    written = snapshot_day(on)
    calendar.close_business_day(on, by_id=by_id)
    return written
