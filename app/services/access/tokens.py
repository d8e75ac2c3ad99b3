"""API tokens: short-lived JWT access tokens, rotating opaque refresh tokens, OTP challenges.

* Access token: HS256 JWT signed with ``JWT_SECRET``; claims ``sub`` (the subject's id as a
  string), ``kind`` ("staff"/"member"), ``role``, ``type`` ("access"), ``iat``, ``exp``, ``jti``
  ``fam``, the refresh-token family (the sign-in) it belongs to, and ``sid``, the id of the
  refresh-token row issued with it. Revoking a family marks every row of it, so
  :func:`verify_access` refuses the token as soon as its sign-in is revoked (sign-out,
  refresh-token reuse, password change, 2FA reset, deactivation): one primary-key lookup
  per request (``bench/token_check.py`` measures it).
* Refresh token: 256 random bits, handed out once and stored only as its SHA-256. Each use
  rotates it (the old one is marked used, the successor joins the same family); presenting a
  used or revoked token again revokes the whole family (the token was stolen or replayed).
* OTP token: a JWT of ``type`` "otp" that proves the password step for ``JWT_OTP_TTL_SECONDS``.

Who may hold tokens is pluggable: a *subject loader* per kind turns an id into a ``Subject``
(or None when the subject may no longer sign in). Staff is built in; the member API registers
``register_subject_loader("member", ...)``. Callers commit (security events are audited into
the current unit of work, also when an ``AuthError`` is raised).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import current_app
from sqlalchemy import delete, select, update

from app.crypto import token_hash
from app.extensions import db
from app.models.api import RefreshToken
from app.models.base import utcnow
from app.models.users import StaffUser
from app.services.common import Actor, AuthError, audit

ALGORITHM = "HS256"
ACCESS = "access"
OTP = "otp"
ENTITY_TYPES = {"staff": "staff_user", "member": "member"}


@dataclass(frozen=True)
class Subject:
    """Someone who may hold API tokens: a staff user or a member."""

    kind: str  # "staff" | "member"
    id: int
    role: str  # the staff role, or "member"
    name: str
    entity: Any = field(default=None, compare=False, repr=False)  # the loaded row (StaffUser, Member)

    @property
    def scope(self) -> str:
        """The principal as a string ("staff:3"), used to scope idempotency keys."""
        return f"{self.kind}:{self.id}"

    @property
    def entity_type(self) -> str:
        """The audit entity type of this subject."""
        return ENTITY_TYPES.get(self.kind, self.kind)

    def actor(self, ip: str | None = None, user_agent: str | None = None) -> Actor:
        """The audit actor for requests made with this subject's token."""
        return Actor(type=self.kind, id=self.id, name=self.name, role=self.role, ip=ip, user_agent=user_agent)


@dataclass(frozen=True)
class TokenPair:
    """What a successful sign-in or refresh hands back."""

    access_token: str
    refresh_token: str
    expires_in: int

    def as_json(self) -> dict[str, Any]:
        """The response body of the token endpoints."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


@dataclass(frozen=True)
class Claims:
    """The verified claims of an access or OTP token."""

    kind: str
    subject_id: int
    role: str
    type: str
    jti: str
    expires_at: datetime
    family_id: str | None = None
    session_id: int | None = None  # the refresh-token row issued with this access token


# ---------------------------------------------------------------- subjects

SubjectLoader = Callable[[int], "Subject | None"]
_loaders: dict[str, SubjectLoader] = {}


def register_subject_loader(kind: str, loader: SubjectLoader) -> None:
    """Teach the token layer how to load subjects of ``kind`` (None: may not sign in)."""
    _loaders[kind] = loader


def staff_subject(user: StaffUser) -> Subject:
    """The token subject of a staff user."""
    return Subject(kind="staff", id=user.id, role=user.role, name=user.username, entity=user)


def _load_staff(user_id: int) -> Subject | None:
    user = db.session.get(StaffUser, user_id)
    if user is None or not user.active:
        return None
    return staff_subject(user)


register_subject_loader("staff", _load_staff)


def load_subject(kind: str, subject_id: int) -> Subject | None:
    """The current subject for a token, or None when unknown, deactivated or of an unknown kind."""
    loader = _loaders.get(kind)
    return loader(subject_id) if loader else None


# ---------------------------------------------------------------- JWTs


def _secret() -> str:
    return current_app.config["JWT_SECRET"]


def _encode(subject: Subject, token_type: str, ttl: int, session: RefreshToken | None = None) -> str:
    now = utcnow()
    payload: dict[str, Any] = {
        "sub": str(subject.id),
        "kind": subject.kind,
        "role": subject.role,
        "type": token_type,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
        "jti": uuid.uuid4().hex,
    }
    if session is not None:
        payload["fam"] = session.family_id
        payload["sid"] = session.id
    return jwt.encode(payload, _secret(), algorithm=ALGORITHM)


def _decode(token: str, token_type: str) -> Claims:
    try:
        payload = jwt.decode(
            token,
            _secret(),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "kind", "type", "iat", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("The token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("The token is not valid.") from exc
    if payload.get("type") != token_type:
        raise AuthError("The token is not valid for this purpose.")
    try:
        subject_id = int(payload["sub"])
    except (TypeError, ValueError) as exc:
        raise AuthError("The token is not valid.") from exc
    return Claims(
        kind=str(payload["kind"]),
        subject_id=subject_id,
        role=str(payload.get("role") or ""),
        type=token_type,
        jti=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(payload["exp"], tz=UTC),
        family_id=str(payload["fam"]) if payload.get("fam") else None,
        session_id=payload["sid"] if isinstance(payload.get("sid"), int) else None,
    )


def access_token(subject: Subject, session: RefreshToken | None = None) -> tuple[str, int]:
    """A fresh access token for ``subject`` bound to the sign-in of ``session``, and its lifetime.

    The API only hands out bound tokens (:func:`issue_pair`, :func:`refresh`); an unbound token
    is refused by :func:`verify_access` unless ``JWT_REQUIRE_FAMILY`` is off (test set-ups only).
    """
    ttl = int(current_app.config["JWT_ACCESS_TTL_SECONDS"])
    return _encode(subject, ACCESS, ttl, session), ttl


def decode_access(token: str) -> Claims:
    """Verify an access token's signature, expiry and type (not its family: see verify_access)."""
    return _decode(token, ACCESS)


