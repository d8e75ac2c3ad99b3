"""Members: registration, updates, dated status history, nominees, re-KYC dates, eligibility.

Aadhaar is kept only encrypted (``crypto.encrypt``) with a keyed hash to find duplicates
and the last four digits for display. Member numbers come from an atomic counter per
branch prefix (``HO000123``), never from ``max()+1``. Every change is audited with before
and after snapshots that never contain the Aadhaar number. Callers commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import Account
from app.models.members import (
    MEMBER_STATUSES,
    RISK_CATEGORIES,
    Member,
    MemberLogin,
    MemberOtp,
    MemberStatusChange,
    Nominee,
)
from app.models.users import Branch, StaffUser
from app.services.common import NotFound, ValidationError, audit, numbering
from app.services.common import validators as v
from app.settings import setting

from .cleaning import Errors, clean_member_data, clean_nominees, clean_str
from .rules import rekyc_due_date, rekyc_years, today
from .share_register import shares_held

# Who may move to which status by a plain status change. "applicant → active" happens only
# through admission (fee and shares collected, see services/shares.py).
TRANSITIONS: dict[str, frozenset[str]] = {
    "applicant": frozenset({"resigned"}),
    "active": frozenset({"inactive", "deceased", "expelled", "resigned"}),
    "inactive": frozenset({"active", "deceased", "expelled", "resigned"}),
    "deceased": frozenset(),
    "expelled": frozenset(),
    "resigned": frozenset(),
}
TERMINAL_STATUSES = frozenset({"deceased", "expelled", "resigned"})
# Changing any of these after KYC approval sends the KYC back for fresh verification.
KYC_FIELDS = ("name", "date_of_birth", "address_line", "village_town", "district", "state", "pin", "pan")
ADDRESS_FIELDS = ("address_line", "village_town", "district", "state", "pin")
# Which KYC documents show which identity detail: when the detail changes, a verified copy of
# such a document no longer matches the record. A new number (Aadhaar, PAN) makes the old copy
# useless (superseded: upload the new card); a corrected name, birth date or address sends the
# copy back to pending so a reviewer checks it against the new details.
DOCS_SUPERSEDED_BY = {"aadhaar": ("aadhaar",), "pan": ("pan",)}
DOCS_RECHECKED_BY = {
    "name": ("aadhaar", "pan", "address_proof", "form60"),
    "date_of_birth": ("aadhaar", "pan"),
    **dict.fromkeys(ADDRESS_FIELDS, ("aadhaar", "address_proof", "form60")),
}
MASKED_PAN = re.compile(r"^[A-Z]{2}X{5}[0-9]{2}[A-Z]$")
ACCOUNT_NO = re.compile(r"^[A-Z]{1,4}[0-9]{4,16}$")
PAN_TAIL = re.compile(r"^[0-9]{3}[A-Z]$")


# ---------------------------------------------------------------- lookups


def find(member_no: str) -> Member | None:
    """The member with this number (case-insensitive), or None."""
    number = (member_no or "").strip().upper()
    if not number:
        return None
    return db.session.scalar(select(Member).where(Member.member_no == number))


def get(member_no: str) -> Member:
    """The member with this number; NotFound otherwise."""
    member = find(member_no)
    if member is None:
        raise NotFound(f"No member {member_no!r}.", field="member_no")
    return member


def find_by_aadhaar(aadhaar: str) -> Member | None:
    """The member registered with this Aadhaar number (found by its keyed hash), or None."""
    return db.session.scalar(select(Member).where(Member.aadhaar_hash == crypto.lookup_hash(v.clean_aadhaar(aadhaar))))


def search(
    q: str | None = None,
    *,
    status: str | None = None,
    kyc_status: str | None = None,
    branch_id: int | None = None,
) -> Select:
    """A query for the member list: free text over name, member no, mobile and PAN, plus filters.

    A PAN is found by the full number, by its masked form as shown in lists (``DAXXXXX03Z``)
    or by its last four characters (``003Z``).
    """
    stmt = select(Member).order_by(Member.id.desc())
    text = " ".join((q or "").split())
    if text:
        upper = text.upper()
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions = [
            func.lower(Member.name).contains(text.lower(), autoescape=True),
            Member.member_no.startswith(upper, autoescape=True),
        ]
        only_digits = len(digits) == len(text.replace(" ", "").lstrip("+"))
        if only_digits and 1 <= len(digits) <= 6:
            conditions.append(Member.member_no.endswith(f"{int(digits):06d}"))
        if only_digits and len(digits) >= 4:
            conditions.append(Member.mobile.contains(digits[-10:]))
        if only_digits and len(digits) == 4:  # the last four digits of the Aadhaar (as masked on screen)
            conditions.append(Member.aadhaar_last4 == digits)
        compact = upper.replace(" ", "")
        if ACCOUNT_NO.match(compact):  # an account number: its holder
            conditions.append(Member.id.in_(select(Account.member_id).where(Account.account_no == compact)))
        if len(compact) == 10 and v.is_valid_pan(compact):
            conditions.append(Member.pan == compact)
        elif MASKED_PAN.match(compact):  # the masked PAN shown in lists, e.g. DAXXXXX03Z
            conditions.append(
                Member.pan.startswith(compact[:2], autoescape=True) & Member.pan.endswith(compact[7:], autoescape=True)
            )
        elif PAN_TAIL.match(compact):  # the last four characters of the PAN, e.g. 003Z
            conditions.append(Member.pan.endswith(compact, autoescape=True))
        stmt = stmt.where(or_(*conditions))
    if status:
        stmt = stmt.where(Member.status == status)
    if kyc_status:
        stmt = stmt.where(Member.kyc_status == kyc_status)
    if branch_id:
        stmt = stmt.where(Member.branch_id == branch_id)
    return stmt


def branches() -> list[Branch]:
    """Every branch, by code (for filters and forms)."""
    return list(db.session.scalars(select(Branch).order_by(Branch.code)))


def member_accounts(member: Member) -> list[Account]:
    """Every ledger sub-account of the member (share, savings, deposits, loans), oldest first."""
    return list(db.session.scalars(select(Account).where(Account.member_id == member.id).order_by(Account.id)))


# ---------------------------------------------------------------- snapshots


def snapshot(member: Member) -> dict[str, Any]:
    """A member's state for the audit log (Aadhaar only as its last four digits)."""
    return {
        "member_no": member.member_no,
        "name": member.name,
        "father_or_spouse_name": member.father_or_spouse_name,
        "date_of_birth": member.date_of_birth,
        "gender": member.gender,
        "mobile": member.mobile,
        "email": member.email,
        "address": [member.address_line, member.village_town, member.district, member.state, member.pin],
        "occupation": member.occupation,
        "member_type": member.member_type,
        "status": member.status,
        "kyc_status": member.kyc_status,
        "kyc_risk": member.kyc_risk,
        "rekyc_due_on": member.rekyc_due_on,
        "aadhaar_last4": member.aadhaar_last4,
        "pan": member.pan_masked or None,
        "form60_on_file": member.form60_on_file,
        "guardian": [member.guardian_name, member.guardian_relation] if member.guardian_name else None,
        "branch_id": member.branch_id,
    }


