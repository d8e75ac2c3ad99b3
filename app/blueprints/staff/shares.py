"""Staff screens: admission, share purchase, refund and transfer requests (maker-checker), the
share receipt and the share register (screen, CSV, print view and PDF).

Split out of ``members.py`` (same ``staff`` blueprint, same endpoint names). Views are thin:
they read the form, call one ``members.shares`` service function, commit, and render.
"""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from sqlalchemy import Select
from wtforms import SelectChoice

from app import navigation
from app.auth_loader import current_staff
from app.blueprints import printing
from app.blueprints.staff import bp
from app.blueprints.staff.member_forms import BuySharesForm, RefundForm, SharesForm, TransferForm
from app.blueprints.staff.members import _apply_errors, _member, _respond
from app.blueprints.staff.teller_forms import new_nonce
from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import Account
from app.models.members import Member
from app.navigation import NavItem
from app.permissions import permission_required
from app.services import members as members_service
from app.services.common import DomainError, NotFound, ValidationError, approvals, uow
from app.services.members import shares
from app.web import is_htmx, render, select_choices

navigation.add(NavItem("Share register", "staff.share_register", "members.view"), before="staff.approvals")


# ---------------------------------------------------------------- admission and shares


def _savings_choices(member: Member) -> list[SelectChoice]:
    rows = db.session.scalars(
        db.select(Account)
        .where(Account.member_id == member.id, Account.kind.in_(shares.FUNDING_KINDS), Account.status == "active")
        .order_by(Account.id)
    )
    return select_choices([("", "—")] + [(a.account_no, f"{a.account_no} ({a.title})") for a in rows])


def _shares_count(raw: str | None) -> int | None:
    try:
        return shares.parse_shares(raw)
    except ValidationError:
        return None


@bp.route("/staff/members/<member_no>/admit", methods=["GET", "POST"])
@permission_required("shares.manage")
def member_admit(member_no: str) -> Response:
    """Admission: collect the membership fee and the minimum shares (cash or from savings)."""
    member = _member(member_no)
    form = SharesForm()
    form.from_account.choices = _savings_choices(member)
    top: list[str] = []
    if request.method == "GET" and not form.shares.data:
        form.shares.data = str(request.args.get("shares") or shares.min_shares())
    if request.method == "POST" and form.validate_on_submit():
        try:
            receipt = shares.admit(
                member,
                shares=form.shares.data,
                mode=form.mode.data,
                from_account_no=form.from_account.data or None,
                by=current_staff(),
            )
        except DomainError as exc:
            db.session.rollback()
            top = _apply_errors(form, exc, {"member_no": ""})
        else:
            uow.commit()
            flash(f"{member.name} admitted as member {member.member_no}.", "success")
            return redirect(url_for("staff.share_receipt", member_no=member.member_no, entry_id=receipt.entry.id))
    count = _shares_count(form.shares.data)
    context = {
        "member": member,
        "form": form,
        "top_errors": top,
        "count": count,
        "face": shares.face_value(),
        "fee": shares.membership_fee(),
        "minimum": shares.min_shares(),
        "admission": True,
    }
    if is_htmx() and request.method == "GET":
        return render("staff/members/_share_total.html", **context)
    return render("staff/members/shares_form.html", status=422 if request.method == "POST" else 200, **context)


@bp.route("/staff/members/<member_no>/shares/buy", methods=["GET", "POST"])
@permission_required("shares.manage")
def shares_buy(member_no: str) -> Response:
    """An active member buys more shares (a one-time form token makes a double submit post once)."""
    member = _member(member_no)
    form = BuySharesForm()
    form.from_account.choices = _savings_choices(member)
    top: list[str] = []
    if request.method == "GET":
        form.nonce.data = new_nonce()
        if not form.shares.data:
            form.shares.data = request.args.get("shares") or ""
    elif not form.validate_on_submit():
        if form.nonce.errors:  # posted without its token (an old or hand-made form): nothing posted
            form.nonce.data = new_nonce()
            top = ["The form was out of date. Check the details and submit it again."]
    else:
        me = current_staff()
        try:
            receipt = shares.purchase(
                member,
                shares=form.shares.data,
                mode=form.mode.data,
                from_account_no=form.from_account.data or None,
                by=me,
                idempotency_key=f"shares:{me.id}:{form.nonce.data}",
            )
        except DomainError as exc:
            db.session.rollback()
            top = _apply_errors(form, exc, {"member_no": ""})
        else:
            uow.commit()
            flash(f"{receipt.shares} shares issued on {receipt.certificate.certificate_no}.", "success")  # type: ignore[union-attr]
            return redirect(url_for("staff.share_receipt", member_no=member.member_no, entry_id=receipt.entry.id))
    count = _shares_count(form.shares.data)
    context = {
        "member": member,
        "form": form,
        "top_errors": top,
        "count": count,
        "face": shares.face_value(),
        "fee": 0,
        "minimum": 1,
        "admission": False,
    }
    if is_htmx() and request.method == "GET":
        return render("staff/members/_share_total.html", **context)
    return render("staff/members/shares_form.html", status=422 if request.method == "POST" else 200, **context)


@bp.get("/staff/members/<member_no>/receipts/<int:entry_id>")
@permission_required("members.view")
def share_receipt(member_no: str, entry_id: int) -> Response:
    """A printable receipt for an admission or share purchase."""
    member = _member(member_no)
    return render("staff/members/receipt.html", r=shares.receipt(member, entry_id), member=member)