def session_live(session_id: int, family_id: str) -> bool:
    """Whether the sign-in of an access token is still live: its refresh-token row exists, belongs
    to ``family_id`` and is not revoked (revoking a family marks every row). One primary-key lookup.
    """
    row = db.session.execute(
        select(RefreshToken.family_id, RefreshToken.revoked_at).where(RefreshToken.id == session_id)
    ).first()
    return row is not None and row.family_id == family_id and row.revoked_at is None


def verify_access(token: str) -> Claims:
    """Verify an access token and that its sign-in is still live; AuthError when refused.

    Raises AuthError with ``revoked`` in the message when the family was signed out or revoked.
    """
    claims = _decode(token, ACCESS)
    if claims.family_id is None or claims.session_id is None:
        if current_app.config.get("JWT_REQUIRE_FAMILY", True):
            raise AuthError("The token is not valid.")
        return claims
    if not session_live(claims.session_id, claims.family_id):
        raise AuthError("The token was revoked: its sign-in has been signed out.")
    return claims


def otp_token(subject: Subject) -> tuple[str, int]:
    """A short-lived token proving the password step; exchanged with a code at /auth/otp."""
    ttl = int(current_app.config["JWT_OTP_TTL_SECONDS"])
    return _encode(subject, OTP, ttl), ttl


def decode_otp(token: str) -> Claims:
    """Verify an OTP token; AuthError when it is expired, forged or of another type."""
    try:
        return _decode(token, OTP)
    except AuthError as exc:
        raise AuthError("The sign-in step has expired or is not valid. Sign in again.") from exc


# ---------------------------------------------------------------- refresh tokens


