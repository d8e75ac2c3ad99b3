"""The counter screens end to end: drawer, lookup fragment, postings, approvals, close, receipt, CTR."""

from __future__ import annotations

import re

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.teller import TellerDrawer
from app.models.users import StaffUser
from app.services import ledger
from app.services.common import approvals, uow
from tests.conftest import login_as
from tests.teller_helpers import entry_count, fund_vault, member_account

HX = {"HX-Request": "true"}


class SeparateUserClient(FlaskClient):
    """A test client that never sees another client's signed-in user.

    The tests hold one app context open, so requests share ``g`` (where Flask-Login caches
    the current user); forget it before each request so each client is its own user.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = SeparateUserClient
    return app.test_client()


@pytest.fixture
def counter(app, books, client, login, make_user):
    """A signed-in cashier, a manager on a second client, ₹2,00,000 in the vault, two members."""
    fund_vault(2_00_000_00)
    cashier = login("cashier")
    manager = make_user("manager", username="meera")
    boss = app.test_client()
    assert login_as(boss, "meera").status_code == 302
    return {
        "cashier": cashier,
        "manager": manager,
        "boss": boss,
        "pan": member_account(opening_paise=3_00_000_00),
        "nopan": member_account(pan=False, opening_paise=1_000_00),
    }


def balance(account_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Account, account_id).balance_paise


def nonce(html: str) -> str:
    return re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', html).group(1)


def open_drawer(client, amount: str = "50,000") -> None:
    response = client.post("/teller/drawer/open", data={"opening_float": amount})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_counter_flow_through_the_pages(client, counter):
    page = client.get("/teller").get_data(as_text=True)
    assert "Your cash drawer is not open" in page and "/teller/drawer/open" in page
    assert 'hx-get="/teller/account-card"' in page and "<script>" not in page
    open_drawer(client)
    page = client.get("/teller").get_data(as_text=True)
    assert "Drawer open" in page and "₹50,000.00" in page

    # The lookup fragment as the number is typed.
    sb = counter["pan"]
    card = client.get(f"/teller/account-card?account_no={sb.account_no.lower()}", headers=HX)
    text = card.get_data(as_text=True)
    assert card.status_code == 200 and "<html" not in text
    assert sb.title in text and "₹3,00,000.00" in text and "Active" in text
    unknown = client.get("/teller/account-card?account_no=NOPE123", headers=HX).get_data(as_text=True)
    assert "No account" in unknown

    # HTMX deposit: the panel comes back with the receipt link and the drawer badge out of band.
    form = {"account_no": sb.account_no, "txn": "deposit", "amount": "2,500", "narration": "", "nonce": "n1"}
    response = client.post("/teller/transaction", data=form, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "<html" not in body and "Cash deposit posted" in body
    assert 'id="drawer-badge" class="drawer-badge" hx-swap-oob="true"' in body and "₹52,500.00" in body
    assert 'id="recent-cash" hx-swap-oob="true"' in body
    assert "HX-Trigger" in response.headers and "posted" in response.headers["HX-Trigger"]
    assert balance(sb.id) == 3_02_500_00
    # A double submit of the same form posts once.
    before = entry_count()
    client.post("/teller/transaction", data=form, headers=HX)
    assert entry_count() == before and balance(sb.id) == 3_02_500_00

    # Plain form post (no JS): redirect to the counter showing the result.
    plain = client.post(
        "/teller/transaction",
        data={"account_no": sb.account_no, "txn": "withdrawal", "amount": "1000.50", "nonce": "n2"},
    )
    assert plain.status_code == 302 and "entry=" in plain.headers["Location"]
    shown = client.get(plain.headers["Location"]).get_data(as_text=True)
    assert "Cash withdrawal posted" in shown and "Print receipt" in shown
    assert balance(sb.id) == 3_01_499_50


def test_bad_input_shows_a_clear_message_and_posts_nothing(client, counter):
    open_drawer(client)
    sb = counter["nopan"]
    before = entry_count()
    cases = [
        ("withdrawal", "5,000", "can pay out at most ₹1,000.00"),
        ("deposit", "100.505", "At most two decimal places"),
        ("deposit", "-5", "cannot be negative"),
        ("deposit", "50000", "PAN or Form 60 needed"),
    ]
    for txn, amount, message in cases:
        response = client.post(
            "/teller/transaction",
            data={"account_no": sb.account_no, "txn": txn, "amount": amount, "nonce": f"x{amount}"},
            headers=HX,
        )
        assert response.status_code == 422, (amount, response.status_code)
        assert message in response.get_data(as_text=True), message
    assert entry_count() == before
    # The Form 60 prompt came with the field; with a reference it posts.
    ok = client.post(
        "/teller/transaction",
        data={"account_no": sb.account_no, "txn": "deposit", "amount": "50000", "form60_ref": "F60/11", "nonce": "y"},
        headers=HX,
    )
    assert ok.status_code == 200 and balance(sb.id) == 51_000_00
    # A frozen account is refused with its status.
    acc = db.session.get(Account, sb.id)
    acc.status = "frozen"
    db.session.commit()
    frozen = client.post(
        "/teller/transaction", data={"account_no": sb.account_no, "txn": "deposit", "amount": "10", "nonce": "z"}
    )
    assert frozen.status_code == 422 and "is frozen" in frozen.get_data(as_text=True)


def test_form60_prompt_comes_out_of_band_with_the_lookup(client, counter):
    open_drawer(client)
    sb = counter["nopan"]
    url = f"/teller/account-card?account_no={sb.account_no}&txn=deposit&oob_form60=1"
    small = client.get(url + "&amount=49999", headers=HX).get_data(as_text=True)
    assert 'id="form60-slot" hx-swap-oob="true"' in small and "PAN or Form 60 needed" not in small
    big = client.get(url + "&amount=50,000", headers=HX).get_data(as_text=True)
    assert "PAN or Form 60 needed" in big and 'name="form60_ref"' in big
    with_pan = client.get(
        f"/teller/account-card?account_no={counter['pan'].account_no}&amount=90000&oob_form60=1", headers=HX
    ).get_data(as_text=True)
    assert "PAN or Form 60 needed" not in with_pan


def test_large_withdrawal_is_sent_for_approval_and_posted_by_the_manager(client, counter):
    open_drawer(client, "3,00,000")
    sb = counter["pan"]
    response = client.post(
        "/teller/transaction",
        data={"account_no": sb.account_no, "txn": "withdrawal", "amount": "2,50,000", "nonce": "big"},
        headers=HX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "Sent for approval" in body and "pending" in body
    assert balance(sb.id) == 3_00_000_00
    # The cashier cannot open the manager's approvals page.
    assert client.get("/teller/approvals").status_code == 403
    boss = counter["boss"]
    queue = boss.get("/teller/approvals").get_data(as_text=True)
    req_id = int(re.search(r'id="req-(\d+)"', queue).group(1))
    assert "Cash withdrawal ₹2,50,000.00" in queue
    decided = boss.post(f"/teller/approvals/{req_id}/approve", headers=HX)
    text = decided.get_data(as_text=True)
    assert decided.status_code == 200 and "Approved" in text and "JE" in text and "<html" not in text
    assert balance(sb.id) == 50_000_00
    # The cashier sees the approved request with its receipt.
    shown = client.get(f"/teller?request={req_id}").get_data(as_text=True)
    assert "approved" in shown and "Print receipt" in shown


def test_large_cash_deposit_is_sent_for_approval_and_posted_by_the_manager(client, counter):
    open_drawer(client)
    sb = counter["pan"]
    response = client.post(
        "/teller/transaction",
        data={"account_no": sb.account_no, "txn": "deposit", "amount": "10,00,000.50", "nonce": "big-in"},
        headers=HX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "Sent for approval" in body and "pending" in body
    assert "Keep the cash apart until a manager approves it" in response.headers.get("HX-Trigger", "")
    assert balance(sb.id) == 3_00_000_00
    boss = counter["boss"]
    queue = boss.get("/teller/approvals").get_data(as_text=True)
    req_id = int(re.search(r'id="req-(\d+)"', queue).group(1))
    assert "Cash deposit ₹10,00,000.50" in queue
    decided = boss.post(f"/teller/approvals/{req_id}/approve", headers=HX)
    assert decided.status_code == 200 and "Approved" in decided.get_data(as_text=True)
    assert balance(sb.id) == 13_00_000_50


def test_own_request_shows_no_decision_buttons(client, counter):
    """The teller's queue asks approvals.can_decide: the maker sees no Approve button on their own request."""
    boss = counter["boss"]
    boss_user = db.session.scalar(select(StaffUser).where(StaffUser.username == "meera"))
    req = approvals.submit(
        "teller.withdrawal", {"account_no": counter["pan"].account_no}, maker=boss_user, summary="Own request"
    )
    uow.commit()
    assert not approvals.can_decide(req, boss_user)
    queue = boss.get("/teller/approvals").get_data(as_text=True)
    row = queue[queue.index(f'id="req-{req.id}"') :]
    row = row[: row.index("</tr>")]
    assert "Your own request: another manager decides." in row and "Approve</button>" not in row


