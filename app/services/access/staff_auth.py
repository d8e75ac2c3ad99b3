"""Staff authentication: passwords, lockout, TOTP, recovery codes, user administration."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from app.crypto import decrypt, encrypt, lookup_hash
from app.extensions import db
from app.models.base import utcnow
from app.models.users import ROLES, RecoveryCode, StaffUser
from app.services.common import Actor, AuthError, Conflict, NotFound, ValidationError, audit

from . import tokens

PASSWORD_METHOD = "scrypt"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_CHARS = 16  # base32: 80 bits, shown as four groups of four
RECOVERY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
TOTP_MIN_SECRET_CHARS = 23  # pyotp refuses secrets under 112 bits (23 base32 characters)
_DUMMY_HASH = generate_password_hash("timing-equaliser-password", method=PASSWORD_METHOD)
#: The one answer to every refused password step: unknown user, wrong password, or a locked
#: account whatever the password (so the lock tells nobody whether a guess was right).
SIGN_IN_FAILED = "Invalid username or password. Repeated failures pause sign-in to an account for a while."


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def check_password_policy(password: str, username: str) -> None:
    """Raise ValidationError unless the password meets the policy."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ValidationError(f"Password must be at least {minimum} characters.", field="password")
    if password.strip().lower() == username.strip().lower():
        raise ValidationError("Password must not be the same as the username.", field="password")


def actor_for(user: StaffUser, ip: str | None = None, user_agent: str | None = None) -> Actor:
    return Actor(type="staff", id=user.id, name=user.username, role=user.role, ip=ip, user_agent=user_agent)


def user_snapshot(user: StaffUser) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "active": user.active,
        "totp_enabled": user.totp_enabled,
        "branch_id": user.branch_id,
    }