def _duplicate_checks(e: Errors, values: dict[str, Any], *, exclude_id: int | None, reveal: bool) -> None:
    if values.get("aadhaar"):
        other = db.session.scalar(select(Member).where(Member.aadhaar_hash == crypto.lookup_hash(values["aadhaar"])))
        if other is not None and other.id != exclude_id:
            e.add(
                "aadhaar",
                f"This Aadhaar number is already registered to member {other.member_no}."
                if reveal
                else "This Aadhaar number is already registered with the society. Visit your branch for help.",
            )
    if values.get("pan"):
        other = db.session.scalar(select(Member).where(Member.pan == values["pan"]))
        if other is not None and other.id != exclude_id:
            e.add(
                "pan",
                f"This PAN is already registered to member {other.member_no}."
                if reveal
                else "This PAN is already registered with the society. Visit your branch for help.",
            )


def _flush_unique(reveal: bool) -> None:
    """Flush; a unique-index race on Aadhaar or PAN becomes the same field error as the check."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        if "aadhaar" in text:
            raise ValidationError(
                "This Aadhaar number is already registered with the society.", field="aadhaar"
            ) from exc
        if "member_logins" in text and "mobile" in text:
            raise ValidationError(
                "Another member's online login already uses this mobile number.", field="mobile"
            ) from exc
        if "pan" in text:
            raise ValidationError("This PAN is already registered with the society.", field="pan") from exc
        raise


# ---------------------------------------------------------------- member numbers


def next_member_no(branch: Branch | None) -> str:
    """Allocate the next member number for the branch's prefix (atomic counter)."""
    prefix = (branch.code if branch else setting("MEMBER_NO_PREFIX")).upper()
    n = numbering.next_value(f"member_no:{prefix}")
    return f"{prefix}{n:06d}"


# ---------------------------------------------------------------- registration and updates


