"""Member portal sign-in: password + SMS code, activation, forgot password, devices, language."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.members import MemberLogin, MemberOtp
from app.models.portal import MemberPreference, MemberSession
from app.services.access import staff_auth
from app.services.common import uow
from tests.conftest import login_as
from tests.factories import make_member
from tests.integration.portal.helpers import (
    PASSWORD,
    last_code,
    member_with_login,
    sign_in,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)


def test_sign_in_with_password_then_code_records_the_device(client, sms):
    _member, login = member_with_login(mobile="9811111111")
    assert client.get("/portal/home").status_code == 302  # not signed in: to the sign-in page
    done = sign_in(client, "9811111111")
    assert done.headers["Location"].endswith("/portal/home")
    page = client.get("/portal/home")
    assert page.status_code == 200 and "Sunita Patil" in page.get_data(as_text=True)
    (row,) = db.session.scalars(select(MemberSession)).all()
    assert row.login_id == login.id and row.revoked_at is None
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "member.login")) == 1


def test_wrong_password_and_wrong_codes_are_counted_then_the_code_dies(client, sms):
    member_with_login(mobile="9811111112")
    bad = client.post("/portal/login", data={"mobile": "9811111112", "password": "not-it-at-all"})
    assert bad.status_code == 422 and "Invalid mobile number or password." in bad.get_data(as_text=True)
    assert db.session.scalar(select(MemberLogin.failed_logins)) == 1
    client.post("/portal/login", data={"mobile": "9811111112", "password": PASSWORD})
    for left in (4, 3, 2, 1):
        wrong = client.post("/portal/code/login", data={"code": "000000"})
        assert wrong.status_code == 422 and f"{left} attempt(s) left" in wrong.get_data(as_text=True)
    fifth = client.post("/portal/code/login", data={"code": "000001"})
    assert fifth.status_code == 422 and "attempt(s) left" not in fifth.get_data(as_text=True)
    last = client.post("/portal/code/login", data={"code": last_code("9811111112")})  # the right code, too late
    assert last.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(MemberSession)) == 0
    assert client.get("/portal/home").status_code == 302  # never signed in


def test_expired_code_is_refused(client, sms, app):
    member_with_login(mobile="9811111113")
    client.post("/portal/login", data={"mobile": "9811111113", "password": PASSWORD})
    otp = db.session.scalar(select(MemberOtp))
    from datetime import timedelta

    otp.expires_at = otp.created_at - timedelta(seconds=1)
    uow.commit()
    response = client.post("/portal/code/login", data={"code": last_code("9811111113")})
    assert response.status_code == 422 and "expired" in response.get_data(as_text=True)


def test_activation_for_an_admitted_member(client, sms):
    member = make_member(mobile="9822222222", date_of_birth=date(1979, 1, 2))
    uow.commit()
    wrong = client.post("/portal/activate", data={"mobile": "9822222222", "date_of_birth": "1980-01-02"})
    assert wrong.status_code == 422 and "could not find an admitted member" in wrong.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MemberLogin)) == 0
    step1 = client.post("/portal/activate", data={"mobile": "9822222222", "date_of_birth": "1979-01-02"})
    assert step1.status_code == 302 and step1.headers["Location"].endswith("/portal/code/activate")
    # the password page is closed until the code is proven
    assert client.get("/portal/password/activate").status_code == 302
    step2 = client.post("/portal/code/activate", data={"code": last_code("9822222222")})
    assert step2.status_code == 302 and step2.headers["Location"].endswith("/portal/password/activate")
    mismatch = client.post("/portal/password/activate", data={"password": "Gehu-Bajra-77", "confirm": "other-one-77"})
    assert mismatch.status_code == 422 and "do not match" in mismatch.get_data(as_text=True)
    done = client.post("/portal/password/activate", data={"password": "Gehu-Bajra-77", "confirm": "Gehu-Bajra-77"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/portal/home")
    assert client.get("/portal/home").status_code == 200
    login = db.session.scalar(select(MemberLogin))
    assert login.member_id == member.id and login.verified_at is not None
    # a second activation is refused: the login is in use
    client.post("/portal/logout")
    client.post("/portal/login", data={"mobile": "9822222222", "password": "Gehu-Bajra-77"})
    client.post("/portal/code/login", data={"code": last_code("9822222222")})
    again = client.post("/portal/activate", data={"mobile": "9822222222", "date_of_birth": "1979-01-02"})
    assert again.status_code in (302, 422)


def test_applicant_cannot_activate(client, sms):
    make_member(mobile="9822222223", status="applicant", kyc_status="pending")
    uow.commit()
    response = client.post("/portal/activate", data={"mobile": "9822222223", "date_of_birth": "1985-06-15"})
    assert response.status_code == 422 and not sms


def test_forgot_password_sets_a_new_one_and_signs_out_every_device(client, app, sms):
    member_with_login(mobile="9833333333")
    other = app.test_client()
    sign_in(other, "9833333333")
    assert other.get("/portal/home").status_code == 200
    step1 = client.post("/portal/forgot", data={"mobile": "9833333333", "date_of_birth": "1985-06-15"})
    assert step1.status_code == 302
    client.post("/portal/code/reset", data={"code": last_code("9833333333")})
    done = client.post("/portal/password/reset", data={"password": "Naya-Password-1", "confirm": "Naya-Password-1"})
    assert done.status_code == 302
    assert other.get("/portal/home").status_code == 302  # the other device was signed out
    client.post("/portal/logout")
    bad = client.post("/portal/login", data={"mobile": "9833333333", "password": PASSWORD})
    assert bad.status_code == 422
    sign_in(client, "9833333333", "Naya-Password-1")


def test_forgot_password_for_an_unknown_mobile_sends_nothing(client, sms):
    response = client.post("/portal/forgot", data={"mobile": "9844444444", "date_of_birth": "1985-06-15"})
    assert response.status_code == 302 and not sms


def test_resend_has_a_cool_down(client, sms):
    make_member(mobile="9822222224", date_of_birth=date(1979, 1, 2))
    uow.commit()
    client.post("/portal/activate", data={"mobile": "9822222224", "date_of_birth": "1979-01-02"})
    response = client.post("/portal/code/activate/resend", follow_redirects=True)
    assert "You can ask for another in" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MemberOtp)) == 1


def test_devices_and_sign_out_the_others(client, app, sms):
    member_with_login(mobile="9855555555")
    phone = app.test_client()
    sign_in(phone, "9855555555")
    sign_in(client, "9855555555")
    page = client.get("/portal/devices")
    assert page.status_code == 200 and "This device" in page.get_data(as_text=True)
    assert " IST" in page.get_data(as_text=True) and " UTC" not in page.get_data(as_text=True)  # members' times in IST
    partial = client.post("/portal/devices/sign-out-others", headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert partial.status_code == 200 and 'id="devices"' in text and "<html" not in text
    assert "Signed out of 1 other device(s)." in text
    assert phone.get("/portal/home").status_code == 302
    assert client.get("/portal/home").status_code == 200
    client.post("/portal/logout")
    assert client.get("/portal/home").status_code == 302
    assert (
        db.session.scalar(select(func.count()).select_from(MemberSession).where(MemberSession.revoked_at.is_(None)))
        == 0
    )


def test_staff_never_reach_the_portal_and_members_never_reach_staff_pages(client, sms):
    member_with_login(mobile="9866666666")
    sign_in(client, "9866666666")
    assert client.get("/").status_code in (302, 401, 403)
    assert client.get("/ledger/").status_code in (302, 401, 403)
    staff_client = client.application.test_client()
    staff_auth.create_user(username="clerk9", password="Correct-Horse-9", role="clerk")
    uow.commit()
    login_as(staff_client, "clerk9")
    response = staff_client.get("/portal/home")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]


def test_language_choice_is_remembered_on_the_cookie_and_the_member_row(client, sms):
    member, _login = member_with_login(mobile="9877777777")
    response = client.post("/portal/language/hi", data={"next": "/portal/login"})
    assert response.status_code == 302 and "lang=hi" in response.headers.get("Set-Cookie", "")
    page = client.get("/portal/login").get_data(as_text=True)
    assert "साइन इन" in page and 'lang="hi"' in page
    sign_in(client, "9877777777")
    client.post("/portal/language/hi", data={"next": "/portal/home"})
    assert db.session.scalar(select(MemberPreference.language).where(MemberPreference.member_id == member.id)) == "hi"
    client.delete_cookie("lang")
    home = client.get("/portal/home").get_data(as_text=True)
    assert "कुल जमा" in home and "₹" in home
    assert client.post("/portal/language/xx").status_code == 404
