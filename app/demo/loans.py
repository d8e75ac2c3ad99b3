"""Demo loans: the default loan products, a gold rate, and three loans in different states.

DEMO DATA ONLY. Idempotent: nothing is added once any loan exists. One active personal loan
(disbursed to the member's savings account), one sanctioned and waiting for disbursement,
and one gold-loan application waiting in the sanction queue.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.loans import Loan
from app.models.members import Member
from app.money import format_inr
from app.services import loans
from app.services.access import staff_auth
from app.services.common import DomainError
from app.services.ledger import calendar

GOLD_RATE_PAISE = 7000_00  # ₹7,000 a gram of 22 carat, demo figure


def _borrowers(limit: int) -> list[tuple[Member, Account]]:
    rows = db.session.execute(
        select(Member, Account)
        .join(Account, Account.member_id == Member.id)
        .where(Member.status == "active", Account.kind == "savings", Account.status == "active")
        .order_by(Member.id)
        .limit(limit)
    ).all()
    return [(m, a) for m, a in rows]


def seed_loans() -> list[str]:
    """Create the products and the demo loans; returns lines to print."""
    loans.seed_products()
    if db.session.scalar(select(Loan.id).limit(1)) is not None:
        return []
    today = calendar.current_business_date()
    loans.record_gold_rate(today - timedelta(days=1), GOLD_RATE_PAISE)
    clerk, manager = staff_auth.find_by_username("clerk"), staff_auth.find_by_username("manager")
    if clerk is None or manager is None:
        return []
    plans = [
        ("PL", 1_00_000_00, 12, "active", {}),
        ("PL", 50_000_00, 24, "sanctioned", {}),
        ("GL", 60_000_00, 12, "applied",
         {"gold_items": [loans.GoldItem("Gold chain", 16_500, 15_000, 22)], "gold_declared": True}),
    ]  # fmt: skip
    lines: list[str] = []
    for (member, sb), (code, amount, months, state, extra) in zip(_borrowers(len(plans)), plans, strict=False):
        try:
            with db.session.begin_nested():
                loan = loans.apply(
                    loans.Application(member_no=member.member_no, principal_paise=amount, months=months,
                                      product_code=code, purpose="Demo loan", **extra),
                    by=clerk,
                )  # fmt: skip
                if state in ("sanctioned", "active"):
                    loans.sanction(loan, by=manager, remarks="Demo sanction")
                if state == "active":
                    loans.disburse(loan, by=clerk, to_account_no=sb.account_no)
            lines.append(f"  loan   {loan.loan_no} {member.member_no} {format_inr(amount)} {code} — {loan.status}")
        except DomainError as exc:
            lines.append(f"  loan for {member.member_no} not created: {exc.message}")
    return lines
