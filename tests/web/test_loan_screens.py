"""Loan screens: application form with live preview, inline sanction (HTMX fragment), loan page,
repayment form, statement (HTML, CSV, print), demand, overdue, NPA, products with maker-checker, CLI."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.loans import Loan, LoanProduct
from app.services import deposits, loans
from app.services.common import approvals, uow
from tests.deposit_helpers import member, move_to, open_sb
from tests.integration.loans.helpers import disbursed

HX = {"HX-Request": "true"}


@pytest.fixture
def lbooks(books):
    deposits.seed_products()
    loans.seed_products()
    uow.commit()
    return books


def test_application_form_previews_the_emi_and_records_the_application(lbooks, client, login):
    login("clerk")
    m = member(name="Kavita Joshi")
    preview = client.get(
        f"/loans/apply/preview?member_no={m.member_no}&product_code=PL&amount=1,00,000&months=12", headers=HX
    )
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "₹8,884.88" in text and "Kavita Joshi" in text and "Share linkage" in text
    bad = client.post(
        "/loans/apply", data={"member_no": m.member_no, "product_code": "PL", "amount": "5,000", "months": "12"}
    )
    assert bad.status_code == 422 and "lends ₹10,000.00 to" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Loan.id))) == 0
    ok = client.post("/loans/apply", data={"member_no": m.member_no, "product_code": "PL", "amount": "1,00,000",
                                           "months": "12", "purpose": "Shop"})  # fmt: skip
    assert ok.status_code == 302
    loan = db.session.scalar(select(Loan))
    assert ok.headers["Location"].endswith(f"/loans/{loan.loan_no}") and loan.status == "applied"
    page = client.get(f"/loans/{loan.loan_no}")
    assert "Waiting for sanction" in page.get_data(as_text=True) and "HX-Request" in page.headers["Vary"]


def test_inline_sanction_swaps_the_row_and_the_maker_cannot_sanction(lbooks, client, login, make_user):
    from tests.integration.loans.helpers import applied

    m = member()
    loan = applied(m, 50_000_00, 12)  # taken by loan_clerk
    login("manager")
    queue = client.get("/loans/sanction")
    assert loan.loan_no in queue.get_data(as_text=True)
    r = client.post(f"/loans/{loan.loan_no}/reject", data={"remarks": ""}, headers=HX)
    assert "Give remarks" in r.get_data(as_text=True) and "HX-Trigger" in r.headers
    r = client.post(f"/loans/{loan.loan_no}/sanction", data={"remarks": "Fine"}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.lstrip().startswith(f'<tr id="sanction-{loan.loan_no}"')
    assert 'data-status="sanctioned"' in body
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).status == "sanctioned"


def test_loan_page_takes_a_repayment_and_shows_statement_csv_and_print(lbooks, client, login):
    m = member()
    sb = open_sb(m, 50_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    login("clerk")
    r = client.post(f"/loans/{loan.loan_no}/repay", data={"amount": "5,000", "mode": "transfer",
                                                           "from_account": sb.account_no, "reduce": "tenure"}, headers=HX)  # fmt: skip
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "interest ₹1,000.00, principal ₹4,000.00" in body and "₹96,000.00" in body
    refused = client.post(f"/loans/{loan.loan_no}/repay", data={"amount": "1,00,000", "mode": "transfer",
                                                                 "from_account": sb.account_no}, headers=HX)  # fmt: skip
    assert refused.status_code == 422 and "foreclosure amount" in refused.get_data(as_text=True)
    csv = client.get(f"/loans/{loan.loan_no}/statement?format=csv")
    assert (
        csv.status_code == 200
        and csv.headers["Content-Type"].startswith("text/csv")
        and ",4000.00,96000.00" in csv.get_data(as_text=True)
    )
    printed = client.get(f"/loans/{loan.loan_no}/statement?print=1").get_data(as_text=True)
    assert "Loan statement" in printed and "how they were applied" in printed
    row = re.search(r"<td class=\"num\">₹5,000.00</td><td class=\"num\">(.*?)</td><td class=\"num\">(.*?)</td>"
                    r"<td class=\"num\">(.*?)</td>", printed)  # fmt: skip
    assert row is not None and row.groups() == ("₹0.00", "₹1,000.00", "₹4,000.00")  # penal, interest, principal
    quote = client.get(f"/loans/{loan.loan_no}/quote", headers=HX)
    assert "Foreclosure today" in quote.get_data(as_text=True)


def test_registers_demand_overdue_and_npa(lbooks, client, login):
    m = member()
    sb = open_sb(m, 50_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    login("auditor")
    week = client.get("/loans/demand?span=week").get_data(as_text=True)
    assert loan.loan_no not in week  # first EMI falls due on 01-05
    month = client.get("/loans/demand?span=month").get_data(as_text=True)
    assert "Nothing falls due" in month
    move_to(date(2026, 8, 5))
    for on in (date(2026, 8, 5),):
        loans.update_dpd(on)
        loans.classify_assets(on)
        loans.post_provisions(on)
    uow.commit()
    overdue = client.get("/loans/overdue").get_data(as_text=True)
    assert "Over 90 (NPA)" in overdue and loan.loan_no in overdue
    npa = client.get("/loans/npa").get_data(as_text=True)
    assert loan.loan_no in npa and "Sub-standard" in npa and "₹10,000.00" in npa  # 10 % provision
    assert (
        client.post(f"/loans/{loan.loan_no}/repay", data={"amount": "1"}).status_code == 403
    )  # auditors change nothing


def test_product_proposal_needs_another_users_approval(lbooks, client, login):
    maker = login("manager")
    data = {"code": "VL", "name": "Vehicle loan", "kind": "vehicle", "interest_type": "reducing", "frequency": "monthly",
            "rate": "10.50", "min_rate": "9", "max_rate": "13", "min_amount": "50,000", "max_amount": "10,00,000",
            "min_months": "12", "max_months": "84", "processing_fee": "0.5", "gst": "18", "penal_mode": "percent",
            "penal_rate": "2", "penal_fixed": "0", "grace_days": "5", "security_type": "vehicle", "max_ltv": "80",
            "share_link": "5", "manager_limit": "5,00,000", "no_guarantor_upto": "2,00,000"}  # fmt: skip
    r = client.post("/loans/products/new", data=data)
    assert r.status_code == 302
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "loans.product"))
    assert db.session.scalar(select(LoanProduct).where(LoanProduct.code == "VL")) is None
    with pytest.raises(Exception, match="different user"):
        approvals.approve(req.id, checker=maker)
    db.session.rollback()
    from tests.integration.loans.helpers import staff

    approvals.approve(req.id, checker=staff("admin"))
    uow.commit()
    vl = loans.get_product("VL")
    assert (vl.min_rate_bp, vl.max_rate_bp, loans.current_rate_bp(vl, date(2026, 4, 1)), vl.grace_days) == (
        900,
        1300,
        1050,
        5,
    )
    assert "Vehicle loan" in client.get("/loans/products").get_data(as_text=True)


def test_cli_runs_the_loan_day_end_steps(lbooks, app):
    m = member()
    sb = open_sb(m, 50_000_00)
    disbursed(m, sb, 1_00_000_00, 12)
    result = app.test_cli_runner().invoke(args=["loans", "run-day", "--date", "2026-04-01"])
    assert result.exit_code == 0, result.output
    assert "post_provisions: 1" in result.output and "update_dpd: 0" in result.output  # nothing overdue yet
    late = app.test_cli_runner().invoke(args=["loans", "run-day", "--date", "2026-04-02"])
    assert late.exit_code != 0 and "after the open business date" in late.output


def test_a_manager_writes_off_an_npa_from_the_loan_page(lbooks, client, login):
    m = member()
    sb = open_sb(m, 50_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    loan.asset_class, loan.npa_since = "substandard", date(2026, 4, 1)
    uow.commit()
    login("manager")
    page = client.get(f"/loans/{loan.loan_no}").get_data(as_text=True)
    assert "Write off" in page
    refused = client.post(f"/loans/{loan.loan_no}/write-off", data={"remarks": ""})
    assert refused.status_code == 422 and "Give remarks" in refused.get_data(as_text=True)
    done = client.post(f"/loans/{loan.loan_no}/write-off", data={"remarks": "Resolution 7"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).status == "written_off"