def _request_form(member_no: str, form, kind: str, submit) -> Response:
    """The refund / transfer request form: ``submit(member, form)`` queues it for a checker."""
    member = _member(member_no)
    top: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            req = submit(member, form)
        except DomainError as exc:
            db.session.rollback()
            top = _apply_errors(form, exc)
        else:
            uow.commit()
            flash(f"{kind.title()} request #{req.id} is waiting for a checker's approval.", "success")
            return redirect(url_for("staff.member_profile", member_no=member.member_no) + "#shares")
    return render(
        "staff/members/share_request.html",
        member=member,
        form=form,
        top_errors=top,
        kind=kind,
        holding=shares.holding(member),
        minimum=shares.min_shares(),
        status=422 if request.method == "POST" else 200,
    )


@bp.route("/staff/members/<member_no>/shares/refund", methods=["GET", "POST"])
@permission_required("shares.manage")
def shares_refund(member_no: str) -> Response:
    """Request a share refund (a checker approves it)."""

    def submit(member, form):
        return shares.request_refund(
            member, shares=form.shares.data, mode=form.mode.data, to_account_no=form.to_account.data,
            reason=form.reason.data, close_membership=bool(form.close_membership.data), maker=current_staff(),
        )  # fmt: skip

    return _request_form(member_no, RefundForm(), "refund", submit)


@bp.route("/staff/members/<member_no>/shares/transfer", methods=["GET", "POST"])
@permission_required("shares.manage")
def shares_transfer(member_no: str) -> Response:
    """Request a share transfer to another member (a checker approves it)."""

    def submit(member, form):
        return shares.request_transfer(
            member, to_member_no=form.to_member_no.data, shares=form.shares.data, reason=form.reason.data,
            close_membership=bool(form.close_membership.data), maker=current_staff(),
        )  # fmt: skip

    return _request_form(member_no, TransferForm(), "transfer", submit)


def _share_request(req_id: int) -> tuple[ApprovalRequest, Member]:
    req = approvals.get(req_id)
    if req.kind not in shares.REQUEST_KINDS or req.entity_type != "member":
        raise NotFound("No such share request.")
    return req, members_service.get(req.entity_id or "")


@bp.post("/staff/shares/requests/<int:req_id>/approve")
@permission_required("shares.approve")
def share_request_approve(req_id: int) -> Response:
    """Approve a pending refund / transfer (maker ≠ checker); posts the movement."""
    req, member = _share_request(req_id)
    try:
        approvals.approve(req.id, checker=current_staff(), note=request.form.get("note") or None)
    except DomainError as exc:
        db.session.rollback()
        return _respond(member, exc.message, level="error", anchor="#shares")
    uow.commit()
    return _respond(
        member, f"Request #{req.id} approved and posted ({(req.result or {}).get('entry_no', '')}).", anchor="#shares"
    )


@bp.post("/staff/shares/requests/<int:req_id>/reject")
@permission_required("shares.approve")
def share_request_reject(req_id: int) -> Response:
    """Reject a pending refund / transfer with a reason."""
    req, member = _share_request(req_id)
    try:
        approvals.reject(req.id, checker=current_staff(), note=request.form.get("note", ""))
    except DomainError as exc:
        db.session.rollback()
        return _respond(member, exc.message, level="error", anchor="#shares")
    uow.commit()
    return _respond(member, f"Request #{req.id} rejected.", anchor="#shares")


PRINT_MAX_CERTIFICATES = 5_000  # a printed register holds the filtered list up to this; the CSV has no cap


def _register_filter() -> tuple[str, Select]:
    status = request.args.get("status", "active")
    status = status if status in {"active", "refunded", "transferred", ""} else "active"
    return status, shares.register_query(q=request.args.get("q"), status=status or None)


@bp.get("/staff/shares/register.pdf", defaults={"fmt": "pdf"})
@bp.get("/staff/shares/register", defaults={"fmt": "html"})
@permission_required("members.view")
def share_register(fmt: str = "html") -> Response:
    """The share register (certificates and share numbers), with CSV export, a print view
    (``?print=1``) and a PDF holding every certificate of the filter."""
    args = request.args
    status, stmt = _register_filter()
    if args.get("format") == "csv":
        rows = db.session.execute(stmt).all()
        response = Response(shares.register_csv(rows), mimetype="text/csv")
        stamp = members_service.today().isoformat()
        response.headers["Content-Disposition"] = f'attachment; filename="share-register-{stamp}.csv"'
        return response
    total = db.session.scalar(db.select(db.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    printed = fmt == "pdf" or bool(args.get("print"))
    page_no = 1 if printed else max(1, args.get("page", 1, type=int))
    per_page = PRINT_MAX_CERTIFICATES if printed else 100
    rows = db.session.execute(stmt.limit(per_page).offset((page_no - 1) * per_page)).all()
    context = {
        "rows": rows, "totals": shares.register_totals(), "args": args, "cert_status": status, "page_no": page_no,
        "pages": 1 if printed else max(1, -(-total // per_page)), "total": total, "today": members_service.today(),
    }  # fmt: skip
    if printed:
        today = context["today"]
        title = f"Share register as of {today.strftime('%d-%m-%Y')}"
        return printing.printed(
            "staff/members/_register_print.html", title, fmt, f"share-register-{today.isoformat()}.pdf", **context
        )
    return render("staff/members/share_register.html", "staff/members/_register_rows.html", **context)
