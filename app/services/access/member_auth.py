"""Member sign-in for the app and portal: self-registration, password, then a one-time SMS code.

A self-registered applicant gets a ``MemberLogin`` (mobile + scrypt password hash) and a
one-time code by SMS through the notification outbox; entering it proves the mobile. Every
later sign-in is mobile + password, then a fresh code. Codes are 6 digits, stored only as a
keyed hash, expire after ``MEMBER_OTP_TTL_SECONDS``, die after ``MEMBER_OTP_MAX_ATTEMPTS``
wrong tries, and at most ``MEMBER_OTP_MAX_PER_HOUR`` are sent per login. Wrong passwords
lock the login like staff logins. Registers the ``member`` subject loader for API tokens.
Callers commit.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app import crypto
from app.extensions import db
from app.models.base import utcnow
from app.models.members import Member, MemberLogin, MemberOtp
from app.services import members as members_service
from app.services.common import AuthError, DomainError, ValidationError, audit, notifications
from app.services.common import validators as v

from . import tokens
from .staff_auth import is_locked, register_failure

SIGN_IN_FAILED = "Invalid mobile number or password. Repeated failures pause sign-in for a while."

PASSWORD_METHOD = "scrypt"
_DUMMY_HASH = generate_password_hash("timing-equaliser-member-password", method=PASSWORD_METHOD)
CLOSED_STATUSES = frozenset({"deceased", "expelled"})
MOBILE_TAKEN = "This mobile number already has a login. Sign in, or ask your branch to reset it."


class TooManyCodes(DomainError):
    """Too many one-time codes were requested in the last hour."""

    status = 429
    type = "too-many-codes"
    title = "Too many codes requested"


def check_password_policy(password: str, mobile: str | None) -> None:
    """Raise ValidationError (field ``password``) unless the password is acceptable."""
    minimum = int(current_app.config["MEMBER_PASSWORD_MIN_LENGTH"])
    if not isinstance(password, str) or len(password) < minimum:
        raise ValidationError(f"Password must be at least {minimum} characters.", field="password")
    if len(password) > 256:
        raise ValidationError("Password can be at most 256 characters.", field="password")
    if password.isdigit():
        raise ValidationError("Password must not be only digits; add letters.", field="password")
    if mobile and mobile in password:
        raise ValidationError("Password must not contain your mobile number.", field="password")


def find_login(mobile: str) -> MemberLogin | None:
    """The login for a mobile number (any accepted format), or None."""
    try:
        number = v.clean_mobile(mobile)
    except ValidationError:
        return None
    return db.session.scalar(select(MemberLogin).where(MemberLogin.mobile == number))


def login_for_member(member: Member) -> MemberLogin | None:
    """The member's login, if they have one."""
    return db.session.scalar(select(MemberLogin).where(MemberLogin.member_id == member.id))


def self_register(data: Mapping[str, Any], password: str) -> tuple[Member, MemberLogin, MemberOtp]:
    """Register an applicant with a login; sends the mobile-verification code (every error at once)."""
    errors: dict[str, list[str]] = {}
    mobile = None
    with contextlib.suppress(ValidationError):  # a bad mobile is reported by the registration itself
        mobile = v.clean_mobile(str(data.get("mobile") or ""))
    try:
        check_password_policy(password, mobile)
    except ValidationError as exc:
        errors["password"] = [exc.message]
    if mobile and db.session.scalar(select(MemberLogin.id).where(MemberLogin.mobile == mobile)):
        errors["mobile"] = [MOBILE_TAKEN]
    try:
        member = members_service.register(data, by=None, self_registered=True)
    except ValidationError as exc:
        for field, messages in exc.errors.items():
            errors.setdefault(field, []).extend(m for m in messages if m not in errors.get(field, []))
        raise ValidationError(
            "Please correct the problems shown." if len(errors) > 1 else exc.message, errors=errors
        ) from exc
    if errors:
        raise ValidationError(
            next(iter(errors.values()))[0] if len(errors) == 1 else "Please correct the problems shown.", errors=errors
        )
    login = MemberLogin(
        member_id=member.id,
        mobile=member.mobile,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        active=True,
        failed_logins=0,
        created_at=utcnow(),
    )
    try:
        # A simultaneous registration with the same mobile can pass the check above: the
        # unique index decides, inside a savepoint, and the loser gets the same field error.
        with db.session.begin_nested():
            db.session.add(login)
            db.session.flush()
    except IntegrityError as exc:
        raise ValidationError(MOBILE_TAKEN, field="mobile") from exc
    audit.record("member.login_created", "member", member.member_no, after={"mobile": v.mask_mobile(login.mobile)})
    otp = issue_otp(login, "register")
    return member, login, otp


def create_login(member: Member, password: str, *, verified: bool = True) -> MemberLogin:
    """Staff or seed: give an existing member a login (mobile verified at the branch)."""
    check_password_policy(password, member.mobile)
    if login_for_member(member) is not None:
        raise ValidationError(f"{member.member_no} already has a login.", field="mobile")
    if db.session.scalar(select(MemberLogin.id).where(MemberLogin.mobile == member.mobile)):
        raise ValidationError("Another member's login already uses this mobile number.", field="mobile")
    login = MemberLogin(
        member_id=member.id,
        mobile=member.mobile,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        active=True,
        failed_logins=0,
        verified_at=utcnow() if verified else None,
        created_at=utcnow(),
    )
    db.session.add(login)
    db.session.flush()
    audit.record("member.login_created", "member", member.member_no, after={"mobile": v.mask_mobile(login.mobile)})
    return login


