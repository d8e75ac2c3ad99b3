"""Staff authentication: passwords, lockout, TOTP, recovery codes, user administration."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.crypto import decrypt, encrypt, token_hash
from app.extensions import db
from app.models.base import utcnow
from app.models.users import ROLES, RecoveryCode, StaffUser
from app.services import audit
from app.services.context import Actor
from app.services.errors import AuthError, Conflict, NotFound, ValidationError

PASSWORD_METHOD = "scrypt"
RECOVERY_CODE_COUNT = 10
_DUMMY_HASH = generate_password_hash("timing-equaliser-password", method=PASSWORD_METHOD)


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


def create_user(
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
        try:
            pyotp.TOTP(totp_secret).now()
        except Exception as exc:  # binascii errors for bad base32
            raise ValidationError("TOTP secret must be base32.", field="totp_secret") from exc
        user.totp_secret_enc = encrypt(totp_secret)
        user.totp_enabled = True
    db.session.add(user)
    db.session.flush()
    audit.record("staff.create", "staff_user", user.id, after=user_snapshot(user))
    return user


@dataclass
class LoginResult:
    user: StaffUser
    needs_totp: bool
    needs_enrolment: bool


def authenticate(username: str, password: str, *, actor: Actor | None = None) -> LoginResult:
    """Check a username and password, applying lockout. Failures are audited.

    The caller commits in both cases (a failure still records the failed attempt).
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
        raise AuthError("Invalid username or password.")
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        audit.record("auth.login_locked", "staff_user", user.id, actor=actor)
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        raise AuthError(f"Account locked after repeated failures. Try again in {minutes} minute(s).")
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        after = {"failed_logins": user.failed_logins}
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
            after["locked_until"] = user.locked_until.isoformat()
            audit.record("auth.lockout", "staff_user", user.id, after=after, actor=actor)
        else:
            audit.record("auth.login_failed", "staff_user", user.id, after=after, actor=actor)
        raise AuthError("Invalid username or password.")
    if not user.active:
        audit.record("auth.login_refused", "staff_user", user.id, after={"reason": "inactive"}, actor=actor)
        raise AuthError("This user has been deactivated. Contact your administrator.")
    needs_enrolment = current_app.config["STAFF_TOTP_REQUIRED"] and not user.totp_enabled
    return LoginResult(user=user, needs_totp=user.totp_enabled, needs_enrolment=needs_enrolment)


def mark_logged_in(user: StaffUser, *, method: str, actor: Actor | None = None) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    audit.record("auth.login", "staff_user", user.id, after={"method": method}, actor=actor)


def totp_secret(user: StaffUser) -> str | None:
    return decrypt(user.totp_secret_enc) if user.totp_secret_enc else None


def verify_second_factor(user: StaffUser, code: str, *, actor: Actor | None = None) -> str:
    """Accept a current TOTP code (once) or an unused recovery code; return which it was."""
    code = (code or "").strip().replace(" ", "")
    secret = totp_secret(user)
    if secret and code.isdigit() and len(code) == 6:
        totp = pyotp.TOTP(secret)
        now = utcnow()
        for offset in (-1, 0, 1):
            at = now + timedelta(seconds=30 * offset)
            counter = totp.timecode(at)
            if secrets.compare_digest(totp.at(at), code):
                if user.totp_last_counter is not None and counter <= user.totp_last_counter:
                    break  # replay of a code already used
                user.totp_last_counter = counter
                return "totp"
    if len(code) >= 8:
        digest = token_hash(code.upper().replace("-", ""))
        for rc in user.recovery_codes:
            if rc.used_at is None and secrets.compare_digest(rc.code_hash, digest):
                rc.used_at = utcnow()
                audit.record("auth.recovery_code_used", "staff_user", user.id, actor=actor)
                return "recovery"
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = utcnow() + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    audit.record("auth.totp_failed", "staff_user", user.id, after={"failed_logins": user.failed_logins}, actor=actor)
    raise AuthError("That code is not valid. Enter the current 6-digit code from your authenticator app.")


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: StaffUser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=current_app.config["SOCIETY_NAME"])


def enable_totp(user: StaffUser, secret: str, code: str) -> list[str]:
    """Turn on TOTP after the user proves the secret works; returns fresh recovery codes."""
    totp = pyotp.TOTP(secret)
    if not totp.verify((code or "").strip(), valid_window=1):
        raise ValidationError("That code does not match. Check the time on your phone and try again.", field="code")
    user.totp_secret_enc = encrypt(secret)
    user.totp_enabled = True
    user.totp_last_counter = totp.timecode(utcnow())
    codes = regenerate_recovery_codes(user)
    audit.record("auth.totp_enabled", "staff_user", user.id)
    return codes


def regenerate_recovery_codes(user: StaffUser) -> list[str]:
    """Replace the user's recovery codes; the plain codes are shown once and stored hashed."""
    user.recovery_codes.clear()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5).upper()
        codes.append(f"{raw[:5]}-{raw[5:]}")
        user.recovery_codes.append(RecoveryCode(code_hash=token_hash(raw)))
    return codes


def reset_totp(user: StaffUser) -> None:
    """Admin action: clear a user's TOTP so they enrol again at next login."""
    before = user_snapshot(user)
    user.totp_secret_enc = None
    user.totp_enabled = False
    user.totp_last_counter = None
    user.recovery_codes.clear()
    audit.record("staff.totp_reset", "staff_user", user.id, before=before, after=user_snapshot(user))


def change_password(user: StaffUser, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationError("Current password is wrong.", field="current_password")
    check_password_policy(new, user.username)
    if check_password_hash(user.password_hash, new):
        raise ValidationError("The new password must differ from the current one.", field="new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    audit.record("auth.password_changed", "staff_user", user.id)


def set_active(user: StaffUser, active: bool, *, by: StaffUser) -> None:
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
