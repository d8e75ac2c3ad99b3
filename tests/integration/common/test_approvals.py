"""Maker-checker on the ledger: vouchers, reversals and chart changes."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.ledger import GLAccount, JournalEntry
from app.services import ledger
from app.services.common import Conflict, PermissionDenied, ValidationError, approvals, uow
from app.services.ledger import Line, coa
from app.services.ledger import workflows as wf
from tests.conftest import new_account

VOUCHER = [
    {"gl": "5202", "debit": 1500000, "credit": 0, "narration": "April rent"},
    {"gl": coa.BANK_DCCB, "debit": 0, "credit": 1500000},
]


@pytest.fixture
def staff(books, make_user):
    return {role: make_user(role) for role in ("accountant", "manager", "clerk", "admin")}


def test_voucher_is_posted_only_after_a_different_user_approves(staff):
    req = wf.submit_voucher(VOUCHER, narration="Rent for April", maker=staff["accountant"])
    uow.commit()
    assert db.session.scalar(select(JournalEntry)) is None
    with pytest.raises(PermissionDenied, match="different user"):
        approvals.approve(req.id, checker=staff["accountant"])
    db.session.rollback()
    with pytest.raises(PermissionDenied, match="cannot decide"):
        approvals.approve(req.id, checker=staff["clerk"])
    db.session.rollback()
    approvals.approve(req.id, checker=staff["manager"], note="checked bill")
    uow.commit()
    entry = db.session.scalar(select(JournalEntry))
    assert entry.kind == "journal" and entry.total_paise == 1500000
    assert entry.posted_by_id == staff["accountant"].id and entry.approved_by_id == staff["manager"].id
    assert ledger.gl_balance("5202") == 1500000
    assert req.status == "approved" and req.result["entry_no"] == entry.number
    with pytest.raises(Conflict, match="already approved"):
        approvals.approve(req.id, checker=staff["admin"])


def test_unbalanced_voucher_is_refused_at_submission(staff):
    rows = [dict(VOUCHER[0]), dict(VOUCHER[1], credit=1499999)]
    with pytest.raises(ledger.UnbalancedEntry, match=r"differ by ₹0\.01"):
        wf.submit_voucher(rows, narration="Rent", maker=staff["accountant"])


def test_voucher_cannot_touch_control_or_settlement_accounts(staff):
    rows = [{"gl": coa.SB_DEPOSITS, "debit": 100, "credit": 0}, {"gl": coa.VAULT_CASH, "debit": 0, "credit": 100}]
    with pytest.raises(ValidationError, match="cannot be used in a manual voucher"):
        wf.submit_voucher(rows, narration="x", maker=staff["accountant"])


def test_rejection_needs_a_reason_and_posts_nothing(staff):
    req = wf.submit_voucher(VOUCHER, narration="Rent", maker=staff["accountant"])
    uow.commit()
    with pytest.raises(ValidationError, match="reason"):
        approvals.reject(req.id, checker=staff["manager"], note="")
    approvals.reject(req.id, checker=staff["manager"], note="No bill attached")
    uow.commit()
    assert req.status == "rejected" and db.session.scalar(select(JournalEntry)) is None


def test_reversal_through_maker_checker(staff):
    sb = new_account("savings", opening_paise=100000)
    wrong = ledger.post([Line.dr(sb, 30000), Line.cr(coa.VAULT_CASH, 30000)], kind="withdrawal", narration="Wrong")
    uow.commit()
    req = wf.submit_reversal(wrong.id, reason="Keyed twice", maker=staff["accountant"])
    uow.commit()
    with pytest.raises(Conflict, match="already awaiting"):
        wf.submit_reversal(wrong.id, reason="again", maker=staff["accountant"])
    db.session.rollback()
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    assert sb.balance_paise == 100000
    with pytest.raises(ledger.AlreadyReversed):
        wf.submit_reversal(wrong.id, reason="third time", maker=staff["accountant"])


def test_gl_with_postings_can_be_deactivated_not_deleted(staff):
    sb = new_account("savings", opening_paise=100)
    assert sb.balance_paise == 100
    cash = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.VAULT_CASH))
    with pytest.raises(ValidationError, match="deactivated, not deleted"):
        wf.submit_gl_change("delete", {"gl_id": cash.id}, maker=staff["admin"])
    req = wf.submit_gl_change(
        "create", {"code": "5291", "name": "Electricity", "type": "expense", "parent": "5000"}, maker=staff["admin"]
    )
    uow.commit()
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    new = db.session.scalar(select(GLAccount).where(GLAccount.code == "5291"))
    assert new.normal_side == "debit" and new.parent.code == "5000" and new.allow_manual
    req = wf.submit_gl_change("delete", {"gl_id": new.id}, maker=staff["admin"])
    uow.commit()
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    assert db.session.scalar(select(GLAccount).where(GLAccount.code == "5291")) is None


def test_new_gl_validation(staff):
    with pytest.raises(Conflict, match="already exists"):
        wf.submit_gl_change("create", {"code": coa.VAULT_CASH, "name": "x", "type": "asset"}, maker=staff["admin"])
    with pytest.raises(ValidationError, match="cannot sit under"):
        wf.submit_gl_change(
            "create", {"code": "4999", "name": "x", "type": "income", "parent": "5000"}, maker=staff["admin"]
        )
