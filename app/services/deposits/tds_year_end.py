"""TDS still short at the financial year's end, recovered from the member's savings (31 March).

A credit too small to hold the year's TDS leaves the rest due (``tds.assess``, decision
0011.11); it is taken from the member's next credit. Whatever is still due when the year
closes cannot wait for next year's credits: the day-end of 31 March debits it to the
member's first active savings account, as far as its balance above the minimum allows,
Dr savings / Cr TDS payable, with a register row (interest 0: the tax belongs to the year's
earlier credits) so the year's TDS totals and the quarterly return include it. What the
savings account cannot cover is audited as unrecovered, for staff to collect.

Idempotent: the cumulative rule counts what has been deducted, so a second run for the
same year finds nothing short, and each recovery posts under a per-member key.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models.deposits import TdsDeduction
from app.models.ledger import Account
from app.models.members import Member
from app.money import format_inr
from app.services import ledger
from app.services.common import audit
from app.services.ledger import Line, coa
from app.settings import setting

from . import interest, tds


def _candidates(fy: str) -> list[int]:
    """Members whose interest this year passed the lower (non-senior) threshold: only they can owe TDS."""
    lowest = min(tds.threshold_paise(False), tds.threshold_paise(True))
    return list(
        db.session.scalars(
            select(TdsDeduction.member_id)
            .where(TdsDeduction.fy == fy)
            .group_by(TdsDeduction.member_id)
            .having(func.sum(TdsDeduction.interest_paise) > lowest)
            .order_by(TdsDeduction.member_id)
        )
    )


def _savings_of(member_id: int) -> Account | None:
    return db.session.scalar(
        select(Account)
        .where(Account.member_id == member_id, Account.kind == "savings", Account.status == "active")
        .order_by(Account.id)
        .limit(1)
    )


def _recover(member: Member, fy: str, fy_end: date, due: int) -> int:
    """Debit what the savings account can cover of ``due``; returns the paise recovered."""
    sb = _savings_of(member.id)
    take = min(due, max(sb.balance_paise - sb.min_balance_paise, 0)) if sb is not None else 0
    if take < due:
        audit.record("tds.unrecovered", "member", member.member_no,
                     after={"fy": fy, "due_paise": due, "recovered_paise": take})  # fmt: skip
    if take <= 0:
        return 0
    has_pan = bool(member.pan)
    rate = Decimal(setting("TDS_RATE_PAN" if has_pan else "TDS_RATE_NO_PAN"))
    entry = ledger.post(
        [Line.dr(sb, take, f"TDS {fy} short-deducted"), Line.cr(coa.TDS_PAYABLE, take, f"TDS {fy} {sb.account_no}")],
        kind="tds", narration=f"TDS u/s 194A short-deducted in {fy}, recovered at the year end",
        reference=sb.account_no, idempotency_key=f"tds:year-end:{fy}:{member.id}",
    )  # fmt: skip
    row = TdsDeduction(
        member_id=member.id, account_id=sb.id, fy=fy, credited_on=fy_end, interest_paise=0, tds_paise=take,
        rate_bp=int(rate * 100), reason="pan" if has_pan else "no_pan", senior=tds.is_senior_for_fy(member, fy_end),
        pan=member.pan, entry_id=entry.id, tds_entry_id=entry.id,
    )  # fmt: skip
    db.session.add(row)
    audit.record("tds.year_end_recovery", "account", sb.account_no,
                 after={"fy": fy, "tds_paise": take, "due_paise": due, "text": format_inr(take)})  # fmt: skip
    return take


def recover_shortfalls(fy_end: date) -> int:
    """Recover every member's TDS still short for the year ending ``fy_end``; returns members charged."""
    fy = interest.financial_year(fy_end)
    charged = 0
    for member_id in _candidates(fy):
        if tds.shortfall_paise(member_id, fy) <= 0:
            continue
        member = tds.lock_member(member_id)
        due = tds.shortfall_paise(member_id, fy)  # again, under the member's lock
        if due > 0 and _recover(member, fy, fy_end, due):
            charged += 1
    db.session.flush()
    return charged
