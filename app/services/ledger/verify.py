"""``flask ledger verify``: prove the ledger from its rows.

Entries balance and have lines; cached balances equal their lines; control GLs equal their
sub-ledgers; the trial balance agrees; every day-end snapshot equals the lines to its date;
and every entry's lines still hash to the digest its audit row recorded when it was posted
(the audit row is sealed into the chain and the chain is anchored outside the database,
ADR 0014), so a balanced rewrite of an entry's lines — with both cached balances adjusted
to match — is detected too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, or_, select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.ledger import Account, GLAccount, GLDailyBalance, JournalEntry, JournalLine

from .balances import GLBalance, gl_totals
from .writer import lines_digest


@dataclass
class VerifyReport:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    entries: int = 0
    accounts: int = 0
    undigested: int = 0  # entries posted before line digests were recorded

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def verify(limit: int = 20) -> VerifyReport:
    """Prove the ledger: entries balance, cached balances match lines, control GLs match sub-ledgers."""
    report = VerifyReport()
    report.entries = db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0
    unbalanced = db.session.execute(
        select(JournalLine.entry_id, func.sum(JournalLine.debit_paise), func.sum(JournalLine.credit_paise))
        .group_by(JournalLine.entry_id)
        .having(func.sum(JournalLine.debit_paise) != func.sum(JournalLine.credit_paise))
        .order_by(JournalLine.entry_id)
        .limit(limit)
    ).all()
    for entry_id, dr, cr in unbalanced:
        report.fail(f"entry JE{entry_id:08d} does not balance: debits {dr}, credits {cr}")
    no_lines = db.session.scalars(
        select(JournalEntry.id)
        .where(~select(JournalLine.id).where(JournalLine.entry_id == JournalEntry.id).exists())
        .limit(limit)
    ).all()
    for entry_id in no_lines:
        report.fail(f"entry JE{entry_id:08d} has no lines")

    side = case((GLAccount.normal_side == "debit", 1), else_=-1)
    line_sum = (
        select(
            JournalLine.account_id.label("account_id"),
            func.sum(JournalLine.debit_paise - JournalLine.credit_paise).label("net"),
        )
        .where(JournalLine.account_id.is_not(None))
        .group_by(JournalLine.account_id)
        .subquery()
    )
    mismatched = db.session.execute(
        select(Account.account_no, Account.balance_paise, func.coalesce(line_sum.c.net, 0) * side)
        .join(GLAccount, GLAccount.id == Account.control_gl_id)
        .outerjoin(line_sum, line_sum.c.account_id == Account.id)
        .where(Account.balance_paise != func.coalesce(line_sum.c.net, 0) * side)
        .order_by(Account.id)
        .limit(limit)
    ).all()
    for account_no, cached, from_lines in mismatched:
        report.fail(f"account {account_no}: cached balance {cached} but its lines sum to {from_lines}")
    report.accounts = db.session.scalar(select(func.count()).select_from(Account)) or 0

    stray = db.session.execute(
        select(GLAccount.code, func.count())
        .join(JournalLine, JournalLine.gl_account_id == GLAccount.id)
        .where(GLAccount.is_control.is_(True), JournalLine.account_id.is_(None))
        .group_by(GLAccount.code)
    ).all()
    for code, n in stray:
        report.fail(f"control GL {code} has {n} line(s) without a member account")
    wrong_gl = db.session.execute(
        select(JournalLine.id, Account.account_no)
        .join(Account, Account.id == JournalLine.account_id)
        .where(Account.control_gl_id != JournalLine.gl_account_id)
        .limit(limit)
    ).all()
    for line_id, account_no in wrong_gl:
        report.fail(f"line {line_id} posts account {account_no} to a GL other than its control account")

    totals = gl_totals()
    sub = dict(
        db.session.execute(
            select(Account.control_gl_id, func.sum(Account.balance_paise)).group_by(Account.control_gl_id)
        ).all()
    )
    for gl in db.session.scalars(select(GLAccount).where(GLAccount.is_control.is_(True)).order_by(GLAccount.code)):
        dr, cr = totals.get(gl.id, (0, 0))
        gl_bal = GLBalance(gl, dr, cr).balance_paise
        sub_bal = int(sub.get(gl.id) or 0)
        if gl_bal != sub_bal:
            report.fail(f"control GL {gl.code} {gl.name}: GL balance {gl_bal} but sub-ledger sums to {sub_bal}")
    grand_dr = sum(dr for dr, _ in totals.values())
    grand_cr = sum(cr for _, cr in totals.values())
    if grand_dr != grand_cr:
        report.fail(f"trial balance does not agree: debits {grand_dr}, credits {grand_cr}")
    _verify_references(report, limit)
    _verify_snapshots(report, limit)
    _verify_digests(report, limit)
    return report


def _verify_references(report: VerifyReport, limit: int) -> None:
    """Every line's entry, GL account and member account exist (on PostgreSQL a statement trigger
    checks them at insert instead of foreign keys, decision 0032; this proves it held)."""
    orphans = db.session.execute(
        select(JournalLine.id, JournalLine.entry_id, JournalLine.gl_account_id, JournalLine.account_id)
        .where(
            or_(
                ~select(JournalEntry.id).where(JournalEntry.id == JournalLine.entry_id).exists(),
                ~select(GLAccount.id).where(GLAccount.id == JournalLine.gl_account_id).exists(),
                and_(
                    JournalLine.account_id.is_not(None),
                    ~select(Account.id).where(Account.id == JournalLine.account_id).exists(),
                ),
            )
        )
        .order_by(JournalLine.id)
        .limit(limit)
    ).all()
    for line_id, entry_id, gl_id, account_id in orphans:
        report.fail(
            f"line {line_id} refers to a missing entry, GL or account (entry {entry_id}, GL {gl_id}, account {account_id})"
        )


def _verify_snapshots(report: VerifyReport, limit: int) -> None:
    """Each day-end snapshot row must equal the cumulative lines of its GL up to its date.

    Also a GL with lines up to a snapshot date but no row in that snapshot is reported
    (reports would read it as zero). One pass: daily sums per GL merged with the snapshots.
    """
    snaps: dict[int, dict[date, tuple[int, int]]] = {}
    for gl_id, on, dr, cr in db.session.execute(
        select(
            GLDailyBalance.gl_account_id,
            GLDailyBalance.business_date,
            GLDailyBalance.debit_total_paise,
            GLDailyBalance.credit_total_paise,
        )
    ):
        snaps.setdefault(gl_id, {})[on] = (int(dr), int(cr))
    snap_dates = sorted({on for per_gl in snaps.values() for on in per_gl})
    if not snap_dates:
        return
    daily: dict[int, list[tuple[date, int, int]]] = {}
    for gl_id, on, dr, cr in db.session.execute(
        select(
            JournalLine.gl_account_id,
            JournalLine.business_date,
            func.sum(JournalLine.debit_paise),
            func.sum(JournalLine.credit_paise),
        )
        .where(JournalLine.business_date <= snap_dates[-1])
        .group_by(JournalLine.gl_account_id, JournalLine.business_date)
        .order_by(JournalLine.gl_account_id, JournalLine.business_date)
    ):
        daily.setdefault(gl_id, []).append((on, int(dr or 0), int(cr or 0)))
    codes = dict(db.session.execute(select(GLAccount.id, GLAccount.code)).all())
    found = 0
    for gl_id in sorted(snaps.keys() | daily.keys()):
        days = daily.get(gl_id, [])
        per_gl = snaps.get(gl_id, {})
        i = cum_dr = cum_cr = 0
        for on in snap_dates:
            while i < len(days) and days[i][0] <= on:
                cum_dr += days[i][1]
                cum_cr += days[i][2]
                i += 1
            stored = per_gl.get(on)
            if stored is None and i == 0:
                continue  # no lines yet and no row: nothing to check
            if stored != (cum_dr, cum_cr):
                found += 1
                what = "has no row" if stored is None else f"holds debits {stored[0]}, credits {stored[1]}"
                report.fail(
                    f"day-end snapshot {on.isoformat()} for GL {codes.get(gl_id, gl_id)} {what} "
                    f"but its lines to that date sum to debits {cum_dr}, credits {cum_cr}"
                )
                if found >= limit:
                    return


def _verify_digests(report: VerifyReport, limit: int) -> None:
    """Each entry's lines must hash to the ``lines_digest`` of its ``ledger.post`` audit row.

    Entries posted before digests were recorded (no digest in their audit row) are counted
    in ``report.undigested``, not failed. Streams the lines in entry order.
    """
    recorded: dict[int, str] = {}
    digest_col = AuditLog.after["lines_digest"].as_string()
    for entity_id, digest in db.session.execute(
        select(AuditLog.entity_id, digest_col).where(
            AuditLog.action == "ledger.post", AuditLog.entity_type == "journal_entry"
        )
    ):
        if digest and entity_id and entity_id.isdigit():
            recorded[int(entity_id)] = digest
    stmt = (
        select(
            JournalLine.entry_id,
            JournalEntry.business_date,
            JournalLine.gl_account_id,
            JournalLine.account_id,
            JournalLine.debit_paise,
            JournalLine.credit_paise,
            JournalLine.narration,
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .order_by(JournalLine.entry_id, JournalLine.id)
        .execution_options(yield_per=5000)
    )
    found = 0
    current: int | None = None
    on: date | None = None
    rows: list[tuple] = []
    seen: set[int] = set()

    def check() -> bool:
        nonlocal found
        if current is None:
            return False
        seen.add(current)
        expected = recorded.get(current)
        if expected is None:
            report.undigested += 1
            return False
        if lines_digest(current, on, rows) != expected:  # type: ignore[arg-type]
            found += 1
            report.fail(f"entry JE{current:08d}: its lines do not match the digest recorded when it was posted")
        return found >= limit

    for entry_id, business_date, gl, acc, dr, cr, note in db.session.execute(stmt):
        if entry_id != current:
            if check():
                return
            current, on, rows = entry_id, business_date, []
        rows.append((gl, acc, int(dr), int(cr), note))
    if check():
        return
    for entry_id in sorted(recorded.keys() - seen)[:limit]:
        report.fail(f"entry JE{entry_id:08d}: its audit row records lines but the journal holds none")
