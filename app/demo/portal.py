"""Demo member portal login (DEMO DATA ONLY): one admitted member with money gets a password.

The member signs in at /portal/login with the mobile and ``DEMO_PASSWORD``; the SMS code is
not sent anywhere in the demo — the development server's log prints every message.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.members import Member, MemberLogin
from app.services.access import member_auth


def seed_portal_login(password: str) -> list[str]:
    """Give the demo member with the most accounts (savings first, a loan if any) a portal login."""
    existing = db.session.scalar(
        select(MemberLogin).where(MemberLogin.verified_at.is_not(None)).order_by(MemberLogin.id)
    )
    member = existing.member if existing is not None else None
    if member is None:
        candidates = db.session.scalars(
            select(Member).where(Member.status == "active", Member.kyc_status == "approved").order_by(Member.id)
        ).all()

        def score(m: Member) -> tuple[int, int]:
            kinds = set(db.session.scalars(select(Account.kind).where(Account.member_id == m.id)))
            return (("loan" in kinds) + ("savings" in kinds) * 2 + ("fd" in kinds) + ("rd" in kinds), -m.id)

        ranked = sorted(candidates, key=score, reverse=True)
        member = next((m for m in ranked if member_auth.login_for_member(m) is None), None)
        if member is None:
            return []
        member_auth.create_login(member, password)
    return [
        f"  member portal  {member.mobile} / {password}  ({member.member_no} {member.name}; /portal/login — "
        "the SMS code is printed in the server log, demo only)"
    ]