def _new_refresh(
    subject: Subject, *, family_id: str, parent_id: int | None, ip: str | None, user_agent: str | None
) -> tuple[str, RefreshToken]:
    """A new refresh token: the raw value (handed out once) and its stored row (flushed: it has an id)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    row = RefreshToken(
        token_hash=token_hash(raw),
        family_id=family_id,
        subject_kind=subject.kind,
        subject_id=subject.id,
        parent_id=parent_id,
        issued_at=now,
        expires_at=now + timedelta(seconds=int(current_app.config["JWT_REFRESH_TTL_SECONDS"])),
        ip=ip,
        user_agent=(user_agent or None) and user_agent[:255],
    )
    db.session.add(row)
    db.session.flush()
    return raw, row


def issue_pair(subject: Subject, *, ip: str | None = None, user_agent: str | None = None) -> TokenPair:
    """Start a new token family for ``subject`` (after a complete sign-in)."""
    family_id = uuid.uuid4().hex
    raw, row = _new_refresh(subject, family_id=family_id, parent_id=None, ip=ip, user_agent=user_agent)
    access, ttl = access_token(subject, row)
    audit.record(
        "api.tokens_issued",
        subject.entity_type,
        subject.id,
        after={"family": family_id},
        actor=subject.actor(ip, user_agent),
    )
    return TokenPair(access, raw, ttl)


def _find(raw: str) -> RefreshToken | None:
    if not raw or len(raw) > 200:
        return None
    return db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash(raw)))


def _revoke_family(family_id: str) -> int:
    result = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _token_actor(row: RefreshToken, ip: str | None, user_agent: str | None) -> Actor:
    return Actor(type=row.subject_kind, id=row.subject_id, ip=ip, user_agent=user_agent)


def refresh(raw: str, *, ip: str | None = None, user_agent: str | None = None) -> TokenPair:
    """Rotate a refresh token: mark it used and issue a successor in the same family.

    Reuse of a used or revoked token revokes the whole family and raises AuthError, as do an
    unknown or expired token and a subject who may no longer sign in. The caller commits in
    every case, so that the revocation and the audit row are kept.
    """
    row = _find(raw)
    if row is None:
        audit.record("api.refresh_invalid", after={"reason": "unknown token"}, actor=Actor(type="anonymous", ip=ip))
        raise AuthError("The refresh token is not valid. Sign in again.")
    entity_type = ENTITY_TYPES.get(row.subject_kind, row.subject_kind)
    now = utcnow()
    # Mark it used only if nobody else has: two concurrent refreshes cannot both succeed.
    claimed = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        revoked = _revoke_family(row.family_id)
        audit.record(
            "api.refresh_reuse",
            entity_type,
            row.subject_id,
            after={"family": row.family_id, "token_id": row.id, "revoked": revoked},
            actor=_token_actor(row, ip, user_agent),
        )
        raise AuthError("This refresh token was already used; every session it belongs to is now signed out.")
    if row.expires_at <= now:
        _revoke_family(row.family_id)
        audit.record(
            "api.refresh_expired",
            entity_type,
            row.subject_id,
            after={"family": row.family_id},
            actor=_token_actor(row, ip, user_agent),
        )
        raise AuthError("The refresh token has expired. Sign in again.")
    subject = load_subject(row.subject_kind, row.subject_id)
    if subject is None:
        _revoke_family(row.family_id)
        audit.record(
            "api.refresh_refused",
            entity_type,
            row.subject_id,
            after={"family": row.family_id, "reason": "inactive"},
            actor=_token_actor(row, ip, user_agent),
        )
        raise AuthError("This account can no longer sign in. Contact your administrator.")
    new_raw, new_row = _new_refresh(subject, family_id=row.family_id, parent_id=row.id, ip=ip, user_agent=user_agent)
    access, ttl = access_token(subject, new_row)
    audit.record(
        "api.token_refreshed",
        subject.entity_type,
        subject.id,
        after={"family": row.family_id},
        actor=subject.actor(ip, user_agent),
    )
    return TokenPair(access, new_raw, ttl)


def revoke_family(raw: str, *, ip: str | None = None, user_agent: str | None = None) -> int:
    """Sign a device out: revoke every token in the family of ``raw`` (AuthError if unknown)."""
    row = _find(raw)
    if row is None:
        audit.record("api.logout_invalid", after={"reason": "unknown token"}, actor=Actor(type="anonymous", ip=ip))
        raise AuthError("The refresh token is not valid.")
    revoked = _revoke_family(row.family_id)
    audit.record(
        "api.logout",
        ENTITY_TYPES.get(row.subject_kind, row.subject_kind),
        row.subject_id,
        after={"family": row.family_id, "revoked": revoked},
        actor=_token_actor(row, ip, user_agent),
    )
    return revoked


def revoke_all_for(kind: str, subject_id: int, *, reason: str | None = None) -> int:
    """Revoke every live refresh token of a subject (password change, 2FA reset, deactivation).

    The access tokens of those families stop working with them (see :func:`verify_access`).
    """
    result = db.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.subject_kind == kind,
            RefreshToken.subject_id == subject_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    count = result.rowcount or 0
    after: dict[str, Any] = {"revoked": count}
    if reason:
        after["reason"] = reason
    audit.record("api.tokens_revoked", ENTITY_TYPES.get(kind, kind), subject_id, after=after)
    return count


def purge_expired_before(cutoff: datetime) -> int:
    """Delete the refresh-token families whose every token expired before ``cutoff``; returns rows.

    An expired token is refused whatever its state, so its row only served reuse detection,
    which an expired token cannot trigger any more. Whole families go at once (a rotated
    token points at its parent), so a family with a live token is kept entire.
    """
    live = select(RefreshToken.family_id).where(RefreshToken.expires_at >= cutoff)
    result = db.session.execute(
        delete(RefreshToken).where(RefreshToken.family_id.not_in(live)).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
