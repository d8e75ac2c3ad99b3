"""Share capital: admission journal lines worked by hand, purchases, refunds and transfers
through maker-checker, certificates and share numbers, the register and ``ledger.verify``."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.members import ShareCertificate
from app.services import ledger, members
from app.services.common import Conflict, PermissionDenied, ValidationError, approvals, uow
from app.services.counter import teller
from app.services.ledger import coa
from app.services.members import shares
from tests import helpers
from tests.conftest import new_account
from tests.helpers.members import member_data, ready_member


@pytest.fixture
def staff(books, make_user):
    """Staff of the branch; the cashier has a drawer open (fees and shares in cash go through it)."""
    team = {
        "clerk": make_user("clerk"),
        "cashier": make_user("cashier"),
        "manager": make_user("manager"),
        "manager2": make_user("manager", username="manager_two"),
    }
    teller.open_drawer(team["cashier"], 0)
    uow.commit()
    return team


def till(staff) -> str:
    """The account number of the cashier's drawer (the sub-ledger line of cash in and out)."""
    return teller.current_drawer(staff["cashier"]).account.account_no


def lines_of(entry: JournalEntry) -> list[tuple[str, str | None, int, int]]:
    return helpers.lines_of(entry, ordered=False)  # type: ignore[return-value]


def certs(member) -> list[tuple]:
    return [(c.shares, c.first_share_no, c.last_share_no, c.status) for c in shares.certificates(member)]


def test_admission_posts_fee_and_shares_exactly(staff):
    member = ready_member(staff["clerk"], staff["manager"])
    receipt = shares.admit(member, shares=12, mode="cash", by=staff["cashier"])
    uow.commit()
    # By hand: 12 shares × ₹100 = ₹1,200.00 (120000 paise); fee ₹100.00 (10000 paise); cash ₹1,300.00.
    account = receipt.account
    assert lines_of(receipt.entry) == sorted(
        [
            (coa.TELLER_CASH, till(staff), 130000, 0),
            (coa.INCOME_MEMBERSHIP_FEE, None, 0, 10000),
            (coa.SHARE_CAPITAL, account.account_no, 0, 120000),
        ]
    )
    assert receipt.entry.kind == "admission" and receipt.entry.total_paise == 130000
    assert receipt.entry.posted_by_id == staff["cashier"].id and receipt.entry.reference == account.account_no
    assert (receipt.share_paise, receipt.fee_paise, receipt.total_paise) == (120000, 10000, 130000)
    assert account.kind == "share" and account.member_id == member.id and account.balance_paise == 120000
    assert account.title == "Share capital — Sunita Ramesh Patil"
    assert account.account_no.startswith("SH") and len(account.account_no) == 10
    from app.services.common import luhn_valid

    assert luhn_valid(account.account_no[2:])
    assert (member.status, member.joined_on) == ("active", date(2026, 4, 1))
    assert member.status_history[-1].to_status == "active"
    cert = receipt.certificate
    assert (cert.certificate_no, cert.shares, cert.first_share_no, cert.last_share_no) == ("SC000001", 12, 1, 12)
    assert cert.entry_id == receipt.entry.id and cert.face_value_paise == 10000
    assert ledger.gl_balance(coa.TELLER_CASH) == 130000 and ledger.gl_balance(coa.VAULT_CASH) == 0
    from app.models.teller import CashTransaction

    txn = db.session.scalar(select(CashTransaction).where(CashTransaction.entry_id == receipt.entry.id))
    assert (txn.direction, txn.amount_paise, txn.member_id) == ("in", 130000, member.id)
    assert ledger.gl_balance(coa.SHARE_CAPITAL) == 120000
    assert ledger.gl_balance(coa.INCOME_MEMBERSHIP_FEE) == 10000
    report = ledger.verify()
    assert report.ok, report.problems


