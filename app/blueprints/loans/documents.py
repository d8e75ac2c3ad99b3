"""Loan application documents: upload with the application, view through an authorised route."""

from __future__ import annotations

from flask import Response, abort, redirect, request, url_for

from app.auth_loader import current_staff
from app.blueprints.files import stored_file
from app.blueprints.loans import bp
from app.blueprints.loans.forms import LoanDocumentForm
from app.blueprints.loans.routes import _loan_or_404, _loan_page
from app.extensions import db
from app.models.loans import LOAN_DOC_TYPES
from app.permissions import permission_required
from app.services import loans
from app.services.common import DomainError, NotFound, storage, uow
from app.web import toast


@bp.post("/<loan_no>/documents")
@permission_required("loans.manage")
def document_upload(loan_no: str) -> Response:
    """File a document with the application (PDF, JPEG or PNG, checked by content)."""
    loan = _loan_or_404(loan_no)
    form = LoanDocumentForm()
    upload = request.files.get("file")
    error = None
    if not form.validate_on_submit():
        error = "Choose what the document is."
    elif upload is None or not upload.filename:
        error = "Choose a file to upload."
    else:
        try:
            doc = loans.documents.upload(loan, form.doc_type.data, upload.read(), filename=upload.filename,
                                         by=current_staff())  # fmt: skip
            uow.commit()
            response = redirect(url_for("loans.loan", loan_no=loan.loan_no))
            return toast(response, f"{LOAN_DOC_TYPES[doc.doc_type]} filed with {loan.loan_no}.")
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    return _loan_page(_loan_or_404(loan_no), errors={"documents": error}, status=422)


@bp.get("/<loan_no>/documents/<int:doc_id>")
@permission_required("loans.view")
def document_view(loan_no: str, doc_id: int) -> Response:
    """Serve a loan document to a permitted user (a short-lived presigned URL on S3); the view is audited."""
    loan = _loan_or_404(loan_no)
    try:
        doc = loans.documents.get(loan, doc_id)
    except NotFound:
        abort(404)
    loans.documents.record_view(loan, doc)
    uow.commit()
    filename = f"{loan.loan_no}-{doc.doc_type}-{doc.id}{storage.ALLOWED[doc.content_type]}"
    return stored_file(doc.storage_key, doc.content_type, filename)
