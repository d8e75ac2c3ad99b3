"""The portal's loan pages and the member API's loans, on the demo society (a disbursed loan
with its stored schedule); another member's loan number answers 404."""

from __future__ import annotations

from sqlalchemy import select

from app.demo import seed
from app.extensions import db
from app.models.loans import Loan
from app.models.members import MemberLogin
from tests.integration.portal.helpers import (
    last_code,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)


def test_loan_schedule_history_and_api_on_the_demo_society(app, client, sms):
    seed()
    login = db.session.scalar(select(MemberLogin).where(MemberLogin.verified_at.is_not(None)))
    loan = db.session.scalar(select(Loan).where(Loan.member_id == login.member_id, Loan.account_id.is_not(None)))
    other = db.session.scalar(select(Loan).where(Loan.member_id != login.member_id))
    assert loan is not None and other is not None
    client.post("/portal/login", data={"mobile": login.mobile, "password": "Demo@12345"})
    client.post("/portal/code/login", data={"code": last_code(login.mobile)})
    home = client.get("/portal/home").get_data(as_text=True)
    assert "Next EMI" in home and "Loan outstanding" in home
    listing = client.get("/portal/loans").get_data(as_text=True)
    assert loan.loan_no in listing
    page = client.get(f"/portal/loans/{loan.loan_no}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Repayment schedule" in text and "#1 ·" in text
    assert f"#{loan.months} ·" in text and "sched-due" in text
    assert client.get(f"/portal/loans/{other.loan_no}").status_code == 404
    assert client.get("/portal/loans/PL99999999").status_code == 404
    api_login = client.post("/api/v1/auth/login", json={"mobile": login.mobile, "password": "Demo@12345"}).get_json()
    pair = client.post("/api/v1/auth/otp", json={"otp_token": api_login["otp_token"], "code": last_code(login.mobile)})
    headers = {"Authorization": f"Bearer {pair.get_json()['access_token']}"}
    items = client.get("/api/v1/me/loans", headers=headers).get_json()["items"]
    mine = {i["loan_no"]: i for i in items}
    assert loan.loan_no in mine and other.loan_no not in mine
    assert mine[loan.loan_no]["outstanding_principal"] == f"{loan.principal_paise / 100:.2f}"
    assert mine[loan.loan_no]["next_due_date"] is not None
    apply_page = client.get("/portal/loans/apply")
    assert apply_page.status_code == 200 and "<select" in apply_page.get_data(as_text=True)
    code = loan.product.code
    before = db.session.scalar(select(db.func.count()).select_from(Loan).where(Loan.member_id == login.member_id))
    applied = client.post(
        "/portal/loans/apply", data={"product": code, "amount": "20,000", "months": "12", "purpose": "Seeds"}
    )
    assert applied.status_code == 302, applied.get_data(as_text=True)[:300]
    after = db.session.scalar(select(db.func.count()).select_from(Loan).where(Loan.member_id == login.member_id))
    assert after == before + 1
    newest = db.session.scalar(select(Loan).where(Loan.member_id == login.member_id).order_by(Loan.id.desc()))
    assert newest.status == "applied" and newest.applied_by_id is None and newest.purpose == "Seeds"
    bad = client.post("/portal/loans/apply", data={"product": code, "amount": "-5", "months": "12"})
    assert bad.status_code == 422
