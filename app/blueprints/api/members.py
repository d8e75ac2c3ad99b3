"""API: members, KYC documents and approval, admission, self-registration and member sign-in.

Paths use the member number. Staff need the permission named on each view; a member may
read only their own record (any other member number answers 404). Member sign-in is
``{"mobile","password"}`` at /v1/auth/login, then the SMS code at /v1/auth/otp.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request, url_for

from app.blueprints.api import bp
from app.blueprints.api import routes as api_routes  # /v1/auth/* and /v1/me are registered first
from app.blueprints.api.auth import (
    api_permission,
    api_public,
    current_subject,
    register_login_flow,
    register_second_factor,
)
from app.blueprints.api.common import domain_problem, json_body, require_str
from app.blueprints.api.idempotency import idempotent
from app.blueprints.api.openapi import SCHEMAS, api_doc, array, boolean, date, integer, money, obj, ref, schema, string
from app.blueprints.api.serializers import document_json, member_json
from app.extensions import limiter
from app.models.members import DOC_TYPES, GENDERS, MEMBER_TYPES
from app.money import to_json
from app.services import access
from app.services import members as members_service
from app.services.access import member_auth, tokens
from app.services.common import AuthError, DomainError, ValidationError, notifications, uow
from app.services.members import kyc, shares
from app.settings import setting

PROBLEM = ref("Problem")
ADDRESS = schema(
    "Address",
    obj(
        line1=string("House, street / locality"),
        city=string("Village or town"),
        district=string(),
        state=string(),
        pin=string("6-digit PIN code", pattern=r"^[1-9][0-9]{5}$"),
        required=["line1", "city", "district", "state", "pin"],
    ),
)
NOMINEE = schema(
    "Nominee",
    obj(
        name=string(),
        relationship=string(),
        date_of_birth=date(),
        share_percent=string("Share in percent; all nominees together make 100", example="50"),
        guardian_name=string("Required when the nominee is a minor"),
    ),
)
_MEMBER_FIELDS: dict[str, Any] = {
    "name": string(),
    "date_of_birth": date(),
    "gender": string(enum=list(GENDERS)),
    "mobile": string("Indian mobile; +91 or 0 prefixes are removed", example="9876543210"),
    "email": string(format="email"),
    "address": ADDRESS,
    "pan": string("PAN, e.g. ABCPE1234F", pattern=r"^[A-Z]{5}[0-9]{4}[A-Z]$"),
    "aadhaar": string("12-digit Aadhaar (Verhoeff check digit); stored encrypted, shown only masked"),
    "father_or_spouse_name": string(),
    "occupation": string(),
    "member_type": string(enum=list(MEMBER_TYPES)),
    "form60": boolean(
        "No PAN: a declaration that Form 60 will be submitted; `form60_on_file` becomes true only when "
        "the uploaded Form 60 document is verified"
    ),
    "guardian": obj(name=string(), relation=string(), description="Required when the applicant is under 18"),
    "nominees": array(NOMINEE),
}
MEMBER_IN = schema(
    "MemberCreate",
    obj(
        **_MEMBER_FIELDS,
        required=["name", "date_of_birth", "gender", "mobile", "address"],
        description="Register an applicant (status applicant, KYC pending).",
    ),
)
REGISTER_IN = schema(
    "MemberSelfRegistration",
    obj(
        **_MEMBER_FIELDS,
        password=string(format="password", description="At least 8 characters, not only digits"),
        required=["name", "date_of_birth", "gender", "mobile", "address", "password"],
    ),
)
DOCUMENT = schema(
    "KycDocument",
    obj(
        id=integer(),
        doc_type=string(enum=list(DOC_TYPES)),
        status=string(enum=["pending", "verified", "rejected", "superseded"]),
        content_type=string(enum=["application/pdf", "image/jpeg", "image/png"]),
        size_bytes=integer(),
        sha256=string(),
        uploaded_at=string(format="date-time"),
        rejection_reason=string(),
    ),
)
MEMBER_OUT = schema(
    "Member",
    obj(
        member_no=string(example="HO000123"),
        name=string(),
        father_or_spouse_name=string(),
        date_of_birth=date(),
        gender=string(),
        mobile=string(),
        email=string(),
        address=ADDRESS,
        occupation=string(),
        member_type=string(),
        branch=string("Branch code"),
        status=string(enum=["applicant", "active", "inactive", "deceased", "expelled", "resigned"]),
        kyc_status=string(enum=["pending", "submitted", "approved", "rejected"]),
        kyc_risk=string(enum=["low", "medium", "high"]),
        rekyc_due_on=date(),
        joined_on=date(),
        pan=string("Masked: ABXXXXX34F"),
        aadhaar=string("Masked: XXXX XXXX 1234"),
        form60_on_file=boolean("A verified Form 60 is on file (set by verifying the Form 60 document)"),
        guardian=obj(name=string(), relation=string()),
        nominees=array(NOMINEE),
        shares=obj(
            account_no=string(),
            shares=integer(),
            amount=money(),
            certificates=array(
                obj(
                    certificate_no=string(),
                    first_share_no=integer(),
                    last_share_no=integer(),
                    shares=integer(),
                    status=string(),
                )
            ),
        ),
        documents=array(DOCUMENT),
        required=["member_no", "name", "status", "kyc_status"],
    ),
)
_ME_SCHEMA = SCHEMAS.get("Me")
if _ME_SCHEMA is not None:  # /v1/me also carries the member's profile for member tokens
    _ME_SCHEMA["properties"].setdefault("member", MEMBER_OUT)
APPROVE_IN = schema("KycDecision", obj(remarks=string("Optional note for the audit log")))
REJECT_IN = schema("KycRejection", obj(reason=string(), required=["reason"]))
ADMIT_IN = schema(
    "Admission",
    obj(
        shares=integer("Number of shares; at least the minimum (setting MIN_SHARES)", minimum=1),
        mode=string(enum=list(shares.MODES)),
        from_account=string("The member's savings account number when mode is transfer"),
        required=["shares", "mode"],
    ),
)
ADMISSION = schema(
    "AdmissionReceipt",
    obj(
        member_no=string(),
        status=string(),
        joined_on=date(),
        entry_no=string(),
        share_account_no=string(),
        certificate_no=string(),
        first_share_no=integer(),
        last_share_no=integer(),
        shares=integer(),
        share_amount=money(),
        membership_fee=money(),
        total=money(),
        mode=string(),
    ),
)
REGISTERED = schema(
    "SelfRegistration",
    obj(
        member_no=string(),
        kyc_status=string(),
        status=string(),
        otp_required=boolean(enum=[True]),
        otp_token=string("Send with the SMS code to /api/v1/auth/otp"),
        expires_in=integer(),
        required=["member_no", "kyc_status", "otp_required", "otp_token"],
    ),
)

# Service field names → API field names in problem ``errors``.
_API_FIELDS = {
    "address_line": "address.line1",
    "village_town": "address.city",
    "district": "address.district",
    "state": "address.state",
    "pin": "address.pin",
    "guardian_name": "guardian.name",
    "guardian_relation": "guardian.relation",
    "to_account": "from_account",
}


def _api_errors(exc: DomainError) -> DomainError:
    if exc.errors:
        exc.errors = {_API_FIELDS.get(k, k): msgs for k, msgs in exc.errors.items()}
    return exc


def _member_data(body: dict[str, Any]) -> dict[str, Any]:
    address = body.get("address") if isinstance(body.get("address"), dict) else {}
    guardian = body.get("guardian") if isinstance(body.get("guardian"), dict) else {}
    line = ", ".join(str(x).strip() for x in (address.get("line1"), address.get("line2")) if x)
    data: dict[str, Any] = {
        "name": body.get("name"),
        "father_or_spouse_name": body.get("father_or_spouse_name"),
        "date_of_birth": body.get("date_of_birth"),
        "gender": body.get("gender"),
        "mobile": body.get("mobile"),
        "email": body.get("email"),
        "address_line": line,
        "village_town": address.get("city"),
        "district": address.get("district"),
        "state": address.get("state"),
        "pin": address.get("pin"),
        "occupation": body.get("occupation"),
        "member_type": body.get("member_type"),
        "pan": body.get("pan"),
        "aadhaar": body.get("aadhaar"),
        "guardian_name": guardian.get("name") or body.get("guardian_name"),
        "guardian_relation": guardian.get("relation") or body.get("guardian_relation"),
    }
    if "form60" in body:
        data["form60"] = bool(body.get("form60"))
    if isinstance(body.get("nominees"), list):
        data["nominees"] = [n for n in body["nominees"] if isinstance(n, dict)]
    return data


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# ---------------------------------------------------------------- staff: members and KYC


@bp.post("/v1/members")
@api_doc(
    "Register a member (applicant)",
    tags=["members"],
    description=(
        "Creates an applicant with KYC pending and answers its `member_no`. Aadhaar is checked (12 digits, "
        "first 2–9, Verhoeff check digit, not a palindrome), stored encrypted and never returned unmasked; "
        "a duplicate Aadhaar or PAN, a bad mobile or PIN, or an applicant under 18 without a guardian is a 422 "
        "with field errors (address fields as `address.pin` etc.)."
    ),
    request=MEMBER_IN,
    responses={201: ("The new member", MEMBER_OUT)},
)
@api_permission("members.manage")
def create_member() -> tuple[Response, int, dict[str, str]]:
    """Register an applicant member."""
    try:
        member = members_service.register(_member_data(json_body()), by=g.api_user)
    except DomainError as exc:
        raise _api_errors(exc) from None
    uow.commit()
    location = url_for("api.get_member", member_no=member.member_no)
    return jsonify(member_json(member)), 201, {"Location": location}


@bp.get("/v1/members/<member_no>")
@api_doc(
    "Read a member",
    tags=["members"],
    description="Staff with members.view read any member; a member may read only their own record (404 otherwise).",
    responses={200: ("The member (Aadhaar and PAN masked)", MEMBER_OUT), 404: ("No such member", PROBLEM)},
)
@api_permission("members.view", allow_members=True)
def get_member(member_no: str) -> Response:
    """A member's record."""
    member = access.visible_member(current_subject(), member_no)
    return jsonify(member_json(member))


