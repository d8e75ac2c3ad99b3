"""The demo society: `flask demo-seed` builds a usable bank and is idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.demo import seed
from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.models.members import Member
from app.models.users import ROLES, StaffUser
from app.services import ledger


def _counts() -> tuple[int, int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (StaffUser, Member, Account, JournalEntry)
    )


def test_demo_seed_builds_members_deposits_and_a_verified_ledger(app):
    lines = seed(date(2026, 4, 1))
    text = "\n".join(lines)
    assert "DEMO CREDENTIALS" in text
    for role in ROLES:
        assert f"staff  {role}" in text
    assert "30 demo members" in text

    staff, members, accounts, entries = _counts()
    assert staff == len(ROLES)
    assert members == 30
    statuses = dict(db.session.execute(select(Member.status, func.count()).group_by(Member.status)).all())
    assert statuses["active"] >= 15 and statuses["applicant"] >= 5
    kinds = dict(db.session.execute(select(Account.kind, func.count()).group_by(Account.kind)).all())
    assert kinds["savings"] == 6 and kinds["fd"] == 4 and kinds["rd"] == 2
    assert entries > 0

    report = ledger.verify()
    assert report.ok, report.problems

    # Idempotent: a second run adds nothing.
    seed(date(2026, 4, 1))
    assert _counts() == (staff, members, accounts, entries)
