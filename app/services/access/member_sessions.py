"""Member portal sessions (signed-in devices) and the member's portal language.

A signed-in device is a ``MemberSession`` row keyed by a keyed hash of the random cookie token;
ending one (or all but the current) is audited. Re-exported by ``member_auth``. Callers commit.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app import crypto
from app.extensions import db
from app.models.base import utcnow
from app.models.members import Member, MemberLogin
from app.models.portal import MemberPreference, MemberSession
from app.services.common import audit

# ---------------------------------------------------------------- portal sessions (signed-in devices)


def _session_hash(token: str) -> str:
    return crypto.lookup_hash(f"member-session:{token}")


def start_session(login: MemberLogin, *, ip: str | None, user_agent: str | None) -> tuple[MemberSession, str]:
    """Record a signed-in device; returns the row and the random token to keep in the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = MemberSession(
        login_id=login.id,
        token_hash=_session_hash(token),
        ip=(ip or "")[:45] or None,
        user_agent=(user_agent or "")[:255] or None,
        created_at=now,
        last_seen_at=now,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("member.session_started", "member_login", login.id, after={"session_id": row.id})
    return row, token


def live_session(login_id: int, token: str | None) -> MemberSession | None:
    """The live session row of this cookie token for this login, or None."""
    if not token:
        return None
    row = db.session.scalar(select(MemberSession).where(MemberSession.token_hash == _session_hash(token)))
    if row is None or row.login_id != login_id or row.revoked_at is not None:
        return None
    return row


def touch_session(row: MemberSession) -> bool:
    """Move ``last_seen_at`` on at most once a minute; True when the row changed (the caller commits)."""
    now = utcnow()
    if (now - row.last_seen_at).total_seconds() < 60:
        return False
    row.last_seen_at = now
    return True


def sessions(login: MemberLogin) -> list[MemberSession]:
    """The member's live devices, most recently used first."""
    return list(
        db.session.scalars(
            select(MemberSession)
            .where(MemberSession.login_id == login.id, MemberSession.revoked_at.is_(None))
            .order_by(MemberSession.last_seen_at.desc(), MemberSession.id.desc())
        )
    )


def end_session(row: MemberSession, reason: str = "signed out") -> None:
    """Sign one device out."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_reason = reason[:40]
        audit.record(
            "member.session_ended", "member_login", row.login_id, after={"session_id": row.id, "reason": reason}
        )


def revoke_sessions(login: MemberLogin, *, reason: str, keep_id: int | None = None) -> int:
    """Sign out every device of the login except ``keep_id``; returns how many were ended."""
    ended = 0
    for row in sessions(login):
        if row.id != keep_id:
            end_session(row, reason)
            ended += 1
    return ended


# ---------------------------------------------------------------- language


def language_of(member: Member) -> str | None:
    """The member's saved portal language, if any."""
    pref = db.session.scalar(select(MemberPreference).where(MemberPreference.member_id == member.id))
    return pref.language if pref else None


def set_language(member: Member, language: str) -> None:
    """Remember the member's language (any code with a catalogue, checked by the caller)."""
    pref = db.session.scalar(select(MemberPreference).where(MemberPreference.member_id == member.id))
    if pref is None:
        pref = MemberPreference(member_id=member.id, language=language, updated_at=utcnow())
        db.session.add(pref)
    elif pref.language == language:
        return
    before = pref.language
    pref.language = language
    pref.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "member.language", "member", member.member_no, before={"language": before}, after={"language": language}
    )
