"""The counter: drawers, cash deposits and withdrawals, thresholds, closing counts, CTR, receipts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.teller import CashTransaction, TellerDrawer
from app.money import MAX_INPUT_PAISE
from app.services import ledger
from app.services.common import Conflict, PermissionDenied, ValidationError, approvals, uow
from app.services.counter import teller, transfers
from app.services.ledger import coa
from tests.conftest import BUSINESS_DATE, new_account
from tests.teller_helpers import entry_count, fund_vault, lines_of, member_account, notes


@pytest.fixture
def staff(books, make_user):
    """Two cashiers, a manager and a clerk; ₹5,00,000 in the vault."""
    fund_vault(5_00_000_00)
    return {
        "cashier": make_user("cashier", username="kiran"),
        "cashier2": make_user("cashier", username="asha"),
        "manager": make_user("manager", username="meera"),
        "clerk": make_user("clerk", username="ravi"),
    }


def open_drawer(user, float_paise: int = 50_000_00) -> TellerDrawer:
    drawer = teller.open_drawer(user, float_paise)
    uow.commit()
    return drawer


# ---------------------------------------------------------------- opening


def test_open_drawer_issues_the_float_from_the_vault(staff):
    kiran = staff["cashier"]
    drawer = open_drawer(kiran, 20_000_00)
    assert drawer.status == "open" and drawer.business_date == BUSINESS_DATE
    account = drawer.account
    assert account.kind == "drawer" and account.control_gl.code == coa.TELLER_CASH
    assert account.balance_paise == 20_000_00
    entry = db.session.scalars(select(JournalEntry).where(JournalEntry.reference == account.account_no)).one()
    assert lines_of(entry) == [(coa.TELLER_CASH, account.id, 20_000_00, 0), (coa.VAULT_CASH, None, 0, 20_000_00)]
    assert ledger.gl_balance(coa.VAULT_CASH) == 4_80_000_00
    assert ledger.gl_balance(coa.TELLER_CASH) == 20_000_00
    with pytest.raises(Conflict, match="already open"):
        teller.open_drawer(kiran, 0)
    db.session.rollback()
    assert ledger.verify().ok


def test_float_larger_than_the_vault_is_refused(staff):
    before = entry_count()
    with pytest.raises(ValidationError, match="vault holds"):
        teller.open_drawer(staff["cashier"], 6_00_000_00)
    db.session.rollback()
    assert entry_count() == before
    assert teller.current_drawer(staff["cashier"]) is None


def test_cash_needs_an_open_drawer(staff):
    sb = member_account()
    with pytest.raises(teller.DrawerNotOpen):
        teller.cash_deposit(None, sb, 1000_00, cashier=staff["cashier"])
    db.session.rollback()
    drawer = open_drawer(staff["cashier"])
    with pytest.raises(PermissionDenied):
        teller.cash_deposit(drawer, sb, 1000_00, cashier=staff["cashier2"])
    db.session.rollback()


# ---------------------------------------------------------------- deposit and withdrawal


def test_deposit_and_withdrawal_post_exact_lines(staff):
    kiran = staff["cashier"]
    drawer = open_drawer(kiran, 10_000_00)
    sb = member_account(opening_paise=1_000_00)
    # Deposit ₹12,345.50: Dr drawer / Cr SB.
    result = teller.cash_deposit(drawer, sb, 12_345_50, cashier=kiran, narration="school fees")
    uow.commit()
    assert lines_of(result.entry) == [
        (coa.TELLER_CASH, drawer.account_id, 12_345_50, 0),
        (coa.SB_DEPOSITS, sb.id, 0, 12_345_50),
    ]
    assert result.entry.kind == "deposit" and result.entry.posted_by_id == kiran.id
    assert "school fees" in result.entry.narration
    assert sb.balance_paise == 13_345_50
    assert result.txn.direction == "in" and result.txn.balance_after_paise == 13_345_50
    assert result.txn.id_proof == "pan"
    # Withdraw ₹3,000: Dr SB / Cr drawer.
    out = teller.cash_withdrawal(drawer, sb, 3_000_00, cashier=kiran)
    uow.commit()
    assert lines_of(out.entry) == [
        (coa.SB_DEPOSITS, sb.id, 3_000_00, 0),
        (coa.TELLER_CASH, drawer.account_id, 0, 3_000_00),
    ]
    assert out.entry.kind == "withdrawal"
    assert sb.balance_paise == 10_345_50
    # Drawer: 10,000 float + 12,345.50 − 3,000 = 19,345.50
    assert drawer.account.balance_paise == 19_345_50
    summary = teller.drawer_summary(drawer)
    assert (summary.from_vault_paise, summary.received_paise, summary.paid_paise) == (10_000_00, 12_345_50, 3_000_00)
    assert summary.transactions == 2
    assert ledger.verify().ok


def test_withdrawal_refused_when_the_drawer_is_short(staff):
    kiran = staff["cashier"]
    drawer = open_drawer(kiran, 1_000_00)
    sb = member_account(opening_paise=10_000_00)
    before = entry_count()
    with pytest.raises(teller.DrawerShort, match=r"drawer holds ₹1,000\.00"):
        teller.cash_withdrawal(drawer, sb, 5_000_00, cashier=kiran)
    db.session.rollback()
    assert entry_count() == before
    db.session.refresh(sb)
    assert sb.balance_paise == 10_000_00
    # After cash from the vault, it can pay.
    teller.vault_transfer(drawer, 5_000_00, direction="from_vault", cashier=kiran)
    teller.cash_withdrawal(drawer, sb, 5_000_00, cashier=kiran)
    uow.commit()
    assert sb.balance_paise == 5_000_00 and drawer.account.balance_paise == 1_000_00


def test_withdrawal_beyond_balance_or_below_minimum_is_refused(staff):
    kiran = staff["cashier"]
    drawer = open_drawer(kiran)
    sb = member_account(opening_paise=5_000_00, min_balance_paise=1_000_00)
    before = entry_count()
    with pytest.raises(ledger.InsufficientFunds, match=r"at most ₹4,000\.00 without going below its minimum"):
        teller.cash_withdrawal(drawer, sb, 4_500_00, cashier=kiran)
    db.session.rollback()
    with pytest.raises(ledger.InsufficientFunds):
        teller.cash_withdrawal(drawer, sb, 6_000_00, cashier=kiran)
    db.session.rollback()
    assert entry_count() == before
    teller.cash_withdrawal(drawer, sb, 4_000_00, cashier=kiran)
    uow.commit()
    assert sb.balance_paise == 1_000_00


@pytest.mark.parametrize("status", ["frozen", "closed"])
def test_deposit_to_frozen_or_closed_account_is_refused(staff, status):
    drawer = open_drawer(staff["cashier"])
    sb = member_account(opening_paise=1_000_00)
    sb.status = status
    uow.commit()
    before = entry_count()
    with pytest.raises(teller.AccountRefused, match=status):
        teller.cash_deposit(drawer, sb, 500_00, cashier=staff["cashier"])
    db.session.rollback()
    assert entry_count() == before


def test_bad_amounts_are_refused(staff):
    drawer = open_drawer(staff["cashier"])
    sb = member_account()
    for bad in (0, -100, MAX_INPUT_PAISE + 1):
        with pytest.raises(ValidationError):
            teller.cash_deposit(drawer, sb, bad, cashier=staff["cashier"])
        db.session.rollback()
    with pytest.raises(ValidationError, match=r"multiples of ₹0\.50"):
        teller.cash_deposit(drawer, sb, 100_37, cashier=staff["cashier"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CashTransaction)) == 0


def test_kinds_without_withdrawal_rules_refuse_cash_out(staff):
    drawer = open_drawer(staff["cashier"])
    other = new_account("locker", control=coa.CURRENT_DEPOSITS, opening_paise=1_000_00)
    with pytest.raises(ValidationError, match="Withdrawals are not allowed"):
        teller.cash_withdrawal(drawer, other, 100_00, cashier=staff["cashier"])
    db.session.rollback()
    with pytest.raises(ValidationError, match="does not take"):
        teller.cash_deposit(drawer, other, 100_00, cashier=staff["cashier"])
    db.session.rollback()


def test_same_idempotency_key_posts_once(staff):
    kiran = staff["cashier"]
    drawer = open_drawer(kiran)
    sb = member_account()
    first = teller.cash_deposit(drawer, sb, 2_000_00, cashier=kiran, idempotency_key="counter:abc")
    uow.commit()
    again = teller.cash_deposit(drawer, sb, 2_000_00, cashier=kiran, idempotency_key="counter:abc")
    uow.commit()
    assert again.replayed and again.entry.id == first.entry.id
    assert sb.balance_paise == 2_000_00
    with pytest.raises(ledger.IdempotencyConflict):
        teller.cash_deposit(drawer, sb, 3_000_00, cashier=kiran, idempotency_key="counter:abc")
    db.session.rollback()


# ---------------------------------------------------------------- large withdrawals (maker-checker)


def test_large_withdrawal_waits_for_a_different_approver(staff):
    kiran, meera = staff["cashier"], staff["manager"]
    drawer = open_drawer(kiran, 3_00_000_00)
    sb = member_account(opening_paise=4_00_000_00)
    before = entry_count()
    result = teller.cash_withdrawal(drawer, sb, 2_50_000_00, cashier=kiran)
    uow.commit()
    assert result.pending and result.approval.kind == "teller.withdrawal"
    assert entry_count() == before
    assert sb.balance_paise == 4_00_000_00
    with pytest.raises(PermissionDenied, match="different user"):
        approvals.approve(result.approval.id, checker=kiran)
    db.session.rollback()
    with pytest.raises(PermissionDenied, match="cannot decide"):
        approvals.approve(result.approval.id, checker=staff["cashier2"])
    db.session.rollback()
    req = approvals.approve(result.approval.id, checker=meera)
    uow.commit()
    assert req.status == "approved"
    assert entry_count() == before + 1
    entry = db.session.get(JournalEntry, req.result["entry_id"])
    assert entry.posted_by_id == kiran.id and entry.approved_by_id == meera.id
    assert lines_of(entry) == [
        (coa.SB_DEPOSITS, sb.id, 2_50_000_00, 0),
        (coa.TELLER_CASH, drawer.account_id, 0, 2_50_000_00),
    ]
    db.session.refresh(sb)
    assert sb.balance_paise == 1_50_000_00
    with pytest.raises(Conflict):
        approvals.approve(req.id, checker=meera)
    db.session.rollback()
    assert entry_count() == before + 1


def test_large_cash_deposit_waits_for_a_different_approver(staff):
    """Issue 15: a cash deposit above LARGE_CASH_DEPOSIT_PAISE (₹10 lakh) went straight in."""
    kiran, meera = staff["cashier"], staff["manager"]
    drawer = open_drawer(kiran)
    sb = member_account()
    before = entry_count()
    key = "counter:big-deposit"
    result = teller.cash_deposit(drawer, sb, 10_00_000_50, cashier=kiran, idempotency_key=key)
    uow.commit()
    assert result.pending and result.approval.kind == "teller.deposit"
    assert result.approval.amount_paise == 10_00_000_50
    assert entry_count() == before and sb.balance_paise == 0
    assert db.session.scalar(select(func.count()).select_from(CashTransaction)) == 0
    again = teller.cash_deposit(drawer, sb, 10_00_000_50, cashier=kiran, idempotency_key=key)
    assert again.pending and again.replayed and again.approval.id == result.approval.id
    assert not approvals.can_decide(result.approval, kiran)
    assert not approvals.can_decide(result.approval, staff["cashier2"])
    assert approvals.can_decide(result.approval, meera)
    with pytest.raises(PermissionDenied, match="different user"):
        approvals.approve(result.approval.id, checker=kiran)
    db.session.rollback()
    req = approvals.approve(result.approval.id, checker=meera)
    uow.commit()
    assert req.status == "approved" and entry_count() == before + 1
    entry = db.session.get(JournalEntry, req.result["entry_id"])
    assert entry.posted_by_id == kiran.id and entry.approved_by_id == meera.id
    assert lines_of(entry) == [
        (coa.TELLER_CASH, drawer.account_id, 10_00_000_50, 0),
        (coa.SB_DEPOSITS, sb.id, 0, 10_00_000_50),
    ]
    txn = db.session.scalar(select(CashTransaction).where(CashTransaction.entry_id == entry.id))
    assert (txn.direction, txn.amount_paise, txn.approved_by_id) == ("in", 10_00_000_50, meera.id)
    db.session.refresh(sb)
    assert sb.balance_paise == 10_00_000_50
    assert not approvals.can_decide(req, meera)  # decided


def test_cash_deposit_at_the_large_threshold_posts_at_once(staff):
    drawer = open_drawer(staff["cashier"])
    sb = member_account()
    result = teller.cash_deposit(drawer, sb, 10_00_000_00, cashier=staff["cashier"])
    uow.commit()
    assert result.entry is not None and not result.pending
    assert sb.balance_paise == 10_00_000_00


def test_large_cash_outside_the_counter_is_refused(staff, app):
    """Cash taken for another domain (an opening, shares) above the threshold must go through the counter."""
    drawer = open_drawer(staff["cashier"])
    sb = member_account()
    before = entry_count()
    with pytest.raises(ValidationError, match="needs a manager's approval at the counter"):
        teller.receive_cash(
            sb, 10_00_000_50, [ledger.Line.cr(sb, 10_00_000_50)], cashier=staff["cashier"], narration="Shares"
        )
    db.session.rollback()
    assert entry_count() == before
    app.config["LARGE_CASH_DEPOSIT_PAISE"] = 20_00_000_00
    done = teller.receive_cash(
        sb, 10_00_000_50, [ledger.Line.cr(sb, 10_00_000_50)], cashier=staff["cashier"], narration="Shares"
    )
    uow.commit()
    assert done.entry is not None and done.txn.drawer_id == drawer.id


def test_withdrawal_at_threshold_is_not_sent_for_approval(staff):
    drawer = open_drawer(staff["cashier"], 3_00_000_00)
    sb = member_account(opening_paise=3_00_000_00)
    result = teller.cash_withdrawal(drawer, sb, 2_00_000_00, cashier=staff["cashier"])
    uow.commit()
    assert result.entry is not None and not result.pending


# ---------------------------------------------------------------- PAN / Form 60


def test_cash_of_50000_needs_pan_or_form60(staff):
    kiran = staff["cashier"]
    drawer = open_drawer(kiran)
    no_pan = member_account(pan=False)
    before = entry_count()
    with pytest.raises(teller.IdentityProofRequired, match="PAN or Form 60") as exc:
        teller.cash_deposit(drawer, no_pan, 50_000_00, cashier=kiran)
    assert exc.value.field == "form60_ref"
    db.session.rollback()
    assert entry_count() == before
    # Just below the threshold is fine without PAN.
    teller.cash_deposit(drawer, no_pan, 49_999_50, cashier=kiran)
    uow.commit()
    # ... but the day's cash adds up: another ₹0.50 reaches ₹50,000.
    with pytest.raises(teller.IdentityProofRequired):
        teller.cash_deposit(drawer, no_pan, 50, cashier=kiran)
    db.session.rollback()
    # A Form 60 collected now covers it.
    ok = teller.cash_deposit(drawer, no_pan, 50_000_00, cashier=kiran, form60_ref="F60/2026/0007")
    uow.commit()
    assert ok.txn.id_proof == "form60" and ok.txn.form60_ref == "F60/2026/0007"
    # PAN on file: no prompt.
    with_pan = member_account()
    assert teller.cash_deposit(drawer, with_pan, 75_000_00, cashier=kiran).txn.id_proof == "pan"
    uow.commit()
    # The Form 60 in the KYC file covers the account opening only (Rule 114B): this cash needs
    # its own Form 60 — refused without one, posted with its reference.
    on_file = member_account(pan=False, form60=True)
    before = entry_count()
    with pytest.raises(teller.IdentityProofRequired, match="covers the account opening only") as exc:
        teller.cash_deposit(drawer, on_file, 75_000_00, cashier=kiran)
    assert exc.value.field == "form60_ref"
    db.session.rollback()
    assert entry_count() == before
    own = teller.cash_deposit(drawer, on_file, 75_000_00, cashier=kiran, form60_ref="F60/2026/0008")
    assert (own.txn.id_proof, own.txn.form60_ref) == ("form60", "F60/2026/0008")
    uow.commit()
    # Withdrawals follow the same rule.
    with pytest.raises(teller.IdentityProofRequired):
        teller.cash_withdrawal(drawer, no_pan, 50_000_00, cashier=kiran)
    db.session.rollback()


# ---------------------------------------------------------------- closing


def test_close_with_shortage_is_posted_after_approval(staff):
    kiran, meera = staff["cashier"], staff["manager"]
    drawer = open_drawer(kiran, 10_000_00)
    sb = member_account()
    teller.cash_deposit(drawer, sb, 2_120_00, cashier=kiran)
    uow.commit()
    # Expected ₹12,120; counted 24 × ₹500 = ₹12,000: a shortage of ₹120.
    teller.close_drawer(drawer, notes(n500=24), cashier=kiran)
    uow.commit()
    assert drawer.status == "closing"
    assert (drawer.expected_paise, drawer.counted_paise, drawer.difference_paise) == (12_120_00, 12_000_00, -120_00)
    assert drawer.denominations["n500"] == 24
    assert ledger.gl_balance(coa.CASH_OVER_SHORT) == 0
    with pytest.raises(teller.DrawerNotOpen):
        teller.cash_deposit(drawer, sb, 100_00, cashier=kiran)
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        approvals.approve(drawer.close_request_id, checker=kiran)
    db.session.rollback()
    approvals.approve(drawer.close_request_id, checker=meera)
    uow.commit()
    db.session.refresh(drawer)
    assert drawer.status == "closed" and drawer.closed_by_id == meera.id
    entry = db.session.get(JournalEntry, drawer.close_entry_id)
    assert lines_of(entry) == [
        (coa.VAULT_CASH, None, 12_000_00, 0),
        (coa.CASH_OVER_SHORT, None, 120_00, 0),
        (coa.TELLER_CASH, drawer.account_id, 0, 12_120_00),
    ]
    assert entry.approved_by_id == meera.id
    assert drawer.account.balance_paise == 0
    assert ledger.gl_balance(coa.CASH_OVER_SHORT) == -120_00  # a debit balance in the suspense
    assert ledger.gl_balance(coa.TELLER_CASH) == 0
    with pytest.raises(teller.DrawerNotOpen, match="closed"):
        teller.cash_deposit(drawer, sb, 100_00, cashier=kiran)
    db.session.rollback()
    assert ledger.verify().ok


def test_the_day_closes_only_when_every_drawer_is_counted_and_closed(staff):
    from app.services.ledger import calendar

    kiran, asha, meera = staff["cashier"], staff["cashier2"], staff["manager"]
    first = open_drawer(kiran, 1_000_00)
    second = open_drawer(asha, 1_000_00)
    teller.close_drawer(second, notes(n500=1), cashier=asha)  # ₹500 short: waits for a manager
    uow.commit()
    with pytest.raises(Conflict) as refused:
        ledger.close_day(BUSINESS_DATE)
    assert "kiran is open" in refused.value.message and "asha is closing" in refused.value.message
    db.session.rollback()
    assert calendar.open_day().business_date == BUSINESS_DATE
    teller.close_drawer(first, notes(n500=2), cashier=kiran)
    approvals.approve(second.close_request_id, checker=meera)
    uow.commit()
    ledger.close_day(BUSINESS_DATE)
    uow.commit()
    assert calendar.open_day() is None and calendar.get_day(BUSINESS_DATE).status == "closed"
    assert ledger.verify().ok


def test_exact_count_closes_at_once_and_excess_goes_to_suspense(staff):
    kiran, asha, meera = staff["cashier"], staff["cashier2"], staff["manager"]
    exact = open_drawer(kiran, 1_235_50)
    teller.close_drawer(exact, notes(n500=2, n200=1, c20=1, c10=1, c5=1, c050=1), cashier=kiran)
    uow.commit()
    assert exact.status == "closed" and exact.difference_paise == 0 and exact.close_request_id is None
    assert ledger.gl_balance(coa.TELLER_CASH) == 0
    extra = open_drawer(asha, 1_000_00)
    teller.close_drawer(extra, notes(n500=2, c10=5), cashier=asha)
    uow.commit()
    assert extra.status == "closing" and extra.difference_paise == 50_00
    approvals.approve(extra.close_request_id, checker=meera)
    uow.commit()
    entry = db.session.get(JournalEntry, extra.close_entry_id)
    assert lines_of(entry) == [
        (coa.VAULT_CASH, None, 1_050_00, 0),
        (coa.TELLER_CASH, extra.account_id, 0, 1_000_00),
        (coa.CASH_OVER_SHORT, None, 0, 50_00),
    ]
    assert ledger.gl_balance(coa.CASH_OVER_SHORT) == 50_00
    assert ledger.verify().ok


def test_rejected_count_can_be_taken_back_and_recounted(staff):
    kiran, meera = staff["cashier"], staff["manager"]
    drawer = open_drawer(kiran, 2_000_00)
    teller.close_drawer(drawer, notes(n500=3), cashier=kiran)
    uow.commit()
    approvals.reject(drawer.close_request_id, checker=meera, note="Count again, a ₹500 note is under the tray")
    uow.commit()
    with pytest.raises(teller.DrawerNotOpen):
        teller.cash_deposit(drawer, member_account(), 100_00, cashier=kiran)
    db.session.rollback()
    teller.reopen_drawer(drawer, cashier=kiran)
    uow.commit()
    assert drawer.status == "open" and drawer.counted_paise is None
    teller.close_drawer(drawer, notes(n500=4), cashier=kiran)
    uow.commit()
    assert drawer.status == "closed"
    assert ledger.gl_balance(coa.CASH_OVER_SHORT) == 0


def test_bad_denominations_are_refused(staff):
    drawer = open_drawer(staff["cashier"], 0)
    with pytest.raises(ValidationError) as exc:
        teller.close_drawer(drawer, {"n500": "-2", "n100": "1.5"}, cashier=staff["cashier"])
    assert set(exc.value.errors) == {"n500", "n100"}
    db.session.rollback()
    assert teller.count_total({"n2000": 1, "n500": 3, "c050": 3}) == 3_501_50


# ---------------------------------------------------------------- a mixed day


def test_ledger_verifies_after_a_mixed_day(staff):
    kiran, asha, meera = staff["cashier"], staff["cashier2"], staff["manager"]
    d1, d2 = open_drawer(kiran, 1_00_000_00), open_drawer(asha, 50_000_00)
    a, b = member_account(opening_paise=3_00_000_00), member_account(pan=False, opening_paise=20_000_00)
    teller.cash_deposit(d1, a, 45_000_00, cashier=kiran)
    teller.cash_deposit(d2, b, 12_000_50, cashier=asha)
    teller.cash_withdrawal(d2, b, 5_000_00, cashier=asha)
    teller.vault_transfer(d1, 1_00_000_00, direction="from_vault", cashier=kiran)
    big = teller.cash_withdrawal(d1, a, 2_10_000_00, cashier=kiran)
    transfers.transfer(a, b, 7_500_00, maker=staff["clerk"])
    teller.vault_transfer(d2, 20_000_00, direction="to_vault", cashier=asha)
    uow.commit()
    approvals.approve(big.approval.id, checker=meera)
    uow.commit()
    assert ledger.verify().ok
    # Drawer 1: 1,00,000 + 45,000 + 1,00,000 − 2,10,000 = 35,000. Drawer 2: 50,000 + 12,000.50 − 5,000 − 20,000.
    assert d1.account.balance_paise == 35_000_00
    assert d2.account.balance_paise == 37_000_50
    assert ledger.gl_balance(coa.TELLER_CASH) == 72_000_50
    teller.close_drawer(d1, notes(n500=70), cashier=kiran)
    teller.close_drawer(d2, notes(n500=74), cashier=asha)  # ₹37,000: ₹0.50 short
    uow.commit()
    approvals.approve(d2.close_request_id, checker=meera)
    uow.commit()
    report = ledger.verify()
    assert report.ok, report.problems
    assert ledger.gl_balance(coa.TELLER_CASH) == 0
    assert ledger.gl_balance(coa.CASH_OVER_SHORT) == -50
    # Vault: 5,00,000 − 1,50,000 floats − 1,00,000 + 20,000 + 35,000 + 37,000 returned.
    assert ledger.gl_balance(coa.VAULT_CASH) == 5_00_000_00 + 3_20_000_00 - 1_50_000_00 - 1_00_000_00 + 92_000_00
    assert teller.cash_day_totals(BUSINESS_DATE) == {"in": 57_000_50, "out": 2_15_000_00}


# ---------------------------------------------------------------- CTR and receipts


def test_cash_transaction_report_flags_monthly_cash_above_ten_lakh(staff, app):
    kiran = staff["cashier"]
    drawer = open_drawer(kiran, 5_00_000_00)
    heavy = member_account(opening_paise=6_00_000_00)
    light = member_account()
    teller.cash_deposit(drawer, heavy, 6_00_000_00, cashier=kiran)
    result = teller.cash_deposit(drawer, heavy, 4_00_000_00, cashier=kiran)
    uow.commit()
    assert not result.ctr_flag  # exactly ₹10 lakh: not "more than"
    out = teller.cash_withdrawal(drawer, heavy, 1_00_00, cashier=kiran)
    teller.cash_deposit(drawer, light, 9_00_000_00, cashier=kiran)
    uow.commit()
    assert out.ctr_flag
    rows = teller.cash_transaction_report(date(2026, 4, 15))
    assert [(r.member.id, r.cash_in_paise, r.cash_out_paise, r.transactions) for r in rows] == [
        (heavy.member_id, 10_00_000_00, 1_00_00, 3)
    ]
    assert rows[0].accounts == [heavy.account_no]
    assert teller.cash_transaction_report(date(2026, 5, 1)) == []
    app.config["CTR_BASIS"] = "separate"  # receipts or payments, each on its own
    assert teller.cash_transaction_report(date(2026, 4, 1)) == []


def test_receipt_and_amount_in_words(staff):
    kiran = staff["cashier"]
    drawer = open_drawer(kiran)
    no_pan = member_account(pan=False)
    result = teller.cash_deposit(drawer, no_pan, 1_23_456_50, cashier=kiran, form60_ref="F60-9")
    uow.commit()
    r = teller.receipt(result.entry.id)
    assert r.title == "Cash deposit" and r.account_no == no_pan.account_no
    assert r.amount_words == "Rupees One Lakh Twenty Three Thousand Four Hundred Fifty Six and Fifty Paise Only"
    assert r.balance_after_paise == 1_23_456_50 and r.id_proof == "Form 60 ref. F60-9"
    assert teller.amount_in_words(12_34_56_789_00) == (
        "Rupees Twelve Crore Thirty Four Lakh Fifty Six Thousand Seven Hundred Eighty Nine Only"
    )
    assert teller.amount_in_words(100) == "Rupees One Only"


# ---------------------------------------------------------------- PostgreSQL: concurrent cash


@pytest.mark.postgres
def test_concurrent_withdrawals_never_overdraw_the_drawer(pg_app, pg_books):
    """Six withdrawals of ₹300 race for a drawer holding ₹1,000: exactly three are paid."""
    import threading

    from app.models.ledger import Account
    from app.models.users import StaffUser
    from app.services.access import staff_auth
    from app.services.common import SYSTEM, DomainError, acting_as
    from tests.conftest import PASSWORD

    fund_vault(1_000_00)
    cashier = staff_auth.create_user(username="kiran", password=PASSWORD, role="cashier")
    uow.commit()
    drawer = open_drawer(cashier, 1_000_00)
    ids = [member_account(opening_paise=1_000_00).id for _ in range(6)]
    drawer_id, cashier_id = drawer.id, cashier.id
    barrier = threading.Barrier(len(ids))
    results: list[str] = []

    def worker(account_id: int) -> None:
        with pg_app.app_context(), acting_as(SYSTEM):

            def work() -> int:
                d = db.session.get(TellerDrawer, drawer_id)
                user = db.session.get(StaffUser, cashier_id)
                return teller.cash_withdrawal(d, db.session.get(Account, account_id), 300_00, cashier=user).entry.id

            barrier.wait()
            try:
                uow.run(work)
                results.append("paid")
            except teller.DrawerShort:
                results.append("short")
            except DomainError as exc:  # pragma: no cover - reported by the assertion
                results.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["paid"] * 3 + ["short"] * 3
    db.session.expire_all()
    assert db.session.get(TellerDrawer, drawer_id).account.balance_paise == 100_00
    assert db.session.scalar(select(func.count()).select_from(CashTransaction)) == 3
    assert ledger.verify().ok
