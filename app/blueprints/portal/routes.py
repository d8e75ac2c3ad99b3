"""Member portal pages: dashboard, accounts, deposits, statements, transfers, profile, calculators.

Every read of the member's data goes through ``access.scoping`` with the signed-in login as
the subject: another member's account or statement number answers 404 exactly like a
number that does not exist. Pages are full HTML that work without JavaScript; htmx only
loads more rows, polls a statement being made and swaps small regions.
"""

from __future__ import annotations

import secrets
import time
from datetime import date

from flask import Response, abort, flash, jsonify, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import money
from app.blueprints.portal import bp, overview
from app.blueprints.portal.auth_routes import portal_limit
from app.blueprints.portal.forms import CodeForm, ContactForm, NomineeRequestForm, StatementForm, TransferForm
from app.blueprints.portal.messages import amount_paise, translate
from app.extensions import limiter
from app.jobs import enqueue
from app.jobs.statements import make_statement
from app.permissions import member_required, public
from app.services import access
from app.services.access import member_auth
from app.services.common import DomainError, NotFound, notifications, uow
from app.services.common import validators as v
from app.services.counter import transfers
from app.services.deposits import passbook, statements
from app.services.ledger import calendar
from app.settings import setting
from app.web import apply_domain_error, render, select_choices

PAGE_ROWS = 20
TRANSFER_KEY = "portal_transfer"
CONTACT_KEY = "portal_contact"
PENDING_SECONDS = 10 * 60


def _translated(exc: DomainError) -> DomainError:
    exc.message = translate(exc.message)
    exc.errors = {k: [translate(m) for m in msgs] for k, msgs in (exc.errors or {}).items()}
    return exc