@bp.post("/v1/members/<member_no>/kyc")
@api_doc(
    "Upload a KYC document",
    tags=["members"],
    description=(
        "Multipart form: `doc_type` (aadhaar, pan, photo, signature, address_proof, form60) and `file`. "
        "The file's bytes must be a PDF, JPEG or PNG (the name does not count) of at most 5 MB."
    ),
    request=obj(doc_type=string(enum=list(DOC_TYPES)), file=string(format="binary"), required=["doc_type", "file"]),
    request_content_type="multipart/form-data",
    responses={201: ("The stored document", DOCUMENT), 404: ("No such member", PROBLEM), 413: ("Over 8 MB", PROBLEM)},
)
@api_permission("members.manage")
def upload_kyc(member_no: str) -> tuple[Response, int]:
    """Store one KYC document for the member."""
    member = members_service.get(member_no)
    upload = request.files.get("file")
    errors: dict[str, list[str]] = {}
    if upload is None:
        errors["file"] = ["Attach the document as the multipart field 'file'."]
    if not (request.form.get("doc_type") or "").strip():
        errors["doc_type"] = [f"Choose the document type: {', '.join(DOC_TYPES)}."]
    if errors:
        raise ValidationError("Send doc_type and file as multipart/form-data.", errors=errors)
    doc = kyc.upload_document(
        member,
        request.form["doc_type"],
        upload.read(),
        filename=upload.filename,
        by=g.api_user,  # type: ignore[union-attr]
    )
    uow.commit()
    return jsonify(document_json(doc)), 201


