"""Deposit accounts: opening rules, numbers, bad input, freeze/unfreeze, dormancy, SB closure, products."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.deposits import AccountHolder, DepositAccount, DepositProduct, ProductRate, SbDailyProduct
from app.models.ledger import Account, JournalEntry
from app.services import deposits, ledger
from app.services.common import Conflict, NotFound, PermissionDenied, ValidationError, approvals, uow
from app.services.deposits import OpenRequest, savings
from app.services.ledger import coa
from app.services.ledger import kinds as deposit_rules
from tests.deposit_helpers import (
    F60,
    cash_in,
    cashier,
    drawer_no,
    entries_since,
    last_entry_id,
    lines_of,
    member,
    move_to,
    open_sb,
)
from tests.teller_helpers import fund_vault


@pytest.fixture
def staff(deposit_products, make_user):
    return {role: make_user(role) for role in ("clerk", "manager", "admin")}


def _count_deposit_accounts() -> int:
    return db.session.scalar(select(func.count()).select_from(Account).where(Account.kind != "drawer")) or 0


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_open_savings_with_product_prefixed_check_digit_numbers(deposit_products):
    m = member()
    start = last_entry_id()
    a = open_sb(m, 1_000_00)
    b = open_sb(m, 500_00)
    assert a.account_no.startswith("SB") and len(a.account_no) == 10 and a.account_no != b.account_no
    assert deposits.valid_account_no(a.account_no) and deposits.valid_account_no(b.account_no)
    # A single mistyped digit or swapped neighbours fail the check digit.
    wrong = a.account_no[:-2] + str((int(a.account_no[-2]) + 1) % 10) + a.account_no[-1]
    assert not deposits.valid_account_no(wrong)
    (entry, _) = entries_since(start)
    assert entry.kind == "deposit"
    assert lines_of(entry) == [
        (coa.TELLER_CASH, drawer_no(), 1_000_00, 0),
        (coa.SB_DEPOSITS, a.account_no, 0, 1_000_00),
    ]
    assert (a.kind, a.member_id, a.status, a.opened_on) == ("savings", m.id, "active", date(2026, 4, 1))
    sb = db.session.get(SbDailyProduct, a.id)
    assert (sb.rate_bp, sb.period_start, sb.last_product_date, sb.product_paise) == (
        350,
        date(2026, 4, 1),
        date(2026, 3, 31),
        0,
    )
    audit = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "deposits.open", AuditLog.entity_id == a.account_no)
    )
    assert audit.after["member"] == m.member_no
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("member_kw", "message"),
    [
        ({"status": "applicant", "kyc_status": "approved"}, "only active members"),
        ({"status": "active", "kyc_status": "submitted"}, "KYC is submitted"),
        ({"status": "active", "kyc_status": "pending"}, "KYC is pending"),
    ],
)
def test_only_active_members_with_approved_kyc(deposit_products, member_kw, message):
    m = member(**member_kw)
    with pytest.raises(ValidationError, match=message):
        deposits.open_account(
            OpenRequest(form60_ref=F60, member_no=m.member_no, kind="savings", amount_paise=1_000_00), by=cashier()
        )
    db.session.rollback()
    assert _count_deposit_accounts() == 0 and _count(JournalEntry) == 0


@pytest.mark.parametrize(
    ("request_kw", "message"),
    [
        ({"kind": "fd", "amount_paise": 500_00, "months": 12}, r"minimum for Fixed deposit is ₹1,000\.00"),
        ({"kind": "fd", "amount_paise": 5_000_00, "days": 3}, "no rate for a tenure of 3 days"),
        ({"kind": "fd", "amount_paise": 5_000_00, "months": 121}, "longer than any deposit"),
        ({"kind": "fd", "amount_paise": 5_000_00, "months": -1}, "not negative"),
        ({"kind": "fd", "amount_paise": -5_000_00, "months": 12}, "cannot be negative"),
        ({"kind": "fd", "amount_paise": 5_000_00, "months": 12, "payout": "weekly"}, "does not offer weekly"),
        ({"kind": "savings", "amount_paise": 100_00}, r"at least ₹500\.00"),
        ({"kind": "savings", "amount_paise": 1_000_00, "product_code": "FD"}, "is a fixed deposit product"),
        ({"kind": "loan", "amount_paise": 1_000_00}, "savings, fd or rd"),
        ({"kind": "fd", "amount_paise": 5_000_00, "months": 12, "funding_mode": "cheque"}, "cash or transfer"),
        (
            {
                "kind": "fd",
                "amount_paise": 5_000_00,
                "months": 12,
                "funding_mode": "transfer",
                "from_account_no": "SB99",
            },
            "No savings account",
        ),
    ],
)
def test_bad_opening_requests_post_nothing(deposit_products, request_kw, message):
    m = member()
    open_sb(m, 1_000_00)
    before_entries, before_accounts = _count(JournalEntry), _count(Account)
    with pytest.raises(ValidationError, match=message):
        deposits.open_account(OpenRequest(form60_ref=F60, member_no=m.member_no, **request_kw), by=cashier())
    db.session.rollback()
    assert (_count(JournalEntry), _count(Account)) == (before_entries, before_accounts)


def test_transfer_funding_keeps_the_sb_minimum_and_is_for_own_accounts_only(deposit_products):
    m, other = member(), member(name="Other Person")
    sb = open_sb(m, 10_000_00)
    with pytest.raises(ledger.InsufficientFunds, match=r"₹9,500\.00 available"):
        deposits.open_account(
            OpenRequest(
                form60_ref=F60,
                member_no=m.member_no,
                kind="fd",
                amount_paise=9_600_00,
                months=12,
                funding_mode="transfer",
                from_account_no=sb.account_no,
            ),
            by=cashier(),
        )
    db.session.rollback()
    with pytest.raises(ValidationError, match="does not belong"):
        deposits.open_account(
            OpenRequest(
            form60_ref=F60,
                member_no=other.member_no, kind="fd", amount_paise=5_000_00, months=12, funding_mode="transfer",
                from_account_no=sb.account_no, maturity_action="auto_renew",
            ), by=cashier()
        )  # fmt: skip


def test_joint_holders_and_nominee(deposit_products):
    from app.models.members import Nominee

    m, second = member(), member(name="Ravi Patil")
    nominee = Nominee(member_id=m.id, name="Meera Patil", relationship_="daughter", share_bp=10000)
    db.session.add(nominee)
    uow.commit()
    acc = deposits.open_account(
        OpenRequest(
            form60_ref=F60,
            member_no=m.member_no,
            kind="savings",
            amount_paise=1_000_00,
            joint_member_nos=[second.member_no],
            nominee_id=nominee.id,
        ),
        by=cashier(),
    )
    uow.commit()
    assert [h.member_no for h in deposits.holders(acc)] == [second.member_no]
    assert deposits.held_by(acc, second.id)
    assert db.session.scalar(select(DepositAccount.nominee_id).where(DepositAccount.account_id == acc.id)) == nominee.id
    applicant = member(status="applicant")
    with pytest.raises(ValidationError, match="only active members"):
        deposits.open_account(
            OpenRequest(
                form60_ref=F60,
                member_no=m.member_no,
                kind="savings",
                amount_paise=1_000_00,
                joint_member_nos=[applicant.member_no],
            ),
            by=cashier(),
        )
    db.session.rollback()
    assert _count(AccountHolder) == 1


def test_freeze_and_unfreeze_need_a_different_approver(staff):
    acc = open_sb(member(), 2_000_00)
    req = deposits.submit_status_change(acc, "freeze", "Court attachment order 12/2026", maker=staff["manager"])
    uow.commit()
    assert acc.status == "active"
    with pytest.raises(Conflict, match="already awaiting"):
        deposits.submit_status_change(acc, "freeze", "again", maker=staff["manager"])
    with pytest.raises(PermissionDenied, match="different user"):
        approvals.approve(req.id, checker=staff["manager"])
    db.session.rollback()
    with pytest.raises(PermissionDenied, match="cannot decide"):
        approvals.approve(req.id, checker=staff["clerk"])
    db.session.rollback()
    from app.services.access import staff_auth

    checker = staff_auth.create_user(username="manager2", password="Correct-Horse-9", role="manager")
    uow.commit()
    approvals.approve(req.id, checker=checker)
    uow.commit()
    assert acc.status == "frozen" and "Court attachment" in acc.status_reason
    with pytest.raises(ledger.AccountNotOperable, match="frozen"):
        cash_in(acc, 100_00)
    db.session.rollback()
    with pytest.raises(ValidationError, match="frozen"):
        deposits.close_account(acc, mode="cash", by=cashier())
    db.session.rollback()
    req2 = deposits.submit_status_change(acc, "unfreeze", "Order vacated", maker=checker)
    uow.commit()
    approvals.approve(req2.id, checker=staff["manager"])
    uow.commit()
    assert acc.status == "active" and acc.status_reason.startswith("Unfrozen")
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.entity_id == acc.account_no)).all()
    assert "deposits.freeze" in actions and "deposits.unfreeze" in actions


def test_dormant_after_24_months_without_customer_transactions(deposit_products):
    quiet, busy = open_sb(member(), 1_000_00), open_sb(member(name="Busy"), 1_000_00)
    move_to(date(2027, 6, 30))
    savings.credit_interest(date(2027, 6, 30))  # interest is not customer activity
    uow.commit()
    move_to(date(2027, 7, 1))
    cash_in(busy, 100_00)
    move_to(date(2028, 4, 2))
    marked = deposits.mark_dormant(date(2028, 4, 2))
    uow.commit()
    assert marked == [quiet.account_no]
    db.session.expire_all()
    assert quiet.status == "dormant" and busy.status == "active"
    assert deposits.mark_dormant(date(2028, 4, 2)) == []
    deposits.reactivate(quiet, reason="Fresh KYC seen")
    uow.commit()
    assert quiet.status == "active"


def test_close_savings_pays_balance_plus_interest_to_date(deposit_products):
    m = member()
    acc = open_sb(m, 10_000_00)  # 3.50 %
    move_to(date(2026, 5, 11))
    fund_vault(1_000_00)  # the drawer's float (the vault's cash) must cover ₹10,038
    clerk = cashier()
    before = last_entry_id()
    deposits.close_account(acc, mode="cash", by=clerk)
    uow.commit()
    # Interest to 10-05 (the day before closing): 10,000 × 40 days × 3.5 / 36500 = 38.3562 → ₹38
    interest_entry, payout = entries_since(before)
    assert lines_of(interest_entry) == [
        (coa.EXP_SB_INTEREST, None, 38_00, 0),
        (coa.SB_DEPOSITS, acc.account_no, 0, 38_00),
    ]
    assert lines_of(payout) == [
        (coa.SB_DEPOSITS, acc.account_no, 10_038_00, 0),
        (coa.TELLER_CASH, drawer_no(), 0, 10_038_00),
    ]
    db.session.expire_all()
    assert (acc.status, acc.balance_paise, acc.closed_on) == ("closed", 0, date(2026, 5, 11))
    with pytest.raises(ValidationError, match="already closed"):
        deposits.close_account(acc, mode="cash", by=cashier())
    assert ledger.verify().ok


def test_sb_with_linked_deposits_cannot_close(deposit_products):
    m = member()
    sb = open_sb(m, 1_000_00)
    deposits.open_account(
        OpenRequest(
            form60_ref=F60, member_no=m.member_no, kind="fd", amount_paise=5_000_00, months=12, payout="quarterly"
        ),
        by=cashier(),
    )
    uow.commit()
    with pytest.raises(ValidationError, match="pay into or draw from"):
        deposits.close_account(sb, mode="cash", by=cashier())


def test_savings_withdrawal_floor_is_the_product_minimum(deposit_products):
    acc = open_sb(member(), 1_000_00)
    assert deposit_rules.withdrawal_floor(acc) == 500_00


def test_product_changes_go_through_maker_checker(staff):
    data = {
        "code": "SBSR",
        "prefix": "SBS",
        "name": "Senior savings",
        "kind": "savings",
        "settings": {"min_balance_paise": 0, "interest_frequency": "quarterly"},
        "rates": [{"rate": "4.00"}],
        "effective_from": "2026-04-01",
    }
    req = deposits.submit_product_change("create", data, maker=staff["admin"])
    uow.commit()
    assert db.session.scalar(select(DepositProduct).where(DepositProduct.code == "SBSR")) is None
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    product = deposits.get_product("SBSR")
    assert product.prefix == "SBS" and deposits.savings_rate_bp(product, date(2026, 4, 1)) == 400
    with pytest.raises(ValidationError, match="past date"):
        deposits.submit_product_change(
            "rates",
            {"product_id": product.id, "rates": [{"rate": "4.5"}], "effective_from": "2026-03-31"},
            maker=staff["admin"],
        )
    with pytest.raises(Conflict, match="prefix SB is used"):
        deposits.submit_product_change("create", {**data, "code": "X1", "prefix": "SB"}, maker=staff["admin"])
    with pytest.raises(ValidationError, match="overlap"):
        deposits.submit_product_change(
            "rates",
            {
                "product_id": deposits.get_product("FD").id,
                "rates": [{"min_days": 7, "max_days": 90, "rate": "5"}, {"min_days": 90, "max_days": 365, "rate": "6"}],
                "effective_from": "2026-05-01",
            },
            maker=staff["admin"],
        )
    req = deposits.submit_product_change(
        "rates",
        {"product_id": product.id, "rates": [{"rate": "4.25"}], "effective_from": "2026-07-01"},
        maker=staff["admin"],
    )
    uow.commit()
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    history = deposits.rate_history(product)
    assert [(d, [r.rate_bp for r in card]) for d, card in history] == [
        (date(2026, 7, 1), [425]),
        (date(2026, 4, 1), [400]),
    ]
    assert deposits.savings_rate_bp(product, date(2026, 6, 30)) == 400
    assert deposits.savings_rate_bp(product, date(2026, 7, 1)) == 425
    assert _count(ProductRate) >= 2
    with pytest.raises(NotFound):
        deposits.get_account("SB404")


def test_rate_card_text_round_trip(deposit_products):
    rows = deposits.parse_rate_card_text("fd", "7-45 4.50 0.50\n46-179 5.75\n")
    assert deposits.normalize_rates("fd", rows) == [
        {"rate_bp": 450, "senior_extra_bp": 50, "min_days": 7, "max_days": 45},
        {"rate_bp": 575, "senior_extra_bp": 0, "min_days": 46, "max_days": 179},
    ]
    with pytest.raises(ValidationError, match="Line 1"):
        deposits.parse_rate_card_text("rd", "twelve 6.5")
    with pytest.raises(ValidationError, match="two decimals"):
        deposits.normalize_rates("savings", [{"rate": "3.555"}])
