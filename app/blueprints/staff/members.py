"""Staff screens: members, KYC documents and review (admission, shares and the share register
are in ``shares.py``, on the same blueprint).

Views are thin: they read the form, call one service, commit, and render a page or (for
HTMX) the partial that changed. Service errors land next to their fields.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from wtforms import FieldList

from app import navigation
from app.auth_loader import current_staff
from app.blueprints.files import stored_file
from app.blueprints.staff import bp
from app.blueprints.staff.member_forms import MemberForm, StatusForm, UploadForm
from app.extensions import db
from app.models.members import KYC_STATUSES, MEMBER_STATUSES, Member
from app.models.users import StaffUser
from app.navigation import NavItem
from app.pagination import paginate
from app.permissions import has_permission, permission_required
from app.services import members as members_service
from app.services.common import DomainError, ValidationError, storage, uow
from app.services.common import validators as v
from app.services.members import kyc, shares
from app.web import is_htmx, render, select_choices, toast

navigation.add(NavItem("Members", "staff.members", "members.view"), before="staff.approvals")
navigation.add(NavItem("KYC review", "staff.kyc_queue", "kyc.review"), before="staff.approvals")

LIVE_FIELDS = ("aadhaar", "pan", "mobile", "pin", "date_of_birth", "email")


def _apply_errors(form: FlaskForm, exc: DomainError, aliases: dict[str, str] | None = None) -> list[str]:
    """Put service errors on form fields; return the ones with no field (shown at the top)."""
    loose: list[str] = []
    for name, messages in (exc.errors or {}).items():
        name = (aliases or {}).get(name, name)
        field = getattr(form, name, None) if name and name != "nominees" else None
        if field is not None and hasattr(field, "errors") and not isinstance(field, FieldList):
            field.errors = list(field.errors or []) + list(messages)
        elif name != "nominees":
            loose.extend(messages)
    if not exc.errors:
        loose.append(exc.message)
    return loose


def _member(member_no: str) -> Member:
    return members_service.get(member_no)


SECTION_PARTIALS = {
    "#kyc": "staff/members/_kyc.html",
    "#history": "staff/members/_history.html",
    "#shares": "staff/members/_shares.html",
}


def _respond(member: Member, message: str, *, level: str = "success", anchor: str = "") -> Response:
    """After an action: HTMX gets the changed section of the profile with a toast; a plain
    form post goes back to the profile, whose page shows the message."""
    if is_htmx() and anchor in SECTION_PARTIALS:
        db.session.refresh(member)
        return toast(render(SECTION_PARTIALS[anchor], **_profile_context(member)), message, level)
    flash(message, level)
    return redirect(url_for("staff.member_profile", member_no=member.member_no) + anchor)


# ---------------------------------------------------------------- list and search


@bp.get("/staff/members")
@permission_required("members.view")
def members() -> Response:
    """Member list with live search and filters."""
    args = request.args
    status = args.get("status") if args.get("status") in MEMBER_STATUSES else None
    kyc_status = args.get("kyc") if args.get("kyc") in KYC_STATUSES else None
    branch_id = args.get("branch", type=int)
    stmt = members_service.search(args.get("q"), status=status, kyc_status=kyc_status, branch_id=branch_id)
    page = paginate(stmt, args.get("page", 1, type=int))
    return render(
        "staff/members/list.html",
        "staff/members/_rows.html",
        page=page,
        args=args,
        statuses=MEMBER_STATUSES,
        kyc_statuses=KYC_STATUSES,
        branches=members_service.branches(),
    )


# ---------------------------------------------------------------- registration and editing


def _branch_choices(form: MemberForm) -> None:
    form.branch_id.choices = select_choices(
        [("", "—")] + [(str(b.id), f"{b.code} — {b.name}") for b in members_service.branches()]
    )


@bp.route("/staff/members/new", methods=["GET", "POST"])
@permission_required("members.manage")
def member_new() -> Response:
    """Register an applicant."""
    form = MemberForm()
    _branch_choices(form)
    if request.method == "GET" and current_staff().branch_id:
        form.branch_id.data = str(current_staff().branch_id)
    top: list[str] = []
    nominee_errors: list[str] = []
    if form.validate_on_submit():
        try:
            member = members_service.register(
                form.member_data(), by=current_staff(), branch_id=form.branch_id.data or None
            )
        except DomainError as exc:
            db.session.rollback()
            top = _apply_errors(form, exc)
            nominee_errors = (exc.errors or {}).get("nominees", [])
        else:
            uow.commit()
            flash(
                f"Registered {member.name} as applicant {member.member_no}. Upload the KYC documents next.", "success"
            )
            return redirect(url_for("staff.member_profile", member_no=member.member_no))
    status = 422 if request.method == "POST" else 200
    return render(
        "staff/members/form.html", form=form, member=None, top_errors=top, nominee_errors=nominee_errors, status=status
    )


@bp.route("/staff/members/<member_no>/edit", methods=["GET", "POST"])
@permission_required("members.manage")
def member_edit(member_no: str) -> Response:
    """Edit a member's details and nominees."""
    member = _member(member_no)
    form = MemberForm(obj=None if request.method == "POST" else _form_values(member))
    _branch_choices(form)
    top: list[str] = []
    nominee_errors: list[str] = []
    if form.validate_on_submit():
        data = form.member_data()
        try:
            members_service.update(member, data, by=current_staff())
        except DomainError as exc:
            db.session.rollback()
            top = _apply_errors(form, exc)
            nominee_errors = (exc.errors or {}).get("nominees", [])
        else:
            uow.commit()
            flash(f"Saved changes to {member.member_no}.", "success")
            return redirect(url_for("staff.member_profile", member_no=member.member_no))
    status = 422 if request.method == "POST" else 200
    return render(
        "staff/members/form.html",
        form=form,
        member=member,
        top_errors=top,
        nominee_errors=nominee_errors,
        status=status,
    )


