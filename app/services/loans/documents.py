"""Documents filed with a loan application: income proof, property papers, valuation, quotations.

Stored through ``common.storage`` exactly like KYC documents (content sniffed: PDF, JPEG or
PNG only; a private key on local disk or S3; never served from a public URL). Filing is
allowed from the application until the loan closes (the signed sanction letter comes after
sanction, a housing loan's progress certificates with each tranche); every upload and every
view is audited.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.loans import LOAN_DOC_TYPES, Loan, LoanDocument
from app.models.users import StaffUser
from app.services.common import Conflict, NotFound, ValidationError, audit, storage

OPEN_FOR_FILING = ("applied", "appraised", "sanctioned", "disbursed", "active")


def documents(loan: Loan) -> list[LoanDocument]:
    """The loan's documents, oldest first."""
    if loan.id is None:
        return []
    return list(
        db.session.scalars(select(LoanDocument).where(LoanDocument.loan_id == loan.id).order_by(LoanDocument.id))
    )


def upload(loan: Loan, doc_type: str, data: bytes, *, filename: str | None, by: StaffUser | None) -> LoanDocument:
    """Check and store one document with the application (nothing kept when anything is refused)."""
    if loan.status not in OPEN_FOR_FILING:
        raise Conflict(f"Loan {loan.loan_no} is {loan.status}; documents are filed only while it is open.")
    kind = (doc_type or "").strip().lower()
    if kind not in LOAN_DOC_TYPES:
        raise ValidationError("Choose what the document is.", field="doc_type")
    stored = storage.save(data, prefix=f"loans/{loan.loan_no}")
    try:
        doc = LoanDocument(
            loan_id=loan.id, doc_type=kind, storage_key=stored.key, content_type=stored.content_type,
            size_bytes=stored.size_bytes, sha256=stored.sha256, original_name=(filename or "")[-255:] or None,
            uploaded_by_id=by.id if by is not None else None, uploaded_at=utcnow(),
        )  # fmt: skip
        db.session.add(doc)
        db.session.flush()
    except BaseException:
        storage.delete(stored.key)
        raise
    audit.record("loans.document_upload", "loan", loan.loan_no,
                 after={"document_id": doc.id, "doc_type": kind, "sha256": stored.sha256, "size_bytes": stored.size_bytes})  # fmt: skip
    return doc


def get(loan: Loan, doc_id: int) -> LoanDocument:
    doc = db.session.get(LoanDocument, doc_id)
    if doc is None or doc.loan_id != loan.id:
        raise NotFound("No such document on this loan.")
    return doc


def record_view(loan: Loan, doc: LoanDocument) -> None:
    """Audit that a staff user opened a loan document."""
    audit.record("loans.document_view", "loan", loan.loan_no, after={"document_id": doc.id})