def test_receipt_page_prints_without_inline_script(client, counter):
    open_drawer(client)
    sb = counter["pan"]
    client.post(
        "/teller/transaction", data={"account_no": sb.account_no, "txn": "deposit", "amount": "1234.50", "nonce": "r"}
    )
    page = client.get("/teller").get_data(as_text=True)
    receipt_url = re.search(r'href="(/teller/receipt/\d+)"', page).group(1)
    receipt = client.get(receipt_url)
    html = receipt.get_data(as_text=True)
    assert receipt.status_code == 200
    assert "Rupees One Thousand Two Hundred Thirty Four and Fifty Paise Only" in html
    assert "data-print" in html and "js/teller.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # CSP: no inline script
    assert "@media print" in client.get("/static/css/teller.css").get_data(as_text=True)


def test_close_with_denominations_and_shortage_approval(client, counter):
    open_drawer(client, "1,000")
    page = client.get("/teller/drawer/close").get_data(as_text=True)
    assert 'name="n500"' in page and 'name="c050"' in page and 'hx-post="/teller/drawer/count-total"' in page
    live = client.post("/teller/drawer/count-total", data={"n500": "1", "n200": "2"}, headers=HX)
    text = live.get_data(as_text=True)
    assert "₹900.00" in text and "Shortage ₹100.00" in text and "<html" not in text
    # Recalculate without JS keeps the counts.
    recalc = client.post("/teller/drawer/close", data={"n500": "1", "n200": "2", "op": "total"})
    assert recalc.status_code == 200 and "Shortage ₹100.00" in recalc.get_data(as_text=True)
    done = client.post("/teller/drawer/close", data={"n500": "1", "n200": "2", "op": "close"})
    assert done.status_code == 302
    waiting = client.get("/teller/drawer/close").get_data(as_text=True)
    assert "differs by ₹100.00" in waiting and "pending" in waiting
    drawer = db.session.scalar(select(TellerDrawer))
    boss = counter["boss"]
    assert boss.post(f"/teller/approvals/{drawer.close_request_id}/approve").status_code == 302
    db.session.expire_all()
    drawer = db.session.scalar(select(TellerDrawer))
    assert drawer.status == "closed" and drawer.difference_paise == -100_00
    assert "The drawer is closed" in client.get("/teller/drawer/close").get_data(as_text=True)
    assert ledger.verify().ok


