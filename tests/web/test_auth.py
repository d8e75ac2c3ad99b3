"""Staff sign-in, lockout, TOTP, recovery codes, password change, logout, idle timeout."""

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.models.users import StaffUser
from tests.conftest import PASSWORD, login_as


def actions() -> list[str]:
    return [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_login_and_logout(client, make_user):
    make_user("clerk", username="asha")
    response = login_as(client, "asha")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Demo" not in page and "asha_user" not in page
    assert "Clerk" in page
    assert "auth.login" in actions()
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the login page
    assert actions()[-1] == "auth.logout"


def test_wrong_password_and_unknown_user_get_the_same_clear_message(client, make_user):
    make_user("clerk", username="asha")
    for username, password in [("asha", "wrong-password"), ("nobody", PASSWORD)]:
        response = client.post("/auth/login", data={"username": username, "password": password})
        assert response.status_code == 401
        assert "Invalid username or password." in response.get_data(as_text=True)
    assert actions()[-2:] == ["auth.login_failed", "auth.login_failed"]


def test_lockout_after_repeated_failures(app, client, make_user):
    make_user("clerk", username="asha")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/auth/login", data={"username": "asha", "password": "wrong-password"})
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == "asha"))
    db.session.refresh(user)
    assert user.locked_until is not None
    response = login_as(client, "asha")  # even the right password is refused now
    assert response.status_code == 401
    assert "locked" in response.get_data(as_text=True)
    assert "auth.lockout" in actions()
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert login_as(client, "asha").status_code == 302


def test_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user("clerk", username="asha")
    user.active = False
    db.session.commit()
    response = login_as(client, "asha")
    assert response.status_code == 401
    assert "deactivated" in response.get_data(as_text=True)


def test_totp_is_required_at_login_when_enrolled(client, make_user):
    secret = pyotp.random_base32()
    make_user("manager", username="mohan", totp_secret=secret)
    response = login_as(client, "mohan")
    assert response.headers["Location"] == "/auth/totp"
    assert client.get("/").status_code == 302  # not signed in yet
    bad = client.post("/auth/totp", data={"code": "000000"})
    assert bad.status_code == 401 and "not valid" in bad.get_data(as_text=True)
    good = client.post("/auth/totp", data={"code": pyotp.TOTP(secret).now()})
    assert good.status_code == 302
    assert client.get("/").status_code == 200
    assert "auth.totp_failed" in actions()


def test_totp_code_cannot_be_replayed(client, make_user):
    secret = pyotp.random_base32()
    make_user("manager", username="mohan", totp_secret=secret)
    code = pyotp.TOTP(secret).now()
    login_as(client, "mohan")
    assert client.post("/auth/totp", data={"code": code}).status_code == 302
    client.post("/auth/logout")
    login_as(client, "mohan")
    assert client.post("/auth/totp", data={"code": code}).status_code == 401


def test_enforced_enrolment_then_recovery_code_login(app, client, make_user):
    app.config["STAFF_TOTP_REQUIRED"] = True
    make_user("cashier", username="kiran")
    response = login_as(client, "kiran")
    assert response.headers["Location"] == "/auth/totp/enrol"
    page = client.get("/auth/totp/enrol").get_data(as_text=True)
    assert "otpauth://totp/" in page and "data:image/svg+xml" in page
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    wrong = client.post("/auth/totp/enrol", data={"code": "123456"})
    assert wrong.status_code == 422 and "does not match" in wrong.get_data(as_text=True)
    done = client.post("/auth/totp/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.headers["Location"] == "/auth/recovery-codes"
    codes_page = client.get("/auth/recovery-codes").get_data(as_text=True)
    codes = re.findall(r"<code>([0-9A-F]{5}-[0-9A-F]{5})</code>", codes_page)
    assert len(codes) == 10
    assert "shown only now" in codes_page
    # Shown once only.
    assert (
        re.findall(r"<code>([0-9A-F]{5}-[0-9A-F]{5})</code>", client.get("/auth/recovery-codes").get_data(as_text=True))
        == []
    )
    client.post("/auth/logout")
    login_as(client, "kiran")
    assert client.post("/auth/totp", data={"code": codes[0]}).status_code == 302
    client.post("/auth/logout")
    login_as(client, "kiran")
    assert client.post("/auth/totp", data={"code": codes[0]}).status_code == 401  # used once
    assert "auth.recovery_code_used" in actions()


def test_password_change_enforces_policy(client, login):
    login("clerk", username="asha")
    short = client.post(
        "/auth/password", data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"}
    )
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)
    same = client.post("/auth/password", data={"current_password": PASSWORD, "new_password": "Asha", "confirm": "Asha"})
    assert same.status_code == 422
    wrong = client.post(
        "/auth/password",
        data={"current_password": "nope-nope-nope", "new_password": "A-new-secret-99", "confirm": "A-new-secret-99"},
    )
    assert "Current password is wrong." in wrong.get_data(as_text=True)
    ok = client.post(
        "/auth/password",
        data={"current_password": PASSWORD, "new_password": "A-new-secret-99", "confirm": "A-new-secret-99"},
    )
    assert ok.status_code == 302
    client.post("/auth/logout")
    assert login_as(client, "asha").status_code == 401
    assert login_as(client, "asha", "A-new-secret-99").status_code == 302


def test_idle_timeout_signs_staff_out(client, login):
    login("clerk")
    assert client.get("/").status_code == 200
    with client.session_transaction() as sess:
        sess["last_seen"] = (utcnow() - timedelta(hours=1)).timestamp()
    response = client.get("/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/").status_code == 302


def test_csrf_token_is_required_when_enabled(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("clerk", username="asha")
    response = client.post("/auth/login", data={"username": "asha", "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert "auth.login" not in actions()


def test_create_user_cli(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "--username", "neha", "--password", "Long-enough-1", "--role", "auditor"]
    )
    assert result.exit_code == 0, result.output
    assert "created neha (auditor)" in result.output
    bad = runner.invoke(args=["create-user", "--username", "ravi", "--password", "ravi", "--role", "auditor"])
    assert bad.exit_code != 0 and "at least 10" in bad.output
    bad_role = runner.invoke(
        args=["create-user", "--username", "ravi", "--password", "Long-enough-1", "--role", "king"]
    )
    assert bad_role.exit_code != 0 and "Role must be one of" in bad_role.output
