"""API sign-in: JWT access tokens, rotating refresh tokens, OTP, lockout, permissions, problems."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import jwt
import pyotp
import pytest
from flask import Blueprint, jsonify
from sqlalchemy import func, select

from app.blueprints.api.auth import api_member, api_permission, current_subject
from app.extensions import db
from app.models.api import RefreshToken
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.models.users import StaffUser
from app.permissions import MEMBER
from app.services.access import staff_auth, tokens
from app.services.common import AuthError, uow
from tests.conftest import PASSWORD, make_app

LOGIN = "/api/v1/auth/login"


def actions() -> list[str]:
    return [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_login(client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, json={"username": username, "password": password})


def assert_problem(response, status: int, detail_has: str = "") -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    assert detail_has in body["detail"], body["detail"]
    return body


def refresh_rows() -> list[RefreshToken]:
    db.session.expire_all()
    return list(db.session.scalars(select(RefreshToken).order_by(RefreshToken.id)))


def fresh_user(username: str) -> StaffUser:
    db.session.expire_all()
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


# ---------------------------------------------------------------- password sign-in


def test_login_issues_a_jwt_and_a_hashed_refresh_token(app, client, make_user):
    user = make_user("clerk", username="asha", full_name="Asha Patil")
    response = api_login(client, "asha")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60 == app.config["JWT_ACCESS_TTL_SECONDS"]

    claims = jwt.decode(body["access_token"], app.config["JWT_SECRET"], algorithms=["HS256"])
    assert claims["sub"] == str(user.id)
    assert (claims["kind"], claims["role"], claims["type"]) == ("staff", "clerk", "access")
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["jti"]

    (row,) = refresh_rows()
    assert row.token_hash == hashlib.sha256(body["refresh_token"].encode()).hexdigest()
    assert (row.subject_kind, row.subject_id, row.parent_id, row.used_at, row.revoked_at) == (
        "staff",
        user.id,
        None,
        None,
        None,
    )
    assert row.expires_at > utcnow() + timedelta(days=29)

    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    assert me.get_json() == {"kind": "staff", "username": "asha", "role": "clerk", "full_name": "Asha Patil"}
    assert fresh_user("asha").last_login_at is not None
    assert {"auth.login", "api.tokens_issued"} <= set(actions())


def test_wrong_password_is_a_problem_and_counts_as_a_failure(client, make_user):
    make_user("clerk", username="asha")
    response = api_login(client, "asha", "wrong-password")
    body = assert_problem(response, 401, "Invalid username or password.")
    assert body["type"].endswith("/unauthorized")
    assert body["title"] == "Authentication failed"
    assert fresh_user("asha").failed_logins == 1  # committed despite the refusal
    assert actions()[-1] == "auth.login_failed"
    assert refresh_rows() == []


def test_unknown_user_gets_the_same_answer(client, make_user):
    make_user("clerk", username="asha")
    body = assert_problem(api_login(client, "nobody"), 401, "Invalid username or password.")
    assert body["detail"] == staff_auth.SIGN_IN_FAILED
    assert actions()[-1] == "auth.login_failed"


def test_disabled_user_cannot_sign_in(client, make_user):
    user = make_user("clerk", username="asha")
    user.active = False
    db.session.commit()
    assert_problem(api_login(client, "asha"), 401, "deactivated")
    assert refresh_rows() == []


def test_lockout_applies_to_the_api(app, client, make_user):
    make_user("clerk", username="asha")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert api_login(client, "asha", "wrong-password").status_code == 401
    assert fresh_user("asha").locked_until is not None
    assert_problem(api_login(client, "asha"), 401, "Repeated failures")  # even the right password
    assert "auth.lockout" in actions()
    user = fresh_user("asha")
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api_login(client, "asha").status_code == 200


def test_bad_bodies_are_problems(client, make_user):
    make_user("clerk", username="asha")
    assert_problem(client.post(LOGIN, data="username=asha"), 400, "JSON object")
    assert_problem(client.post(LOGIN, json=["asha"]), 400, "JSON object")
    body = assert_problem(client.post(LOGIN, json={"username": "asha"}), 422, "password")
    assert body["errors"] == {"password": ["This field is required."]}
    body = assert_problem(client.post(LOGIN, json={"username": 7, "password": PASSWORD}), 422)
    assert set(body["errors"]) == {"username"}
    assert fresh_user("asha").failed_logins == 0


def test_login_is_rate_limited(tmp_path):
    application = make_app(f"sqlite:///{tmp_path / 'rl.db'}", RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    with application.app_context():
        db.create_all()
        client = application.test_client()
        codes = [api_login(client, "nobody").status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        assert_problem(api_login(client, "nobody"), 429)
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- second factor


def test_totp_flow(app, client, make_user):
    secret = pyotp.random_base32()
    make_user("manager", username="mohan", totp_secret=secret)
    first = api_login(client, "mohan")
    assert first.status_code == 200
    challenge = first.get_json()
    assert challenge["otp_required"] is True and "access_token" not in challenge
    assert challenge["expires_in"] == app.config["JWT_OTP_TTL_SECONDS"]
    assert refresh_rows() == []  # nothing usable yet
    # The OTP token is not an access token.
    assert_problem(client.get("/api/v1/me", headers=bearer(challenge["otp_token"])), 401)

    bad = client.post("/api/v1/auth/otp", json={"otp_token": challenge["otp_token"], "code": "000000"})
    assert_problem(bad, 401, "not valid")
    assert fresh_user("mohan").failed_logins == 1
    assert "auth.totp_failed" in actions()

    code = pyotp.TOTP(secret).now()
    good = client.post("/api/v1/auth/otp", json={"otp_token": challenge["otp_token"], "code": code})
    assert good.status_code == 200, good.get_data(as_text=True)
    pair = good.get_json()
    assert client.get("/api/v1/me", headers=bearer(pair["access_token"])).get_json()["role"] == "manager"
    assert fresh_user("mohan").failed_logins == 0
    assert len(refresh_rows()) == 1

    # The same code cannot be replayed, even with a fresh challenge.
    again = api_login(client, "mohan").get_json()
    assert_problem(client.post("/api/v1/auth/otp", json={"otp_token": again["otp_token"], "code": code}), 401)


def test_recovery_code_finishes_sign_in_once(client, make_user):
    user = make_user("manager", username="mohan", totp_secret=pyotp.random_base32())
    codes = staff_auth.regenerate_recovery_codes(user)
    uow.commit()
    for expected in (200, 401):
        challenge = api_login(client, "mohan").get_json()
        response = client.post("/api/v1/auth/otp", json={"otp_token": challenge["otp_token"], "code": codes[0]})
        assert response.status_code == expected
    assert "auth.recovery_code_used" in actions()


def test_expired_or_forged_otp_token_is_refused(app, client, make_user):
    user = make_user("manager", username="mohan", totp_secret=pyotp.random_base32())
    now = utcnow()
    stale = jwt.encode(
        {
            "sub": str(user.id),
            "kind": "staff",
            "role": "manager",
            "type": "otp",
            "iat": now - timedelta(minutes=10),
            "exp": now - timedelta(minutes=5),
            "jti": "x",
        },
        app.config["JWT_SECRET"],
        algorithm="HS256",
    )
    assert_problem(client.post("/api/v1/auth/otp", json={"otp_token": stale, "code": "123456"}), 401, "Sign in again")
    access, _ = tokens.access_token(tokens.staff_subject(user))  # an access token is not an OTP token
    assert_problem(client.post("/api/v1/auth/otp", json={"otp_token": access, "code": "123456"}), 401)


def test_users_who_must_enrol_are_sent_to_the_web(app, client, make_user):
    app.config["STAFF_TOTP_REQUIRED"] = True
    make_user("clerk", username="asha")
    body = assert_problem(api_login(client, "asha"), 403, "on the web")
    assert body["type"].endswith("/forbidden")
    assert refresh_rows() == []


# ---------------------------------------------------------------- access tokens


def _token(app, user: StaffUser, **overrides) -> str:
    now = utcnow()
    claims = {
        "sub": str(user.id),
        "kind": "staff",
        "role": user.role,
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=15),
        "jti": "j",
    }
    claims.update(overrides)
    return jwt.encode(claims, app.config["JWT_SECRET"], algorithm="HS256")


def test_expired_access_token_is_401(app, client, make_user):
    user = make_user("clerk", username="asha")
    now = utcnow()
    expired = _token(app, user, iat=now - timedelta(minutes=20), exp=now - timedelta(minutes=5))
    response = client.get("/api/v1/me", headers=bearer(expired))
    assert_problem(response, 401, "expired")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me", headers=bearer(_token(app, user))).status_code == 200


def test_missing_forged_or_malformed_tokens_are_401(app, client, make_user):
    user = make_user("clerk", username="asha")
    forged = jwt.encode(
        {"sub": str(user.id), "kind": "staff", "type": "access", "iat": utcnow(), "exp": utcnow(), "jti": "j"},
        "not-the-secret-not-the-secret-not-the-secret",
        algorithm="HS256",
    )
    for headers in (
        {},
        {"Authorization": "Basic YXNoYTpw"},
        {"Authorization": "Bearer "},
        bearer("abc"),
        bearer(forged),
    ):
        assert_problem(client.get("/api/v1/me", headers=headers), 401)
    none_alg = jwt.encode({"sub": str(user.id), "kind": "staff", "type": "access"}, None, algorithm="none")
    assert_problem(client.get("/api/v1/me", headers=bearer(none_alg)), 401)


def test_token_of_a_deactivated_user_stops_working(app, client, make_user):
    user = make_user("clerk", username="asha")
    token = api_login(client, "asha").get_json()["access_token"]
    user.active = False
    db.session.commit()
    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401, "no longer")


def test_the_session_cookie_does_not_authenticate_the_api(client, login):
    login("clerk")
    assert client.get("/").status_code == 200  # signed in on the web
    assert_problem(client.get("/api/v1/me"), 401)


# ---------------------------------------------------------------- refresh and logout


def test_refresh_rotates_and_reuse_revokes_the_family(client, make_user):
    make_user("clerk", username="asha")
    first = api_login(client, "asha").get_json()
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert client.get("/api/v1/me", headers=bearer(second["access_token"])).status_code == 200
    old, new = refresh_rows()
    assert old.used_at is not None and old.revoked_at is None
    assert (new.parent_id, new.family_id, new.used_at) == (old.id, old.family_id, None)

    # The old token again: refused, and the new one dies with it.
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(replay, 401, "already used")
    assert all(row.revoked_at is not None for row in refresh_rows())
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}), 401)
    assert "api.refresh_reuse" in actions()
    # Another sign-in (another family) is unaffected.
    third = api_login(client, "asha").get_json()
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]}).status_code == 200


def test_refresh_refuses_unknown_expired_and_deactivated(client, make_user):
    user = make_user("clerk", username="asha")
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"}), 401)
    assert_problem(client.post("/api/v1/auth/refresh", json={}), 422)

    raw = api_login(client, "asha").get_json()["refresh_token"]
    (row,) = refresh_rows()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": raw}), 401, "expired")

    raw = api_login(client, "asha").get_json()["refresh_token"]
    user = fresh_user("asha")
    user.active = False
    db.session.commit()
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": raw}), 401, "no longer")
    assert db.session.scalar(select(func.count()).where(RefreshToken.revoked_at.is_(None))) == 0


def test_logout_revokes_the_family(client, make_user):
    make_user("clerk", username="asha")
    first = api_login(client, "asha").get_json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).get_json()
    other_device = api_login(client, "asha").get_json()

    response = client.post("/api/v1/auth/logout", json={"refresh_token": second["refresh_token"]})
    assert response.status_code == 204 and response.get_data() == b""
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}), 401)
    assert "api.logout" in actions()
    # The other device's sign-in is a different family and still works.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": other_device["refresh_token"]}).status_code == 200

    assert_problem(client.post("/api/v1/auth/logout", json={"refresh_token": "made-up"}), 401)
    assert_problem(client.post("/api/v1/auth/logout", json={}), 422, "refresh_token")


# ---------------------------------------------------------------- permissions


def _register_guarded_routes(app) -> None:
    bp = Blueprint("test_guarded", __name__)

    @bp.get("/api/test/users")
    @api_permission("users.manage")
    def manage_users():
        return jsonify({"by": current_subject().scope})

    @bp.get("/api/test/member-only")
    @api_member
    def member_only():
        return jsonify({})

    app.register_blueprint(bp)


def test_api_permission_follows_the_permission_table(app, client, make_user):
    _register_guarded_routes(app)
    assert app.view_functions["test_guarded.manage_users"]._permission == "users.manage"
    assert app.view_functions["test_guarded.member_only"]._permission == MEMBER
    admin = make_user("admin", username="root")
    make_user("clerk", username="asha")
    admin_token = api_login(client, "root").get_json()["access_token"]
    clerk_token = api_login(client, "asha").get_json()["access_token"]

    allowed = client.get("/api/test/users", headers=bearer(admin_token))
    assert allowed.status_code == 200 and allowed.get_json() == {"by": f"staff:{admin.id}"}
    assert_problem(client.get("/api/test/users", headers=bearer(clerk_token)), 403, "clerk")
    assert_problem(client.get("/api/test/users"), 401)
    assert_problem(client.get("/api/test/member-only", headers=bearer(admin_token)), 403)

    # Roles are read from the database on each request, not trusted from the token.
    clerk = fresh_user("asha")
    clerk.role = "admin"
    db.session.commit()
    assert client.get("/api/test/users", headers=bearer(clerk_token)).status_code == 200


def test_api_permission_rejects_unknown_permissions():
    with pytest.raises(KeyError):
        api_permission("no.such.permission")


# ---------------------------------------------------------------- revocation on account changes


def _live_tokens(user_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(RefreshToken.subject_id == user_id, RefreshToken.revoked_at.is_(None))
    )


def test_password_change_revokes_refresh_tokens(client, make_user):
    user = make_user("clerk", username="asha")
    phone = api_login(client, "asha").get_json()
    tablet = api_login(client, "asha").get_json()
    assert _live_tokens(user.id) == 2
    # Changed on the web.
    assert client.post("/auth/login", data={"username": "asha", "password": PASSWORD}).status_code == 302
    changed = client.post(
        "/auth/password",
        data={"current_password": PASSWORD, "new_password": "A-new-secret-99", "confirm": "A-new-secret-99"},
    )
    assert changed.status_code == 302
    assert _live_tokens(user.id) == 0
    for pair in (phone, tablet):
        assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "api.tokens_revoked"))
    assert entry.after == {"revoked": 2, "reason": "password changed"} and entry.entity_id == str(user.id)
    # Signing in with the new password gives working tokens again.
    fresh_pair = api_login(client, "asha", "A-new-secret-99").get_json()
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": fresh_pair["refresh_token"]}).status_code == 200


def test_failed_password_change_revokes_nothing(client, make_user):
    user = make_user("clerk", username="asha")
    pair = api_login(client, "asha").get_json()
    client.post("/auth/login", data={"username": "asha", "password": PASSWORD})
    wrong = client.post(
        "/auth/password",
        data={"current_password": "not-my-password", "new_password": "A-new-secret-99", "confirm": "A-new-secret-99"},
    )
    assert wrong.status_code == 422
    assert _live_tokens(user.id) == 1
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200


@pytest.mark.parametrize(("action", "reason"), [("reset-totp", "totp reset"), ("deactivate", "deactivated")])
def test_admin_reset_and_deactivation_revoke_refresh_tokens(client, make_user, action, reason):
    secret = pyotp.random_base32()
    target = make_user("manager", username="mohan", totp_secret=secret)
    challenge = api_login(client, "mohan").get_json()
    pair = client.post(
        "/api/v1/auth/otp", json={"otp_token": challenge["otp_token"], "code": pyotp.TOTP(secret).now()}
    ).get_json()
    make_user("admin", username="root")
    other = api_login(client, "root").get_json()  # someone else's tokens are untouched
    assert client.post("/auth/login", data={"username": "root", "password": PASSWORD}).status_code == 302
    assert client.post(f"/staff/users/{target.id}/{action}").status_code == 302
    assert _live_tokens(target.id) == 0
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "api.tokens_revoked"))
    assert entry.after == {"revoked": 1, "reason": reason} and entry.actor_name == "root"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 200


def test_reactivation_revokes_nothing(client, make_user):
    target = make_user("clerk", username="asha")
    pair = api_login(client, "asha").get_json()
    make_user("admin", username="root")
    client.post("/auth/login", data={"username": "root", "password": PASSWORD})
    assert client.post(f"/staff/users/{target.id}/activate").status_code == 302
    assert _live_tokens(target.id) == 1
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200


# ---------------------------------------------------------------- lockout at the OTP step


def test_locked_user_cannot_finish_with_a_valid_code(app, client, make_user):
    secret = pyotp.random_base32()
    make_user("manager", username="mohan", totp_secret=secret)
    challenge = api_login(client, "mohan").get_json()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/api/v1/auth/otp", json={"otp_token": challenge["otp_token"], "code": "000000"})
    assert fresh_user("mohan").locked_until is not None
    good = client.post("/api/v1/auth/otp", json={"otp_token": challenge["otp_token"], "code": pyotp.TOTP(secret).now()})
    assert_problem(good, 401, "locked")
    assert refresh_rows() == []
    assert actions()[-1] == "auth.login_locked"


def test_verify_second_factor_refuses_a_locked_user(app, make_user):
    secret = pyotp.random_base32()
    user = make_user("manager", username="mohan", totp_secret=secret)
    user.locked_until = utcnow() + timedelta(minutes=5)
    with pytest.raises(AuthError, match="locked"):
        staff_auth.verify_second_factor(user, pyotp.TOTP(secret).now())
    assert user.totp_last_counter is None  # the code was not consumed


def test_api_locked_account_answers_the_same_whatever_the_password(client, make_user):
    make_user("clerk", username="asha")
    user = fresh_user("asha")
    user.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    wrong = assert_problem(api_login(client, "asha", "wrong-password"), 401)
    right = assert_problem(api_login(client, "asha"), 401)
    assert wrong == right and wrong["detail"] == staff_auth.SIGN_IN_FAILED


def test_otp_endpoint_has_its_own_rate_limit(otp_limited_client):
    client = otp_limited_client
    token = api_login(client, "mohan").get_json()["otp_token"]
    codes = [client.post("/api/v1/auth/otp", json={"otp_token": token, "code": "000000"}).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert_problem(client.post("/api/v1/auth/otp", json={"otp_token": token, "code": "000000"}), 429)
    assert api_login(client, "mohan").status_code == 200  # the login budget is separate
