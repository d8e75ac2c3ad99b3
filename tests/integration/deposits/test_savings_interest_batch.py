"""The quarter's interest credit through ``ledger.post_many`` writes exactly what the old ``ledger.post`` path wrote.

One varied quarter (a rate cut, minimum-balance charges, an interest-free product, a frozen
and a closed account, a half-up rounding case, TDS on with one account above the
threshold) is credited twice from the same state: first with ``ledger.post_many`` replaced
by the rule as it was (``ledger.post`` of ``[Line.dr(interest on savings, total)] +
[Line.cr(account, amount, note), ...]``) inside a savepoint that is then rolled back, then
with the real batch path, committed. Results, entries (with their request fingerprints),
lines in order, balances, products, TDS rows and the ledger audit rows must be identical,
and ``ledger verify`` (balances, digests) must pass.
"""

from datetime import date

import pytest
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.deposits import SbDailyProduct, TdsDeduction
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.services import deposits, ledger
from app.services.access import staff_auth
from app.services.common import approvals, uow
from app.services.deposits import savings
from app.services.ledger import Line
from tests.conftest import PASSWORD
from tests.deposit_helpers import cash_in, cash_out, cashier, member, move_to, open_sb, product

Q_END = date(2026, 6, 30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_books(request):
    return request.getfixturevalue("books" if request.param == "sqlite" else "pg_books")


def _old_rule(batch, *, kind, narration, idempotency_key=None, options=None):
    """How ``savings._post_chunk`` posted the interest entry before ``post_many``."""
    assert batch.credit_accounts
    lines = [Line.dr(batch.gl, sum(batch.amounts))] + [
        Line.cr(ref, a, batch.line_narration) for ref, a in zip(batch.accounts, batch.amounts, strict=True)
    ]
    return ledger.post(lines, kind=kind, narration=narration, idempotency_key=idempotency_key, options=options)


def _quarter():
    app = current_app
    app.config["SB_INTEREST_TDS"] = True
    app.config["LARGE_CASH_DEPOSIT_PAISE"] = 2_00_00_000_00
    cut = product(
        "SBM", "savings", [{"rate": "4.00"}],
        min_balance_paise=500_00, min_balance_charge_paise=50_00, min_opening_paise=0,
    )  # fmt: skip
    product("SBF", "savings", [{"rate": "3.00"}], interest_free=True)
    product("SBR", "savings", [{"rate": "3.65"}])
    accounts = {
        "a": open_sb(member(name="Asha"), 10_000_00, "SBM"),
        "b": open_sb(member(name="Bhim"), 600_00, "SBM"),  # below the minimum: charged
        "c": open_sb(member(name="Chitra"), 5_000_00, "SBM"),  # closed on 20-05
        "d": open_sb(member(name="Devi"), 600_00, "SBM"),  # frozen: interest, no charge
        "e": open_sb(member(name="Eknath"), 700_00, "SBM"),
        "f": open_sb(member(name="Farhan"), 50_000_00, "SBF"),  # interest-free
        "h": open_sb(member(name="Hari"), 15_000_00, "SBR"),  # ₹136.50 exactly: half-up gives ₹137
        "r": open_sb(member(name="Ratan", pan="ABCPS1234K"), 1_00_00_000_00, "SBR"),  # TDS
    }
    cash_out(accounts["d"], 200_00)
    deposits.apply_product_change(
        "rates", {"product_id": cut.id, "rates": [{"rate": "3.00"}], "effective_from": date(2026, 5, 16)}
    )
    uow.commit()
    maker = staff_auth.create_user(username="mgr_b1", password=PASSWORD, role="manager")
    checker = staff_auth.create_user(username="mgr_b2", password=PASSWORD, role="manager")
    uow.commit()
    req = deposits.submit_status_change(accounts["d"], "freeze", "Attachment order", maker=maker)
    uow.commit()
    approvals.approve(req.id, checker=checker)
    uow.commit()
    move_to(date(2026, 4, 2))
    cash_out(accounts["b"], 300_00)
    move_to(date(2026, 4, 16))
    cash_in(accounts["a"], 5_000_00)
    move_to(date(2026, 5, 20))
    deposits.close_account(accounts["c"], mode="cash", by=cashier())
    uow.commit()
    move_to(date(2026, 6, 10))
    cash_out(accounts["a"], 2_500_50)
    cash_out(accounts["e"], 300_00)
    move_to(Q_END)
    return accounts


def _snapshot(after_entry: int, after_audit: int) -> dict:
    """What the crediting wrote, without ids (entries and lines in order)."""
    db.session.expire_all()
    codes = dict(db.session.execute(select(GLAccount.id, GLAccount.code)).all())
    numbers = dict(db.session.execute(select(Account.id, Account.account_no)).all())
    entries = db.session.scalars(
        select(JournalEntry).where(JournalEntry.id > after_entry).order_by(JournalEntry.id)
    ).all()
    index = {e.id: i for i, e in enumerate(entries)}
    lines = [
        (index[ln.entry_id], codes[ln.gl_account_id], numbers.get(ln.account_id), ln.debit_paise, ln.credit_paise,
         ln.narration)
        for ln in db.session.scalars(
            select(JournalLine).where(JournalLine.entry_id > after_entry).order_by(JournalLine.id)
        )
    ]  # fmt: skip
    audits = [
        {k: v for k, v in (row.after or {}).items() if k != "lines_digest"}
        for row in db.session.scalars(
            select(AuditLog)
            .where(AuditLog.id > after_audit, AuditLog.action.in_(["ledger.post", "savings.interest_credited"]))
            .order_by(AuditLog.id)
        )
    ]
    return {
        "entries": [
            (e.kind, e.narration, e.business_date, e.value_date, e.channel, e.total_paise, e.request_hash)
            for e in entries
        ],
        "lines": lines,
        "balances": dict(db.session.execute(select(Account.account_no, Account.balance_paise)).all()),
        "products": sorted(
            db.session.execute(
                select(SbDailyProduct.account_id, SbDailyProduct.product_paise, SbDailyProduct.interest_through)
            ).all()
        ),
        "tds": sorted(
            (numbers[t.account_id], t.interest_paise, t.tds_paise)
            for t in db.session.scalars(select(TdsDeduction).where(TdsDeduction.tds_paise > 0))
        ),
        "audits": audits,
    }


def _marks() -> tuple[int, int]:
    return (
        db.session.scalar(select(JournalEntry.id).order_by(JournalEntry.id.desc()).limit(1)) or 0,
        db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0,
    )


def test_batch_crediting_writes_what_the_old_posting_path_wrote(any_books, monkeypatch):
    accounts = _quarter()
    marks = _marks()

    savepoint = db.session.begin_nested()
    with monkeypatch.context() as m:
        m.setattr(ledger, "post_many", _old_rule)
        old = savings.credit_interest(Q_END, chunk_size=3)
    db.session.flush()
    expected = _snapshot(*marks)
    savepoint.rollback()
    db.session.expire_all()

    new = savings.credit_interest(Q_END, chunk_size=3)
    uow.commit()
    got = _snapshot(*marks)

    assert (new.accounts, new.interest_paise, new.charges_paise, new.tds_paise, len(new.entries)) == (
        old.accounts, old.interest_paise, old.charges_paise, old.tds_paise, len(old.entries)
    )  # fmt: skip
    assert got == expected
    # The quarter really was varied: charges, TDS, a frozen account credited, the closed one not.
    assert new.charges_paise > 0 and new.tds_paise > 0
    credited = {n for _, _, n, _, cr, note in got["lines"] if n and cr and note and note.startswith("SB interest")}
    assert accounts["d"].account_no in credited and accounts["c"].account_no not in credited
    assert accounts["f"].account_no not in credited
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.undigested == 0 or report.undigested < report.entries
