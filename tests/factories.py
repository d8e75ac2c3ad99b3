"""Test factories for rows other domains need (members ready for accounts, etc.)."""

from __future__ import annotations

from datetime import date
from itertools import count

from app.extensions import db
from app.models.members import Member

_seq = count(1)


def make_member(
    *,
    name: str = "Sunita Patil",
    status: str = "active",
    kyc_status: str = "approved",
    date_of_birth: date = date(1985, 6, 15),
    pan: str | None = None,
    form60: bool = False,
    mobile: str | None = None,
    **extra,
) -> Member:
    """A member row made directly (no workflow): active with approved KYC by default."""
    n = next(_seq)
    member = Member(
        member_no=f"M{n:06d}",
        name=name,
        date_of_birth=date_of_birth,
        gender="female",
        mobile=mobile or f"98{n:08d}",
        address_line="12 Station Road",
        village_town="Nashik",
        district="Nashik",
        state="Maharashtra",
        pin="422001",
        member_type="regular",
        status=status,
        kyc_status=kyc_status,
        pan=pan,
        form60_on_file=form60,
        joined_on=date(2025, 4, 1) if status == "active" else None,
        **extra,
    )
    db.session.add(member)
    db.session.flush()
    return member
