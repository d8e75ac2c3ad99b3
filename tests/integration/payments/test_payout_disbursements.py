"""A loan disbursement and an FD's closing proceeds sent by payout to the member's saved beneficiary
(``payments.disburse_loan``, ``payments.pay_deposit_proceeds``; decision 0050), against the fake
Razorpay: the posting lines, the payout with its own idempotency key, processed → in transit
cleared, a failure credited to the member's savings, and the refusals (cooling, malformed,
another member's payee) that post nothing. Through the service, the API and the staff screens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import Account, JournalEntry, JournalLine
from app.models.payments import Beneficiary, Payout
from app.services import deposits, ledger, loans, payments
from app.services.common import NotFound, ValidationError, uow
from app.services.ledger import coa
from app.services.members import shares
from tests.conftest import PASSWORD
from tests.deposit_helpers import F60, cashier, member
from tests.integration.loans.helpers import borrower, sanctioned, setup_products, staff
from tests.integration.payments.conftest import point_at
from tests.integration.payments.helpers import event, post_webhook


@pytest.fixture
def gw(app, books, razorpay):
    point_at(app, razorpay)
    setup_products()
    return razorpay


def payee(m, *, cooling: bool = False, ifsc: str = "SBIN0001234", name: str = "Ravi Kumar") -> Beneficiary:
    now = utcnow()
    row = Beneficiary(member_id=m.id, name=name, account_number="123456789012", ifsc=ifsc, created_at=now,
                      cooling_until=now + (timedelta(hours=5) if cooling else -timedelta(hours=30)))  # fmt: skip
    db.session.add(row)
    uow.commit()
    return row


def _lines(entry_id: int) -> list[tuple[str, str | None, int, int]]:
    rows = db.session.scalars(select(JournalLine).where(JournalLine.entry_id == entry_id).order_by(JournalLine.id))
    return [(ln.gl_account.code, ln.account.account_no if ln.account else None, ln.debit_paise, ln.credit_paise)
            for ln in rows]  # fmt: skip


def _entries() -> int:
    return db.session.scalar(select(func.count(JournalEntry.id))) or 0


def _verified() -> None:
    db.session.expire_all()
    report = ledger.verify()
    assert report.ok, report.problems


def _loan():
    """A sanctioned loan whose share linkage is already bought (a payout cannot buy shares)."""
    m, sb = borrower(50_000_00)
    loan = sanctioned(m, 1_00_000_00, 12)
    short = loans.share_shortfall_paise(loan)
    if short:
        shares.purchase(m, shares=short // shares.face_value(), mode="transfer", from_account_no=sb.account_no,
                        by=staff("clerk"))  # fmt: skip
        uow.commit()
    assert loans.share_shortfall_paise(loan) == 0
    return m, sb, loan


def test_loan_disbursed_by_payout_posts_sends_and_clears_transit_when_processed(client, gw):
    m, sb, loan = _loan()
    ben = payee(m)
    fee, gst = loans.fee_paise(loan)
    net = 1_00_000_00 - fee - gst
    payout = payments.disburse_loan(loan, beneficiary_id=ben.id, by=staff("clerk"), mode="NEFT")
    uow.commit()
    db.session.refresh(loan)
    assert loan.status == "active" and loan.outstanding_paise == 1_00_000_00
    assert (payout.status, payout.amount_paise, payout.mode, payout.account_id) == ("queued", net, "NEFT", sb.id)
    assert payout.beneficiary == {"name": "Ravi Kumar", "account_number": "123456789012", "ifsc": "SBIN0001234"}
    lines = _lines(payout.entry_id)
    assert (loan.product.control_gl.code, loan.loan_no, 1_00_000_00, 0) in lines
    assert (coa.PAYOUTS_IN_TRANSIT, None, 0, net) in lines
    if fee:
        assert (coa.INCOME_PROCESSING_FEE, None, 0, fee) in lines and (coa.GST_PAYABLE, None, 0, gst) in lines
    assert db.session.get(JournalEntry, payout.entry_id).kind == "disbursement"
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == net
    assert payments.payouts.sent_today_paise(m.id) == 0  # the member's own daily payout limit is untouched
    # a repeat (double click) changes nothing
    n = _entries()
    assert payments.disburse_loan(loan, beneficiary_id=ben.id, by=staff("clerk")).payout_id == payout.payout_id
    assert _entries() == n and db.session.scalar(select(func.count(Payout.id))) == 1

    payments.send(payout)
    uow.commit()
    (sent,) = [q for q in gw.requests if q["path"] == "/v1/payouts"]
    assert sent["headers"]["X-Payout-Idempotency"] == payout.gateway_key and len(payout.gateway_key) == 32
    assert sent["body"]["reference_id"] == payout.payout_id and sent["body"]["amount"] == net
    assert sent["body"]["mode"] == "NEFT"
    hook = event("payout.processed", payout={"id": payout.gateway_payout_id, "reference_id": payout.payout_id,
                                              "status": "processed", "utr": "UTRLOAN1"})  # fmt: skip
    post_webhook(client, hook, event_id="evt_ln1")
    post_webhook(client, hook, event_id="evt_ln2")
    db.session.expire_all()
    assert db.session.get(Payout, payout.id).status == "processed"
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 0 and ledger.gl_balance(coa.RAZORPAYX_BALANCE) == -net
    assert payments.reconcile.daily(payout.created_at.date()).differences == []
    _verified()


def test_a_failed_loan_payout_is_credited_to_the_members_savings_and_the_loan_stays(client, gw):
    m, sb, loan = _loan()
    db.session.refresh(sb)
    before = sb.balance_paise
    payout = payments.disburse_loan(loan, beneficiary_id=payee(m).id, by=staff("clerk"), mode="IMPS")
    uow.commit()
    payments.send(payout)
    uow.commit()
    failed = event("payout.failed", payout={"id": payout.gateway_payout_id, "status": "failed"})
    post_webhook(client, failed, event_id="evt_lf1")
    post_webhook(client, failed, event_id="evt_lf2")
    db.session.expire_all()
    payout = db.session.get(Payout, payout.id)
    back = db.session.get(JournalEntry, payout.return_entry_id)
    assert payout.status == "failed" and back.reverses_id is None
    assert sorted(_lines(back.id)) == sorted(
        [
            (coa.PAYOUTS_IN_TRANSIT, None, payout.amount_paise, 0),
            (coa.SB_DEPOSITS, sb.account_no, 0, payout.amount_paise),
        ]
    )
    assert db.session.get(Account, sb.id).balance_paise == before + payout.amount_paise
    assert loans.get_loan(loan.loan_no).status == "active" and ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 0
    _verified()


def test_cooling_malformed_or_anothers_beneficiary_is_refused_and_nothing_is_posted(gw):
    m, _sb, loan = _loan()
    other, _osb = borrower(1_000_00)
    n = _entries()
    cases = [
        (payee(m, cooling=True, name="New Payee"), ValidationError, "new payee"),
        (payee(m, ifsc="SBIN1001234", name="Bad Ifsc"), ValidationError, "not usable"),
        (payee(other, name="Someone Else"), NotFound, "No beneficiary"),
    ]
    for ben, error, text in cases:
        with pytest.raises(error, match=text) as refused:
            payments.disburse_loan(loan, beneficiary_id=ben.id, by=staff("clerk"))
        assert refused.value.field == "beneficiary_id"
        db.session.rollback()
    with pytest.raises(ValidationError, match="payout_mode"):
        payments.disburse_loan(loan, beneficiary_id=cases[0][0].id, by=staff("clerk"), mode="UPI")
    db.session.rollback()
    assert _entries() == n and loans.get_loan(loan.loan_no).status == "sanctioned"
    assert db.session.scalar(select(func.count(Payout.id))) == 0


def _api_token(client, make_user, role: str = "manager") -> dict[str, str]:
    user = make_user(role, username=f"api_pd_{role}")
    answer = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}).get_json()
    return {"Authorization": f"Bearer {answer['access_token']}"}


def test_api_disburse_mode_payout(client, gw, make_user):
    m, _sb, loan = _loan()
    ben = payee(m)
    headers = {**_api_token(client, make_user), "Idempotency-Key": "ld-po-1"}
    bad = client.post(f"/api/v1/loans/{loan.loan_no}/disburse", json={"mode": "payout", "beneficiary_id": "x"},
                      headers={**headers, "Idempotency-Key": "ld-po-0"})  # fmt: skip
    assert (
        bad.status_code == 422
        and bad.mimetype == "application/problem+json"
        and "beneficiary_id" in str(bad.get_json())
    )
    body = {"mode": "payout", "beneficiary_id": ben.id, "payout_mode": "NEFT"}
    r = client.post(f"/api/v1/loans/{loan.loan_no}/disburse", json=body, headers=headers)
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert (
        got["status"] == "active"
        and got["payout"]["mode"] == "NEFT"
        and got["payout"]["status"] in ("queued", "processing")
    )
    assert got["payout"]["beneficiary_id"] == ben.id
    again = client.post(f"/api/v1/loans/{loan.loan_no}/disburse", json=body, headers=headers)
    assert again.get_json()["payout"]["payout_id"] == got["payout"]["payout_id"]
    assert db.session.scalar(select(func.count(Payout.id))) == 1
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = spec["components"]["schemas"]["LoanDisbursement"]["properties"]
    assert "payout" in schema["mode"]["enum"] and "beneficiary_id" in schema and "payout_mode" in schema
    _verified()


def test_staff_loan_page_disburses_to_a_beneficiary(client, gw, login):
    m, _sb, loan = _loan()
    ben = payee(m)
    payee(m, cooling=True, name="New Payee")
    login("manager")
    page = client.get(f"/loans/{loan.loan_no}").get_data(as_text=True)
    assert "To a beneficiary (NEFT/IMPS)" in page and "Ravi Kumar · A/c …9012" in page and "new payee until" in page
    r = client.post(f"/loans/{loan.loan_no}/disburse", data={"mode": "payout", "beneficiary_id": "", "nonce": "1"})
    assert r.status_code == 422 and "beneficiary" in r.get_data(as_text=True)
    r = client.post(f"/loans/{loan.loan_no}/disburse",
                    data={"mode": "payout", "beneficiary_id": str(ben.id), "payout_mode": "IMPS", "nonce": "2"})  # fmt: skip
    assert r.status_code == 302, r.get_data(as_text=True)
    payout = db.session.scalar(select(Payout))
    assert payout.mode == "IMPS" and payout.beneficiary_id == ben.id
    assert loans.get_loan(loan.loan_no).status == "active"
    _verified()


def _fd(m, principal: int = 50_000_00) -> Account:
    fd = deposits.open_account(
        deposits.OpenRequest(form60_ref=F60, member_no=m.member_no, kind="fd", amount_paise=principal, months=12),
        by=cashier(),
    )
    uow.commit()
    return fd


def test_fd_proceeds_to_a_beneficiary_from_the_closure_screen(client, gw, login):
    m, sb = borrower(1_000_00)
    fd = _fd(m)
    ben = payee(m)
    login("manager")
    page = client.get(f"/staff/deposits/{fd.account_no}").get_data(as_text=True)
    assert "To a beneficiary (NEFT/IMPS)" in page and "Ravi Kumar · A/c …9012" in page
    sb_page = client.get(f"/staff/deposits/{sb.account_no}").get_data(as_text=True)
    assert "To a beneficiary (NEFT/IMPS)" not in sb_page
    r = client.post(f"/staff/deposits/{fd.account_no}/close",
                    data={"mode": "payout", "beneficiary_id": str(ben.id), "payout_mode": "NEFT", "confirm": "y",
                          "reason": "Member asked"})  # fmt: skip
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.expire_all()
    fd = db.session.get(Account, fd.id)
    payout = db.session.scalar(select(Payout))
    assert fd.status == "closed" and fd.balance_paise == 0
    assert (payout.amount_paise, payout.account_id, payout.status != "failed") == (50_000_00, sb.id, True)
    assert (coa.FD_DEPOSITS, fd.account_no, 50_000_00, 0) in _lines(payout.entry_id)
    assert (coa.PAYOUTS_IN_TRANSIT, None, 0, 50_000_00) in _lines(payout.entry_id)
    _verified()


def test_fd_proceeds_refused_to_a_cooling_payee_leave_the_fd_open(gw):
    m, _sb = borrower(1_000_00)
    fd = _fd(m)
    n = _entries()
    with pytest.raises(ValidationError, match="new payee"):
        payments.pay_deposit_proceeds(fd, beneficiary_id=payee(m, cooling=True).id, by=staff("manager"))
    db.session.rollback()
    assert db.session.get(Account, fd.id).status == "active" and _entries() == n
    other = member()
    with pytest.raises(NotFound):
        payments.pay_deposit_proceeds(fd, beneficiary_id=payee(other).id, by=staff("manager"))
    db.session.rollback()