def authenticate(mobile: str, password: str) -> MemberLogin:
    """Check mobile and password with lockout; AuthError (audited) when refused. The caller commits."""
    login = find_login(mobile)
    if login is None:
        check_password_hash(_DUMMY_HASH, password or "")
        audit.record("member.login_failed", "member_login", None, after={"reason": "unknown mobile"})
        raise AuthError(SIGN_IN_FAILED)
    now = utcnow()
    # The same answer for a locked login whatever the password, and every attempt counts
    # (growing back-off: staff_auth.lockout_span).
    password_ok = check_password_hash(login.password_hash, password or "")
    if is_locked(login, now):
        audit.record("member.login_locked", "member_login", login.id, after=register_failure(login, now))
        raise AuthError(SIGN_IN_FAILED)
    if not password_ok:
        after = register_failure(login, now)
        action = "member.lockout" if "locked_until" in after else "member.login_failed"
        audit.record(action, "member_login", login.id, after=after)
        raise AuthError(SIGN_IN_FAILED)
    if not login.active:
        audit.record("member.login_refused", "member_login", login.id, after={"reason": "inactive"})
        raise AuthError("Online access is switched off for this membership. Contact your branch.")
    if login.member.status in CLOSED_STATUSES:
        audit.record("member.login_refused", "member_login", login.id, after={"reason": login.member.status})
        raise AuthError("This membership is closed. Contact your branch.")
    return login


def issue_otp(login: MemberLogin, purpose: str) -> MemberOtp:
    """Send a fresh 6-digit code by SMS (earlier unused codes stop working)."""
    now = utcnow()
    sent = db.session.scalar(
        select(func.count())
        .select_from(MemberOtp)
        .where(MemberOtp.login_id == login.id, MemberOtp.created_at > now - timedelta(hours=1))
    )
    if sent >= int(current_app.config["MEMBER_OTP_MAX_PER_HOUR"]):
        raise TooManyCodes("Too many codes were sent to this mobile in the last hour. Try again later.")
    for old in db.session.scalars(
        select(MemberOtp).where(MemberOtp.login_id == login.id, MemberOtp.consumed_at.is_(None))
    ):
        old.consumed_at = now
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = int(current_app.config["MEMBER_OTP_TTL_SECONDS"])
    otp = MemberOtp(
        login_id=login.id,
        purpose=purpose,
        code_hash=_code_hash(login, code),
        attempts=0,
        expires_at=now + timedelta(seconds=ttl),
        created_at=now,
    )
    db.session.add(otp)
    db.session.flush()
    what = "verify your mobile number" if purpose == "register" else "sign in"
    notifications.sms(
        login.mobile,
        f"otp_{purpose}",
        f"{notifications.secret(code)} is your {current_app.config['SOCIETY_NAME']} code to {what}. "
        f"It expires in {max(1, ttl // 60)} minutes. Never share it, not even with bank staff.",
        member_id=login.member_id,
    )
    audit.record("member.otp_sent", "member_login", login.id, after={"purpose": purpose})
    return otp


def _code_hash(login: MemberLogin, code: str) -> str:
    return crypto.lookup_hash(f"member-otp:{login.id}:{code}")


def verify_otp(login: MemberLogin, code: str) -> str:
    """Check a one-time code; marks the mobile verified and the login used. Returns ``"sms"``."""
    now = utcnow()
    otp = db.session.scalar(
        select(MemberOtp)
        .where(MemberOtp.login_id == login.id, MemberOtp.consumed_at.is_(None))
        .order_by(MemberOtp.id.desc())
        .limit(1)
    )
    if is_locked(login, now):  # wrong codes count towards the lockout like wrong passwords
        audit.record("member.login_locked", "member_login", login.id, after=register_failure(login, now))
        raise AuthError("Sign-in is paused after repeated failures. Try again later.")
    if otp is None or otp.expires_at <= now:
        audit.record("member.otp_failed", "member_login", login.id, after={"reason": "no live code"})
        raise AuthError("The code has expired or was already used. Sign in again to get a new one.")
    cleaned = "".join(ch for ch in (code or "") if ch.isdigit())
    if not hmac.compare_digest(_code_hash(login, cleaned), otp.code_hash):
        otp.attempts += 1
        left = int(current_app.config["MEMBER_OTP_MAX_ATTEMPTS"]) - otp.attempts
        if left <= 0:
            otp.consumed_at = now
        after = {"attempts": otp.attempts, **register_failure(login, now)}
        audit.record("member.otp_failed", "member_login", login.id, after=after)
        raise AuthError(
            "Wrong code." + (f" {left} attempt(s) left." if left > 0 else " Sign in again to get a new code.")
        )
    otp.consumed_at = now
    first = login.verified_at is None
    if first:
        login.verified_at = now
    login.failed_logins = 0
    login.locked_until = None
    login.last_login_at = now
    audit.record("member.login", "member_login", login.id, after={"method": "password+sms", "mobile_verified": first})
    return "sms"


# ---------------------------------------------------------------- API token subjects


def subject_for(login: MemberLogin) -> tokens.Subject:
    """The API token subject of a member login (id = login id, name = member number)."""
    return tokens.Subject(kind="member", id=login.id, role="member", name=login.member.member_no, entity=login)


def load_subject(login_id: int) -> tokens.Subject | None:
    """Subject loader for member tokens: None when the login is off or the membership closed."""
    login = db.session.get(MemberLogin, login_id)
    if login is None or not login.active or login.member.status in CLOSED_STATUSES:
        return None
    return subject_for(login)


tokens.register_subject_loader("member", load_subject)
