"""The posting service against hand-worked examples and every refusal it must make."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.ledger import GLAccount, JournalEntry, JournalLine
from app.services import ledger
from app.services.common import ValidationError, uow
from app.services.ledger import Line, calendar, coa
from tests.conftest import BUSINESS_DATE, new_account


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(JournalEntry)),
        db.session.scalar(select(func.count()).select_from(JournalLine)),
    )


def test_cash_deposit_then_withdrawal_hand_worked(books):
    sb = new_account("savings")
    # Deposit ₹12,500.50 in cash: Dr vault cash / Cr the member's SB account.
    entry = ledger.post(
        [Line.dr(coa.VAULT_CASH, 1250050), Line.cr(sb, 1250050)], kind="deposit", narration="Cash deposit"
    )
    uow.commit()
    assert sb.balance_paise == 1250050
    assert entry.business_date == BUSINESS_DATE and entry.total_paise == 1250050
    lines = [(ln.gl_account.code, ln.account_id, ln.debit_paise, ln.credit_paise) for ln in entry.lines]
    assert lines == [(coa.VAULT_CASH, None, 1250050, 0), (coa.SB_DEPOSITS, sb.id, 0, 1250050)]
    # Withdraw ₹2,000.25: balance 12,500.50 − 2,000.25 = 10,500.25.
    ledger.post([Line.dr(sb, 200025), Line.cr(coa.VAULT_CASH, 200025)], kind="withdrawal", narration="Cash withdrawal")
    uow.commit()
    assert sb.balance_paise == 1050025
    assert ledger.gl_balance(coa.VAULT_CASH) == 1050025
    assert ledger.gl_balance(coa.SB_DEPOSITS) == 1050025
    assert ledger.verify().ok


def test_loan_balance_rises_with_debits(books):
    loan = new_account("loan")
    sb = new_account("savings")
    ledger.post([Line.dr(loan, 5000000), Line.cr(sb, 5000000)], kind="disbursement", narration="Disburse personal loan")
    ledger.post([Line.dr(sb, 888488), Line.cr(loan, 888488)], kind="repayment", narration="EMI 1")
    uow.commit()
    assert loan.balance_paise == 5000000 - 888488
    assert sb.balance_paise == 5000000 - 888488
    assert ledger.verify().ok


def test_multi_line_entry_with_tds(books):
    fd = new_account("fd")
    # FD interest ₹6,000 with 10% TDS: Dr interest expense 6000 / Cr FD 5400 / Cr TDS payable 600.
    ledger.post(
        [Line.dr(coa.EXP_FD_INTEREST, 600000), Line.cr(fd, 540000), Line.cr(coa.TDS_PAYABLE, 60000)],
        kind="interest",
        narration="FD interest Q1 less TDS",
    )
    uow.commit()
    assert fd.balance_paise == 540000
    assert ledger.gl_balance(coa.TDS_PAYABLE) == 60000
    assert ledger.gl_balance(coa.EXP_FD_INTEREST) == 600000


@pytest.mark.parametrize(
    ("lines", "error", "message"),
    [
        (lambda sb: [Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 99)], ledger.UnbalancedEntry, "differ by ₹0.01"),
        (lambda sb: [Line.dr(coa.VAULT_CASH, 100)], ledger.UnbalancedEntry, "at least two lines"),
        (lambda sb: [Line.dr(coa.VAULT_CASH, 0), Line.cr(sb, 0)], ValidationError, "greater than zero"),
        (lambda sb: [Line(debit=-5, gl=coa.VAULT_CASH), Line(credit=-5, account=sb)], ValidationError, "negative"),
        (
            lambda sb: [Line(debit=100, credit=100, gl=coa.VAULT_CASH), Line.cr(sb, 0)],
            ValidationError,
            "either a debit or a credit",
        ),
        (lambda sb: [Line.dr("9999", 100), Line.cr(sb, 100)], ValidationError, "Unknown GL account 9999"),
        (lambda sb: [Line.dr("1100", 100), Line.cr(sb, 100)], ledger.PostingError, "heading"),
        (lambda sb: [Line.dr(coa.VAULT_CASH, 100), Line.cr(coa.SB_DEPOSITS, 100)], ValidationError, "control account"),
        (lambda sb: [Line.dr(sb, 100), Line.cr(coa.VAULT_CASH, 100)], ledger.InsufficientFunds, "₹0.00 available"),
    ],
)
def test_bad_postings_are_refused_and_write_nothing(books, lines, error, message):
    sb = new_account("savings")
    before = counts()
    audit_before = db.session.scalar(select(func.count()).select_from(AuditLog))
    with pytest.raises(error, match=message):
        ledger.post(lines(sb), kind="deposit", narration="bad")
    db.session.rollback()
    assert counts() == before
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audit_before
    db.session.refresh(sb)
    assert sb.balance_paise == 0


def test_inactive_gl_is_refused(books):
    sb = new_account("savings")
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.BANK_DCCB))
    gl.active = False
    db.session.commit()
    with pytest.raises(ledger.PostingError, match="inactive"):
        ledger.post([Line.dr(coa.BANK_DCCB, 100), Line.cr(sb, 100)], kind="deposit", narration="x")


@pytest.mark.parametrize(("status", "message"), [("closed", "is closed"), ("frozen", "is frozen")])
def test_closed_and_frozen_accounts_refuse_postings(books, status, message):
    sb = new_account("savings", opening_paise=10000, status=status)
    with pytest.raises(ledger.AccountNotOperable, match=message):
        ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="x")


def test_minimum_balance_floor_per_line(books):
    sb = new_account("savings", opening_paise=100000)  # ₹1,000
    with pytest.raises(ledger.InsufficientFunds, match=r"₹500\.00 available"):
        ledger.post(
            [Line.dr(sb, 60000, floor_paise=50000), Line.cr(coa.VAULT_CASH, 60000)], kind="withdrawal", narration="x"
        )
    db.session.rollback()
    ledger.post(
        [Line.dr(sb, 50000, floor_paise=50000), Line.cr(coa.VAULT_CASH, 50000)], kind="withdrawal", narration="ok"
    )
    uow.commit()
    assert sb.balance_paise == 50000


def test_overdraft_limit(books):
    od = new_account("savings", min_balance_paise=-1000000)  # ₹10,000 overdraft
    ledger.post([Line.dr(od, 1000000), Line.cr(coa.VAULT_CASH, 1000000)], kind="withdrawal", narration="Use overdraft")
    uow.commit()
    assert od.balance_paise == -1000000
    with pytest.raises(ledger.InsufficientFunds):
        ledger.post([Line.dr(od, 1), Line.cr(coa.VAULT_CASH, 1)], kind="withdrawal", narration="beyond")


def test_posting_needs_an_open_day_and_refuses_other_dates(books):
    sb = new_account("savings")
    with pytest.raises(calendar.DayClosed, match="not open"):
        ledger.post(
            [Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)],
            kind="deposit",
            narration="x",
            options=ledger.PostOptions(
                business_date=date(2026, 3, 31),
            ),
        )
    db.session.rollback()
    calendar.close_business_day(BUSINESS_DATE)
    uow.commit()
    with pytest.raises(calendar.DayClosed, match="No business day is open"):
        ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="x")


def test_back_value_date_needs_permission(books):
    sb = new_account("savings")
    lines = [Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)]
    with pytest.raises(ledger.PostingError, match="back-dating permission"):
        ledger.post(
            lines,
            kind="deposit",
            narration="x",
            options=ledger.PostOptions(
                value_date=date(2026, 3, 28),
            ),
        )
    db.session.rollback()
    entry = ledger.post(
        lines,
        kind="deposit",
        narration="x",
        options=ledger.PostOptions(
            value_date=date(2026, 3, 28),
            allow_backdate=True,
        ),
    )
    assert entry.business_date == BUSINESS_DATE and entry.value_date == date(2026, 3, 28)
    with pytest.raises(ValidationError, match="after the business date"):
        ledger.post(
            lines,
            kind="deposit",
            narration="x",
            options=ledger.PostOptions(
                value_date=date(2026, 4, 2),
            ),
        )


def test_idempotent_retry_posts_once_and_conflicting_reuse_is_refused(books):
    sb = new_account("savings")
    lines = [Line.dr(coa.VAULT_CASH, 50000), Line.cr(sb, 50000)]
    first = ledger.post(lines, kind="deposit", narration="Cash deposit", idempotency_key="k-1")
    uow.commit()
    again = ledger.post(lines, kind="deposit", narration="Cash deposit", idempotency_key="k-1")
    uow.commit()
    assert again.id == first.id
    assert sb.balance_paise == 50000
    assert counts() == (1, 2)
    with pytest.raises(ledger.IdempotencyConflict, match="different request"):
        ledger.post(
            [Line.dr(coa.VAULT_CASH, 60000), Line.cr(sb, 60000)],
            kind="deposit",
            narration="Cash deposit",
            idempotency_key="k-1",
        )


def test_reversal_restores_balances_and_happens_once(books):
    sb = new_account("savings", opening_paise=100000)
    entry = ledger.post(
        [Line.dr(sb, 40000), Line.cr(coa.VAULT_CASH, 40000)], kind="withdrawal", narration="Wrong withdrawal"
    )
    uow.commit()
    assert sb.balance_paise == 60000
    rev = ledger.reverse(entry, reason="Posted to the wrong account")
    uow.commit()
    assert sb.balance_paise == 100000
    assert rev.kind == "reversal" and rev.reverses_id == entry.id
    assert "Posted to the wrong account" in rev.narration
    assert [(ln.debit_paise, ln.credit_paise) for ln in rev.lines] == [(0, 40000), (40000, 0)]
    with pytest.raises(ledger.AlreadyReversed):
        ledger.reverse(entry, reason="again")
    db.session.rollback()
    with pytest.raises(ledger.PostingError, match="itself a reversal"):
        ledger.reverse(rev, reason="undo the undo")
    db.session.rollback()
    with pytest.raises(ValidationError, match="reason"):
        ledger.reverse(entry, reason="  ")
    assert ledger.verify().ok


def test_reversal_that_would_overdraw_is_refused(books):
    sb = new_account("savings")
    deposit = ledger.post([Line.dr(coa.VAULT_CASH, 10000), Line.cr(sb, 10000)], kind="deposit", narration="Deposit")
    ledger.post([Line.dr(sb, 10000), Line.cr(coa.VAULT_CASH, 10000)], kind="withdrawal", narration="Spent")
    uow.commit()
    with pytest.raises(ledger.InsufficientFunds):
        ledger.reverse(deposit, reason="bounced")


def test_every_posting_is_audited_with_balances(books):
    sb = new_account("savings")
    entry = ledger.post([Line.dr(coa.VAULT_CASH, 700), Line.cr(sb, 700)], kind="deposit", narration="Audited")
    uow.commit()
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "ledger.post", AuditLog.entity_id == str(entry.id))
    )
    assert row.after["balances"] == {sb.account_no: {"before": 0, "after": 700}}
    assert row.hash is not None


def test_verify_names_a_cached_balance_that_disagrees(runner, books):
    sb = new_account("savings", opening_paise=5000)
    sb.balance_paise = 5001  # tamper with the cache, bypassing the posting service
    db.session.commit()
    report = ledger.verify()
    assert not report.ok
    assert f"account {sb.account_no}: cached balance 5001 but its lines sum to 5000" in report.problems[0]
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and sb.account_no in result.output


def test_trial_balance_snapshot_equals_lines(books):
    sb = new_account("savings", opening_paise=250000)
    ledger.post([Line.dr(sb, 1000), Line.cr(coa.INCOME_SERVICE_CHARGES, 1000)], kind="charge", narration="SMS charges")
    uow.commit()
    live = {b.gl.code: (b.debit_paise, b.credit_paise) for b in ledger.gl_balances(BUSINESS_DATE)}
    assert ledger.snapshot_day(BUSINESS_DATE) > 0
    assert ledger.snapshot_day(BUSINESS_DATE) == 0  # idempotent
    uow.commit()
    snap = {b.gl.code: (b.debit_paise, b.credit_paise) for b in ledger.gl_balances(BUSINESS_DATE)}
    assert snap == live
    assert sum(d for d, _ in live.values()) == sum(c for _, c in live.values()) == 251000


def test_cli_open_close_day_and_verify(runner):
    assert "added" in runner.invoke(args=["ledger", "seed-coa"]).output
    assert runner.invoke(args=["ledger", "open-day", "--date", "2026-05-04"]).exit_code == 0
    assert calendar.current_business_date() == date(2026, 5, 4)
    twice = runner.invoke(args=["ledger", "open-day", "--date", "2026-05-05"])
    assert twice.exit_code != 0 and "still open" in twice.output
    assert runner.invoke(args=["ledger", "close-day", "--date", "2026-05-04"]).exit_code == 0
    reopen = runner.invoke(args=["ledger", "open-day", "--date", "2026-05-04"])
    assert reopen.exit_code != 0 and "already closed" in reopen.output
    ok = runner.invoke(args=["ledger", "verify"])
    assert ok.exit_code == 0 and "ledger OK" in ok.output