def test_admission_refusals_save_nothing(staff):
    member = members.register(member_data(1), by=staff["clerk"])
    uow.commit()
    with pytest.raises(ValidationError, match="KYC is pending"):
        shares.admit(member, shares=10, mode="cash", by=staff["cashier"])
    db.session.rollback()
    member = ready_member(staff["clerk"], staff["manager"], 2)
    with pytest.raises(
        ValidationError, match=r"at least 10 shares \(₹1,000.00 at ₹100.00 each\); 9 were entered"
    ) as info:
        shares.admit(member, shares=9, mode="cash", by=staff["cashier"])
    assert info.value.field == "shares"
    db.session.rollback()
    for bad in ("ten", "1.5", "-3", 0, 2.0):
        with pytest.raises(ValidationError, match="shares"):
            shares.admit(member, shares=bad, mode="cash", by=staff["cashier"])
        db.session.rollback()
    with pytest.raises(ValidationError, match="cash or transfer"):
        shares.admit(member, shares=10, mode="cheque", by=staff["cashier"])
    db.session.rollback()
    assert db.session.scalar(select(JournalEntry)) is None
    assert member.status == "applicant" and shares.share_account(member) is None
    shares.admit(member, shares="10", mode="cash", by=staff["cashier"])
    uow.commit()
    with pytest.raises(Conflict, match="already active"):
        shares.admit(member, shares=10, mode="cash", by=staff["cashier"])


def test_admission_paid_from_the_members_savings_account(staff, app):
    member = ready_member(staff["clerk"], staff["manager"])
    sb = new_account("savings", opening_paise=500000)
    sb.member_id = member.id
    other = new_account("savings", opening_paise=500000)
    uow.commit()
    with pytest.raises(ValidationError, match="does not belong"):
        shares.admit(member, shares=10, mode="transfer", from_account_no=other.account_no, by=staff["clerk"])
    db.session.rollback()
    receipt = shares.admit(member, shares=10, mode="transfer", from_account_no=sb.account_no, by=staff["clerk"])
    uow.commit()
    assert lines_of(receipt.entry) == sorted(
        [
            (coa.SB_DEPOSITS, sb.account_no, 110000, 0),
            (coa.INCOME_MEMBERSHIP_FEE, None, 0, 10000),
            (coa.SHARE_CAPITAL, receipt.account.account_no, 0, 100000),
        ]
    )
    assert sb.balance_paise == 390000
    assert ledger.verify().ok


def test_settings_change_the_amounts(staff, app):
    app.config.update(SHARE_FACE_VALUE_PAISE=2500, MIN_SHARES=4, MEMBERSHIP_FEE_PAISE=0)
    member = ready_member(staff["clerk"], staff["manager"])
    receipt = shares.admit(member, shares=4, mode="cash", by=staff["cashier"])
    assert lines_of(receipt.entry) == sorted(
        [(coa.TELLER_CASH, till(staff), 10000, 0), (coa.SHARE_CAPITAL, receipt.account.account_no, 0, 10000)]
    )


def test_cash_needs_an_open_drawer_and_nothing_is_saved_without_one(staff):
    member = ready_member(staff["clerk"], staff["manager"])
    with pytest.raises(teller.DrawerNotOpen, match="no cash drawer open"):
        shares.admit(member, shares=10, mode="cash", by=staff["clerk"])
    db.session.rollback()
    assert db.session.scalar(select(JournalEntry)) is None
    assert member.status == "applicant" and shares.share_account(member) is None
    shares.admit(member, shares=12, mode="cash", by=staff["cashier"])
    uow.commit()
    # A cash refund is paid from the maker's drawer once approved, so the maker needs one.
    with pytest.raises(teller.DrawerNotOpen):
        shares.request_refund(member, shares=2, mode="cash", reason="Needs money", maker=staff["clerk"])
    db.session.rollback()
    assert shares.pending_requests(member) == []