class _Values:
    """An object whose attributes pre-fill the member form for editing."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


def _form_values(member: Member) -> _Values:
    nominees = [
        {
            "name": n.name,
            "relationship": n.relationship_,
            "date_of_birth": n.date_of_birth.isoformat() if n.date_of_birth else "",
            "share_percent": f"{n.share_bp // 100}" + (f".{n.share_bp % 100:02d}" if n.share_bp % 100 else ""),
            "guardian_name": n.guardian_name or "",
        }
        for n in member.nominees
    ]
    while len(nominees) < 2:
        nominees.append({})
    return _Values(
        name=member.name,
        father_or_spouse_name=member.father_or_spouse_name,
        date_of_birth=member.date_of_birth.isoformat(),
        gender=member.gender,
        mobile=member.mobile,
        email=member.email,
        address_line=member.address_line,
        village_town=member.village_town,
        district=member.district,
        state=member.state,
        pin=member.pin,
        occupation=member.occupation,
        member_type=member.member_type,
        kyc_risk=member.kyc_risk,
        branch_id=str(member.branch_id or ""),
        aadhaar="",
        pan=member.pan or "",
        form60=False,  # the declaration is not kept; a verified Form 60 shows on the profile
        guardian_name=member.guardian_name,
        guardian_relation=member.guardian_relation,
        nominees=[_Values(**n) for n in nominees],
    )


@bp.post("/staff/members/check/<field>")
@permission_required("members.manage")
def member_check(field: str) -> Response:
    """Inline validation of one registration field (HTMX, on change): the field again with its message."""
    if field not in LIVE_FIELDS:
        abort(404)
    form = MemberForm(meta={"csrf": False})
    value = (request.form.get(field) or "").strip()
    errors: list[str] = []
    ok = ""
    exclude = members_service.find(request.form.get("member_no") or "")
    try:
        if value:
            if field == "aadhaar":
                number = v.clean_aadhaar(value)
                other = members_service.find_by_aadhaar(number)
                if other is not None and (exclude is None or other.id != exclude.id):
                    raise ValidationError(f"This Aadhaar number is already registered to member {other.member_no}.")
                ok = f"Valid Aadhaar: will be stored encrypted and shown as {v.mask_aadhaar(number)}."
            elif field == "pan":
                pan = v.clean_pan(value)
                other = db.session.scalar(db.select(Member).where(Member.pan == pan))
                if other is not None and (exclude is None or other.id != exclude.id):
                    raise ValidationError(f"This PAN is already registered to member {other.member_no}.")
                ok = f"Valid PAN ({v.PAN_HOLDER_TYPES[pan[3]]})."
            elif field == "mobile":
                ok = f"Will be saved as {v.clean_mobile(value)}."
            elif field == "pin":
                v.clean_pin(value)
            elif field == "email":
                v.clean_email(value)
            elif field == "date_of_birth":
                born = v.clean_birth_date(value, today=members_service.today())
                age = members_service.age(born)
                ok = f"Age {age}." + (" A guardian is required." if members_service.is_minor(born) else "")
    except ValidationError as exc:
        errors = [exc.message]
    bound = getattr(form, field)
    bound.errors = errors
    return render(
        "staff/members/_live_field.html",
        f=bound,
        ok=ok if not errors else "",
        member_no=request.form.get("member_no") or "",
    )


# ---------------------------------------------------------------- profile


def _profile_context(member: Member, **extra: Any) -> dict[str, Any]:
    held = shares.holding(member)
    accounts = members_service.member_accounts(member)
    receipts = sorted(
        {c.entry_id for c in held.certificates if c.entry_id and c.source_certificate_id is None}, reverse=True
    )
    return {
        "member": member,
        "holding": held,
        "accounts": accounts,
        "receipts": receipts,
        "requests": shares.pending_requests(member),
        "docs": kyc.current_documents(member),
        "missing": kyc.missing(member),
        "requirements": kyc.requirements(member),
        "doc_labels": kyc.DOC_LABELS,
        "makers": kyc.makers(member),
        "upload_form": extra.pop("upload_form", None) or UploadForm(),
        "status_form": extra.pop("status_form", None) or StatusForm(),
        "allowed_statuses": sorted(members_service.TRANSITIONS[member.status]),
        "branch": _branch(member),
        "staff_names": _staff_names(member),
        "kyc_current": members_service.kyc_current(member),
        "eligibility": members_service.eligibility_problem(member),
        "is_minor": members_service.is_minor(member),
        "is_senior": members_service.is_senior_citizen(member),
        "local_storage": not storage.using_s3(),
        "face_value": shares.face_value(),
        "today": members_service.today(),
        **extra,
    }


def _branch(member: Member):
    from app.models.users import Branch

    return db.session.get(Branch, member.branch_id) if member.branch_id else None


def _staff_names(member: Member) -> dict[int, str]:
    ids = {member.created_by_id, member.kyc_submitted_by_id, member.kyc_approved_by_id}
    ids.update(c.changed_by_id for c in member.status_history)
    for d in member.documents:
        ids.update({d.uploaded_by_id, d.reviewed_by_id})
    ids.discard(None)
    if not ids:
        return {}
    return {u.id: u.username for u in db.session.scalars(db.select(StaffUser).where(StaffUser.id.in_(ids)))}


@bp.get("/staff/members/<member_no>")
@permission_required("members.view")
def member_profile(member_no: str) -> Response:
    """A member's profile: details, KYC, nominees, history, shares and accounts."""
    member = _member(member_no)
    return render("staff/members/profile.html", **_profile_context(member))