def _parse_branch_id(raw: Any) -> int | None:
    """A branch id from a form or API value; a non-number is a field error, blank means none."""
    if raw is None or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw or None
    text = str(raw).strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError("Choose a branch from the list.", field="branch_id")
    return int(text)


def _resolve_branch(raw: Any, by: StaffUser | None) -> Branch | None:
    branch_id = _parse_branch_id(raw) or (by.branch_id if by is not None else None)
    if branch_id is None:  # e.g. self-registration: a single-branch society uses its only branch
        only = db.session.scalars(select(Branch.id).limit(2)).all()
        branch_id = only[0] if len(only) == 1 else None
    branch = db.session.get(Branch, branch_id) if branch_id else None
    if branch_id and branch is None:
        raise ValidationError("No such branch: choose one from the list.", field="branch_id")
    return branch


def register(
    data: Mapping[str, Any],
    *,
    by: StaffUser | None,
    branch_id: int | str | None = None,
    self_registered: bool = False,
) -> Member:
    """Register an applicant (status applicant, KYC pending); every field error raised at once.

    The ``form60`` box is only the applicant's declaration that Form 60 will be submitted:
    "Form 60 on file" is set when a reviewer verifies the Form 60 document.
    """
    e = Errors()
    values = e.run(clean_member_data, data)
    branch = e.run(_resolve_branch, branch_id, by)
    if values is not None:
        _duplicate_checks(e, values, exclude_id=None, reveal=not self_registered)
    e.raise_if_any()
    assert values is not None
    member = Member(
        member_no=next_member_no(branch),
        branch_id=branch.id if branch else None,
        status="applicant",
        kyc_status="pending",
        created_by_id=by.id if by is not None else None,
        self_registered=self_registered,
        form60_on_file=False,
    )
    _apply(member, values)
    db.session.add(member)
    for row in values.get("nominees") or []:
        member.nominees.append(_nominee(row))
    _flush_unique(reveal=not self_registered)
    db.session.add(
        MemberStatusChange(
            member_id=member.id,
            from_status=None,
            to_status="applicant",
            effective_on=today(),
            reason="Self-registration" if self_registered else "Registered",
            changed_by_id=by.id if by is not None else None,
        )
    )
    audit.record(
        "member.register",
        "member",
        member.member_no,
        after={
            **snapshot(member),
            "nominees": len(member.nominees),
            "self_registered": self_registered,
            **({"form60_declared": True} if values.get("form60_declared") and not member.pan else {}),
        },
    )
    return member


def _apply(member: Member, values: dict[str, Any]) -> None:
    for field in (
        "name",
        "father_or_spouse_name",
        "date_of_birth",
        "gender",
        "mobile",
        "email",
        "address_line",
        "village_town",
        "district",
        "state",
        "pin",
        "occupation",
        "member_type",
        "kyc_risk",
        "guardian_name",
        "guardian_relation",
    ):
        if field in values:
            setattr(member, field, values[field])
    if values.get("pan"):
        member.pan = values["pan"]
    # ``form60_on_file`` is never set or cleared here: only verifying the Form 60 document sets it.
    if values.get("aadhaar"):
        number = values["aadhaar"]
        member.aadhaar_enc = crypto.encrypt(number)
        member.aadhaar_hash = crypto.lookup_hash(number)
        member.aadhaar_last4 = number[-4:]


def _nominee(row: dict[str, Any]) -> Nominee:
    return Nominee(
        name=row["name"],
        relationship_=row["relationship"],
        date_of_birth=row["date_of_birth"],
        share_bp=row["share_bp"],
        guardian_name=row["guardian_name"],
        address=row["address"],
    )


