"""Demo deposits: the default products and a few SB, FD and RD accounts for the demo members.

DEMO DATA ONLY. Idempotent: members who already hold a deposit account are left alone.

The opening cash goes through the demo cashier's drawer like any cash at opening (counter
rules: drawer, PAN / Form 60, cash register); ``demo.seed`` opens it for the day.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.deposits import DEPOSIT_KINDS
from app.models.ledger import Account
from app.models.members import Member
from app.money import format_inr
from app.services import deposits
from app.services.access import staff_auth
from app.services.common import DomainError
from app.services.deposits import OpenRequest


def seed_deposits(limit: int = 6) -> list[str]:
    """Create the default products and open demo accounts; returns lines to print."""
    deposits.seed_products()
    members = db.session.scalars(
        select(Member)
        .where(Member.status == "active", Member.kyc_status == "approved")
        .order_by(Member.id)
        .limit(limit)
    ).all()
    lines: list[str] = []
    cashier = staff_auth.find_by_username("cashier")
    for i, member in enumerate(members):
        if db.session.scalar(select(Account.id).where(Account.member_id == member.id, Account.kind.in_(DEPOSIT_KINDS))):
            continue
        form60 = None if (member.pan or member.form60_on_file) else "DEMO-F60"
        try:
            with db.session.begin_nested():
                sb = deposits.open_account(
                    OpenRequest(
                        member_no=member.member_no,
                        kind="savings",
                        amount_paise=(25_000 + 5_000 * i) * 100,
                        form60_ref=form60,
                    ),
                    by=cashier,
                )
                opened = [sb]
                if i % 3 == 0:
                    opened.append(
                        deposits.open_account(
                            OpenRequest(
                                member_no=member.member_no,
                                kind="fd",
                                amount_paise=1_00_000_00,
                                months=12,
                                form60_ref=form60,
                            ),
                            by=cashier,
                        )
                    )
                elif i % 3 == 1:
                    opened.append(
                        deposits.open_account(
                            OpenRequest(
                                member_no=member.member_no,
                                kind="rd",
                                installment_paise=2_000_00,
                                months=24,
                                si_account_no=sb.account_no,
                                form60_ref=form60,
                            ),
                            by=cashier,
                        )
                    )
                else:
                    opened.append(
                        deposits.open_account(
                            OpenRequest(
                                member_no=member.member_no,
                                kind="fd",
                                amount_paise=50_000_00,
                                months=24,
                                payout="quarterly",
                                payout_account_no=sb.account_no,
                                form60_ref=form60,
                            ),
                            by=cashier,
                        )
                    )
        except DomainError as exc:
            lines.append(f"  deposits: skipped {member.member_no}: {exc.message}")
            continue
        lines.append(
            f"  deposits: {member.member_no} {member.name}: "
            + ", ".join(f"{a.account_no} ({a.kind}, {format_inr(a.balance_paise)})" for a in opened)
        )
    return lines