@bp.post("/staff/members/<member_no>/status")
@permission_required("members.manage")
def member_status(member_no: str) -> Response:
    """Change the member's status with a reason and effective date."""
    member = _member(member_no)
    form = StatusForm()
    if not form.validate_on_submit():
        return _respond(member, "Choose a status and give a reason.", level="error", anchor="#history")
    try:
        effective = v.parse_date(form.effective_on.data, field="effective_on") if form.effective_on.data else None
        members_service.change_status(
            member, form.status.data, by=current_staff(), reason=form.reason.data, effective_on=effective
        )
    except DomainError as exc:
        db.session.rollback()
        return _respond(member, exc.message, level="error", anchor="#history")
    uow.commit()
    return _respond(member, f"{member.member_no} is now {member.status}.", anchor="#history")


# ---------------------------------------------------------------- KYC documents


@bp.post("/staff/members/<member_no>/documents")
@permission_required("members.manage")
def document_upload(member_no: str) -> Response:
    """Upload a KYC document (checked by content: PDF, JPEG or PNG, at most 5 MB)."""
    member = _member(member_no)
    form = UploadForm()
    upload = request.files.get("file")
    error = None
    if not form.validate_on_submit():
        error = "Choose the document type."
    elif upload is None or not upload.filename:
        error = "Choose a file to upload."
    else:
        try:
            doc = kyc.upload_document(
                member, form.doc_type.data, upload.read(), filename=upload.filename, by=current_staff()
            )
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            uow.commit()
            return _respond(member, f"{kyc.DOC_LABELS[doc.doc_type]} uploaded; waiting for review.", anchor="#kyc")
    if is_htmx():  # htmx swaps only 2xx answers: the section comes back with the message in place
        response = render("staff/members/_kyc.html", **_profile_context(member, upload_form=form, upload_error=error))
        return toast(response, error or "", "error")
    return render(
        "staff/members/profile.html", **_profile_context(member, upload_form=form, upload_error=error), status=422
    )


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(exc: RequestEntityTooLarge) -> Response:
    """Over MAX_CONTENT_LENGTH: on the KYC upload, the upload form with the limit next to the file
    field (htmx swaps only 2xx answers, so it gets the section with a 200); elsewhere the usual page."""
    member = None
    if request.endpoint == "staff.document_upload" and has_permission(current_user, "members.manage"):
        member = members_service.find((request.view_args or {}).get("member_no") or "")
    if member is None:
        return _app_http_error(exc)
    error = kyc.too_large_message()
    # The body cannot be read: the forms on the page must not look at it.
    forms = {"upload_form": UploadForm(formdata=None), "status_form": StatusForm(formdata=None)}
    context = _profile_context(member, upload_error=error, **forms)
    if is_htmx():
        return toast(render("staff/members/_kyc.html", **context), error, "error")
    return render("staff/members/profile.html", **context, status=413)


