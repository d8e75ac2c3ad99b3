"""ledger.post_many: one GL line against many accounts, with exactly the entry, lines and checks of ledger.post."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.ledger import Account, JournalEntry, JournalLine
from app.services import ledger
from app.services.common import ValidationError, uow
from app.services.ledger import AccountRef, Batch, Line, bulk, coa, writer
from tests.conftest import new_account


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_books(request):
    return request.getfixturevalue("books" if request.param == "sqlite" else "pg_books")


def _ref(acc: Account) -> AccountRef:
    return AccountRef(acc.id, acc.account_no, acc.control_gl_id)


def _written(entry_id: int) -> tuple:
    entry = db.session.get(JournalEntry, entry_id)
    lines = db.session.execute(
        select(JournalLine.gl_account_id, JournalLine.account_id, JournalLine.debit_paise, JournalLine.credit_paise,
               JournalLine.narration).where(JournalLine.entry_id == entry_id).order_by(JournalLine.id)
    ).all()  # fmt: skip
    audit_after = db.session.scalar(
        select(AuditLog.after).where(AuditLog.action == "ledger.post", AuditLog.entity_id == str(entry_id))
    )
    return entry, [tuple(r) for r in lines], audit_after


@pytest.mark.parametrize("credit_accounts", [True, False])
def test_post_many_writes_what_post_writes(any_books, credit_accounts):
    accounts = [new_account("savings", opening_paise=10_000_00 + i) for i in range(4)]
    loan = new_account("loan", opening_paise=1_000_00)  # a debit-normal control GL in the same entry
    uow.commit()
    refs = [_ref(a) for a in accounts] + [_ref(loan)]
    amounts = [101, 2_00, 3_33, 7, 5_00] if credit_accounts else [101, 2_00, 3_33, 7, 1]
    note = 'Note "q" \\ {a,b} NULL ₹'
    total = sum(amounts)
    if credit_accounts:
        lines = [Line.dr(coa.EXP_SB_INTEREST, total)] + [
            Line.cr(r, a, note) for r, a in zip(refs, amounts, strict=True)
        ]
    else:
        lines = [Line.cr(coa.EXP_SB_INTEREST, total)] + [
            Line.dr(r, a, note) for r, a in zip(refs, amounts, strict=True)
        ]
    opts = ledger.PostOptions(channel="system", allow_frozen=True)
    before = {a.id: a.balance_paise for a in [*accounts, loan]}
    old = ledger.post(lines, kind="interest", narration="Batch", options=opts)
    mid = {a.id: db.session.get(Account, a.id).balance_paise for a in [*accounts, loan]}
    new = ledger.post_many(Batch(coa.EXP_SB_INTEREST, refs, amounts, credit_accounts, note), kind="interest",
                           narration="Batch", options=opts)  # fmt: skip
    uow.commit()
    db.session.expire_all()
    old_entry, old_lines, old_audit = _written(old.id)
    new_entry, new_lines, new_audit = _written(new.id)
    assert new_lines == old_lines
    assert new_entry.request_hash == old_entry.request_hash == ledger.request_fingerprint("interest", "Batch", lines)
    for col in ("kind", "narration", "total_paise", "business_date", "value_date", "channel"):
        assert getattr(new_entry, col) == getattr(old_entry, col)
    assert {k: v for k, v in old_audit.items() if k not in ("lines_digest", "balances")} == {
        k: v for k, v in new_audit.items() if k not in ("lines_digest", "balances")
    }
    assert new_audit["lines_digest"] == writer.lines_digest(new.id, new_entry.business_date, new_lines)
    # Each posting moved every balance by the same amount, in the same direction.
    after = {a.id: db.session.get(Account, a.id).balance_paise for a in [*accounts, loan]}
    assert {i: after[i] - mid[i] for i in after} == {i: mid[i] - before[i] for i in after}
    assert all(after[i] != before[i] for i in after)
    assert new_audit["balances"][accounts[0].account_no] == {
        "before": mid[accounts[0].id],
        "after": after[accounts[0].id],
    }
    report = ledger.verify()
    assert report.ok, report.problems


def test_post_many_refuses_what_post_refuses(any_books):
    good = new_account("savings", opening_paise=1_000_00)
    frozen = new_account("savings", opening_paise=1_000_00)
    closed = new_account("savings", opening_paise=0)
    uow.commit()
    frozen.status, frozen.status_reason = "frozen", "Court order"
    closed.status = "closed"
    uow.commit()

    def many(refs, amounts, credit=True, **opts):
        return ledger.post_many(Batch(coa.EXP_SB_INTEREST, refs, amounts, credit), kind="interest",
                                narration="Batch", options=ledger.PostOptions(**opts))  # fmt: skip

    with pytest.raises(ledger.AccountNotOperable, match="frozen: Court order"):
        many([_ref(good), _ref(frozen)], [1, 1])
    db.session.rollback()
    with pytest.raises(ledger.AccountNotOperable, match="closed"):
        many([_ref(good), _ref(closed)], [1, 1], allow_frozen=True)
    db.session.rollback()
    with pytest.raises(ledger.InsufficientFunds):
        many([_ref(good)], [1_000_01], credit=False)
    db.session.rollback()
    with pytest.raises(ValidationError, match="whole paise"):
        many([_ref(good)], [1.5])
    with pytest.raises(ValidationError, match="greater than zero"):
        many([_ref(good)], [0])
    with pytest.raises(ValidationError, match="only once"):
        many([_ref(good), _ref(good)], [1, 2])
    db.session.rollback()
    with pytest.raises(ValidationError, match="Unknown GL"):
        ledger.post_many(Batch("NOPE", [_ref(good)], [1]), kind="interest", narration="x")
    with pytest.raises(ValidationError, match="Unknown entry kind"):
        ledger.post_many(Batch(coa.EXP_SB_INTEREST, [_ref(good)], [1]), kind="nope", narration="x")
    db.session.rollback()
    entry = many([_ref(good), _ref(frozen)], [1, 2], allow_frozen=True)  # frozen accounts take interest
    uow.commit()
    db.session.expire_all()
    assert db.session.get(Account, frozen.id).balance_paise == 1_000_02
    assert entry.total_paise == 3
    assert ledger.verify().ok


def test_a_refused_credit_batch_leaves_every_balance_as_it_was(any_books):
    # A batch that only credits is written by one UPDATE that locks as it goes; when it finds
    # a closed or frozen account it takes back what it added, in the same transaction.
    good = [new_account("savings", opening_paise=1_000_00 + i) for i in range(3)]
    closed = new_account("savings", opening_paise=0)
    uow.commit()
    closed.status = "closed"
    uow.commit()
    ids = [a.id for a in [*good, closed]]
    entries_before = db.session.scalar(select(db.func.count(JournalEntry.id)))
    with pytest.raises(ledger.AccountNotOperable, match=f"Account {closed.account_no} is closed"):
        ledger.post_many(
            Batch(coa.EXP_SB_INTEREST, [_ref(a) for a in [*good, closed]], [1_00, 2_00, 3_00, 4_00]),
            kind="interest",
            narration="Batch",
        )
    uow.commit()  # whatever the refused call left in the transaction is committed now
    balances = dict(db.session.execute(select(Account.id, Account.balance_paise).where(Account.id.in_(ids))).all())
    assert balances == {good[0].id: 1_000_00, good[1].id: 1_000_01, good[2].id: 1_000_02, closed.id: 0}
    assert db.session.scalar(select(db.func.count(JournalEntry.id))) == entries_before
    assert ledger.verify().ok


def test_post_many_idempotency_key(any_books):
    acc = new_account("savings", opening_paise=1_000_00)
    uow.commit()
    batch = Batch(coa.EXP_SB_INTEREST, [_ref(acc)], [5_00], line_narration="n")
    first = ledger.post_many(batch, kind="interest", narration="Once", idempotency_key="k-1")
    uow.commit()
    again = ledger.post_many(batch, kind="interest", narration="Once", idempotency_key="k-1")
    assert again.id == first.id
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.post_many(
            Batch(coa.EXP_SB_INTEREST, [_ref(acc)], [6_00]), kind="interest", narration="Once", idempotency_key="k-1"
        )
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Account, acc.id).balance_paise == 1_005_00


def test_fingerprint_and_digest_match_the_posting_functions():
    refs = [AccountRef(7, "SB7", 3), AccountRef(9, "SB9", 3)]
    batch = Batch("5101", refs, [10, 20], line_narration="x")
    gl_fp, acc_fp = batch.fingerprint_lines()
    lines = [Line.dr("5101", 30), Line.cr(refs[0], 10, "x"), Line.cr(refs[1], 20, "x")]
    assert bulk.fingerprint("interest", "N", gl_fp, acc_fp, None) == ledger.request_fingerprint("interest", "N", lines)
    for extra in (None, {"b": 1, "a": date(2026, 4, 1)}):
        assert batch.fingerprint("interest", 'N "q" ₹', extra) == ledger.request_fingerprint(
            "interest", 'N "q" ₹', lines, extra
        )
    odd = Batch("5101", refs, [10, 20], credit_accounts=False, line_narration='{a} "b" \\ ₹')
    mirrored = [Line.cr("5101", 30)] + [Line.dr(r, a, odd.line_narration) for r, a in zip(refs, [10, 20], strict=True)]
    assert odd.fingerprint("fee", "F", None) == ledger.request_fingerprint("fee", "F", mirrored)
    on = date(2026, 4, 1)
    for b in (batch, odd, Batch("5101", refs, [1, 2])):
        rows = b.rows(42, sum(b.amounts))
        assert b.digest(5, on, 42, sum(b.amounts)) == writer.lines_digest(5, on, [tuple(r) for r in rows])
    rows = batch.rows(42, 30)
    assert rows == [[42, None, 30, 0, None], [3, 7, 0, 10, "x"], [3, 9, 0, 20, "x"]]
    assert bulk.digest(1, date(2026, 4, 1), rows) == writer.lines_digest(1, date(2026, 4, 1), [tuple(r) for r in rows])
