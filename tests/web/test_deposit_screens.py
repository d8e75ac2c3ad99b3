"""Staff deposit screens: open form, account page, status actions, passbook (HTMX, print, CSV),
products with maker-checker, Form 15G/15H and the TDS register."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import Account, JournalEntry
from app.models.teller import CashTransaction
from app.services import deposits
from app.services.common import approvals, uow
from app.services.counter import teller
from app.services.deposits import OpenRequest
from app.services.deposits import fixed as fixed_deposits
from tests.deposit_helpers import F60, cash_in, cashier, member, move_to, open_sb
from tests.teller_helpers import fund_vault

HX = {"HX-Request": "true"}


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0


def test_clerk_opens_an_fd_with_the_form(deposit_products, client, login):
    login("clerk")
    m = member(name="Kavita Joshi")
    sb = open_sb(m, 20_000_00)
    page = client.get(f"/staff/deposits/open?member_no={m.member_no}")
    assert page.status_code == 200 and "Kavita Joshi" in page.get_data(as_text=True)
    response = client.post(
        "/staff/deposits/open",
        data={
            "member_no": m.member_no, "kind": "fd", "product_code": "", "amount": "10,000", "months": "12",
            "days": "", "installment": "", "payout": "quarterly", "maturity_action": "credit_sb",
            "funding_mode": "transfer", "from_account": sb.account_no, "payout_account": "", "si_account": "",
            "joint_holders": "", "nominee_id": "", "nonce": "n-fd-1",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    fd = db.session.scalar(select(Account).where(Account.kind == "fd"))
    assert response.headers["Location"].endswith(f"/staff/deposits/{fd.account_no}")
    html = client.get(f"/staff/deposits/{fd.account_no}").get_data(as_text=True)
    # Quarterly payout on ₹10,000 at 7.25 %: 10,000 × 7.25 / 400 = 181.25 → ₹181 a quarter.
    assert "Payout schedule" in html and "181.00" in html and "10,000.00" in html
    db.session.expire_all()
    assert sb.balance_paise == 10_000_00


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "1000.555"}, "At most two decimal places"),
        ({"amount": "-5000"}, "The amount cannot be negative"),
        ({"amount": "500"}, "minimum for Fixed deposit"),
        ({"months": "", "days": "3"}, "no rate for a tenure of 3 days"),
    ],
)
def test_bad_open_input_is_shown_and_nothing_is_posted(deposit_products, client, login, fields, message):
    login("clerk")
    m = member()
    before = _entries()
    data = {"member_no": m.member_no, "kind": "fd", "amount": "5000", "months": "12", "payout": "cumulative",
            "maturity_action": "auto_renew", "funding_mode": "cash", "nonce": "n-bad"}  # fmt: skip
    data.update(fields)
    response = client.post("/staff/deposits/open", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _entries() == before


def test_applicant_and_kyc_pending_members_are_refused(deposit_products, client, login):
    login("clerk")
    applicant = member(status="applicant", kyc_status="pending")
    response = client.post(
        "/staff/deposits/open",
        data={
            "member_no": applicant.member_no,
            "kind": "savings",
            "amount": "1000",
            "funding_mode": "cash",
            "nonce": "n",
        },
    )
    assert response.status_code == 422 and "only active members" in response.get_data(as_text=True)
    card = client.get(f"/staff/deposits/member-lookup?member_no={applicant.member_no}", headers=HX)
    text = card.get_data(as_text=True)
    assert "<html" not in text and "approved KYC" in text


def test_preview_shows_maturity_without_saving(deposit_products, client, login):
    login("clerk")
    m = member()
    response = client.post(
        "/staff/deposits/open/preview",
        data={"member_no": m.member_no, "kind": "rd", "installment": "1000", "months": "12"},
        headers=HX,
    )
    # 12 × ₹1,000 at 6.75 %: interest ₹445 (see the RD tests) → ₹12,445 at maturity.
    text = response.get_data(as_text=True)
    assert "₹12,445.00" in text and "₹445.00" in text
    assert db.session.scalar(select(func.count()).select_from(Account)) == 0


def test_passbook_filters_pages_prints_and_exports(deposit_products, client, login, app):
    app.config["PAGE_SIZE"] = 50
    login("accountant")
    acc = open_sb(member(name="Ramesh Pawar"), 1_000_00)
    move_to(date(2026, 4, 2))
    for i in range(55):
        cash_in(acc, (i + 1) * 100, narration=f"Deposit {i + 1}")
    page1 = client.get(f"/staff/deposits/{acc.account_no}/passbook")
    text = page1.get_data(as_text=True)
    assert page1.status_code == 200 and "Page 1 of 2" in text and "Deposit 49" in text and "Deposit 50" not in text
    page2 = client.get(f"/staff/deposits/{acc.account_no}/passbook?page=2", headers=HX)
    text2 = page2.get_data(as_text=True)
    assert "<html" not in text2 and "HX-Request" in page2.headers["Vary"]
    # Balance after all: 1,000 + Σ(1..55) rupees = 1,000 + 15.40 × 100 … = ₹1,000 + ₹1,540 = ₹2,540
    assert "Deposit 55" in text2 and "2,540.00" in text2
    ranged = client.get(f"/staff/deposits/{acc.account_no}/passbook?from=2026-04-02&to=2026-04-02").get_data(
        as_text=True
    )
    assert "Balance brought forward" in ranged and "1,000.00" in ranged
    csv_response = client.get(f"/staff/deposits/{acc.account_no}/passbook.csv")
    rows = csv_response.get_data(as_text=True).strip().splitlines()
    assert csv_response.headers["Content-Type"].startswith("text/csv")
    assert len(rows) == 1 + 56 and rows[-1].endswith(",2540.00")
    printable = client.get(f"/staff/deposits/{acc.account_no}/passbook/print").get_data(as_text=True)
    assert "deposits.css" in printable and "data-print" in printable and "Ramesh Pawar" in printable
    assert "<script>" not in printable


def test_freeze_request_and_approval(deposit_products, client, login, make_user):
    manager = login("manager")
    acc = open_sb(member(), 2_000_00)
    response = client.post(
        f"/staff/deposits/{acc.account_no}/status", data={"action": "freeze", "reason": "Police request"}, headers=HX
    )
    assert response.status_code == 200 and "Awaiting approval" in response.get_data(as_text=True)
    assert "sent for approval" in response.headers["HX-Trigger"]
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "deposits.status"))
    assert req.maker_id == manager.id
    approvals.approve(req.id, checker=make_user("manager", username="other_manager"))
    uow.commit()
    html = client.get(f"/staff/deposits/{acc.account_no}").get_data(as_text=True)
    assert "Frozen" in html and "Ask to unfreeze" in html
    missing = client.post(
        f"/staff/deposits/{acc.account_no}/status", data={"action": "unfreeze", "reason": ""}, headers=HX
    )
    assert missing.status_code == 422 and "Give a reason" in missing.get_data(as_text=True)


def test_close_savings_from_the_account_page(deposit_products, client, login):
    manager = login("manager")
    acc = open_sb(member(), 5_000_00)
    refused = client.post(f"/staff/deposits/{acc.account_no}/close", data={"mode": "cash"})
    assert refused.status_code == 422 and "Tick to confirm" in refused.get_data(as_text=True)
    before = _entries()
    data = {"mode": "cash", "confirm": "y", "reason": "Moving away"}
    no_drawer = client.post(f"/staff/deposits/{acc.account_no}/close", data=data)
    # Cash is paid from the acting user's own drawer; without one, nothing is posted.
    assert no_drawer.status_code == 422 and "no cash drawer open" in no_drawer.get_data(as_text=True)
    assert _entries() == before
    fund_vault(5_000_00)
    teller.open_drawer(manager, 5_000_00)
    uow.commit()
    response = client.post(f"/staff/deposits/{acc.account_no}/close", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert acc.status == "closed" and acc.balance_paise == 0
    txn = db.session.scalar(
        select(CashTransaction).where(CashTransaction.account_id == acc.id, CashTransaction.direction == "out")
    )
    assert (txn.direction, txn.amount_paise, txn.cashier_id) == ("out", 5_000_00, manager.id)
    assert teller.current_drawer(manager).account.balance_paise == 0


def test_double_submitted_open_form_opens_one_account(deposit_products, client, login):
    login("clerk")
    m = member(name="Kavita Joshi")
    sb = open_sb(m, 20_000_00)
    data = {
        "member_no": m.member_no, "kind": "fd", "amount": "10,000", "months": "12", "payout": "cumulative",
        "maturity_action": "credit_sb", "funding_mode": "transfer", "from_account": sb.account_no,
        "nonce": "same-token",
    }  # fmt: skip
    first = client.post("/staff/deposits/open", data=data)
    second = client.post("/staff/deposits/open", data=data)
    assert first.status_code == 302, first.get_data(as_text=True)[-3000:]
    assert second.status_code == 302, second.get_data(as_text=True)[-3000:]
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Account).where(Account.kind == "fd")) == 1
    db.session.expire_all()
    assert sb.balance_paise == 10_000_00  # debited once
    third = client.post("/staff/deposits/open", data={**data, "amount": "5,000", "nonce": "another-token"})
    assert third.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Account).where(Account.kind == "fd")) == 2


def test_rd_and_fd_pages_show_schedule_and_premature_quote(deposit_products, client, login):
    login("manager")
    m = member()
    open_sb(m, 1_000_00)
    rd = deposits.open_account(
        OpenRequest(member_no=m.member_no, kind="rd", installment_paise=500_00, months=12), by=cashier()
    )
    fd = deposits.open_account(
        OpenRequest(member_no=m.member_no, kind="fd", amount_paise=1_00_000_00, months=12, form60_ref=F60),
        by=cashier(),
    )
    uow.commit()
    move_to(date(2026, 10, 1))
    rd_html = client.get(f"/staff/deposits/{rd.account_no}").get_data(as_text=True)
    assert "Instalments" in rd_html and "Overdue" not in rd_html and "Due" in rd_html
    fd_html = client.get(f"/staff/deposits/{fd.account_no}").get_data(as_text=True)
    # 183 days: 6.50 % − 1 % = 5.50 %; ₹2,769 interest (see the FD tests) → ₹1,02,769
    assert "5.50%" in fd_html and "1,02,769.00" in fd_html
    assert fixed_deposits.maturity_value(deposits.deposit_of(fd)).maturity_paise == 1_07_450_00


def test_products_screen_proposes_and_shows_history(deposit_products, client, login, make_user):
    login("admin")
    assert "Savings deposit" in client.get("/staff/deposit-products").get_data(as_text=True)
    response = client.post(
        "/staff/deposit-products/new",
        data={"kind": "fd", "code": "FDSR", "prefix": "FDS", "name": "Senior FD", "min_amount": "5,000", "min_days": "30",
              "max_days": "1825", "payouts": ["cumulative", "quarterly"], "maturity_actions": ["credit_sb"],
              "premature_penalty": "0.50", "rates": "30-364 6.75 0.50\n365-1825 7.50 0.50", "effective_from": "2026-04-01"},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "deposits.product"))
    assert req.payload["settings"]["min_amount_paise"] == 5_000_00
    approvals.approve(req.id, checker=make_user("manager", username="checker"))
    uow.commit()
    page = client.get("/staff/deposit-products/FDSR").get_data(as_text=True)
    assert "365–1825" in page and "7.50" in page
    bad = client.post(
        "/staff/deposit-products/FDSR/rates", data={"rates": "30-400 6\n365-1825 7", "effective_from": "2026-05-01"}
    )
    assert bad.status_code == 422 and "overlap" in bad.get_data(as_text=True)
    ok = client.post(
        "/staff/deposit-products/FDSR/rates",
        data={"rates": "30-364 6.5\n365-1825 7.25", "effective_from": "2026-05-01"},
    )
    assert ok.status_code == 302
    assert "awaiting approval" in client.get("/staff/deposit-products/FDSR").get_data(as_text=True).lower()


def test_form_15g_and_the_tds_register(deposit_products, client, login, make_user):
    login("clerk")
    m = member(pan="ABCPK1234F")
    response = client.post(
        "/staff/tds/forms", data={"member_no": m.member_no, "fy": "2026-27", "form": "15H", "received_on": "2026-04-01"}
    )
    assert response.status_code == 422 and "use 15G" in response.get_data(as_text=True)
    response = client.post(
        "/staff/tds/forms", data={"member_no": m.member_no, "fy": "2026-27", "form": "15G", "received_on": "2026-04-01"}
    )
    assert response.status_code == 302
    assert m.member_no in client.get("/staff/tds/forms?fy=2026-27").get_data(as_text=True)
    client.post("/auth/logout")
    login("accountant")
    html = client.get("/staff/tds/register?fy=2026-27&quarter=1").get_data(as_text=True)
    assert "No interest credits" in html
    csv_text = client.get("/staff/tds/register.csv?fy=2026-27&quarter=1").get_data(as_text=True)
    assert csv_text.startswith("Date,Member,Name,PAN")


def test_accounts_list_searches(deposit_products, client, login):
    login("cashier")
    a = open_sb(member(name="Sushila Deshmukh"), 1_000_00)
    open_sb(member(name="Vinod Kale"), 1_000_00)
    html = client.get("/staff/deposits?q=Sushila", headers=HX).get_data(as_text=True)
    assert a.account_no in html and "Vinod" not in html and "<html" not in html


def test_status_panel_only_for_those_who_can_act(deposit_products, client, login):
    login("manager")
    acc = open_sb(member(), 5_000_00)
    assert 'id="status-box"' in client.get(f"/staff/deposits/{acc.account_no}").get_data(as_text=True)
    client.post("/auth/logout")
    login("auditor")
    page = client.get(f"/staff/deposits/{acc.account_no}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and acc.account_no in text
    assert 'id="status-box"' not in text and "Close account" not in text  # no empty panel to read past
