"""Internal transfers: checks, floors, the deposit_rules hooks, idempotency and maker-checker."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.ledger import JournalEntry
from app.services import ledger
from app.services.common import NotFound, PermissionDenied, ValidationError, approvals, uow
from app.services.counter import transfers
from app.services.ledger import Line, coa
from app.services.ledger import kinds as deposit_rules
from tests.conftest import new_account
from tests.teller_helpers import entry_count, lines_of, member_account


@pytest.fixture
def clerk(books, make_user):
    return make_user("clerk", username="ravi")


@pytest.fixture
def manager(books, make_user):
    return make_user("manager", username="meera")


def test_transfer_posts_one_entry_with_exact_lines(clerk):
    a, b = member_account(opening_paise=10_000_00), member_account()
    result = transfers.transfer(a, b, 2_500_75, narration="rent share", maker=clerk)
    uow.commit()
    assert not result.pending
    assert lines_of(result.entry) == [(coa.SB_DEPOSITS, a.id, 2_500_75, 0), (coa.SB_DEPOSITS, b.id, 0, 2_500_75)]
    assert result.entry.kind == "transfer" and result.entry.posted_by_id == clerk.id
    assert "rent share" in result.entry.narration
    assert (a.balance_paise, b.balance_paise) == (7_499_25, 2_500_75)
    assert ledger.verify().ok


def test_same_account_is_refused(clerk):
    a = member_account(opening_paise=1_000_00)
    before = entry_count()
    with pytest.raises(ValidationError, match="two different accounts") as exc:
        transfers.transfer(a, a, 100_00, maker=clerk)
    assert exc.value.field == "to_account"
    db.session.rollback()
    with pytest.raises(ValidationError):
        transfers.transfer_by_number(a.account_no, a.account_no.lower(), 100_00, maker=clerk)
    db.session.rollback()
    assert entry_count() == before


@pytest.mark.parametrize("which", ["source", "target"])
@pytest.mark.parametrize("status", ["frozen", "closed"])
def test_frozen_or_closed_accounts_are_refused(clerk, which, status):
    a, b = member_account(opening_paise=1_000_00), member_account(opening_paise=1_000_00)
    (a if which == "source" else b).status = status
    uow.commit()
    before = entry_count()
    with pytest.raises(ledger.AccountNotOperable, match=status):
        transfers.transfer(a, b, 100_00, maker=clerk)
    db.session.rollback()
    assert entry_count() == before
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.balance_paise, b.balance_paise) == (1_000_00, 1_000_00)


def test_dormant_source_is_refused_but_may_receive(clerk):
    a, b = member_account(opening_paise=1_000_00), member_account(opening_paise=1_000_00)
    a.status = "dormant"
    uow.commit()
    with pytest.raises(ledger.AccountNotOperable, match="dormant"):
        transfers.transfer(a, b, 100_00, maker=clerk)
    db.session.rollback()
    transfers.transfer(b, a, 100_00, maker=clerk)
    uow.commit()
    assert a.balance_paise == 1_100_00


def test_floor_is_respected(clerk):
    a, b = member_account(opening_paise=5_000_00, min_balance_paise=1_000_00), member_account()
    before = entry_count()
    with pytest.raises(ledger.InsufficientFunds, match=r"at most ₹4,000\.00"):
        transfers.transfer(a, b, 4_000_01, maker=clerk)
    db.session.rollback()
    assert entry_count() == before
    transfers.transfer(a, b, 4_000_00, maker=clerk)
    uow.commit()
    assert a.balance_paise == 1_000_00


def test_registered_floor_overrides_the_minimum_balance(clerk):
    a, b = member_account(opening_paise=5_000_00), member_account()
    with deposit_rules.override("savings", floor=lambda account: 2_000_00):
        with pytest.raises(ledger.InsufficientFunds):
            transfers.transfer(a, b, 3_500_00, maker=clerk)
        db.session.rollback()
        transfers.transfer(a, b, 3_000_00, maker=clerk)
        uow.commit()
    assert a.balance_paise == 2_000_00


def test_bad_amounts_are_refused(clerk):
    a, b = member_account(opening_paise=1_000_00), member_account()
    for bad in (0, -1):
        with pytest.raises(ValidationError, match="more than zero"):
            transfers.transfer(a, b, bad, maker=clerk)
        db.session.rollback()


def test_rd_instalment_runs_the_after_credit_hook(clerk):
    sb = member_account(opening_paise=10_000_00)
    rd = new_account("rd")
    rd.member_id = sb.member_id
    uow.commit()
    calls: list[tuple[str, int, str]] = []

    def only_whole_instalments(account, amount):
        if amount % 1_000_00:
            raise ValidationError("RD instalments are multiples of ₹1,000.00.", field="amount")

    def mark_paid(account, amount, entry):
        calls.append((account.account_no, amount, entry.number))

    with deposit_rules.override("rd", credit_check=only_whole_instalments, after=mark_paid):
        with pytest.raises(ValidationError, match="multiples"):
            transfers.transfer(sb, rd, 1_500_00, maker=clerk)
        db.session.rollback()
        assert calls == []
        result = transfers.transfer(sb, rd, 2_000_00, narration="RD instalments Apr-May", maker=clerk)
        uow.commit()
    assert calls == [(rd.account_no, 2_000_00, result.entry.number)]
    assert lines_of(result.entry) == [(coa.SB_DEPOSITS, sb.id, 2_000_00, 0), (coa.RD_DEPOSITS, rd.id, 0, 2_000_00)]
    assert rd.balance_paise == 2_000_00
    assert ledger.verify().ok


def test_loan_hook_books_credit_lines(clerk):
    sb = member_account(opening_paise=10_000_00)
    loan = new_account("loan")
    ledger.post([Line.dr(loan, 50_000_00), Line.cr(coa.BANK_DCCB, 50_000_00)], kind="disbursement", narration="Loan")
    uow.commit()

    def repayment(account, amount):  # ₹100 penal charge first, the rest principal
        return [Line.cr(coa.INCOME_PENAL, 100_00, "Penal charge"), Line.cr(account, amount - 100_00, "Principal")]

    with deposit_rules.override(
        "loan", credit_check=lambda account, amount: None, lines=repayment, after=lambda *args: None
    ):
        result = transfers.transfer(sb, loan, 5_000_00, maker=clerk)
        uow.commit()
    assert lines_of(result.entry) == [
        (coa.SB_DEPOSITS, sb.id, 5_000_00, 0),
        (coa.INCOME_PENAL, None, 0, 100_00),
        (coa.LOANS_PERSONAL, loan.id, 0, 4_900_00),
    ]
    assert loan.balance_paise == 45_100_00
    assert ledger.verify().ok


def test_idempotent_retry_posts_once(clerk):
    a, b = member_account(opening_paise=10_000_00), member_account()
    first = transfers.transfer(a, b, 1_000_00, maker=clerk, idempotency_key="t-1")
    uow.commit()
    before = entry_count()
    again = transfers.transfer(a, b, 1_000_00, maker=clerk, idempotency_key="t-1")
    uow.commit()
    assert again.replayed and again.entry.id == first.entry.id
    assert entry_count() == before
    assert (a.balance_paise, b.balance_paise) == (9_000_00, 1_000_00)
    with pytest.raises(ledger.IdempotencyConflict):
        transfers.transfer(a, b, 2_000_00, maker=clerk, idempotency_key="t-1")
    db.session.rollback()


def test_large_staff_transfer_waits_for_approval(clerk, manager):
    a, b = member_account(opening_paise=10_00_000_00), member_account()
    before = entry_count()
    result = transfers.transfer(a, b, 6_00_000_00, maker=clerk)
    uow.commit()
    assert result.pending and result.approval.kind == "transfers.large"
    assert entry_count() == before and a.balance_paise == 10_00_000_00
    with pytest.raises(PermissionDenied):
        approvals.approve(result.approval.id, checker=clerk)
    db.session.rollback()
    req = approvals.approve(result.approval.id, checker=manager)
    uow.commit()
    entry = db.session.get(JournalEntry, req.result["entry_id"])
    assert entry.posted_by_id == clerk.id and entry.approved_by_id == manager.id
    db.session.refresh(a)
    assert a.balance_paise == 4_00_000_00
    # ₹5,00,000 exactly is not "above" the threshold.
    assert not transfers.transfer(a, b, 4_00_000_00, maker=clerk).pending


def test_member_may_only_debit_own_accounts(books):
    mine, theirs = member_account(opening_paise=5_000_00), member_account(opening_paise=5_000_00)
    with pytest.raises(NotFound):
        transfers.transfer_by_number(
            theirs.account_no, mine.account_no, 100_00, member_id=mine.member_id, channel="api"
        )
    db.session.rollback()
    result = transfers.transfer_by_number(
        mine.account_no, theirs.account_no, 600_00, member_id=mine.member_id, channel="api"
    )
    uow.commit()
    assert result.entry.channel == "api" and result.entry.posted_by_id is None
    assert mine.balance_paise == 5_000_00 - 600_00


def test_the_narration_reaches_both_passbook_lines(clerk):
    a, b = member_account(opening_paise=10_000_00), member_account()
    result = transfers.transfer(a, b, 500_00, narration="Repay hand loan", maker=clerk)
    uow.commit()
    debit = next(line for line in result.entry.lines if line.debit_paise)
    assert debit.narration == f"To {b.account_no} - Repay hand loan"
    assert "Repay hand loan" in result.entry.narration
