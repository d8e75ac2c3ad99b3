"""Demo deposits: the default products and a few SB, FD and RD accounts for the demo members.

DEMO DATA ONLY. Idempotent: members who already hold a deposit account are left alone.

The opening cash goes through a cash drawer like any cash at opening (counter rules: drawer,
PAN / Form 60, cash register): the demo manager's drawer for the day, whose cash goes back to
the vault and which is closed at the end — so the demo cashier still starts the day by
opening a drawer at the counter.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.members import Member
from app.models.users import StaffUser
from app.money import format_inr
from app.services import deposits, staff_auth, teller
from app.services.deposits import OpenRequest
from app.services.errors import DomainError


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
    cashier: StaffUser | None = None
    for i, member in enumerate(members):
        if db.session.scalar(
            select(Account.id).where(Account.member_id == member.id, Account.kind.in_(deposits.DEPOSIT_KINDS))
        ):
            continue
        if cashier is None:
            cashier = _demo_till()
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
    _close_till(cashier)
    return lines


def _demo_till() -> StaffUser | None:
    """The demo manager with a drawer open for the business date (None: no cash is taken)."""
    user = staff_auth.find_by_username("manager") or db.session.scalar(
        select(StaffUser).where(StaffUser.role == "manager").order_by(StaffUser.id).limit(1)
    )
    if user is None:
        return None
    if teller.current_drawer(user) is None:
        teller.open_drawer(user, 0)
    return user


def _close_till(user: StaffUser | None) -> None:
    """Return the seeding drawer's cash to the vault and close it (an exact count of nothing)."""
    drawer = teller.current_drawer(user) if user is not None else None
    if drawer is None or drawer.status != "open":
        return
    if drawer.account.balance_paise:
        teller.vault_transfer(drawer, drawer.account.balance_paise, direction="to_vault", cashier=user)
    teller.close_drawer(drawer, {}, cashier=user)