def update(member: Member, data: Mapping[str, Any], *, by: StaffUser | None) -> Member:
    """Edit a member's details; identity changes after KYC approval send the KYC back to pending.

    The audit row names the editor and the KYC-relevant fields changed: whoever changed them
    is a maker of the next KYC decision (``kyc.makers``). Verified documents that show a
    changed detail go back to review (or are superseded by a new number), and a new mobile
    moves the member's portal login to it, to be proven again by a one-time code.
    """
    if member.status in TERMINAL_STATUSES:
        raise ValidationError(f"{member.member_no} is {member.status}; the record can no longer be edited.")
    merged: dict[str, Any] = {
        "name": member.name,
        "father_or_spouse_name": member.father_or_spouse_name,
        "date_of_birth": member.date_of_birth,
        "gender": member.gender,
        "mobile": member.mobile,
        "email": member.email,
        "address_line": member.address_line,
        "village_town": member.village_town,
        "district": member.district,
        "state": member.state,
        "pin": member.pin,
        "occupation": member.occupation,
        "member_type": member.member_type,
        "kyc_risk": member.kyc_risk,
        "pan": member.pan,
        "guardian_name": member.guardian_name,
        "guardian_relation": member.guardian_relation,
    }
    merged.update({k: val for k, val in data.items() if k != "kyc_risk"})
    if member.pan and not clean_str(merged, "pan").strip():
        raise ValidationError("A PAN on record cannot be removed; correct it instead.", field="pan")
    if member.aadhaar_hash and "aadhaar" in data and not clean_str(data, "aadhaar").strip():
        merged.pop("aadhaar", None)
    values = clean_member_data(merged)
    e = Errors()
    _duplicate_checks(e, values, exclude_id=member.id, reveal=True)
    login = db.session.scalar(select(MemberLogin).where(MemberLogin.member_id == member.id))
    mobile_changed = values["mobile"] != member.mobile
    if login is not None and mobile_changed and _login_mobile_taken(values["mobile"], login):
        e.add("mobile", "Another member's online login already uses this mobile number.")
    e.raise_if_any()
    before = snapshot(member)
    old_kyc = {f: getattr(member, f) for f in KYC_FIELDS}
    aadhaar_changed = bool(values.get("aadhaar")) and crypto.lookup_hash(values["aadhaar"]) != member.aadhaar_hash
    nominees = values.pop("nominees", None)
    old_mobile = member.mobile
    _apply(member, values)
    if nominees is not None:
        _replace_nominees(member, nominees)
    kyc_changed_fields = [f for f in KYC_FIELDS if getattr(member, f) != old_kyc[f]]
    if aadhaar_changed:
        kyc_changed_fields.append("aadhaar")
    kyc_changed = bool(kyc_changed_fields)
    if kyc_changed and member.kyc_status in {"approved", "submitted"}:
        member.kyc_status = "pending"
        member.kyc_rejection_reason = None
    documents_reset = _reset_documents(member, kyc_changed_fields)
    if login is not None and mobile_changed:
        _move_login(member, login, old_mobile)
    _flush_unique(reveal=True)
    after = snapshot(member)
    if after != before or nominees is not None or documents_reset:
        extra: dict[str, Any] = {"edited_by_id": by.id if by is not None else None}
        if kyc_changed_fields:
            extra["kyc_fields_changed"] = kyc_changed_fields
        if kyc_changed and before["kyc_status"] != after["kyc_status"]:
            extra["kyc_reset"] = True
        if documents_reset:
            extra["documents_reset"] = documents_reset
        if values.get("form60_declared") and not member.pan:
            extra["form60_declared"] = True
        audit.record("member.update", "member", member.member_no, before=before, after={**after, **extra})
    return member


def _login_mobile_taken(mobile: str, login: MemberLogin) -> bool:
    return (
        db.session.scalar(select(MemberLogin.id).where(MemberLogin.mobile == mobile, MemberLogin.id != login.id))
        is not None
    )


def _move_login(member: Member, login: MemberLogin, old_mobile: str) -> None:
    """Point the portal login at the new mobile; it must be proven again and old codes stop working."""
    before = {"mobile": v.mask_mobile(login.mobile), "verified": login.verified_at is not None}
    login.mobile = member.mobile
    login.verified_at = None
    now = utcnow()
    for otp in db.session.scalars(
        select(MemberOtp).where(MemberOtp.login_id == login.id, MemberOtp.consumed_at.is_(None))
    ):
        otp.consumed_at = now  # a code sent to the old number cannot prove the new one
    audit.record(
        "member.login_mobile_changed",
        "member",
        member.member_no,
        before=before,
        after={"mobile": v.mask_mobile(login.mobile), "verified": False, "login_id": login.id},
    )


def _reset_documents(member: Member, changed_fields: Iterable[str]) -> list[dict[str, Any]]:
    """Verified documents showing a changed identity detail go back to review or are superseded."""
    changed = list(changed_fields)
    supersede = {t for f in changed for t in DOCS_SUPERSEDED_BY.get(f, ())}
    recheck = {t for f in changed for t in DOCS_RECHECKED_BY.get(f, ())} - supersede
    done: list[dict[str, Any]] = []
    for doc in member.documents:
        if doc.status != "verified" or doc.doc_type not in supersede | recheck:
            continue
        if doc.doc_type in supersede:
            doc.status = "superseded"
        else:
            doc.status = "pending"
            doc.reviewed_by_id = None
            doc.reviewed_at = None
        done.append({"document_id": doc.id, "doc_type": doc.doc_type, "status": doc.status})
    return done


