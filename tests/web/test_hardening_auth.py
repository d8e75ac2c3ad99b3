"""Issue 15, item 1: no password oracle, every attempt counted, growing back-off (staff and members)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.models.members import MemberLogin
from app.models.users import StaffUser
from app.services.access import member_auth, staff_auth, tokens
from app.services.common import AuthError, uow
from tests.conftest import PASSWORD, make_app
from tests.factories import make_member

LOGIN = "/api/v1/auth/login"
MEMBER_PASSWORD = "Member-Pass-123"


def staff(username: str = "asha") -> StaffUser:
    db.session.expire_all()
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def lock_for(user, minutes: int = 10) -> None:
    user.locked_until = utcnow() + timedelta(minutes=minutes)
    db.session.commit()


def locked_minutes(account) -> float:
    return (account.locked_until - utcnow()).total_seconds() / 60


# ---------------------------------------------------------------- staff: no oracle


def test_locked_api_sign_in_answers_the_same_whatever_the_password(client, make_user):
    make_user("clerk", username="asha")
    lock_for(staff())
    wrong = client.post(LOGIN, json={"username": "asha", "password": "wrong-password"})
    right = client.post(LOGIN, json={"username": "asha", "password": PASSWORD})
    unknown = client.post(LOGIN, json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == right.status_code == unknown.status_code == 401
    # Byte for byte the same: a locked account tells nobody whether the guess was right, or
    # that the account exists.
    assert wrong.get_data() == right.get_data() == unknown.get_data()
    assert "access_token" not in right.get_data(as_text=True)


def test_locked_web_sign_in_answers_the_same_whatever_the_password(client, make_user):
    make_user("clerk", username="asha")
    lock_for(staff())
    wrong = client.post("/auth/login", data={"username": "asha", "password": "wrong-password"})
    right = client.post("/auth/login", data={"username": "asha", "password": PASSWORD})
    assert wrong.status_code == right.status_code == 401
    assert wrong.get_data() == right.get_data()
    assert staff_auth.SIGN_IN_FAILED.split(".")[0] in right.get_data(as_text=True)


def test_every_attempt_counts_also_while_locked(client, make_user):
    make_user("clerk", username="asha")
    lock_for(staff())
    for password in ("guess-1", "guess-2", PASSWORD):
        assert client.post(LOGIN, json={"username": "asha", "password": password}).status_code == 401
    assert staff().failed_logins == 3  # before: guesses while locked were not counted
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "auth.login_locked")).all()
    assert len(rows) == 3 and all(row.after.get("while_locked") for row in rows)


def test_the_lock_grows_with_every_failure(app, client, make_user):
    make_user("clerk", username="asha")
    base = app.config["LOGIN_LOCKOUT_MINUTES"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post(LOGIN, json={"username": "asha", "password": "wrong"})
    assert base - 1 < locked_minutes(staff()) <= base
    # Three more guesses while locked, then the lock runs out: the next failure locks for
    # base × 2^(failures past the limit) = 15 × 2^4 minutes.
    for _ in range(3):
        client.post(LOGIN, json={"username": "asha", "password": "wrong"})
    user = staff()
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    client.post(LOGIN, json={"username": "asha", "password": "wrong"})
    assert staff().failed_logins == app.config["LOGIN_MAX_FAILURES"] + 4
    assert base * 16 - 1 < locked_minutes(staff()) <= base * 16
    # ... and never longer than the cap.
    app.config["LOGIN_LOCKOUT_MAX_MINUTES"] = 60
    user = staff()
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    client.post(LOGIN, json={"username": "asha", "password": "wrong"})
    assert 59 < locked_minutes(staff()) <= 60


def test_right_password_after_the_lock_runs_out_signs_in_and_resets(client, make_user):
    make_user("clerk", username="asha")
    user = staff()
    user.failed_logins = 7
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.post(LOGIN, json={"username": "asha", "password": PASSWORD}).status_code == 200
    assert staff().failed_logins == 0 and staff().locked_until is None


def test_the_totp_step_counts_attempts_while_locked(app, make_user):
    user = make_user("manager", username="mohan", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    lock_for(user)
    for _ in range(2):
        with pytest.raises(AuthError):
            staff_auth.verify_second_factor(user, "123456")
        uow.commit()
    assert staff("mohan").failed_logins == 2


def test_sign_in_is_rate_limited_per_ip_by_default():
    from app.settings import setting

    application = make_app("sqlite://")
    with application.app_context():
        limits = setting("RATELIMIT_LOGIN")
    assert "per minute" in limits and "per hour" in limits  # a burst limit and an hourly budget per address


def test_per_ip_limit_answers_429(tmp_path):
    application = make_app(f"sqlite:///{tmp_path / 'rl.db'}", RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per hour")
    with application.app_context():
        db.create_all()
        client = application.test_client()
        codes = [client.post(LOGIN, json={"username": f"u{i}", "password": "x"}).status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- members: password and one-time code


@pytest.fixture
def member_login(app) -> MemberLogin:
    m = make_member()
    db.session.flush()
    login = member_auth.create_login(m, MEMBER_PASSWORD)
    uow.commit()
    return login


def _member_attempt(mobile: str, password: str) -> str:
    try:
        member_auth.authenticate(mobile, password)
    except AuthError as exc:
        uow.commit()
        return exc.message
    uow.commit()
    return "signed in"


def test_locked_member_answers_the_same_whatever_the_password(member_login):
    lock_for(member_login)
    wrong = _member_attempt(member_login.mobile, "wrong-password")
    right = _member_attempt(member_login.mobile, MEMBER_PASSWORD)
    unknown = _member_attempt("9000000000", MEMBER_PASSWORD)
    assert wrong == right == unknown == member_auth.SIGN_IN_FAILED
    db.session.refresh(member_login)
    assert member_login.failed_logins == 2  # both counted while locked


def test_member_wrong_codes_count_towards_the_lockout(app, member_login, monkeypatch):
    monkeypatch.setattr(member_auth.secrets, "randbelow", lambda _n: 424242)  # every code is 424242
    maximum = app.config["LOGIN_MAX_FAILURES"]
    for round_ in range(maximum):
        member_auth.issue_otp(member_login, "login")
        uow.commit()
        with pytest.raises(AuthError):
            member_auth.verify_otp(member_login, f"00000{round_}")
        uow.commit()
    db.session.refresh(member_login)
    assert member_login.failed_logins == maximum and member_login.locked_until is not None
    # Locked: even a right code is refused, and the attempt is counted.
    member_auth.issue_otp(member_login, "login")
    uow.commit()
    with pytest.raises(AuthError, match="paused"):
        member_auth.verify_otp(member_login, "424242")
    uow.commit()
    db.session.refresh(member_login)
    assert member_login.failed_logins == maximum + 1 and member_login.last_login_at is None


def test_member_codes_sent_to_the_api_while_locked_are_counted(client, member_login):
    otp_token, _ttl = tokens.otp_token(member_auth.subject_for(member_login))
    lock_for(member_login)
    response = client.post("/api/v1/auth/otp", json={"otp_token": otp_token, "code": "123456"})
    assert response.status_code == 401
    db.session.refresh(member_login)
    assert member_login.failed_logins == 1  # before: refused without counting
