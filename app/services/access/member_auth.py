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
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app import crypto
from app.extensions import db
from app.models.base import utcnow
from app.models.members import Member, MemberLogin, MemberOtp
from app.services import members as members_service
from app.services.common import AuthError, DomainError, ValidationError, approvals, audit, notifications
from app.services.common import validators as v
from app.settings import setting

from . import tokens
from .member_sessions import (  # noqa: F401  (portal devices and language, re-exported for callers)
    end_session,
    language_of,
    live_session,
    revoke_sessions,
    sessions,
    set_language,
    start_session,
    touch_session,
)
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


def issue_otp(login: MemberLogin, purpose: str, *, to: str | None = None) -> MemberOtp:
    """Send a fresh 6-digit code by SMS (earlier unused codes stop working).

    ``to`` sends it to another number (a new mobile being proven). A second code for the
    same purpose within ``MEMBER_OTP_RESEND_SECONDS`` is refused (resend cool-down).
    """
    now = utcnow()
    if purpose not in ("register", "login"):  # sign-in codes: the password step and its rate limit guard them
        _check_resend_cooldown(login, purpose, now)
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
    what = OTP_PURPOSE_TEXT.get(purpose, "sign in")
    notifications.sms(
        to or login.mobile,
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


# ---------------------------------------------------------------- activation, reset, contact change

OTP_PURPOSE_TEXT = {
    "register": "verify your mobile number",
    "login": "sign in",
    "activate": "activate online banking",
    "reset": "reset your password",
    "contact": "confirm your new contact details",
    "transfer": "confirm a transfer",
    "payout": "confirm a payment to another bank",
}


def resend_otp(login: MemberLogin, purpose: str) -> MemberOtp:
    """ "Send the code again": refused within MEMBER_OTP_RESEND_SECONDS of the last code of ``purpose``."""
    _check_resend_cooldown(login, purpose, utcnow())
    return issue_otp(login, purpose)


def _check_resend_cooldown(login: MemberLogin, purpose: str, now) -> None:
    """Refuse a new code of the same purpose sooner than MEMBER_OTP_RESEND_SECONDS after the last one."""
    wait = int(setting("MEMBER_OTP_RESEND_SECONDS"))
    if wait <= 0 or login.id is None:
        return
    last = db.session.scalar(
        select(func.max(MemberOtp.created_at)).where(MemberOtp.login_id == login.id, MemberOtp.purpose == purpose)
    )
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is not None and (now - last).total_seconds() < wait:
        left = wait - int((now - last).total_seconds())
        raise TooManyCodes(_("A code was sent just now. You can ask for another in %(seconds)s seconds.", seconds=left))


def check_code(login: MemberLogin, purpose: str, code: str) -> MemberOtp:
    """Check the live code of ``purpose``: counted attempts, expiry, then spent. AuthError when refused."""
    now = utcnow()
    otp = db.session.scalar(
        select(MemberOtp)
        .where(MemberOtp.login_id == login.id, MemberOtp.consumed_at.is_(None), MemberOtp.purpose == purpose)
        .order_by(MemberOtp.id.desc())
        .limit(1)
    )
    if otp is None or otp.expires_at <= now:
        audit.record(
            "member.otp_failed", "member_login", login.id, after={"reason": "no live code", "purpose": purpose}
        )
        raise AuthError(_("The code has expired or was already used. Ask for a new code."))
    cleaned = "".join(ch for ch in (code or "") if ch.isdigit())
    if not hmac.compare_digest(_code_hash(login, cleaned), otp.code_hash):
        otp.attempts += 1
        left = int(current_app.config["MEMBER_OTP_MAX_ATTEMPTS"]) - otp.attempts
        if left <= 0:
            otp.consumed_at = now
        audit.record(
            "member.otp_failed", "member_login", login.id, after={"attempts": otp.attempts, "purpose": purpose}
        )
        if left > 0:
            raise AuthError(_("Wrong code. %(left)s attempt(s) left.", left=left))
        raise AuthError(_("Wrong code. This code is now locked: ask for a new code."))
    otp.consumed_at = now
    audit.record("member.otp_verified", "member_login", login.id, after={"purpose": purpose})
    return otp


def _admitted_member(mobile: str, date_of_birth) -> Member:
    """The admitted member with this mobile and date of birth (one message for every mismatch)."""
    refused = AuthError(
        _(
            "We could not find an admitted member with this mobile number and date of birth. Check them, or visit your branch."
        )
    )
    try:
        number = v.clean_mobile(mobile)
    except ValidationError:
        raise refused from None
    for member in db.session.scalars(select(Member).where(Member.mobile == number)):
        if member.date_of_birth == date_of_birth and member.status == "active":
            return member
    audit.record("member.activation_refused", "member", None, after={"mobile": v.mask_mobile(number)})
    raise refused


def start_activation(mobile: str, date_of_birth) -> MemberLogin:
    """Activation step 1: an admitted member proves mobile + date of birth; a code goes to that mobile.

    A member without a login gets one with an unusable password until step 2 sets it. A
    member whose login is already in use is told to sign in (or reset the password).
    """
    member = _admitted_member(mobile, date_of_birth)
    login = login_for_member(member)
    if login is not None and login.verified_at is not None and login.last_login_at is not None:
        raise ValidationError(
            _("Online banking is already active for this mobile. Sign in, or use 'Forgot password'."), field="mobile"
        )
    if login is None:
        if db.session.scalar(select(MemberLogin.id).where(MemberLogin.mobile == member.mobile)):
            raise ValidationError(_(MOBILE_TAKEN), field="mobile")
        login = MemberLogin(
            member_id=member.id,
            mobile=member.mobile,
            password_hash=generate_password_hash(secrets.token_urlsafe(32), method=PASSWORD_METHOD),
            active=True,
            failed_logins=0,
            created_at=utcnow(),
        )
        db.session.add(login)
        db.session.flush()
        audit.record("member.login_created", "member", member.member_no, after={"mobile": v.mask_mobile(login.mobile)})
    if not login.active:
        raise AuthError(_("Online access is switched off for this membership. Contact your branch."))
    issue_otp(login, "activate")
    return login


def finish_activation(login: MemberLogin, password: str) -> MemberLogin:
    """Activation step 3 (after ``check_code(login, "activate", ...)``): set the password."""
    check_password_policy(password, login.mobile)
    now = utcnow()
    login.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    login.verified_at = login.verified_at or now
    login.failed_logins = 0
    login.locked_until = None
    audit.record("member.activated", "member_login", login.id, after={"member_no": login.member.member_no})
    return login


def start_reset(mobile: str, date_of_birth) -> MemberLogin | None:
    """Forgot password step 1: a code to the registered mobile (None, silently, for an unknown one)."""
    login = find_login(mobile)
    if login is None or not login.active or login.member.date_of_birth != date_of_birth:
        audit.record("member.reset_refused", "member_login", login.id if login else None)
        return None
    issue_otp(login, "reset")
    return login


def finish_reset(login: MemberLogin, password: str) -> MemberLogin:
    """Forgot password step 3 (after ``check_code(login, "reset", ...)``): new password, every device signed out."""
    check_password_policy(password, login.mobile)
    login.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    login.failed_logins = 0
    login.locked_until = None
    ended = revoke_sessions(login, reason="password reset")
    audit.record("member.password_reset", "member_login", login.id, after={"sessions_ended": ended})
    return login


def change_password(login: MemberLogin, current: str, new: str, *, keep_session_id: int | None = None) -> None:
    """A signed-in member changes the password; the other devices are signed out."""
    if not check_password_hash(login.password_hash, current or ""):
        audit.record("member.password_change_refused", "member_login", login.id)
        raise ValidationError(_("Your current password is not right."), field="current_password")
    check_password_policy(new, login.mobile)
    login.password_hash = generate_password_hash(new, method=PASSWORD_METHOD)
    ended = revoke_sessions(login, reason="password changed", keep_id=keep_session_id)
    audit.record("member.password_changed", "member_login", login.id, after={"sessions_ended": ended})


def start_contact_change(login: MemberLogin, *, mobile: str | None = None, email: str | None = None) -> dict:
    """Ask to change the mobile or e-mail: a code goes to the new mobile (an e-mail change: to the current one).

    Returns the cleaned change (``{"mobile": ...}`` or ``{"email": ...}``) for the caller to
    keep until the code is confirmed with ``finish_contact_change``.
    """
    member = login.member
    if mobile:
        number = v.clean_mobile(mobile)
        if number == member.mobile:
            raise ValidationError(_("This is already your mobile number."), field="mobile")
        taken = db.session.scalar(
            select(MemberLogin.id).where(MemberLogin.mobile == number, MemberLogin.id != login.id)
        )
        if taken:
            raise ValidationError(_("Another member's online login already uses this mobile number."), field="mobile")
        issue_otp(login, "contact", to=number)
        audit.record(
            "member.contact_change_requested", "member", member.member_no, after={"mobile": v.mask_mobile(number)}
        )
        return {"mobile": number}
    cleaned = v.clean_email(email)
    if not cleaned:
        raise ValidationError(_("Give a new mobile number or e-mail address."), field="email")
    if cleaned == (member.email or "").lower():
        raise ValidationError(_("This is already your e-mail address."), field="email")
    issue_otp(login, "contact")
    audit.record("member.contact_change_requested", "member", member.member_no, after={"email": cleaned})
    return {"email": cleaned}


def finish_contact_change(login: MemberLogin, change: Mapping[str, str], code: str) -> Member:
    """Confirm a contact change with its code; the member record (and login mobile) change, audited."""
    check_code(login, "contact", code)
    member = login.member
    data = {k: change[k] for k in ("mobile", "email") if change.get(k)}
    if not data:
        raise ValidationError(_("Nothing to change."))
    members_service.update(member, data, by=None)
    if "mobile" in data:
        login.mobile = member.mobile
        login.verified_at = utcnow()  # the code just went to the new number
    audit.record(
        "member.contact_changed", "member", member.member_no, after={"fields": sorted(data), "channel": "portal"}
    )
    return member


def transfer_code_needed(amount_paise: int) -> bool:
    """Whether a member's transfer of this amount needs a one-time code (PORTAL_TRANSFER_OTP_PAISE)."""
    return int(amount_paise) > int(setting("PORTAL_TRANSFER_OTP_PAISE"))


NOMINEE_CHANGE = "members.nominee_change"


def request_nominee_change(login: MemberLogin, details: str):
    """A member asks the branch to change their nominees: a request in the staff approval queue.

    Nothing changes until staff act: approving records that the branch made the change (staff
    edit the nominees on the member's record, with the nominee's signed form).
    """
    text = " ".join((details or "").split())
    if len(text) < 5:
        raise ValidationError(_("Describe the change."), field="details")
    member = login.member
    pending = [r for r in approvals.pending(NOMINEE_CHANGE) if (r.payload or {}).get("member_no") == member.member_no]
    if pending:
        raise ValidationError(_("You already have a nominee change request with the branch."), field="details")
    req = approvals.submit(
        NOMINEE_CHANGE,
        {"member_no": member.member_no, "details": text[:500], "channel": "portal", "login_id": login.id},
        maker=None,
        summary=f"Nominee change asked by {member.member_no} {member.name}: {text}"[:255],
        entity=("member", member.member_no),
    )
    audit.record("member.nominee_change_requested", "member", member.member_no, after={"approval_id": req.id})
    return req


def _nominee_change_done(req, checker) -> dict:
    return {"member_no": (req.payload or {}).get("member_no"), "handled_by": checker.username}


approvals.register(
    NOMINEE_CHANGE, label="Nominee change (member request)", permission="members.manage", execute=_nominee_change_done
)


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