def _app_http_error(exc: HTTPException) -> Response:
    """Answer as the application-wide HTTP error handler does (this blueprint handler only
    specialises the KYC upload)."""
    handler = current_app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)
    return handler(exc) if handler is not None else exc  # type: ignore[return-value]


@bp.get("/staff/members/<member_no>/documents/<int:doc_id>")
@permission_required("kyc.documents.view")
def document_view(member_no: str, doc_id: int) -> Response:
    """Serve a KYC document to a permitted user (a short-lived presigned URL on S3)."""
    member = _member(member_no)
    return _serve_document(member, kyc.get_document(member, doc_id))


def _serve_document(member: Member, doc) -> Response:
    kyc.record_view(doc, by=current_staff())
    uow.commit()
    filename = f"{member.member_no}-{doc.doc_type}-{doc.id}{storage.ALLOWED[doc.content_type]}"
    return stored_file(doc.storage_key, doc.content_type, filename)


SPECIMEN_TYPES = ("photo", "signature")


@bp.get("/staff/members/<member_no>/specimens/<int:doc_id>")
@permission_required("accounts.view")
def specimen_view(member_no: str, doc_id: int) -> Response:
    """A holder's verified photo or specimen signature, for the counter's check before paying
    out (other KYC documents stay behind ``kyc.documents.view``); each view is audited."""
    member = _member(member_no)
    doc = kyc.get_document(member, doc_id)
    if doc.doc_type not in SPECIMEN_TYPES or doc.status != "verified" or doc.content_type == "application/pdf":
        abort(404)
    return _serve_document(member, doc)


@bp.post("/staff/members/<member_no>/kyc/submit")
@permission_required("members.manage")
def kyc_submit(member_no: str) -> Response:
    """Send the KYC for review."""
    member = _member(member_no)
    try:
        kyc.submit(member, by=current_staff())
    except DomainError as exc:
        db.session.rollback()
        return _respond(member, exc.message, level="error", anchor="#kyc")
    uow.commit()
    return _respond(member, "KYC submitted for review by another officer.", anchor="#kyc")


# ---------------------------------------------------------------- KYC review (checker)