def test_purchase_refund_and_transfer_with_certificates(staff):
    a = ready_member(staff["clerk"], staff["manager"], 1)
    b = ready_member(staff["clerk"], staff["manager"], 2, name="Manjunath Gowda")
    shares.admit(a, shares=10, mode="cash", by=staff["cashier"])  # shares 1-10
    shares.admit(b, shares=10, mode="cash", by=staff["cashier"])  # shares 11-20
    bought = shares.purchase(a, shares=15, mode="cash", by=staff["cashier"])  # shares 21-35
    uow.commit()
    assert lines_of(bought.entry) == sorted(
        [(coa.TELLER_CASH, till(staff), 150000, 0), (coa.SHARE_CAPITAL, bought.account.account_no, 0, 150000)]
    )
    assert certs(a) == [(10, 1, 10, "active"), (15, 21, 35, "active")]
    assert shares.shares_held(a) == 25 and shares.holding(a).amount_paise == 250000

    # Refund below the minimum is refused at once; the maker cannot approve their own request.
    with pytest.raises(ValidationError, match="keep at least 10 shares"):
        shares.request_refund(a, shares=16, mode="cash", reason="Needs money", maker=staff["cashier"])
    req = shares.request_refund(a, shares=8, mode="cash", reason="Needs money", maker=staff["cashier"])
    uow.commit()
    assert req.amount_paise == 80000 and req.status == "pending"
    assert shares.pending_requests(a) == [req]
    with pytest.raises(Conflict, match="already awaiting approval"):
        shares.request_transfer(a, to_member_no=b.member_no, shares=2, reason="Gift", maker=staff["clerk"])
    with pytest.raises(PermissionDenied, match="different user"):
        approvals.approve(req.id, checker=staff["cashier"])
    db.session.rollback()
    with pytest.raises(PermissionDenied, match="cannot decide"):
        approvals.approve(req.id, checker=staff["clerk"])
    db.session.rollback()
    assert (
        db.session.scalar(select(JournalEntry).where(JournalEntry.kind == "shares", JournalEntry.total_paise == 80000))
        is None
    )
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    entry = db.session.get(JournalEntry, req.result["entry_id"])
    account = shares.share_account(a)
    assert lines_of(entry) == sorted(
        [(coa.SHARE_CAPITAL, account.account_no, 80000, 0), (coa.TELLER_CASH, till(staff), 0, 80000)]
    )
    assert entry.posted_by_id == staff["cashier"].id and entry.approved_by_id == staff["manager"].id
    # The cashier paid it out: ₹1,000 + ₹1,000 + ₹1,500 taken in, ₹800 paid out.
    assert teller.current_drawer(staff["cashier"]).account.balance_paise == 110000 + 110000 + 150000 - 80000
    # The highest numbers go: 28-35 leave; certificate 21-35 is split, 21-27 stays on a balance certificate.
    assert certs(a) == [(10, 1, 10, "active"), (15, 21, 35, "refunded"), (7, 21, 27, "active")]
    assert shares.shares_held(a) == 17 and account.balance_paise == 170000

    # Transfer 7 shares to b: the balance certificate 21-27 moves with its numbers.
    req = shares.request_transfer(a, to_member_no=b.member_no, shares=7, reason="Gift to brother", maker=staff["clerk"])
    approvals.approve(req.id, checker=staff["manager2"])
    uow.commit()
    assert certs(a) == [(10, 1, 10, "active"), (15, 21, 35, "refunded"), (7, 21, 27, "transferred")]
    assert certs(b) == [(10, 11, 20, "active"), (7, 21, 27, "active")]
    moved = db.session.scalar(
        select(ShareCertificate).where(ShareCertificate.member_id == b.id, ShareCertificate.first_share_no == 21)
    )
    assert moved.source_certificate_id is not None
    entry = db.session.get(JournalEntry, req.result["entry_id"])
    assert lines_of(entry) == sorted(
        [
            (coa.SHARE_CAPITAL, shares.share_account(a).account_no, 70000, 0),
            (coa.SHARE_CAPITAL, shares.share_account(b).account_no, 0, 70000),
        ]
    )
    assert ledger.verify().ok


def test_full_refund_closes_the_membership(staff):
    member = ready_member(staff["clerk"], staff["manager"])
    shares.admit(member, shares=10, mode="cash", by=staff["cashier"])
    sb = new_account("savings")
    sb.member_id = member.id
    uow.commit()
    with pytest.raises(ValidationError, match="refund all 10 shares"):
        shares.request_refund(
            member, shares=5, mode="cash", reason="Leaving", close_membership=True, maker=staff["clerk"]
        )
    req = shares.request_refund(
        member, shares=10, mode="transfer", to_account_no=sb.account_no, reason="Leaving the village",
        close_membership=True, maker=staff["clerk"],
    )  # fmt: skip
    approvals.approve(req.id, checker=staff["manager"])
    uow.commit()
    account = shares.share_account(member)
    assert (account.status, account.balance_paise, sb.balance_paise) == ("closed", 0, 100000)
    assert member.status == "resigned" and member.status_history[-1].to_status == "resigned"
    assert shares.shares_held(member) == 0
    with pytest.raises(ValidationError, match="holds no shares"):
        shares.request_refund(member, shares=1, mode="cash", reason="x", maker=staff["clerk"])
    assert ledger.verify().ok


