"""Member data scoping: what a subject may see, in one place (used by the API and the portal).

A *subject* is whoever asks: a staff user (a ``StaffUser``, or an API ``tokens.Subject`` of
kind "staff") sees every member's data — which screens and endpoints they may open at all is
the route's permission (``app/permissions.py``); a member (a ``Member``, a ``MemberLogin``, or
a ``tokens.Subject`` of kind "member") sees only their own profile and the accounts they hold
as first or joint holder. "Not yours" raises ``NotFound`` exactly as "not there" (same
message), so a member cannot probe for other members' numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from app.extensions import db
from app.models.deposits import AccountHolder
from app.models.ledger import Account
from app.models.members import Member

from ..common import NotFound, ValidationError

LOAN_KIND = "loan"


def member_id_of(subject: Any) -> int | None:
    """The member a subject is (None for staff); NotFound for anything that is neither."""
    if isinstance(subject, Member):
        return subject.id
    kind = getattr(subject, "kind", None)
    if kind == "staff":
        return None
    if kind == "member":
        entity = getattr(subject, "entity", None)
        if isinstance(entity, Member):
            return entity.id
        member_id = getattr(entity if entity is not None else subject, "member_id", None)
        if member_id is not None:
            return int(member_id)
        return int(subject.id)
    raise NotFound("Nothing to see here.")


def is_staff(subject: Any) -> bool:
    return not isinstance(subject, Member) and getattr(subject, "kind", None) == "staff"


def _holds(member_id: int) -> Any:
    """SQL condition: the account is held by ``member_id`` (first or joint holder)."""
    joint = select(AccountHolder.account_id).where(AccountHolder.member_id == member_id)
    return or_(Account.member_id == member_id, Account.id.in_(joint))


# ---------------------------------------------------------------- members


def visible_member(subject: Any, member_no: str) -> Member:
    """The member numbered ``member_no`` if the subject may see them (else NotFound)."""
    number = (member_no or "").strip().upper()
    member = db.session.scalar(select(Member).where(Member.member_no == number)) if number else None
    own = member_id_of(subject)
    if member is None or (own is not None and member.id != own):
        raise NotFound(f"No member {member_no!r}.")
    return member


def own_member(subject: Any) -> Member:
    """The member a member subject is (NotFound for staff, or a member row that vanished)."""
    own = member_id_of(subject)
    member = db.session.get(Member, own) if own is not None else None
    if member is None:
        raise NotFound("No such member.")
    return member


# ---------------------------------------------------------------- accounts


def visible_account(subject: Any, account_no: str, *, kinds: Iterable[str] | None = None) -> Account:
    """The member account numbered ``account_no`` if the subject may see it (else NotFound).

    Only accounts of members (not GL-only rows); ``kinds`` narrows to some kinds (e.g. the
    deposit kinds). Members see accounts they hold as first or joint holder.
    """
    number = (account_no or "").strip().upper()
    stmt = select(Account).where(Account.account_no == number, Account.member_id.is_not(None))
    if kinds is not None:
        stmt = stmt.where(Account.kind.in_(list(kinds)))
    own = member_id_of(subject)
    if own is not None:
        stmt = stmt.where(_holds(own))
    account = db.session.scalar(stmt) if number else None
    if account is None:
        raise NotFound(f"No account {account_no!r}.")
    return account


def visible_accounts(
    subject: Any, *, member: Member | None = None, kinds: Iterable[str] | None = None
) -> list[Account]:
    """The accounts of ``member`` (first and joint holder) the subject may see, oldest first.

    A member subject sees their own accounts (``member``, if given, must be themself — else
    NotFound). Staff must name the member (ValidationError otherwise: there is no "all accounts").
    """
    own = member_id_of(subject)
    if own is not None:
        if member is not None and member.id != own:
            raise NotFound("No such member.")
        member_id = own
    elif member is not None:
        member_id = member.id
    else:
        raise ValidationError("Name the member whose accounts to list.", field="member_no")
    stmt = select(Account).where(_holds(member_id)).order_by(Account.id)
    if kinds is not None:
        stmt = stmt.where(Account.kind.in_(list(kinds)))
    return list(db.session.scalars(stmt))


def visible_loan(subject: Any, loan_no: str) -> Account:
    """The loan account numbered ``loan_no`` if the subject may see it (borrower or co-borrower)."""
    return visible_account(subject, loan_no, kinds=(LOAN_KIND,))


# ---------------------------------------------------------------- transactions


@dataclass(frozen=True)
class EntryScope:
    """Whose postings a transaction listing may show: these accounts (oldest first)."""

    accounts: list[Account]
    member: Member | None = None

    @property
    def single(self) -> bool:
        """One account: the listing can show its balance brought forward and carried."""
        return len(self.accounts) == 1


def visible_entries(subject: Any, *, account_no: str | None = None, member_no: str | None = None) -> EntryScope:
    """The accounts whose journal lines a transaction listing for this subject covers.

    ``account_no``: that one account (if visible). Otherwise every account of ``member_no``
    (a member may omit it, meaning themself; staff must give one of the two). NotFound for an
    account or member the subject may not see, exactly as for one that does not exist.
    """
    account_no = (account_no or "").strip().upper()
    member_no = (member_no or "").strip().upper()
    if account_no:
        return EntryScope(accounts=[visible_account(subject, account_no)])
    if member_no:
        member = visible_member(subject, member_no)
    elif member_id_of(subject) is not None:
        member = own_member(subject)
    else:
        raise ValidationError("Give account_no or member_no.", field="account_no")
    return EntryScope(accounts=visible_accounts(subject, member=member), member=member)
