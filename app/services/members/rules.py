"""The member rules other domains ask: may this member open an account or borrow, is the
person a minor or a senior citizen, is the KYC current, when is re-KYC due.

Each rule is one function here; deposits, loans, shares, the screens and the templates call
it rather than re-deriving it (ages from settings MEMBER_MIN_AGE / SENIOR_CITIZEN_AGE).
"""

from __future__ import annotations

from datetime import date

from app.models.members import Member
from app.services.common import ValidationError
from app.services.common import validators as v
from app.services.ledger import calendar
from app.settings import setting

PURPOSES = {"account": "open deposit accounts", "loan": "borrow", "shares": "buy shares"}


def today() -> date:
    """The open business date, or the calendar date when no day is open."""
    return calendar.business_date_or_today()


def _born(who: Member | date) -> date:
    return who.date_of_birth if isinstance(who, Member) else who


def age(who: Member | date, on: date | None = None) -> int:
    """Completed years on ``on`` (default: the business date) of a member or a birth date."""
    return v.age_on(_born(who), on or today())


def is_minor(who: Member | date, on: date | None = None) -> bool:
    """Younger than MEMBER_MIN_AGE on the date (a member, a nominee's or applicant's birth date)."""
    return age(who, on) < int(setting("MEMBER_MIN_AGE"))


def is_senior_citizen(who: Member | date, on: date | None = None) -> bool:
    """Aged SENIOR_CITIZEN_AGE or more on the date (senior FD/RD rate, TDS threshold)."""
    return age(who, on) >= int(setting("SENIOR_CITIZEN_AGE"))


def has_pan(member: Member) -> bool:
    """Whether a PAN is on record (TDS at 10% instead of 20%)."""
    return bool(member.pan)


def has_pan_or_form60(member: Member) -> bool:
    """Whether a PAN or the account-opening Form 60 is in the KYC file.

    The KYC file's Form 60 covers the account opening only: cash of ₹50,000+ in a day from a
    member without PAN needs a Form 60 for that transaction (the counter asks for it).
    """
    return bool(member.pan) or bool(member.form60_on_file)


def kyc_current(member: Member, on: date | None = None) -> bool:
    """KYC approved (not merely submitted for re-KYC) and its re-KYC date not passed."""
    if member.kyc_status != "approved":
        return False
    return member.rekyc_due_on is None or member.rekyc_due_on >= (on or today())


def eligibility_problem(member: Member, purpose: str = "account", on: date | None = None) -> str | None:
    """Why the member may not open a deposit account (``purpose="account"``), borrow
    (``"loan"``) or buy shares now, or None when they may.

    Only an active member whose KYC is approved and not past its re-KYC date qualifies; a
    KYC submitted for review (first time or re-KYC) is not current until it is approved.
    """
    what = PURPOSES.get(purpose, PURPOSES["account"])
    no = member.member_no
    if member.status == "applicant":
        return f"Member {no} is still an applicant; only active members can {what}: admit the member (fee and shares) first."
    if member.status != "active":
        return f"Member {no} is {member.status}; only active members can {what}."
    if member.kyc_status != "approved":
        return f"Member {no}'s KYC is {member.kyc_status}; it must be approved before they can {what}."
    if not kyc_current(member, on):
        return f"Member {no}'s KYC expired on {member.rekyc_due_on:%d-%m-%Y}; complete re-KYC first."
    return None


def is_eligible_for_accounts(member: Member, on: date | None = None) -> bool:
    """Active member with current KYC: may open deposit accounts and apply for loans."""
    return eligibility_problem(member, "account", on) is None


def ensure_eligible(
    member: Member, purpose: str = "account", *, field: str = "member_no", on: date | None = None
) -> None:
    """Raise ValidationError (on ``field``) unless the member qualifies for ``purpose``."""
    problem = eligibility_problem(member, purpose, on)
    if problem:
        raise ValidationError(problem, field=field)


def ensure_eligible_for_accounts(member: Member, on: date | None = None) -> None:
    """Raise ValidationError (field ``member_no``) unless the member may open accounts."""
    ensure_eligible(member, "account", on=on)


def rekyc_years(risk: str) -> int:
    """Years between KYC updates for a risk category (settings REKYC_YEARS_LOW/MEDIUM/HIGH)."""
    return int(setting(f"REKYC_YEARS_{risk.upper()}"))


def rekyc_due_date(risk: str, approved_on: date) -> date:
    """When the next periodic KYC update falls due after an approval on ``approved_on``."""
    return v.add_years(approved_on, rekyc_years(risk))
