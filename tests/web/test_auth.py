"""Staff sign-in, lockout, TOTP, recovery codes, password change, logout, idle timeout."""

import hashlib
import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from app.crypto import lookup_hash
from app.extensions import db
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.models.users import RecoveryCode, StaffUser
from app.services.access import staff_auth
from app.services.common import uow
from tests.conftest import PASSWORD, login_as

CODE_RE = r"<code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>"


def actions() -> list[str]:
    return [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


def fresh(username: str) -> StaffUser:
    db.session.expire_all()
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def signed_in(client) -> bool:
    """Whether the client's session is a signed-in staff user (the dashboard answers 200)."""
    return client.get("/").status_code == 200


def sign_in_with_totp(client, username: str, secret: str) -> None:
    assert login_as(client, username).headers["Location"] == "/auth/totp"
    assert client.post("/auth/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 302


def next_window_code(secret: str) -> str:
    """A valid code from a later time step than ``now()`` (not a replay of the sign-in code)."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))


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
    assert "Repeated failures pause sign-in" in response.get_data(as_text=True)
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
    codes = re.findall(CODE_RE, codes_page)
    assert len(codes) == 10
    assert "shown only now" in codes_page
    # Shown once only.
    assert re.findall(CODE_RE, client.get("/auth/recovery-codes").get_data(as_text=True)) == []
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
    # Long enough for the length rule, so only the "same as the username" rule can refuse it.
    client.post("/auth/logout")
    login("clerk", username="asha.patil")
    same = client.post(
        "/auth/password", data={"current_password": PASSWORD, "new_password": "Asha.Patil", "confirm": "Asha.Patil"}
    )
    assert same.status_code == 422
    assert "must not be the same as the username" in same.get_data(as_text=True)
    client.post("/auth/logout")
    assert login_as(client, "asha").status_code == 302
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
    assert "HX-Redirect" not in response.headers
    assert client.get("/").status_code == 302


def test_idle_timeout_on_an_htmx_request_redirects_the_whole_page(client, login):
    login("admin")
    with client.session_transaction() as sess:
        sess["last_seen"] = (utcnow() - timedelta(hours=1)).timestamp()
    response = client.get(
        "/staff/audit?actor=x",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/staff/users?q=a"},
    )
    # Not a 302 that htmx would follow and swap the sign-in page into #results.
    assert response.status_code == 401
    assert response.get_data() == b""
    assert response.headers["HX-Redirect"] == "/auth/login?next=/staff/users?q%3Da"
    assert not signed_in(client)
    # A foreign HX-Current-URL is not used as the way back.
    login_as(client, "admin_user")
    with client.session_transaction() as sess:
        sess["last_seen"] = (utcnow() - timedelta(hours=1)).timestamp()
    response = client.post(
        "/staff/users/1/deactivate", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/auth/login"


def test_htmx_request_when_not_signed_in_gets_hx_redirect(client, make_user):
    response = client.get(
        "/staff/audit", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/staff/audit"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/login?next=/staff/audit"
    assert response.get_data() == b""
    plain = client.get("/staff/audit")
    assert plain.status_code == 302 and "HX-Redirect" not in plain.headers


def test_csrf_token_is_required_when_enabled(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("clerk", username="asha")
    response = client.post("/auth/login", data={"username": "asha", "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert "auth.login" not in actions()
    # The refusal is a security event in the audit log.
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "security.csrf_failed"))
    assert entry is not None
    assert entry.after["path"] == "/auth/login" and entry.after["method"] == "POST"
    assert "CSRF" in entry.after["reason"] or "token" in entry.after["reason"]
    assert entry.actor_type == "anonymous" and entry.ip == "127.0.0.1"


def test_csrf_failure_of_a_signed_in_user_names_them(app, client, login):
    login("clerk", username="asha")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/auth/logout").status_code == 400
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "security.csrf_failed"))
    assert (entry.actor_type, entry.actor_name, entry.actor_role) == ("staff", "asha", "clerk")
    assert "auth.logout" not in actions()


def test_create_user_cli(runner):
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


def test_create_user_cli_explains_why_a_totp_secret_is_refused(runner):
    base = ["create-user", "--username", "ravi", "--password", "Long-enough-1", "--role", "auditor"]
    short = runner.invoke(args=[*base, "--totp-secret", "JBSWY3DPEHPK3PXP"])  # valid base32, 80 bits
    assert short.exit_code != 0
    assert "too short" in short.output and "112 bits" in short.output and "must be base32" not in short.output
    not_base32 = runner.invoke(args=[*base, "--totp-secret", "JBSWY3DPEHPK3PXP1890JBSWY3DPEHPK"])
    assert not_base32.exit_code != 0 and "base32" in not_base32.output
    assert fresh("ravi") is None
    secret = pyotp.random_base32()
    good = runner.invoke(args=[*base, "--totp-secret", secret.lower()])
    assert good.exit_code == 0, good.output
    assert fresh("ravi").totp_enabled and staff_auth.totp_secret(fresh("ravi")) == secret


# ---------------------------------------------------------------- lockout and the second factor


def test_locked_account_answers_the_same_whatever_the_password(app, client, make_user):
    make_user("clerk", username="asha")
    user = fresh("asha")
    user.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    wrong = client.post("/auth/login", data={"username": "asha", "password": "wrong-password"})
    right = login_as(client, "asha")
    assert wrong.status_code == right.status_code == 401
    assert wrong.get_data(as_text=True) == right.get_data(as_text=True)
    assert "Invalid username or password." in right.get_data(as_text=True)
    assert actions()[-2:] == ["auth.login_locked", "auth.login_locked"]


def test_lockout_is_enforced_at_the_totp_step(app, client, make_user):
    secret = pyotp.random_base32()
    make_user("manager", username="mohan", totp_secret=secret)
    assert login_as(client, "mohan").headers["Location"] == "/auth/totp"
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/auth/totp", data={"code": "000000"}).status_code == 401
    assert fresh("mohan").locked_until is not None
    # Even the right code is refused while locked.
    response = client.post("/auth/totp", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 401 and "locked" in response.get_data(as_text=True)
    assert not signed_in(client)
    assert fresh("mohan").last_login_at is None
    assert actions()[-1] == "auth.login_locked"
    # Once the lock has passed, sign-in works again.
    user = fresh("mohan")
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.post("/auth/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert signed_in(client)


def test_otp_step_has_its_own_tighter_rate_limit(otp_limited_client):
    client = otp_limited_client
    assert login_as(client, "mohan").status_code == 302
    codes = [client.post("/auth/totp", data={"code": "000000"}).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert client.get("/auth/totp").status_code == 200  # only POSTs count
    assert login_as(client, "mohan").status_code == 302  # the password step has its own budget


# ---------------------------------------------------------------- enrolment


def test_half_signed_in_user_with_totp_cannot_enrol_a_new_secret(app, client, make_user):
    """The password alone must never be enough: enrolment is not a way round the TOTP step."""
    secret = pyotp.random_base32()
    make_user("manager", username="mohan", totp_secret=secret)
    assert login_as(client, "mohan").headers["Location"] == "/auth/totp"
    page = client.get("/auth/totp/enrol")
    assert page.status_code == 302 and page.headers["Location"] == "/auth/totp"
    # Even with a secret of the attacker's choosing planted in the session.
    attacker = pyotp.random_base32()
    with client.session_transaction() as sess:
        sess["enrol_secret"] = attacker
    response = client.post("/auth/totp/enrol", data={"code": pyotp.TOTP(attacker).now()})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/totp"
    assert not signed_in(client)
    assert staff_auth.totp_secret(fresh("mohan")) == secret
    assert "auth.enrol_refused" in actions() and "auth.login" not in actions()
    assert "auth.totp_enabled" not in actions()


def test_half_signed_in_user_may_enrol_only_when_sign_in_required_it(app, client, make_user):
    app.config["STAFF_TOTP_REQUIRED"] = True
    make_user("clerk", username="asha")
    assert login_as(client, "asha").headers["Location"] == "/auth/totp/enrol"
    # The requirement is switched off meanwhile: the half sign-in no longer leads to enrolment.
    app.config["STAFF_TOTP_REQUIRED"] = False
    response = client.get("/auth/totp/enrol")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert not fresh("asha").totp_enabled and not signed_in(client)
    # Nobody half-way through sign-in: 401.
    assert client.get("/auth/totp/enrol").status_code == 401


def test_signed_in_user_needs_the_current_factor_to_replace_totp(app, client, make_user):
    old = pyotp.random_base32()
    make_user("manager", username="mohan", totp_secret=old)
    sign_in_with_totp(client, "mohan", old)
    page = client.get("/auth/totp/enrol").get_data(as_text=True)
    assert 'name="current_code"' in page
    new = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    new_code = pyotp.TOTP(new).now()

    missing = client.post("/auth/totp/enrol", data={"code": new_code})
    assert missing.status_code == 422 and "already on" in missing.get_data(as_text=True)
    wrong = client.post("/auth/totp/enrol", data={"code": new_code, "current_code": "000000"})
    assert wrong.status_code == 401 and "not valid" in wrong.get_data(as_text=True)
    user = fresh("mohan")
    assert staff_auth.totp_secret(user) == old and user.failed_logins == 1
    assert "auth.totp_enabled" not in actions()

    done = client.post("/auth/totp/enrol", data={"code": new_code, "current_code": next_window_code(old)})
    assert done.status_code == 302 and done.headers["Location"] == "/auth/recovery-codes"
    assert staff_auth.totp_secret(fresh("mohan")) == new
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.totp_enabled"))
    assert entry.after == {"replaced": True} and entry.actor_name == "mohan"
    assert len(re.findall(CODE_RE, client.get("/auth/recovery-codes").get_data(as_text=True))) == 10


def test_replacing_totp_accepts_a_recovery_code_as_the_current_factor(app, client, make_user):
    old = pyotp.random_base32()
    user = make_user("manager", username="mohan", totp_secret=old)
    codes = staff_auth.regenerate_recovery_codes(user)
    uow.commit()
    sign_in_with_totp(client, "mohan", old)
    page = client.get("/auth/totp/enrol").get_data(as_text=True)
    new = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    done = client.post("/auth/totp/enrol", data={"code": pyotp.TOTP(new).now(), "current_code": codes[3]})
    assert done.status_code == 302
    assert staff_auth.totp_secret(fresh("mohan")) == new
    assert "auth.recovery_code_used" in actions()


def test_new_recovery_codes_need_a_current_code(app, client, make_user):
    secret = pyotp.random_base32()
    user = make_user("manager", username="mohan", totp_secret=secret)
    first = staff_auth.regenerate_recovery_codes(user)
    uow.commit()
    sign_in_with_totp(client, "mohan", secret)
    hashes = {rc.code_hash for rc in fresh("mohan").recovery_codes}

    missing = client.post("/auth/recovery-codes", data={})
    assert missing.status_code == 422 and "Enter a code" in missing.get_data(as_text=True)
    wrong = client.post("/auth/recovery-codes", data={"code": "000000"})
    assert wrong.status_code == 401
    assert {rc.code_hash for rc in fresh("mohan").recovery_codes} == hashes
    assert fresh("mohan").failed_logins == 1

    ok = client.post("/auth/recovery-codes", data={"code": first[0]})
    assert ok.status_code == 302
    codes = re.findall(CODE_RE, client.get("/auth/recovery-codes").get_data(as_text=True))
    assert len(codes) == 10 and not set(codes) & set(first)
    assert {rc.code_hash for rc in fresh("mohan").recovery_codes}.isdisjoint(hashes)
    assert actions()[-1] == "auth.recovery_codes_regenerated"


def test_recovery_codes_are_long_and_stored_as_keyed_hashes(app, make_user):
    user = make_user("manager", username="mohan", totp_secret=pyotp.random_base32())
    codes = staff_auth.regenerate_recovery_codes(user)
    uow.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)  # 16 base32 characters: 80 bits
    stored = {rc.code_hash for rc in db.session.scalars(select(RecoveryCode))}
    plain = codes[0].replace("-", "")
    assert hashlib.sha256(plain.encode()).hexdigest() not in stored  # no unkeyed hash
    assert lookup_hash(f"staff-recovery:{plain}") in stored
    # Typed loosely (lower case, no dashes, spaces) it still works, once.
    assert staff_auth.verify_second_factor(user, " " + plain.lower() + " ") == "recovery"
    uow.commit()
    assert sum(rc.used_at is not None for rc in fresh("mohan").recovery_codes) == 1