def get_user(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound("No such staff user.")
    return user


def find_by_username(username: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(func.lower(StaffUser.username) == username.strip().lower()))


def create_user(  # noqa: PLR0913  (keyword-only fields of a new user)
    *,
    username: str,
    password: str,
    role: str,
    full_name: str | None = None,
    email: str | None = None,
    totp_secret: str | None = None,
    branch_id: int | None = None,
) -> StaffUser:
    """Create a staff user (the caller commits)."""
    username = username.strip()
    if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").isalnum():
        raise ValidationError("Username must be letters, digits, dots or underscores.", field="username")
    if role not in ROLES:
        raise ValidationError(f"Role must be one of {', '.join(ROLES)}.", field="role")
    check_password_policy(password, username)
    if find_by_username(username):
        raise Conflict("That username is taken.", field="username")
    user = StaffUser(
        username=username,
        full_name=(full_name or username).strip(),
        email=email,
        role=role,
        branch_id=branch_id,
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
        active=True,
        failed_logins=0,
    )
    if totp_secret:
        totp_secret = check_totp_secret(totp_secret)
        user.totp_secret_enc = encrypt(totp_secret)
        user.totp_enabled = True
    db.session.add(user)
    db.session.flush()
    audit.record("staff.create", "staff_user", user.id, after=user_snapshot(user))
    return user


def check_totp_secret(secret: str) -> str:
    """Return a usable TOTP secret (upper-cased, no spaces) or raise ValidationError saying why not."""
    cleaned = (secret or "").replace(" ", "").upper()
    if not cleaned or any(ch not in RECOVERY_ALPHABET for ch in cleaned.rstrip("=")):
        raise ValidationError("TOTP secret must be base32 (letters A-Z and digits 2-7 only).", field="totp_secret")
    if len(cleaned.rstrip("=")) < TOTP_MIN_SECRET_CHARS:
        raise ValidationError(
            f"TOTP secret is too short ({len(cleaned.rstrip('='))} characters): it must decode to at least "
            f"112 bits, i.e. {TOTP_MIN_SECRET_CHARS} or more base32 characters (32 recommended, as made by "
            "pyotp.random_base32()). Or leave it out and enrol with the QR code at first sign-in.",
            field="totp_secret",
        )
    try:
        pyotp.TOTP(cleaned).now()
    except Exception as exc:  # binascii / ValueError from pyotp: pass on its reason
        raise ValidationError(f"TOTP secret is not usable: {exc}.", field="totp_secret") from exc
    return cleaned


@dataclass
class LoginResult:
    user: StaffUser
    needs_totp: bool
    needs_enrolment: bool


def lockout_span(failures: int) -> timedelta | None:
    """How long ``failures`` consecutive failures lock an account for (None: not yet).

    ``LOGIN_MAX_FAILURES`` failures lock for ``LOGIN_LOCKOUT_MINUTES``; every failure after
    that (also those made while locked) doubles the next lock, up to ``LOGIN_LOCKOUT_MAX_MINUTES``.
    """
    config = current_app.config
    extra = failures - int(config["LOGIN_MAX_FAILURES"])
    if extra < 0:
        return None
    minutes = int(config["LOGIN_LOCKOUT_MINUTES"]) * 2 ** min(extra, 20)
    return timedelta(minutes=min(minutes, int(config["LOGIN_LOCKOUT_MAX_MINUTES"])))


def register_failure(account: Any, now: datetime) -> dict[str, Any]:
    """Count one failed attempt on a staff user or member login and lock it when due.

    The counter is incremented in SQL (concurrent guesses are all counted). An account that
    is already locked stays locked until its time (the count makes the next lock longer).
    Returns what the audit row should say.
    """
    account = account._get_current_object() if hasattr(account, "_get_current_object") else account  # current_user
    model = type(account)
    failures = db.session.execute(
        update(model)
        .where(model.id == account.id)
        .values(failed_logins=func.coalesce(model.failed_logins, 0) + 1)
        .returning(model.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(account, "failed_logins", failures)  # already written: not dirty again
    after: dict[str, Any] = {"failed_logins": failures}
    if is_locked(account, now):
        after["while_locked"] = True
        return after
    span = lockout_span(failures)
    if span is not None:
        account.locked_until = now + span
        after["locked_until"] = account.locked_until.isoformat()
    return after


def authenticate(username: str, password: str, *, actor: Actor | None = None) -> LoginResult:
    """Check a username and password, applying lockout. Failures are audited.

    Every refusal answers :data:`SIGN_IN_FAILED`, also for a locked account given the right
    password, and every attempt counts, also while locked. The caller commits in both cases
    (a failure still records the failed attempt).
    """
    user = find_by_username(username or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        audit.record(
            "auth.login_failed",
            "staff_user",
            None,
            after={"username": (username or "")[:64], "reason": "unknown user"},
            actor=actor,
        )
        raise AuthError(SIGN_IN_FAILED)
    now = utcnow()
    password_ok = check_password_hash(user.password_hash, password or "")  # always: the same time either way
    if is_locked(user, now):
        after = register_failure(user, now)
        audit.record("auth.login_locked", "staff_user", user.id, after=after, actor=actor)
        raise AuthError(SIGN_IN_FAILED)
    if not password_ok:
        after = register_failure(user, now)
        action = "auth.lockout" if "locked_until" in after else "auth.login_failed"
        audit.record(action, "staff_user", user.id, after=after, actor=actor)
        raise AuthError(SIGN_IN_FAILED)
    if not user.active:
        audit.record("auth.login_refused", "staff_user", user.id, after={"reason": "inactive"}, actor=actor)
        raise AuthError("This user has been deactivated. Contact your administrator.")
    return LoginResult(user=user, needs_totp=user.totp_enabled, needs_enrolment=enrolment_required(user))


def is_locked(user: Any, now: datetime | None = None) -> bool:
    """Whether repeated failures have locked the user (or member login) out for now."""
    return bool(user.locked_until and user.locked_until > (now or utcnow()))


def _locked_message(user: StaffUser, now: datetime) -> str:
    minutes = int((user.locked_until - now).total_seconds() // 60) + 1
    return f"Account locked after repeated failures. Try again in {minutes} minute(s)."


def enrolment_required(user: StaffUser) -> bool:
    """Whether the user must set up TOTP before finishing sign-in."""
    return bool(current_app.config["STAFF_TOTP_REQUIRED"]) and not user.totp_enabled


def mark_logged_in(user: StaffUser, *, method: str, actor: Actor | None = None) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    audit.record("auth.login", "staff_user", user.id, after={"method": method}, actor=actor)


def totp_secret(user: StaffUser) -> str | None:
    return decrypt(user.totp_secret_enc) if user.totp_secret_enc else None


def verify_second_factor(user: StaffUser, code: str, *, actor: Actor | None = None) -> str:
    """Accept a current TOTP code (once) or an unused recovery code; return which it was.

    The one check of a second factor, used by the web TOTP step, the API /auth/otp and
    re-enrolment. A locked user is refused even with a valid code; each wrong code counts
    towards the lockout. The caller commits in every case (the counter and audit row stay).
    """
    now = utcnow()
    if is_locked(user, now):
        after = {"step": "second factor", **register_failure(user, now)}
        audit.record("auth.login_locked", "staff_user", user.id, after=after, actor=actor)
        raise AuthError(_locked_message(user, now))
    code = (code or "").strip().replace(" ", "")
    secret = totp_secret(user)
    if secret and code.isdigit() and len(code) == 6:
        totp = pyotp.TOTP(secret)
        for offset in (-1, 0, 1):
            at = now + timedelta(seconds=30 * offset)
            counter = totp.timecode(at)
            if secrets.compare_digest(totp.at(at), code):
                if user.totp_last_counter is not None and counter <= user.totp_last_counter:
                    break  # replay of a code already used
                user.totp_last_counter = counter
                return "totp"
    if len(code) >= 8:
        digest = recovery_code_hash(code)
        for rc in user.recovery_codes:
            if rc.used_at is None and secrets.compare_digest(rc.code_hash, digest):
                rc.used_at = now
                audit.record("auth.recovery_code_used", "staff_user", user.id, actor=actor)
                return "recovery"
    after = register_failure(user, now)
    audit.record("auth.totp_failed", "staff_user", user.id, after=after, actor=actor)
    raise AuthError("That code is not valid. Enter the current 6-digit code from your authenticator app.")


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: StaffUser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=current_app.config["SOCIETY_NAME"])


def enable_totp(
    user: StaffUser, secret: str, code: str, *, current_code: str | None = None, actor: Actor | None = None
) -> list[str]:
    """Turn on TOTP after the user proves the new secret works; returns fresh recovery codes.

    A user who already has TOTP must also prove the current factor (``current_code``: a code
    from the old authenticator or an unused recovery code) before the secret is replaced;
    without one, re-enrolment goes through an administrator's reset. Raises ValidationError
    for a wrong new code or a missing current code (nothing changed) and AuthError for a
    wrong current code (the failure counts towards lockout; the caller commits).
    """
    totp = pyotp.TOTP(secret)
    if not totp.verify((code or "").strip(), valid_window=1):
        raise ValidationError("That code does not match. Check the time on your phone and try again.", field="code")
    replacing = bool(user.totp_enabled)
    if replacing:
        if not (current_code or "").strip():
            raise ValidationError(
                "Two-factor authentication is already on. Enter a code from your current authenticator app "
                "or a recovery code to replace it; if you have neither, ask an administrator to reset it.",
                field="current_code",
            )
        verify_second_factor(user, current_code or "", actor=actor)
    user.totp_secret_enc = encrypt(secret)
    user.totp_enabled = True
    user.totp_last_counter = totp.timecode(utcnow())
    codes = regenerate_recovery_codes(user)
    audit.record("auth.totp_enabled", "staff_user", user.id, after={"replaced": replacing}, actor=actor)
    return codes


def recovery_code_hash(code: str) -> str:
    """The keyed hash (HMAC with LOOKUP_HASH_KEY) a recovery code is stored and found by."""
    normalised = (code or "").strip().upper().replace("-", "").replace(" ", "")
    return lookup_hash(f"staff-recovery:{normalised}")


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_CHARS, 4))


def regenerate_recovery_codes(user: StaffUser) -> list[str]:
    """Replace the user's recovery codes; the plain codes are shown once and stored hashed."""
    user.recovery_codes.clear()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        code = _new_recovery_code()
        codes.append(code)
        user.recovery_codes.append(RecoveryCode(code_hash=recovery_code_hash(code)))
    return codes


def replace_recovery_codes(user: StaffUser, current_code: str, *, actor: Actor | None = None) -> list[str]:
    """Make new recovery codes after the user proves the current factor (TOTP or recovery code).

    Raises ValidationError when TOTP is off or no code was given, AuthError for a wrong code
    (counted towards lockout; the caller commits).
    """
    if not user.totp_enabled:
        raise ValidationError("Turn on two-factor authentication first.")
    if not (current_code or "").strip():
        raise ValidationError(
            "Enter a code from your authenticator app or a recovery code to make new recovery codes.",
            field="code",
        )
    verify_second_factor(user, current_code, actor=actor)
    codes = regenerate_recovery_codes(user)
    audit.record("auth.recovery_codes_regenerated", "staff_user", user.id, actor=actor)
    return codes


def reset_totp(user: StaffUser) -> None:
    """Admin action: clear a user's TOTP so they enrol again at next login; revokes API sessions."""
    before = user_snapshot(user)
    user.totp_secret_enc = None
    user.totp_enabled = False
    user.totp_last_counter = None
    user.recovery_codes.clear()
    audit.record("staff.totp_reset", "staff_user", user.id, before=before, after=user_snapshot(user))
    tokens.revoke_all_for("staff", user.id, reason="totp reset")


def change_password(user: StaffUser, current: str, new: str) -> None:
    """Change a user's own password (policy-checked) and sign out every API session they hold."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationError("Current password is wrong.", field="current_password")
    check_password_policy(new, user.username)
    if check_password_hash(user.password_hash, new):
        raise ValidationError("The new password must differ from the current one.", field="new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    audit.record("auth.password_changed", "staff_user", user.id)
    tokens.revoke_all_for("staff", user.id, reason="password changed")


def set_active(user: StaffUser, active: bool, *, by: StaffUser) -> None:
    """Activate or deactivate a user (not oneself); deactivation revokes their API sessions."""
    if user.id == by.id and not active:
        raise ValidationError("You cannot deactivate yourself.")
    before = user_snapshot(user)
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    audit.record(
        "staff.activate" if active else "staff.deactivate",
        "staff_user",
        user.id,
        before=before,
        after=user_snapshot(user),
    )
    if not active:
        tokens.revoke_all_for("staff", user.id, reason="deactivated")
