"""Loan screens and API for tranches, product changes, receipts and recoveries: the edit form goes
through a checker, the loan page releases the next tranche, the API takes ``amount`` and reports
``disbursed``, a repayment prints its receipt, a written-off loan records recoveries."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.services import deposits, ledger, loans
from app.services.common import approvals, uow
from app.services.ledger import coa
from tests.integration.loans.helpers import borrower, disbursed, sanctioned, staff
from tests.integration.loans.test_loan_tranches import HOUSE
from tests.web.test_loan_api import _token

HX = {"HX-Request": "true"}


@pytest.fixture
def lbooks(books):
    deposits.seed_products()
    loans.seed_products()
    uow.commit()
    return books


def test_product_edit_form_shows_the_terms_and_changes_them_after_approval(lbooks, client, login):
    maker = login("manager")
    page = client.get("/loans/products/PL/edit").get_data(as_text=True)
    assert 'value="12.00"' in page and 'value="1000000.00"' in page and "(fixed)" in page  # PL as it stands
    data = {"name": "Personal loan", "interest_type": "reducing", "frequency": "monthly", "rate": "12.50",
            "min_rate": "11", "max_rate": "16", "min_amount": "10,000", "max_amount": "15,00,000", "min_months": "6",
            "max_months": "84", "processing_fee": "1", "gst": "18", "penal_mode": "percent", "penal_rate": "2",
            "penal_fixed": "0", "grace_days": "3", "security_type": "none", "max_ltv": "75", "share_link": "5",
            "manager_limit": "5,00,000", "no_guarantor_upto": "2,00,000"}  # fmt: skip
    bad = client.post("/loans/products/PL/edit", data={**data, "rate": "20"})
    assert bad.status_code == 422 and "inside the rate range" in bad.get_data(as_text=True)
    r = client.post("/loans/products/PL/edit", data=data)
    assert r.status_code == 302 and r.headers["Location"].endswith("/loans/products/PL")
    assert loans.get_product("PL").max_amount_paise == 10_00_000_00  # not before a checker approves
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "loans.product"))
    with pytest.raises(Exception, match="different user"):
        approvals.approve(req.id, checker=maker)
    db.session.rollback()
    approvals.approve(req.id, checker=staff("admin"))
    uow.commit()
    pl = loans.get_product("PL")
    assert pl.max_amount_paise == 15_00_000_00 and pl.code == "PL" and pl.kind == "personal"
    assert loans.current_rate_bp(pl, date(2026, 4, 1)) == 1250
    assert "₹15,00,000.00" in client.get("/loans/products/PL").get_data(as_text=True)


def test_loan_page_releases_tranches_until_the_sanction_is_used(lbooks, client, login):
    m, sb = borrower()
    loan = sanctioned(m, 2_00_000_00, 60, **HOUSE)
    login("clerk")
    page = client.get(f"/loans/{loan.loan_no}").get_data(as_text=True)
    assert "Amount to release" in page and "Sanctioned" in page
    over = client.post(f"/loans/{loan.loan_no}/disburse", data={"mode": "transfer", "to_account": sb.account_no,
                                                                "amount": "2,50,000"})  # fmt: skip
    assert over.status_code == 422 and "left to release" in over.get_data(as_text=True)
    ok = client.post(f"/loans/{loan.loan_no}/disburse", data={"mode": "transfer", "to_account": sb.account_no,
                                                              "amount": "1,20,000", "nonce": "111"})  # fmt: skip
    assert ok.status_code == 302
    page = client.get(f"/loans/{loan.loan_no}").get_data(as_text=True)
    assert "₹1,20,000.00" in page and "₹80,000.00 still to release" in page and "Release tranche" in page
    data = {"mode": "transfer", "to_account": sb.account_no, "amount": "80,000", "nonce": "222"}
    assert client.post(f"/loans/{loan.loan_no}/disburse", data=data).status_code == 302
    assert client.post(f"/loans/{loan.loan_no}/disburse", data=data).status_code == 302  # the double click
    db.session.expire_all()
    assert loans.disbursed_paise(loan) == 2_00_000_00 and loan.account.balance_paise == 2_00_000_00
    page = client.get(f"/loans/{loan.loan_no}").get_data(as_text=True)
    assert "still to release" not in page and "Release tranche" not in page and "Take repayment" in page


def test_api_releases_a_tranche_and_reports_what_is_disbursed(lbooks, client, make_user):
    m, sb = borrower()
    loan = sanctioned(m, 2_00_000_00, 60, **HOUSE)
    headers = _token(client, make_user, "manager")
    body = {"to_account": sb.account_no, "amount": "75000.00"}
    r = client.post(f"/api/v1/loans/{loan.loan_no}/disburse", json=body, headers={**headers, "Idempotency-Key": "a1"})
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert (got["status"], got["principal"], got["disbursed"], got["outstanding_principal"]) == (
        "active", "200000.00", "75000.00", "75000.00",
    )  # fmt: skip
    pl = sanctioned(borrower()[0], 1_00_000_00, 12)
    r = client.post(f"/api/v1/loans/{pl.loan_no}/disburse", json=body, headers={**headers, "Idempotency-Key": "a2"})
    assert r.status_code == 422 and "disbursed in full" in r.get_json()["detail"]


def test_receipt_page_prints_the_split_of_a_repayment(lbooks, client, login):
    m, sb = borrower()
    loan = disbursed(m, sb, 1_00_000_00, 12)
    login("clerk")
    r = client.post(f"/loans/{loan.loan_no}/repay", data={"amount": "5,000", "mode": "transfer",
                                                           "from_account": sb.account_no, "nonce": "9"}, headers=HX)  # fmt: skip
    link = re.search(r'href="(/loans/[A-Z0-9]+/receipts/JE\d+)"', r.get_data(as_text=True))
    assert r.status_code == 200 and link is not None
    page = client.get(link.group(1)).get_data(as_text=True)
    assert "Loan repayment receipt" in page and "Transfer from savings" in page and "IST" in page
    for text in ("₹1,000.00", "₹4,000.00", "₹5,000.00", "₹96,000.00", "data-print"):
        assert text in page
    statement = client.get(f"/loans/{loan.loan_no}/statement").get_data(as_text=True)
    assert link.group(1) in statement
    assert client.get(f"/loans/{loan.loan_no}/receipts/JE99999999").status_code == 404


def test_recovery_form_on_a_written_off_loan(lbooks, client, login):
    m, sb = borrower()
    loan = disbursed(m, sb, 1_00_000_00, 12)
    loan.asset_class = "substandard"
    loans.write_off(loan, by=staff("manager"), remarks="Resolution 4")
    uow.commit()
    login("clerk")
    page = client.get(f"/loans/{loan.loan_no}").get_data(as_text=True)
    assert "Record a recovery" in page and "Up to ₹1,00,000.00" in page
    over = client.post(f"/loans/{loan.loan_no}/recover", data={"amount": "1,00,001", "mode": "transfer",
                                                               "from_account": sb.account_no})  # fmt: skip
    assert over.status_code == 422 and "At most ₹1,00,000.00 remains" in over.get_data(as_text=True)
    ok = client.post(f"/loans/{loan.loan_no}/recover", data={"amount": "15,000", "mode": "transfer",
                                                             "from_account": sb.account_no, "nonce": "5"})  # fmt: skip
    assert ok.status_code == 302
    page = client.get(f"/loans/{loan.loan_no}").get_data(as_text=True)
    assert re.search(r'id="recovered">₹15,000.00<', page) and "Up to ₹85,000.00" in page
    assert ledger.gl_balance(coa.INCOME_BAD_DEBTS_RECOVERED) == 15_000_00  # on its normal (credit) side


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_documents_are_filed_with_the_application_and_served_to_staff(lbooks, client, login):
    from io import BytesIO

    from app.models.audit import AuditLog
    from app.models.loans import LoanDocument
    from tests.integration.loans.helpers import applied

    m, _sb = borrower()
    loan = applied(m, 1_00_000_00, 12)
    login("clerk")
    bad = client.post(f"/loans/{loan.loan_no}/documents", data={"doc_type": "income_proof",
                      "file": (BytesIO(b"MZ\x90\x00 not a pdf"), "salary.pdf")}, content_type="multipart/form-data")  # fmt: skip
    assert bad.status_code == 422 and "Only PDF, JPEG or PNG" in bad.get_data(as_text=True)
    assert db.session.scalar(select(LoanDocument)) is None
    ok = client.post(f"/loans/{loan.loan_no}/documents", data={"doc_type": "income_proof",
                     "file": (BytesIO(PDF), "salary-slips.pdf")}, content_type="multipart/form-data")  # fmt: skip
    assert ok.status_code == 302
    page = client.get(f"/loans/{loan.loan_no}").get_data(as_text=True)
    link = re.search(rf'href="(/loans/{loan.loan_no}/documents/\d+)"', page)
    assert link is not None and "Income proof (salary slips, ITR)" in page and "salary-slips.pdf" in page
    served = client.get(link.group(1))
    assert served.status_code == 200 and served.mimetype == "application/pdf" and served.data == PDF
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.entity_id == loan.loan_no)))
    assert {"loans.document_upload", "loans.document_view"} <= actions
    assert client.get(f"/loans/{loan.loan_no}/documents/999").status_code == 404
