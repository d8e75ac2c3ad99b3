"""KYC: document upload and review, submission, and approval by a different officer.

Workflow: a clerk registers the applicant (KYC ``pending``) and uploads documents; submits
the KYC (``submitted``); a reviewer holding ``kyc.review`` verifies or rejects each document
and approves or rejects the KYC. The maker never checks: whoever registered the member,
submitted the KYC or uploaded one of its current documents can neither verify documents
nor decide the KYC, and neither can anyone who changed the member's identity details (name,
birth date, address, PAN, Aadhaar) since the last KYC decision (from the audit log).
Approval sets the periodic re-KYC date from the risk category.

KYC maker-checker lives on the member row (``kyc_submitted_by_id``/``kyc_approved_by_id``)
rather than in the generic approvals table, because every document is reviewed inline
and a rejection must flow back to the member's record (decision in the handover notes).
Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.models.members import DOC_TYPES, KycDocument, Member
from app.models.users import StaffUser
from app.permissions import PERMISSIONS
from app.services.common import Conflict, NotFound, PermissionDenied, ValidationError, audit, storage
from app.settings import setting

from . import registry as members_service
from . import rules

DOC_LABELS = {
    "aadhaar": "Aadhaar card",
    "pan": "PAN card",
    "photo": "Photograph",
    "signature": "Specimen signature",
    "address_proof": "Address proof",
    "form60": "Form 60 (no PAN)",
}


@dataclass(frozen=True)
class Requirement:
    """One thing the KYC needs, satisfied by any document of the listed types."""

    label: str
    doc_types: tuple[str, ...]


def requirements(member: Member) -> list[Requirement]:
    """What a complete KYC needs for this member (PAN card, or Form 60 when there is no PAN)."""
    return [
        Requirement("Photograph", ("photo",)),
        Requirement("Specimen signature", ("signature",)),
        Requirement("PAN card", ("pan",)) if member.pan else Requirement("Form 60 (no PAN)", ("form60",)),
        Requirement("Proof of identity and address (Aadhaar or other)", ("aadhaar", "address_proof")),
    ]


def current_documents(member: Member) -> list[KycDocument]:
    """The member's documents that are not superseded by a newer upload, newest first."""
    return sorted((d for d in member.documents if d.status != "superseded"), key=lambda d: d.id, reverse=True)


def missing(member: Member, *, statuses: tuple[str, ...] = ("pending", "verified")) -> list[str]:
    """Labels of requirements with no current document in one of ``statuses``."""
    docs = current_documents(member)
    return [
        req.label
        for req in requirements(member)
        if not any(d.doc_type in req.doc_types and d.status in statuses for d in docs)
    ]


# Audit-snapshot keys that carry identity details (for member.update rows that predate the
# explicit ``kyc_fields_changed`` list).
_IDENTITY_KEYS = ("name", "date_of_birth", "address", "pan", "aadhaar_last4")
DECISIONS = ("kyc.approve", "kyc.reject")


def identity_editors(member: Member) -> set[int]:
    """Staff ids who changed the member's KYC-relevant details since the last KYC decision.

    Read from the audit log (``member.update`` rows carry the editor and the identity fields
    they changed); an approval or rejection closes the window.
    """
    rows = db.session.execute(
        select(AuditLog.action, AuditLog.actor_type, AuditLog.actor_id, AuditLog.before, AuditLog.after)
        .where(
            AuditLog.entity_type == "member",
            AuditLog.entity_id == member.member_no,
            AuditLog.action.in_(("member.update", *DECISIONS)),
        )
        .order_by(AuditLog.id)
    ).all()
    editors: set[int] = set()
    for action, actor_type, actor_id, before, after in rows:
        if action in DECISIONS:
            editors.clear()
            continue
        after, before = after or {}, before or {}
        if "kyc_fields_changed" in after:
            changed = bool(after["kyc_fields_changed"])
        else:
            changed = any(before.get(k) != after.get(k) for k in _IDENTITY_KEYS)
        if not changed:
            continue
        editor = after.get("edited_by_id") or (actor_id if actor_type == "staff" else None)
        if editor is not None:
            editors.add(int(editor))
    return editors


