"""API sign-in and token endpoints (/api/v1/auth/...) and /api/v1/me."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from app.blueprints.api import bp
from app.blueprints.api import openapi as _openapi  # noqa: F401  (registers /v1/openapi.json and /docs)
from app.blueprints.api.auth import (
    api_authenticated,
    api_public,
    current_subject,
    forbidden,
    login_flows,
    register_second_factor,
    second_factors,
)
from app.blueprints.api.common import client_ip, domain_problem, json_body, require_str, user_agent
from app.blueprints.api.openapi import api_doc, boolean, integer, obj, ref, schema, string
from app.blueprints.api.serializers import member_json
from app.extensions import limiter
from app.models.base import utcnow
from app.services import access
from app.services.access import staff_auth, tokens
from app.services.common import AuthError, audit, uow
from app.settings import setting

PROBLEM = ref("Problem")
TOKENS = schema(
    "TokenPair",
    obj(
        access_token=string("JWT access token; send as `Authorization: Bearer …`"),
        refresh_token=string("Opaque refresh token; single use, rotates on every refresh"),
        token_type=string(enum=["Bearer"]),
        expires_in=integer("Access token lifetime in seconds"),
        required=["access_token", "refresh_token", "token_type", "expires_in"],
    ),
)
OTP_CHALLENGE = schema(
    "OtpChallenge",
    obj(
        otp_required=boolean(enum=[True]),
        otp_token=string("Send with the code to /api/v1/auth/otp"),
        expires_in=integer("Seconds the otp_token stays valid"),
        required=["otp_required", "otp_token"],
    ),
)
LOGIN = schema(
    "LoginRequest",
    obj(
        username=string("Staff username"),
        password=string(format="password"),
        description="Staff sign in with username and password.",
        required=["username", "password"],
    ),
)
OTP = schema(
    "OtpRequest",
    obj(
        otp_token=string(),
        code=string("Current 6-digit TOTP code, or an unused recovery code"),
        required=["otp_token", "code"],
    ),
)
REFRESH = schema("RefreshRequest", obj(refresh_token=string(), required=["refresh_token"]))
ME = schema(
    "Me",
    obj(
        kind=string(enum=["staff", "member"]),
        username=string(),
        role=string(),
        full_name=string(),
        required=["kind"],
    ),
)


def _login_limit() -> str:
    return setting("RATELIMIT_LOGIN")


def _otp_limit() -> str:
    return setting("RATELIMIT_OTP")


def _tokens_response(pair: tokens.TokenPair) -> Response:
    response = jsonify(pair.as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(exc: AuthError) -> Response:
    """Keep what the failure recorded (attempt counters, revocations, audit) and answer 401."""
    uow.commit()
    return domain_problem(exc)


def complete_sign_in(subject: tokens.Subject, method: str) -> Response:
    """Issue a token pair after every factor has been checked, commit, and answer with it."""
    if subject.kind == "staff":
        staff_auth.mark_logged_in(subject.entity, method=method, actor=subject.actor(client_ip(), user_agent()))
    pair = tokens.issue_pair(subject, ip=client_ip(), user_agent=user_agent())
    uow.commit()
    return _tokens_response(pair)


def otp_challenge(subject: tokens.Subject) -> Response:
    """Answer a correct password with a short-lived OTP token for the second factor."""
    token, ttl = tokens.otp_token(subject)
    audit.record("api.otp_challenge", subject.entity_type, subject.id, actor=subject.actor(client_ip(), user_agent()))
    uow.commit()
    response = jsonify({"otp_required": True, "otp_token": token, "expires_in": ttl})
    response.headers["Cache-Control"] = "no-store"
    return response


def _staff_login(data: dict) -> Response:
    username, password = require_str(data, "username", "password")
    try:
        result = staff_auth.authenticate(username, password)
    except AuthError as exc:
        return _refused(exc)
    user = result.user
    subject = tokens.staff_subject(user)
    if result.needs_enrolment:
        audit.record(
            "auth.login_refused",
            "staff_user",
            user.id,
            after={"reason": "totp enrolment required", "channel": "api"},
            actor=subject.actor(client_ip(), user_agent()),
        )
        uow.commit()
        return forbidden(
            "Two-factor authentication is required for your account. Sign in once on the web to set up "
            "your authenticator app, then sign in here again."
        )
    if result.needs_totp:
        return otp_challenge(subject)
    return complete_sign_in(subject, "api:password")


def _staff_second_factor(subject: tokens.Subject, code: str) -> str:
    return staff_auth.verify_second_factor(subject.entity, code, actor=subject.actor(client_ip(), user_agent()))


register_second_factor("staff", _staff_second_factor)


@bp.post("/v1/auth/login")
@api_doc(
    "Sign in",
    tags=["auth"],
    description=(
        "Staff: `{username, password}`. Answers the token pair, or `otp_required` with an `otp_token` "
        "when the user has two-factor authentication (finish at /api/v1/auth/otp). Repeated failures "
        "lock the account for a while."
    ),
    request=LOGIN,
    responses={
        200: ("Tokens, or an OTP challenge", {"oneOf": [TOKENS, OTP_CHALLENGE]}),
        401: ("Wrong username or password, account locked or deactivated", PROBLEM),
        403: ("Two-factor enrolment required: enrol on the web first", PROBLEM),
    },
    rate_limited=True,
)
@api_public
@limiter.limit(_login_limit)
def login() -> Response:
    """Sign in with a password; tokens or an OTP challenge."""
    data = json_body()
    for field_name, handler in login_flows.items():
        if field_name in data:
            return handler(data)
    return _staff_login(data)


@bp.post("/v1/auth/otp")
@api_doc(
    "Finish sign-in with a second factor",
    tags=["auth"],
    description="Exchange the `otp_token` from /auth/login and a TOTP or recovery code for the token pair.",
    request=OTP,
    responses={200: ("Tokens", TOKENS), 401: ("Wrong code, expired otp_token or account locked", PROBLEM)},
    rate_limited=True,
)
@api_public
@limiter.limit(_otp_limit)
def otp() -> Response:
    """Check the second factor and issue the tokens."""
    data = json_body()
    otp_token, code = require_str(data, "otp_token", "code", max_length=2000)
    try:
        claims = tokens.decode_otp(otp_token)
    except AuthError as exc:
        return domain_problem(exc)
    subject = tokens.load_subject(claims.kind, claims.subject_id)
    verifier = second_factors.get(claims.kind)
    if subject is None or verifier is None:
        return domain_problem(AuthError("This account can no longer sign in. Contact your administrator."))
    # Staff lockout is enforced inside staff_auth.verify_second_factor (shared with the web
    # TOTP step); other kinds whose verifier does not check it are refused here.
    user = subject.entity
    locked_until = getattr(user, "locked_until", None)
    if subject.kind != "staff" and locked_until and locked_until > utcnow():
        after = staff_auth.register_failure(user, utcnow())  # every attempt counts, also while locked
        audit.record(
            "auth.login_locked", subject.entity_type, subject.id, after=after, actor=subject.actor(client_ip())
        )
        minutes = int((locked_until - utcnow()).total_seconds() // 60) + 1
        return _refused(AuthError(f"Account locked after repeated failures. Try again in {minutes} minute(s)."))
    try:
        method = verifier(subject, code)
    except AuthError as exc:
        return _refused(exc)
    return complete_sign_in(subject, f"api:password+{method}")


@bp.post("/v1/auth/refresh")
@api_doc(
    "Rotate the refresh token",
    tags=["auth"],
    description=(
        "Answers a new token pair; the refresh token sent is used up. Sending a used-up token again "
        "signs out every session of that sign-in (theft protection)."
    ),
    request=REFRESH,
    responses={200: ("New tokens", TOKENS), 401: ("Unknown, expired, used or revoked refresh token", PROBLEM)},
)
@api_public
def refresh() -> Response:
    """Rotate a refresh token into a new token pair."""
    (raw,) = require_str(json_body(), "refresh_token", max_length=200)
    try:
        pair = tokens.refresh(raw, ip=client_ip(), user_agent=user_agent())
    except AuthError as exc:
        return _refused(exc)
    uow.commit()
    return _tokens_response(pair)


@bp.post("/v1/auth/logout")
@api_doc(
    "Sign out",
    tags=["auth"],
    description="Revokes the refresh token and every token rotated from the same sign-in.",
    request=REFRESH,
    responses={204: "Signed out", 401: ("Unknown refresh token", PROBLEM)},
)
@api_public
def logout() -> Response:
    """Revoke the refresh token's family."""
    (raw,) = require_str(json_body(), "refresh_token", max_length=200)
    try:
        tokens.revoke_family(raw, ip=client_ip(), user_agent=user_agent())
    except AuthError as exc:
        return _refused(exc)
    uow.commit()
    return current_app.response_class(status=204)


@bp.get("/v1/me")
@api_doc("Who am I", tags=["auth"], responses={200: ("The signed-in user", ME)})
@api_authenticated
def me() -> Response:
    """The caller's identity."""
    subject = current_subject()
    if subject.kind == "staff":
        user = subject.entity
        return jsonify({"kind": "staff", "username": user.username, "role": user.role, "full_name": user.full_name})
    member = access.own_member(subject)
    return jsonify(
        {
            "kind": "member",
            "username": member.member_no,
            "role": "member",
            "full_name": member.name,
            "member": member_json(member),
        }
    )