def _replace_nominees(member: Member, rows: list[dict[str, Any]]) -> None:
    member.nominees.clear()
    db.session.flush()
    for row in rows:
        member.nominees.append(_nominee(row))


def set_nominees(member: Member, rows: Iterable[Mapping[str, Any]], *, by: StaffUser | None) -> list[Nominee]:
    """Replace the member's nominees (shares must total 100%)."""
    cleaned = clean_nominees(rows)
    before = [(n.name, n.relationship_, n.share_bp) for n in member.nominees]
    _replace_nominees(member, cleaned)
    db.session.flush()
    audit.record(
        "member.nominees",
        "member",
        member.member_no,
        before={"nominees": before},
        after={"nominees": [(n.name, n.relationship_, n.share_bp) for n in member.nominees]},
    )
    return list(member.nominees)


def set_risk(member: Member, risk: str, *, by: StaffUser | None) -> Member:
    """Set the KYC risk category; the re-KYC date is recomputed from the last approval."""
    if risk not in RISK_CATEGORIES:
        raise ValidationError(f"Risk category must be one of {', '.join(RISK_CATEGORIES)}.", field="kyc_risk")
    before = {"kyc_risk": member.kyc_risk, "rekyc_due_on": member.rekyc_due_on}
    if member.rekyc_due_on is not None:  # the business date of the last approval
        approved_on = v.add_years(member.rekyc_due_on, -rekyc_years(member.kyc_risk))
        member.rekyc_due_on = rekyc_due_date(risk, approved_on)
    elif member.kyc_approved_at is not None:
        member.rekyc_due_on = rekyc_due_date(risk, member.kyc_approved_at.date())
    member.kyc_risk = risk
    audit.record(
        "member.risk",
        "member",
        member.member_no,
        before=before,
        after={"kyc_risk": member.kyc_risk, "rekyc_due_on": member.rekyc_due_on},
    )
    return member


# ---------------------------------------------------------------- status history


def record_status(
    member: Member, to_status: str, *, by: StaffUser | None, reason: str | None, effective_on: date | None = None
) -> MemberStatusChange:
    """Move the member to ``to_status`` with a dated history row and an audit row (no rule checks)."""
    change = MemberStatusChange(
        member_id=member.id,
        from_status=member.status,
        to_status=to_status,
        effective_on=effective_on or today(),
        reason=(reason or "").strip()[:255] or None,
        changed_by_id=by.id if by is not None else None,
    )
    before = member.status
    member.status = to_status
    db.session.add(change)
    db.session.flush()
    audit.record(
        "member.status",
        "member",
        member.member_no,
        before={"status": before},
        after={"status": to_status, "effective_on": change.effective_on, "reason": change.reason},
    )
    return change


def change_status(
    member: Member, to_status: str, *, by: StaffUser | None, reason: str, effective_on: date | None = None
) -> MemberStatusChange:
    """Change a member's status (inactive, deceased, expelled, resigned, back to active) with a reason."""
    if to_status not in MEMBER_STATUSES:
        raise ValidationError("Choose a valid status.", field="status")
    if to_status == member.status:
        raise ValidationError(f"{member.member_no} is already {to_status}.", field="status")
    allowed = TRANSITIONS[member.status]
    if to_status not in allowed:
        if to_status == "active" and member.status == "applicant":
            raise ValidationError(
                "An applicant becomes active only on admission, when the fee and shares are collected.",
                field="status",
            )
        raise ValidationError(
            f"A {member.status} member cannot become {to_status}"
            + (f" (allowed: {', '.join(sorted(allowed))})." if allowed else "; the record is closed."),
            field="status",
        )
    if not (reason or "").strip():
        raise ValidationError("Give a reason for the status change.", field="reason")
    effective = effective_on or today()
    if effective > today():
        raise ValidationError("The effective date cannot be in the future.", field="effective_on")
    if effective < member.date_of_birth or (member.joined_on and effective < member.joined_on):
        raise ValidationError("The effective date is before the member joined.", field="effective_on")
    if to_status == "resigned" and member.status != "applicant":
        held = shares_held(member)
        if held:
            raise ValidationError(
                f"{member.member_no} still holds {held} shares. Request a share refund that closes the "
                "membership; the member becomes resigned when it is approved.",
                field="status",
            )
    return record_status(member, to_status, by=by, reason=reason, effective_on=effective)


# ---------------------------------------------------------------- periodic re-KYC