def makers(member: Member) -> set[int]:
    """Staff ids who may not check this KYC: registrar, submitter, uploaders of current documents
    and whoever changed the member's identity details since the last KYC decision."""
    ids = {member.created_by_id, member.kyc_submitted_by_id}
    ids.update(d.uploaded_by_id for d in current_documents(member))
    ids.update(identity_editors(member))
    return {i for i in ids if i is not None}


def get_document(member: Member, doc_id: int) -> KycDocument:
    """One of the member's documents (NotFound when it belongs to someone else)."""
    doc = db.session.get(KycDocument, doc_id)
    if doc is None or doc.member_id != member.id:
        raise NotFound("No such document for this member.")
    return doc


def get_document_by_id(doc_id: int) -> KycDocument:
    """A document by id (NotFound when missing)."""
    doc = db.session.get(KycDocument, doc_id)
    if doc is None:
        raise NotFound("No such document.")
    return doc


def review_queue() -> list[Member]:
    """Members whose KYC is submitted and waiting for a reviewer, oldest submission first."""
    return list(
        db.session.scalars(
            select(Member).where(Member.kyc_status == "submitted").order_by(Member.kyc_submitted_at, Member.id)
        )
    )


def _doc_snapshot(doc: KycDocument) -> dict:
    return {
        "doc_type": doc.doc_type,
        "status": doc.status,
        "content_type": doc.content_type,
        "size_bytes": doc.size_bytes,
        "sha256": doc.sha256,
        "reason": doc.rejection_reason,
    }


def _require_reviewer(user: StaffUser) -> None:
    if user is None or user.role not in PERMISSIONS["kyc.review"]:
        raise PermissionDenied("Your role cannot review KYC.")


def _require_not_maker(member: Member, checker: StaffUser, what: str) -> None:
    if checker.id in makers(member):
        raise PermissionDenied(
            f"You registered this member, changed its identity details, submitted the KYC or uploaded its "
            f"documents, so you cannot {what}. "
            "A different officer must do it."
        )


# ---------------------------------------------------------------- documents


def too_large_message() -> str:
    """What to tell someone whose upload was refused for its size before it could be read."""
    limit = int(setting("DOCUMENT_MAX_BYTES"))
    request_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request_limit:
        limit = min(limit, int(request_limit))
    return (
        f"The file is larger than the {limit / (1024 * 1024):.1f} MB limit. "
        "Scan it at a lower resolution or as a smaller PDF, JPEG or PNG and upload it again."
    )


def upload_document(
    member: Member, doc_type: str, data: bytes, *, filename: str | None, by: StaffUser | None
) -> KycDocument:
    """Check and store a KYC document; older unverified ones of the same type are superseded."""
    if member.status in members_service.TERMINAL_STATUSES:
        raise ValidationError(f"{member.member_no} is {member.status}; no documents can be added.")
    doc_type = (doc_type or "").strip().lower()
    if doc_type not in DOC_TYPES:
        raise ValidationError(f"Choose the document type: {', '.join(DOC_TYPES)}.", field="doc_type")
    stored = storage.save(data, prefix=f"kyc/{member.member_no}")
    try:
        for old in current_documents(member):
            if old.doc_type == doc_type and old.status in {"pending", "rejected"}:
                old.status = "superseded"
        doc = KycDocument(
            member_id=member.id,
            doc_type=doc_type,
            storage_key=stored.key,
            content_type=stored.content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            original_name=(filename or "")[-255:] or None,
            status="pending",
            uploaded_by_id=by.id if by is not None else None,
            uploaded_at=utcnow(),
        )
        db.session.add(doc)
        member.documents.append(doc)
        if member.kyc_status == "rejected":
            member.kyc_status = "pending"
        db.session.flush()
    except BaseException:
        storage.delete(stored.key)
        raise
    audit.record("kyc.upload", "member", member.member_no, after={"document_id": doc.id, **_doc_snapshot(doc)})
    return doc