def _after_review(member: Member, message: str, level: str = "success") -> Response:
    """Answer a review action: the member's KYC card (HTMX) or a redirect back."""
    if is_htmx():
        template = "staff/members/_kyc.html"
        response = render(template, **_profile_context(member, in_queue=request.form.get("from") == "queue"))
        return toast(response, message, level)
    flash(message, level)
    if request.form.get("from") == "queue":
        return redirect(url_for("staff.kyc_queue"))
    return redirect(url_for("staff.member_profile", member_no=member.member_no) + "#kyc")


@bp.get("/staff/kyc")
@permission_required("kyc.review")
def kyc_queue() -> Response:
    """Members whose KYC waits for review, each with inline document and KYC decisions."""
    queue = [_profile_context(m, in_queue=True) for m in kyc.review_queue()]
    return render("staff/members/kyc_queue.html", queue=queue)


def _review_doc(doc_id: int, action: str) -> Response:
    doc = kyc.get_document_by_id(doc_id)
    member = doc.member
    try:
        if action == "verify":
            kyc.verify_document(doc, by=current_staff())
            message = f"{kyc.DOC_LABELS[doc.doc_type]} verified."
        else:
            kyc.reject_document(doc, by=current_staff(), reason=request.form.get("reason", ""))
            message = f"{kyc.DOC_LABELS[doc.doc_type]} rejected."
    except DomainError as exc:
        db.session.rollback()
        return _after_review(member, exc.message, "error")
    uow.commit()
    return _after_review(member, message)


@bp.post("/staff/kyc/documents/<int:doc_id>/verify")
@permission_required("kyc.review")
def document_verify(doc_id: int) -> Response:
    """Verify one document."""
    return _review_doc(doc_id, "verify")


@bp.post("/staff/kyc/documents/<int:doc_id>/reject")
@permission_required("kyc.review")
def document_reject(doc_id: int) -> Response:
    """Reject one document with a reason."""
    return _review_doc(doc_id, "reject")


@bp.post("/staff/members/<member_no>/kyc/approve")
@permission_required("kyc.review")
def kyc_approve(member_no: str) -> Response:
    """Approve the KYC (a different officer from the maker), verifying the pending documents when asked."""
    member = _member(member_no)
    try:
        verify_all = request.form.get("verify_pending") == "1"  # "verify all documents and approve"
        kyc.approve(member, checker=current_staff(), verify_pending=verify_all, note=request.form.get("note"))
    except DomainError as exc:
        db.session.rollback()
        return _after_review(member, exc.message, "error")
    uow.commit()
    return _after_review(member, f"KYC of {member.member_no} approved; re-KYC due {member.rekyc_due_on:%d-%m-%Y}.")


@bp.post("/staff/members/<member_no>/kyc/reject")
@permission_required("kyc.review")
def kyc_reject(member_no: str) -> Response:
    """Reject the KYC with a reason."""
    member = _member(member_no)
    try:
        kyc.reject(member, checker=current_staff(), reason=request.form.get("reason", ""))
    except DomainError as exc:
        db.session.rollback()
        return _after_review(member, exc.message, "error")
    uow.commit()
    return _after_review(member, f"KYC of {member.member_no} rejected.")


@bp.post("/staff/members/<member_no>/risk")
@permission_required("kyc.review")
def member_risk(member_no: str) -> Response:
    """Set the KYC risk category (re-KYC date follows)."""
    member = _member(member_no)
    try:
        members_service.set_risk(member, request.form.get("kyc_risk", ""), by=current_staff())
    except DomainError as exc:
        db.session.rollback()
        return _respond(member, exc.message, level="error", anchor="#kyc")
    uow.commit()
    return _respond(member, f"Risk category set to {member.kyc_risk}.", anchor="#kyc")


@bp.get("/staff/members/kyc-due")
@permission_required("members.view")
def kyc_due() -> Response:
    """Members whose periodic KYC update is due soon or overdue."""
    days = request.args.get("days", type=int)
    window = days if days is not None and 0 <= days <= 3650 else None
    rows = members_service.kyc_due(within_days=window)
    return render(
        "staff/members/kyc_due.html",
        rows=rows,
        days=window if window is not None else current_app.config["KYC_DUE_WINDOW_DAYS"],
        today=members_service.today(),
    )
