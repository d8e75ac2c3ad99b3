"""Deposits on PostgreSQL: the daily product is set-based for many accounts; deposit flows on the real DB."""

from datetime import date

import pytest
from sqlalchemy import event, func, insert, select

from app.extensions import db
from app.models.base import utcnow
from app.models.deposits import DepositAccount, SbDailyProduct
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.services import deposits, ledger
from app.services.common import uow
from app.services.deposits import OpenRequest, savings
from app.services.deposits import fixed as fixed_deposits
from app.services.ledger import coa
from tests.deposit_helpers import F60, cash_in, cashier, member, move_to, open_sb

pytestmark = pytest.mark.postgres

N = 20_000


def bulk_savings(n: int, balance_of) -> list[int]:
    """n SB accounts of the default product with opening balances, in a few bulk statements."""
    m = member()
    product = deposits.get_product("SB")
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.SB_DEPOSITS))
    on = date(2026, 4, 1)
    now = utcnow()
    db.session.execute(
        insert(Account.__table__),
        [
            {
                "account_no": f"PG{i:08d}",
                "kind": "savings",
                "title": f"Bulk {i}",
                "member_id": m.id,
                "control_gl_id": gl.id,
                "balance_paise": balance_of(i),
                "min_balance_paise": 0,
                "enforce_limit": True,
                "status": "active",
                "opened_on": on,
                "created_at": now,
            }
            for i in range(n)
        ],
    )
    ids = db.session.scalars(select(Account.id).where(Account.account_no.like("PG%")).order_by(Account.id)).all()
    db.session.execute(
        insert(DepositAccount.__table__),
        [
            {
                "account_id": acc_id,
                "kind": "savings",
                "product_id": product.id,
                "member_id": m.id,
                "start_date": on,
                "created_at": now,
            }
            for acc_id in ids
        ],
    )
    db.session.execute(
        insert(SbDailyProduct.__table__),
        [
            {
                "account_id": acc_id,
                "product_id": product.id,
                "rate_bp": 350,
                "product_paise": 0,
                "period_start": on,
                "last_product_date": date(2026, 3, 31),
            }
            for acc_id in ids
        ],
    )
    cash_gl = db.session.scalar(select(GLAccount.id).where(GLAccount.code == coa.VAULT_CASH))
    for first in range(0, n, 100):  # entries of 100 lines, each entry's lines in one statement (decision 0032)
        chunk = list(enumerate(ids))[first : first + 100]
        total = sum(balance_of(i) for i, _ in chunk)
        entry = JournalEntry(
            business_date=on, value_date=on, posted_at=now, kind="opening", narration="Bulk opening", total_paise=total
        )
        db.session.add(entry)
        db.session.flush()
        db.session.execute(
            insert(JournalLine.__table__).values(
                [
                    {
                        "entry_id": entry.id,
                        "gl_account_id": cash_gl,
                        "account_id": None,
                        "business_date": on,
                        "debit_paise": total,
                        "credit_paise": 0,
                    }
                ]
                + [
                    {
                        "entry_id": entry.id,
                        "gl_account_id": gl.id,
                        "account_id": acc_id,
                        "business_date": on,
                        "debit_paise": 0,
                        "credit_paise": balance_of(i),
                    }
                    for i, acc_id in chunk
                ]
            )
        )
    uow.commit()
    return list(ids)


def _balance(i: int) -> int:
    return (i % 997 + 1) * 100_00 + i  # ₹100 … ₹99,700 plus i paise


def test_accumulate_day_is_set_based_and_idempotent_for_many_accounts(pg_books):
    deposits.seed_products()
    uow.commit()
    ids = bulk_savings(N, _balance)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        updated = savings.accumulate_day(date(2026, 4, 1))
        uow.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert updated == N
    # A handful of statements whatever N is (no per-account loop).
    assert len([s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]) < 20
    expected = sum(_balance(i) for i in range(N))
    assert db.session.scalar(select(func.sum(SbDailyProduct.product_paise))) == expected
    assert savings.accumulate_day(date(2026, 4, 1)) == 0
    # Day two, with one account's balance changed and another account closed.
    move_to(date(2026, 4, 2))
    first = db.session.get(Account, ids[0])
    cash_in(first, 1_000_00)
    last = db.session.get(Account, ids[-1])
    last_balance = last.balance_paise
    ledger.post(
        [ledger.Line.dr(last, last_balance), ledger.Line.cr(coa.VAULT_CASH, last_balance)],
        kind="withdrawal",
        narration="x",
    )
    last.status = "closed"
    uow.commit()
    assert savings.accumulate_until(date(2026, 4, 2)) == N - 1
    uow.commit()
    day_two = expected + 1_000_00 - last_balance
    assert db.session.scalar(select(func.sum(SbDailyProduct.product_paise))) == expected + day_two
    report = ledger.verify()
    assert report.ok, report.problems


def test_deposit_flows_on_postgresql(pg_books):
    deposits.seed_products()
    uow.commit()
    m = member(pan="ABCPK1234F")
    sb = open_sb(m, 2_00_000_00)
    fd = deposits.open_account(
        OpenRequest(
            form60_ref=F60,
            member_no=m.member_no,
            kind="fd",
            amount_paise=1_00_000_00,
            months=12,
            funding_mode="transfer",
            from_account_no=sb.account_no,
        ),
        by=cashier(),
    )
    uow.commit()
    move_to(date(2026, 6, 30))
    result = savings.credit_interest(date(2026, 6, 30))
    uow.commit()
    # SB: ₹2,00,000 on 01-04 only, then ₹1,00,000 for 90 days (02-04 … 30-06) at 3.50 %:
    # (2,00,000 + 1,00,000 × 90) × 3.5 / 36500 = 91,00,000 × 3.5 / 36500 = 872.6027 → ₹873
    assert result.interest_paise == 873_00
    move_to(date(2027, 4, 1))
    fixed_deposits.mature(date(2027, 4, 1))
    uow.commit()
    db.session.expire_all()
    assert fd.status == "closed" and sb.balance_paise == 1_00_000_00 + 873_00 + 1_07_450_00
    assert ledger.verify().ok