def test_vault_moves_from_the_drawer_page(client, counter):
    open_drawer(client, "10,000")
    bad = client.post("/teller/drawer/vault", data={"direction": "to_vault", "amount": "20,000"})
    assert bad.status_code == 422 and "drawer holds ₹10,000.00" in bad.get_data(as_text=True)
    ok = client.post("/teller/drawer/vault", data={"direction": "to_vault", "amount": "4,000"})
    assert ok.status_code == 302
    page = client.get("/teller/drawer").get_data(as_text=True)
    assert "₹6,000.00" in page and "₹4,000.00" in page


def test_transfer_form(app, counter, make_user):
    clerk_client = app.test_client()
    make_user("clerk", username="ravi")
    login_as(clerk_client, "ravi")
    a, b = counter["pan"], counter["nopan"]
    page = clerk_client.get("/transfers/new").get_data(as_text=True)
    form = {"from_account": a.account_no, "to_account": b.account_no, "amount": "750.25", "nonce": nonce(page)}
    response = clerk_client.post("/transfers/new", data=form, headers=HX)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Transfer advice posted" in text
    assert balance(b.id) == 1_750_25
    same = clerk_client.post("/transfers/new", data={**form, "to_account": a.account_no, "nonce": "s"}, headers=HX)
    assert same.status_code == 422 and "two different accounts" in same.get_data(as_text=True)
    assert balance(a.id) == 3_00_000_00 - 750_25
    from_card = clerk_client.get(f"/teller/account-card?from_account={a.account_no}", headers=HX)
    assert a.title in from_card.get_data(as_text=True)


def test_cash_transaction_report_list_and_csv(client, counter):
    open_drawer(client, "1,00,000")
    sb = counter["pan"]
    for i, amount in enumerate(["6,00,000", "4,00,001"]):
        r = client.post(
            "/teller/transaction",
            data={"account_no": sb.account_no, "txn": "deposit", "amount": amount, "nonce": f"c{i}"},
        )
        assert r.status_code == 302
    boss = counter["boss"]
    page = boss.get("/teller/ctr?month=2026-04").get_data(as_text=True)
    assert sb.title in page and "10,00,001.00" in page
    csv = boss.get("/teller/ctr?month=2026-04&format=csv")
    assert csv.mimetype == "text/csv"
    assert "1000001.00" in csv.get_data(as_text=True)
    assert "No member crossed" in boss.get("/teller/ctr?month=2026-05").get_data(as_text=True)
    assert client.get("/teller/ctr").status_code == 403  # cashiers do not see the CTR