@bp.post("/v1/members/<member_no>/kyc/approve")
@api_doc(
    "Approve a member's KYC (checker)",
    tags=["members"],
    description=(
        "The checker approves the KYC; documents still pending are verified by the checker in the same step. "
        "The user who registered the member, submitted the KYC or uploaded a current document cannot approve "
        "(403). Needs every required document: photo, signature, PAN card or Form 60, and Aadhaar or another "
        "address proof."
    ),
    request=APPROVE_IN,
    responses={200: ("The member with KYC approved", MEMBER_OUT), 403: ("Maker cannot be checker", PROBLEM)},
)
@api_permission("kyc.review")
def approve_kyc(member_no: str) -> Response:
    """Approve the KYC (maker ≠ checker)."""
    member = members_service.get(member_no)
    body = request.get_json(silent=True) or {}
    remarks = body.get("remarks") if isinstance(body, dict) else None
    kyc.approve(member, checker=g.api_user, verify_pending=True, note=remarks if isinstance(remarks, str) else None)
    uow.commit()
    return jsonify(member_json(member))


@bp.post("/v1/members/<member_no>/kyc/reject")
@api_doc(
    "Reject a member's KYC (checker)",
    tags=["members"],
    request=REJECT_IN,
    responses={200: ("The member with KYC rejected", MEMBER_OUT), 403: ("Maker cannot be checker", PROBLEM)},
)
@api_permission("kyc.review")
def reject_kyc(member_no: str) -> Response:
    """Reject the KYC with a reason."""
    member = members_service.get(member_no)
    (reason,) = require_str(json_body(), "reason", max_length=255)
    kyc.reject(member, checker=g.api_user, reason=reason)
    uow.commit()
    return jsonify(member_json(member))


