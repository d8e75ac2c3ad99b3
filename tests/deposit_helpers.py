"""Helpers for the deposit tests: products, moving the business date, cash in/out, journal lines."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.services import deposits, ledger
from app.services.common import uow
from app.services.ledger import Line, calendar, coa
from tests.factories import make_member
from tests.helpers import lines_of  # noqa: F401  (re-exported for the deposit tests)


def product(code: str, kind: str, rates: list[dict[str, Any]], *, prefix: str | None = None, **settings):
    """Create a product directly (as an approved change would) effective from the business date."""
    made = deposits.apply_product_change(
        "create",
        {
            "code": code,
            "prefix": prefix or code[:4],
            "name": f"{code} scheme",
            "kind": kind,
            "settings": settings,
            "rates": rates,
            "effective_from": calendar.current_business_date(),
            "is_default": True,
        },
    )
    uow.commit()
    return made


def move_to(day: date) -> date:
    """Close the open business day and open ``day`` (any later date; holidays in between)."""
    current = calendar.current_business_date()
    if day != current:
        _close_test_drawer()
        calendar.close_business_day(current)
        calendar.open_business_day(day)
        uow.commit()
    return day


def cash_in(account: Account, paise: int, narration: str = "Cash deposit") -> JournalEntry:
    entry = ledger.post([Line.dr(coa.VAULT_CASH, paise), Line.cr(account, paise)], kind="deposit", narration=narration)
    uow.commit()
    return entry


def cash_out(account: Account, paise: int, narration: str = "Cash withdrawal") -> JournalEntry:
    entry = ledger.post(
        [Line.dr(account, paise), Line.cr(coa.VAULT_CASH, paise)], kind="withdrawal", narration=narration
    )
    uow.commit()
    return entry


def entries_since(entry_id: int = 0, kind: str | None = None) -> list[JournalEntry]:
    stmt = select(JournalEntry).where(JournalEntry.id > entry_id).order_by(JournalEntry.id)
    if kind:
        stmt = stmt.where(JournalEntry.kind == kind)
    return list(db.session.scalars(stmt))


def last_entry_id() -> int:
    return db.session.scalar(select(JournalEntry.id).order_by(JournalEntry.id.desc()).limit(1)) or 0


def member(**kw):
    m = make_member(**kw)
    uow.commit()
    return m


CASHIER = "dep_cashier"
F60 = "F60/TEST"  # a Form 60 reference for cash of ₹50,000+ by members without PAN


def cashier(float_paise: int | None = None):
    """The deposit tests' cashier, with an open drawer for the business date.

    Cash at opening and closure goes through the acting cashier's drawer (decision 0020), so
    tests that open or close with cash act as this cashier. The drawer's opening float is the
    vault's cash unless ``float_paise`` is given (so cash closures can be paid out).
    """
    from app.models.users import StaffUser
    from app.services.access import staff_auth
    from app.services.counter import teller
    from tests.conftest import PASSWORD

    user = db.session.scalar(select(StaffUser).where(StaffUser.username == CASHIER))
    if user is None:
        user = staff_auth.create_user(username=CASHIER, password=PASSWORD, role="cashier")
        uow.commit()
    if teller.current_drawer(user) is None:
        if float_paise is None:
            vault = ledger.gl_balance(coa.VAULT_CASH)
            float_paise = max(vault, 0) // 50 * 50
        teller.open_drawer(user, float_paise)
        uow.commit()
    return user


def _test_cashier():
    from app.models.users import StaffUser

    return db.session.scalar(select(StaffUser).where(StaffUser.username == CASHIER))


def drawer_no() -> str:
    """The account number of the test cashier's drawer for the business date."""
    from app.services.counter import teller

    return teller.current_drawer(_test_cashier()).account.account_no


def _close_test_drawer() -> None:
    """Return the test cashier's cash to the vault and close the drawer (before the day closes)."""
    from app.services.counter import teller

    user = _test_cashier()
    drawer = teller.current_drawer(user) if user is not None else None
    if drawer is None or drawer.status != "open":
        return
    balance = drawer.account.balance_paise
    if balance:
        teller.vault_transfer(drawer, balance, direction="to_vault", cashier=user)
    teller.close_drawer(drawer, {}, cashier=user)
    uow.commit()


def open_deposit(by=None, **kw) -> Account:
    """Open a deposit account (cash by default, through the test cashier's drawer) and commit."""
    acc = deposits.open_account(deposits.OpenRequest(**kw), by=by or cashier())
    uow.commit()
    return acc


def open_sb(m, paise: int, code: str | None = None) -> Account:
    acc = deposits.open_account(
        deposits.OpenRequest(
            member_no=m.member_no, kind="savings", product_code=code, amount_paise=paise, form60_ref=F60
        ),
        by=cashier() if paise else None,
    )
    uow.commit()
    return acc
