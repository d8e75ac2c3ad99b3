"""ledger.post with one entry of many lines: the rules of post(), written set-based (SQLite and PostgreSQL)."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.ledger import Account, JournalEntry, JournalLine
from app.services import ledger
from app.services.common import ValidationError, uow
from app.services.ledger import AccountRef, Line, coa
from tests.conftest import new_account


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_books(request):
    return request.getfixturevalue("books" if request.param == "sqlite" else "pg_books")


def _ref(acc: Account) -> AccountRef:
    return AccountRef(acc.id, acc.account_no, acc.control_gl_id)


def post_bulk(lines, **kw) -> JournalEntry:
    return ledger.post(lines, **kw)


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(JournalEntry)),
        db.session.scalar(select(func.count()).select_from(JournalLine)),
    )


def test_bulk_entry_posts_like_post(any_books):
    accounts = [new_account("savings", opening_paise=1_000_00 * (i + 1)) for i in range(5)]
    loan = new_account("loan")
    uow.commit()
    odd = 'Interest "Q1" \\ {a,b} NULL ₹'  # quotes, backslash, braces, the word NULL, non-ASCII
    lines = [Line.dr(coa.EXP_SB_INTEREST, 1_500 + 7)]
    lines += [Line.cr(_ref(acc), 100 * (i + 1), odd if i == 0 else None) for i, acc in enumerate(accounts)]
    lines += [Line.cr(accounts[0], 7, "")]  # an ORM account works too; same account twice adds up
    loaded = db.session.get(Account, accounts[1].id)
    entry = post_bulk(
        lines,
        kind="interest",
        narration="Bulk interest",
        options=ledger.PostOptions(channel="system", allow_frozen=True),
    )
    uow.commit()
    assert loaded.balance_paise == 2_000_00 + 200  # the loaded object was updated, not left stale
    got = db.session.execute(
        select(JournalLine.account_id, JournalLine.debit_paise, JournalLine.credit_paise, JournalLine.narration)
        .where(JournalLine.entry_id == entry.id)
        .order_by(JournalLine.id)
    ).all()
    assert [tuple(r) for r in got] == [(None, 1_507, 0, None)] + [
        (acc.id, 0, 100 * (i + 1), odd if i == 0 else None) for i, acc in enumerate(accounts)
    ] + [(accounts[0].id, 0, 7, "")]
    db.session.expire_all()
    assert [db.session.get(Account, a.id).balance_paise for a in accounts] == [
        1_000_00 * (i + 1) + 100 * (i + 1) + (7 if i == 0 else 0) for i in range(5)
    ]
    assert entry.total_paise == 1_507 and entry.kind == "interest"
    audit_row = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "ledger.post", AuditLog.entity_id == str(entry.id))
    )
    assert audit_row.after["balances"][accounts[0].account_no] == {"before": 1_000_00, "after": 1_000_00 + 107}
    # A debit-normal account (a loan) rises with a debit.
    post_bulk([Line.dr(_ref(loan), 5_00), Line.cr(coa.VAULT_CASH, 5_00)], kind="disbursement", narration="x")
    uow.commit()
    db.session.expire_all()
    assert db.session.get(Account, loan.id).balance_paise == 5_00
    assert ledger.verify().ok


def test_bulk_entry_refuses_what_post_refuses(any_books):
    a = new_account("savings", opening_paise=1_000_00)
    b = new_account("savings", opening_paise=1_000_00)
    closed = new_account("savings", status="closed")
    frozen = new_account("savings", opening_paise=1_000_00, status="frozen")
    uow.commit()
    before = _counts()
    cases = [
        ([Line.dr(coa.EXP_SB_INTEREST, 100), Line.cr(_ref(a), 99)], ledger.UnbalancedEntry),
        ([Line.dr(coa.EXP_SB_INTEREST, 100), Line.cr(_ref(closed), 100)], ledger.AccountNotOperable),
        ([Line.dr(_ref(frozen), 100), Line.cr(coa.VAULT_CASH, 100)], ledger.AccountNotOperable),
        (
            [Line.dr(_ref(a), 100), Line.dr(_ref(b), 1_000_01), Line.cr(coa.VAULT_CASH, 1_001_01)],
            ledger.InsufficientFunds,
        ),
        ([Line.dr(_ref(a), 600_00, floor_paise=500_00), Line.cr(coa.VAULT_CASH, 600_00)], ledger.InsufficientFunds),
        (
            [Line.dr(coa.EXP_SB_INTEREST, 100), Line.cr(AccountRef(a.id, a.account_no, 1), 100)],
            ledger.NotAControlAccount,
        ),
        ([Line.dr(coa.EXP_SB_INTEREST, 100), Line(credit=100, gl=coa.SB_DEPOSITS)], ValidationError),
    ]
    for lines, error in cases:
        with pytest.raises(error):
            post_bulk(lines, kind="charge", narration="Refused")
        db.session.rollback()
    assert _counts() == before
    db.session.expire_all()
    assert db.session.get(Account, a.id).balance_paise == 1_000_00
    assert db.session.get(Account, b.id).balance_paise == 1_000_00


def test_bulk_entry_is_idempotent_by_key(any_books):
    a = new_account("savings", opening_paise=1_000_00)
    uow.commit()
    lines = [Line.dr(coa.EXP_SB_INTEREST, 300), Line.cr(_ref(a), 300)]
    first = post_bulk(lines, kind="interest", narration="Keyed", idempotency_key="bulk-1")
    uow.commit()
    again = post_bulk(lines, kind="interest", narration="Keyed", idempotency_key="bulk-1")
    assert again.id == first.id
    with pytest.raises(ledger.IdempotencyConflict):
        post_bulk([*lines[:1], Line.cr(_ref(a), 301)], kind="interest", narration="Keyed", idempotency_key="bulk-1")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Account, a.id).balance_paise == 1_000_00 + 300
    assert ledger.verify().ok