@bp.post("/v1/members/<member_no>/admit")
@api_doc(
    "Admit a member: membership fee and shares",
    tags=["members"],
    description=(
        "Collects the membership fee and at least the minimum number of shares, in cash or from the member's "
        "savings account (`mode` transfer with `from_account`), posts them to the ledger and makes the member "
        "active. KYC must be approved. Fewer than the minimum shares is a 422."
    ),
    request=ADMIT_IN,
    responses={201: ("The admission receipt", ADMISSION), 409: ("Already admitted or key reused", PROBLEM)},
)
@api_permission("shares.manage")
@idempotent
def admit_member(member_no: str) -> tuple[Response, int]:
    """Admit an applicant (money-moving: Idempotency-Key required)."""
    member = members_service.get(member_no)
    body = json_body()
    try:
        receipt = shares.admit(
            member,
            shares=body.get("shares"),
            mode=str(body.get("mode") or ""),
            from_account_no=body.get("from_account"),
            by=g.api_user,
            channel="api",
        )
    except DomainError as exc:
        raise _api_errors(exc) from None
    uow.commit()
    cert = receipt.certificate
    return jsonify(
        {
            "member_no": member.member_no,
            "status": member.status,
            "joined_on": _iso(member.joined_on),
            "entry_no": receipt.entry.number,
            "share_account_no": receipt.account.account_no,
            "certificate_no": cert.certificate_no if cert else None,
            "first_share_no": cert.first_share_no if cert else None,
            "last_share_no": cert.last_share_no if cert else None,
            "shares": receipt.shares,
            "share_amount": to_json(receipt.share_paise),
            "membership_fee": to_json(receipt.fee_paise),
            "total": to_json(receipt.total_paise),
            "mode": receipt.mode,
        }
    ), 201


# ---------------------------------------------------------------- public: self-registration


def _register_limit() -> str:
    return setting("RATELIMIT_REGISTER")


@bp.post("/v1/auth/register")
@api_doc(
    "Member self-registration",
    tags=["auth"],
    description=(
        "Creates an applicant (KYC pending) with a password and sends a 6-digit code by SMS to the mobile. "
        "Finish at /api/v1/auth/otp with the `otp_token` and the code: that proves the mobile and signs the "
        "member in. Later sign-ins: /api/v1/auth/login with `{mobile, password}`, then the SMS code. "
        "The applicant visits the branch (or uploads documents through staff) to complete KYC and admission."
    ),
    request=REGISTER_IN,
    responses={201: ("Registered; verify the mobile next", REGISTERED)},
    rate_limited=True,
)
@api_public
@limiter.limit(_register_limit)
def self_register() -> tuple[Response, int]:
    """Register as an applicant with a password; OTP to the mobile."""
    body = json_body()
    password = body.get("password")
    try:
        member, login, _otp = member_auth.self_register(
            _member_data(body), password if isinstance(password, str) else ""
        )
    except DomainError as exc:
        raise _api_errors(exc) from None
    token, ttl = tokens.otp_token(member_auth.subject_for(login))
    uow.commit()
    notifications.dispatch()
    response = jsonify(
        {
            "member_no": member.member_no,
            "kyc_status": member.kyc_status,
            "status": member.status,
            "otp_required": True,
            "otp_token": token,
            "expires_in": ttl,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response, 201


# ---------------------------------------------------------------- member sign-in (login flow + SMS code)


def _member_login(data: dict[str, Any]) -> Response:
    """POST /v1/auth/login with ``{"mobile","password"}``: check, then send an SMS code."""
    mobile, password = require_str(data, "mobile", "password", max_length=256)
    try:
        login = member_auth.authenticate(mobile, password)
        member_auth.issue_otp(login, "login")
    except AuthError as exc:
        uow.commit()  # keep the failure counter and the audit row
        return domain_problem(exc)
    except DomainError as exc:
        uow.commit()
        return domain_problem(exc)
    response = api_routes.otp_challenge(member_auth.subject_for(login))  # commits
    notifications.dispatch()
    return response


def _member_second_factor(subject: tokens.Subject, code: str) -> str:
    return member_auth.verify_otp(subject.entity, code)


register_login_flow("mobile", _member_login)
register_second_factor("member", _member_second_factor)