def test_rejected_request_posts_nothing(staff):
    member = ready_member(staff["clerk"], staff["manager"])
    shares.admit(member, shares=20, mode="cash", by=staff["cashier"])
    req = shares.request_refund(member, shares=5, mode="cash", reason="x", maker=staff["cashier"])
    uow.commit()
    approvals.reject(req.id, checker=staff["manager"], note="No board resolution")
    uow.commit()
    assert shares.shares_held(member) == 20 and shares.pending_requests(member) == []
    assert db.session.scalars(select(JournalEntry.kind)).all() == ["admission"]


def test_transfer_needs_an_active_target(staff):
    a = ready_member(staff["clerk"], staff["manager"], 1)
    b = members.register(member_data(2), by=staff["clerk"])
    shares.admit(a, shares=20, mode="cash", by=staff["cashier"])
    with pytest.raises(ValidationError, match="only to an active member") as info:
        shares.request_transfer(a, to_member_no=b.member_no, shares=5, reason="x", maker=staff["clerk"])
    assert info.value.field == "to_member_no"
    with pytest.raises(ValidationError, match="same member"):
        shares.request_transfer(a, to_member_no=a.member_no, shares=5, reason="x", maker=staff["clerk"])


def test_share_register_and_csv_agree_with_the_ledger(staff):
    a = ready_member(staff["clerk"], staff["manager"], 1)
    b = ready_member(staff["clerk"], staff["manager"], 2, name="Hiren Patel")
    shares.admit(a, shares=10, mode="cash", by=staff["cashier"])
    shares.admit(b, shares=25, mode="cash", by=staff["cashier"])
    uow.commit()
    totals = shares.register_totals()
    assert (totals.members, totals.shares, totals.amount_paise, totals.gl_balance_paise) == (2, 35, 350000, 350000)
    assert totals.agrees
    rows = db.session.execute(shares.register_query()).all()
    text = shares.register_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [(r["member_no"], r["first_share_no"], r["last_share_no"], r["amount"]) for r in parsed] == [
        (a.member_no, "1", "10", "1000.00"),
        (b.member_no, "11", "35", "2500.00"),
    ]
    only_b = db.session.execute(shares.register_query(q="hiren")).all()
    assert [m.member_no for _c, m in only_b] == [b.member_no]


def test_receipt_is_rebuilt_from_the_entry(staff):
    member = ready_member(staff["clerk"], staff["manager"])
    admitted = shares.admit(member, shares=11, mode="cash", by=staff["cashier"])
    uow.commit()
    again = shares.receipt(member, admitted.entry.id)
    assert (again.shares, again.share_paise, again.fee_paise, again.total_paise, again.mode) == (
        11,
        110000,
        10000,
        120000,
        "cash",
    )
    other = ready_member(staff["clerk"], staff["manager"], 2)
    from app.services.common import NotFound

    with pytest.raises(NotFound):
        shares.receipt(other, admitted.entry.id)


def test_a_repeated_purchase_key_posts_and_issues_once(staff):
    a = ready_member(staff["clerk"], staff["manager"], 1)
    shares.admit(a, shares=10, mode="cash", by=staff["cashier"])
    uow.commit()
    first = shares.purchase(a, shares=5, mode="cash", by=staff["cashier"], idempotency_key="shares:1:abc")
    uow.commit()
    again = shares.purchase(a, shares=5, mode="cash", by=staff["cashier"], idempotency_key="shares:1:abc")
    uow.commit()
    assert again.entry.id == first.entry.id
    assert [c.certificate_no for c in again.certificates] == [first.certificate.certificate_no]
    assert (again.shares, again.share_paise) == (5, 50000)
    assert certs(a) == [(10, 1, 10, "active"), (5, 11, 15, "active")]
    assert shares.shares_held(a) == 15 and shares.share_account(a).balance_paise == 150000
    assert len(db.session.scalars(select(JournalEntry).where(JournalEntry.kind == "shares")).all()) == 1
    # A different key is a new purchase.
    shares.purchase(a, shares=5, mode="cash", by=staff["cashier"], idempotency_key="shares:1:def")
    assert shares.shares_held(a) == 20
    assert ledger.verify().ok