def verify_document(doc: KycDocument, *, by: StaffUser) -> KycDocument:
    """A reviewer confirms a document; an older verified one of the same type is superseded."""
    _require_reviewer(by)
    member = doc.member
    if doc.status != "pending":
        raise Conflict(f"This document is already {doc.status}.")
    if doc.uploaded_by_id == by.id:
        raise PermissionDenied("You uploaded this document; a different officer must verify it.")
    _require_not_maker(member, by, "verify its documents")
    before = _doc_snapshot(doc)
    for old in current_documents(member):
        if old.id != doc.id and old.doc_type == doc.doc_type and old.status == "verified":
            old.status = "superseded"
    doc.status = "verified"
    doc.rejection_reason = None
    doc.reviewed_by_id = by.id
    doc.reviewed_at = utcnow()
    if doc.doc_type == "form60" and not member.pan:
        member.form60_on_file = True
    audit.record(
        "kyc.document_verify", "member", member.member_no, before={"document_id": doc.id, **before},
        after={"document_id": doc.id, **_doc_snapshot(doc)},
    )  # fmt: skip
    return doc


def reject_document(doc: KycDocument, *, by: StaffUser, reason: str) -> KycDocument:
    """A reviewer refuses a document with a reason (the clerk uploads a better one)."""
    _require_reviewer(by)
    member = doc.member
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason for rejecting the document.", field="reason")
    if doc.status != "pending":
        raise Conflict(f"This document is already {doc.status}.")
    if doc.uploaded_by_id == by.id:
        raise PermissionDenied("You uploaded this document; a different officer must review it.")
    _require_not_maker(member, by, "review its documents")
    before = _doc_snapshot(doc)
    doc.status = "rejected"
    doc.rejection_reason = reason[:255]
    doc.reviewed_by_id = by.id
    doc.reviewed_at = utcnow()
    audit.record(
        "kyc.document_reject", "member", member.member_no, before={"document_id": doc.id, **before},
        after={"document_id": doc.id, **_doc_snapshot(doc)},
    )  # fmt: skip
    return doc


def record_view(doc: KycDocument, *, by: StaffUser) -> None:
    """Audit that a staff user opened a KYC document (access to personal data is traced)."""
    audit.record("kyc.document_view", "member", doc.member.member_no, after={"document_id": doc.id})


# ---------------------------------------------------------------- the KYC decision


def _kyc_snapshot(member: Member) -> dict:
    return {
        "kyc_status": member.kyc_status,
        "kyc_risk": member.kyc_risk,
        "rekyc_due_on": member.rekyc_due_on,
        "reason": member.kyc_rejection_reason,
    }


def submit(member: Member, *, by: StaffUser | None) -> Member:
    """Send the KYC for review once every required document is uploaded."""
    if member.status in members_service.TERMINAL_STATUSES:
        raise ValidationError(f"{member.member_no} is {member.status}.")
    if member.kyc_status == "submitted":
        raise Conflict("The KYC is already waiting for review.")
    lacking = missing(member)
    if lacking:
        raise ValidationError(
            "Upload these documents before submitting the KYC: " + "; ".join(lacking) + ".", field="documents"
        )
    before = _kyc_snapshot(member)
    member.kyc_status = "submitted"
    member.kyc_submitted_by_id = by.id if by is not None else None
    member.kyc_submitted_at = utcnow()
    member.kyc_rejection_reason = None
    audit.record("kyc.submit", "member", member.member_no, before=before, after=_kyc_snapshot(member))
    return member