def _date_arg(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _account_or_404(account_no: str):
    try:
        return access.visible_account(current_user, account_no)
    except NotFound:
        abort(404)


# ---------------------------------------------------------------- public


@bp.get("/")
@public
def index() -> Response:
    if getattr(current_user, "kind", None) == "member" and current_user.is_authenticated:
        return redirect(url_for("portal.dashboard"))
    return render("portal/index.html")


@bp.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    """The web app manifest: "Add to home screen" opens the portal full-screen."""
    body = {
        "name": setting("SOCIETY_NAME"),
        "short_name": "Sahakari",
        "start_url": url_for("portal.dashboard"),
        "scope": url_for("portal.index"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#156548",
        "lang": "en-IN",
        "icons": [
            {"src": url_for("static", filename="portal/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="portal/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/calculators")
@public
def calculators() -> Response:
    return render("portal/calculators.html")


# ---------------------------------------------------------------- dashboard and accounts


@bp.get("/home")
@member_required
def dashboard() -> Response:
    return render("portal/dashboard.html", view=overview.dashboard(current_user))


@bp.get("/accounts")
@member_required
def accounts() -> Response:
    return render("portal/accounts.html", items=overview.account_cards(current_user))


@bp.get("/accounts/<account_no>")
@member_required
def account(account_no: str) -> Response:
    """One account: balance, deposit details, transactions newest first, date filter, "load more"."""
    acc = _account_or_404(account_no)
    start, end = _date_arg("from"), _date_arg("to")
    if start and end and start > end:
        start, end = end, start
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    stmt = passbook.transactions([acc], start, end, page=page, per_page=PAGE_ROWS, newest_first=True)
    context = {"acc": acc, "stmt": stmt, "start": start, "end": end, "masked": statements.mask_account(acc.account_no)}
    if request.headers.get("HX-Request") == "true" and page > 1:
        return render("portal/account.html", "portal/_txn_rows.html", **context)
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "txns":
        return render("portal/account.html", "portal/_txns.html", **context)
    context["deposit"] = statements.deposit_summary(acc) if acc.kind in ("fd", "rd") else None
    return render("portal/account.html", **context)


# ---------------------------------------------------------------- statements (PDF)


def _statement_form() -> StatementForm:
    form = StatementForm()
    form.account.choices = select_choices(
        (a.account_no, f"{a.account_no} · {a.title}") for a in access.visible_accounts(current_user)
    )
    return form


def _pdf_response(pdf: bytes, name: str) -> Response:
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/statements", methods=["GET", "POST"])
@member_required
@limiter.limit(portal_limit, methods=["POST"])
def statements_page() -> Response:
    form = _statement_form()
    if request.method == "GET":
        if request.args.get("account"):
            form.account.data = request.args["account"]
        today = calendar.business_date_or_today()
        form.start.data = form.start.data or today.replace(day=1)
        form.end.data = form.end.data or today
        return render("portal/statements.html", form=form)
    if form.validate_on_submit():
        acc = _account_or_404(form.account.data)
        try:
            result = statements.statement_pdf(
                acc,
                form.start.data,
                form.end.data,
                language=str(overview.locale()),
                member_id=current_user.member_id,
            )
        except DomainError as exc:
            apply_domain_error(form, _translated(exc))
        else:
            if isinstance(result, statements.Rendered):
                uow.commit()
                return _pdf_response(result.pdf, statements.filename(acc, form.start.data, form.end.data))
            uow.commit()
            enqueue(make_statement, result.id)
            return redirect(url_for("portal.statement_file", token=result.token))
    return render("portal/statements.html", form=form, status=422)


@bp.get("/statements/<token>")
@member_required
def statement_file(token: str) -> Response:
    """A statement being made by the background job: the fragment polls itself until ready."""
    try:
        row = statements.find_file(token, member_id=current_user.member_id)
    except NotFound:
        abort(404)
    return render("portal/statement_file.html", "portal/_statement_status.html", row=row)


@bp.get("/statements/<token>/download")
@member_required
def statement_download(token: str) -> Response:
    try:
        row = statements.find_file(token, member_id=current_user.member_id)
    except NotFound:
        abort(404)
    if row.status != "ready" or not row.pdf:
        return redirect(url_for("portal.statement_file", token=token))
    return _pdf_response(row.pdf, statements.filename(row.account, row.start_date, row.end_date))


# ---------------------------------------------------------------- transfers


def _transfer_form(pending: dict | None = None) -> TransferForm:
    """The transfer form: from the request, or refilled from a pending transfer that was refused."""
    if pending is None:
        form = TransferForm()
    else:
        data = {
            "from_account": pending["from"],
            "to_account": pending["to"],
            "amount": f"{money.from_paise(int(pending['amount'])):.2f}",
            "narration": pending.get("narration") or "",
        }
        form = TransferForm(formdata=None, data=data)
    own = [
        a for a in access.visible_accounts(current_user, kinds=("savings",)) if a.member_id == current_user.member_id
    ]
    form.from_account.choices = select_choices(
        (a.account_no, f"{statements.mask_account(a.account_no)} · {money.format_inr(a.balance_paise)}") for a in own
    )
    return form


def _post_transfer(pending: dict) -> Response:
    """Post a checked transfer (idempotent on its key) and show the result."""
    try:
        result = transfers.transfer_by_number(
            pending["from"],
            pending["to"],
            int(pending["amount"]),
            narration=pending.get("narration") or None,
            member_id=current_user.member_id,
            channel="portal",
            idempotency_key=pending["key"],
        )
    except DomainError as exc:
        session.pop(TRANSFER_KEY, None)
        return _transfer_page(_refused_form(pending, exc), status=422)
    uow.commit()
    session.pop(TRANSFER_KEY, None)
    return render("portal/transfer_done.html", result=result)


def _refused_form(pending: dict, exc: DomainError) -> TransferForm:
    """The form as the member filled it, with the posting's refusal on it (nothing was posted)."""
    form = _transfer_form(pending)
    apply_domain_error(form, _translated(exc))
    return form


def _transfer_page(form: TransferForm, *, status: int) -> Response:
    return render("portal/transfer.html", form=form, threshold=int(setting("PORTAL_TRANSFER_OTP_PAISE")), status=status)


@bp.route("/transfer", methods=["GET", "POST"])
@member_required
@limiter.limit(portal_limit, methods=["POST"])
def transfer() -> Response:
    """Move money from an own savings account to another own account or another member's."""
    form = _transfer_form()
    if form.validate_on_submit():
        source = _account_or_404(form.from_account.data)
        if source.member_id != current_user.member_id or source.kind != "savings":
            abort(404)
        try:
            amount = amount_paise(form.amount.data)
            target_no = (form.to_account.data or "").strip().upper()
            target = transfers.find_account(target_no, field="to_account")
            pending = {
                "from": source.account_no,
                "to": target.account_no,
                "amount": amount,
                "narration": (form.narration.data or "").strip()[:80],
                "key": f"portal:{current_user.id}:{secrets.token_hex(12)}",
                "at": time.time(),
            }
            if member_auth.transfer_code_needed(amount):
                member_auth.issue_otp(current_user, "transfer")
                session[TRANSFER_KEY] = pending
                uow.commit()
                notifications.dispatch()
                return redirect(url_for("portal.transfer_confirm"))
        except DomainError as exc:
            uow.commit()
            apply_domain_error(form, _translated(exc))
        else:
            return _post_transfer(pending)
    return _transfer_page(form, status=422 if request.method == "POST" else 200)


def pending_step(key: str) -> dict | None:
    """The step waiting for its SMS code in the session, or None (dropped) when absent or stale."""
    pending = session.get(key)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(key, None)
        return None
    return pending


@bp.route("/transfer/confirm", methods=["GET", "POST"])
@member_required
@limiter.limit(portal_limit, methods=["POST"])
def transfer_confirm() -> Response:
    """The SMS code for a transfer above PORTAL_TRANSFER_OTP_PAISE."""
    pending = pending_step(TRANSFER_KEY)
    if pending is None:
        flash(_("Please start the transfer again."), "warning")
        return redirect(url_for("portal.transfer"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            member_auth.check_code(current_user, "transfer", form.code.data)
        except DomainError as exc:
            uow.commit()
            apply_domain_error(form, _translated(exc))
        else:
            return _post_transfer(pending)
    return render(
        "portal/transfer_confirm.html",
        form=form,
        pending=pending,
        masked=v.mask_mobile(current_user.mobile),
        status=422 if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------- profile


@bp.get("/profile")
@member_required
def profile() -> Response:
    return render(
        "portal/profile.html",
        view=overview.profile(current_user),
        contact=ContactForm(),
        nominee_form=NomineeRequestForm(),
        pending_contact=session.get(CONTACT_KEY),
        code_form=CodeForm(),
    )


@bp.post("/profile/contact")
@member_required
@limiter.limit(portal_limit)
def contact_change() -> Response:
    form = ContactForm()
    if form.validate_on_submit():
        try:
            change = member_auth.start_contact_change(current_user, mobile=form.mobile.data, email=form.email.data)
        except DomainError as exc:
            uow.commit()
            apply_domain_error(form, _translated(exc))
        else:
            session[CONTACT_KEY] = {**change, "at": time.time()}
            uow.commit()
            notifications.dispatch()
            flash(_("We sent a code to confirm the change."), "info")
            return redirect(url_for("portal.profile") + "#contact")
    return render(
        "portal/profile.html",
        view=overview.profile(current_user),
        contact=form,
        nominee_form=NomineeRequestForm(),
        pending_contact=None,
        code_form=CodeForm(),
        status=422,
    )


@bp.post("/profile/contact/confirm")
@member_required
@limiter.limit(portal_limit)
def contact_confirm() -> Response:
    pending = pending_step(CONTACT_KEY)
    if pending is None:
        flash(_("Please ask for the change again."), "warning")
        return redirect(url_for("portal.profile"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            member_auth.finish_contact_change(current_user, pending, form.code.data)
        except DomainError as exc:
            uow.commit()
            apply_domain_error(form, _translated(exc))
        else:
            session.pop(CONTACT_KEY, None)
            uow.commit()
            flash(_("Your contact details are updated."), "success")
            return redirect(url_for("portal.profile"))
    return render(
        "portal/profile.html",
        view=overview.profile(current_user),
        contact=ContactForm(),
        nominee_form=NomineeRequestForm(),
        pending_contact=pending,
        code_form=form,
        status=422,
    )


@bp.post("/profile/nominees")
@member_required
@limiter.limit(portal_limit)
def nominee_request() -> Response:
    """Ask the branch to change the nominees: a request in the staff approval queue."""
    form = NomineeRequestForm()
    if form.validate_on_submit():
        try:
            member_auth.request_nominee_change(current_user, form.details.data)
        except DomainError as exc:
            apply_domain_error(form, _translated(exc))
        else:
            uow.commit()
            flash(_("Your request is with the branch. They will contact you."), "success")
            return redirect(url_for("portal.profile"))
    return render(
        "portal/profile.html",
        view=overview.profile(current_user),
        contact=ContactForm(),
        nominee_form=form,
        pending_contact=session.get(CONTACT_KEY),
        code_form=CodeForm(),
        status=422,
    )