def approve(member: Member, *, checker: StaffUser, verify_pending: bool = False, note: str | None = None) -> Member:
    """Approve the KYC (maker ≠ checker); sets the re-KYC due date from the risk category.

    ``verify_pending`` lets the checker verify the still-pending documents in the same step
    (the API's one-call approval); otherwise every document must be reviewed first.
    """
    _require_reviewer(checker)
    if member.kyc_status == "approved":
        raise Conflict("The KYC is already approved.")
    if member.kyc_status == "rejected":
        raise ValidationError("The KYC was rejected: upload corrected documents and submit it again.")
    if member.kyc_status == "pending" and not verify_pending:
        raise ValidationError("The KYC has not been submitted for review yet.")
    if member.status in members_service.TERMINAL_STATUSES:
        raise ValidationError(f"{member.member_no} is {member.status}.")
    _require_not_maker(member, checker, "approve the KYC")
    if verify_pending:
        lacking = missing(member)
        if lacking:
            raise ValidationError(
                "The KYC is incomplete; these documents are missing: " + "; ".join(lacking) + ".", field="documents"
            )
        for doc in current_documents(member):
            if doc.status == "pending":
                verify_document(doc, by=checker)
    pending = [DOC_LABELS[d.doc_type] for d in current_documents(member) if d.status == "pending"]
    if pending:
        raise ValidationError(
            "Verify or reject every document first; still pending: " + ", ".join(pending) + ".", field="documents"
        )
    lacking = missing(member, statuses=("verified",))
    if lacking:
        raise ValidationError(
            "These requirements have no verified document: " + "; ".join(lacking) + ".", field="documents"
        )
    before = _kyc_snapshot(member)
    approved_on = rules.today()
    member.kyc_status = "approved"
    member.kyc_approved_by_id = checker.id
    member.kyc_approved_at = utcnow()
    member.kyc_rejection_reason = None
    member.rekyc_due_on = rules.rekyc_due_date(member.kyc_risk, approved_on)
    audit.record(
        "kyc.approve",
        "member",
        member.member_no,
        before=before,
        after={**_kyc_snapshot(member), "note": (note or "").strip() or None},
    )
    return member


def reject(member: Member, *, checker: StaffUser, reason: str) -> Member:
    """Reject the KYC with a reason (maker ≠ checker); the clerk corrects and resubmits."""
    _require_reviewer(checker)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason for rejecting the KYC.", field="reason")
    if member.kyc_status not in {"submitted", "pending"}:
        raise Conflict(f"The KYC is {member.kyc_status}; there is nothing to reject.")
    _require_not_maker(member, checker, "reject the KYC")
    before = _kyc_snapshot(member)
    member.kyc_status = "rejected"
    member.kyc_rejection_reason = reason[:255]
    audit.record("kyc.reject", "member", member.member_no, before=before, after=_kyc_snapshot(member))
    return member


# ---------------------------------------------------------------- periodic re-KYC due


@dataclass(frozen=True)
class KycDue:
    """A member whose periodic KYC update is due soon or already overdue."""

    member: Member
    due_on: date
    expired: bool
    days: int  # days until due (negative: days overdue)


def kyc_due(as_of: date | None = None, *, within_days: int | None = None, branch_id: int | None = None) -> list[KycDue]:
    """Members with approved KYC whose re-KYC date has passed or falls within the window."""
    as_of = as_of or rules.today()
    window = int(setting("KYC_DUE_WINDOW_DAYS") if within_days is None else within_days)
    stmt = (
        select(Member)
        .where(
            Member.kyc_approved_at.is_not(None),
            Member.rekyc_due_on.is_not(None),
            Member.rekyc_due_on <= as_of + timedelta(days=window),
            Member.status.in_(("active", "inactive", "applicant")),
        )
        .order_by(Member.rekyc_due_on, Member.member_no)
    )
    if branch_id:
        stmt = stmt.where(Member.branch_id == branch_id)
    return [
        KycDue(m, m.rekyc_due_on, m.rekyc_due_on < as_of, (m.rekyc_due_on - as_of).days)  # type: ignore[operator]
        for m in db.session.scalars(stmt)
    ]
