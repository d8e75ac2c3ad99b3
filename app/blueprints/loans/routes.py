"""Loan screens: products, application with live EMI preview and eligibility, sanction queue,
loan account page (schedule, repayments, charges, classification, lien, repayment form,
foreclosure quote), demand list, overdue by DPD bucket, NPA register, statement.

Views are thin: parse the form, call one service function, commit once, render the page or,
for HTMX requests, the partial that changed (``Vary: HX-Request``).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from decimal import Decimal, InvalidOperation

from flask import Response, abort, make_response, redirect, request, url_for

from app import jobs, navigation
from app.auth_loader import current_staff
from app.blueprints.forms import amount_of, parse_amount_field
from app.blueprints.loans import bp
from app.blueprints.loans.forms import (
    ApplicationForm,
    DisburseForm,
    GoldRateForm,
    LoanDocumentForm,
    ProductForm,
    RemarksForm,
    RepayForm,
)
from app.clock import ist
from app.extensions import db
from app.jobs import payments as payment_jobs
from app.models.base import utcnow
from app.models.loans import ASSET_CLASS_LABELS, LOAN_DOC_TYPES, LOAN_KINDS, Loan, rate_of
from app.money import format_inr, from_paise
from app.navigation import NavItem
from app.permissions import has_permission, permission_required
from app.services import loans, members, payments
from app.services.common import DomainError, NotFound, ValidationError, uow
from app.services.ledger import calendar
from app.web import apply_domain_error, is_htmx, render, select_choices, toast

navigation.add(NavItem("Sanction queue", "loans.sanction_queue", "loans.approve"), before="staff.users")
navigation.add(NavItem("Loan products", "loans.products", "products.manage"), before="staff.users")


def _today() -> date:
    return calendar.business_date_or_today()


def _loan_or_404(loan_no: str):
    try:
        return loans.get_loan(loan_no)
    except NotFound:
        abort(404)


def _bp_of(raw: str | None, field: str) -> int | None:
    """A typed rate such as "12.50" as basis points (via the money parser: two decimals, no floats)."""
    text = (raw or "").strip()
    return parse_amount_field(text, field, allow_zero=True) if text else None


# ---------------------------------------------------------------- list


@bp.get("/")
@permission_required("loans.view")
def index() -> Response:
    q, status = request.args.get("q"), request.args.get("status") or None
    found = loans.reads.search(q, status)
    return render("loans/index.html", "loans/_loan_rows.html", loans=found, q=q or "", status_filter=status or "",
                  labels=ASSET_CLASS_LABELS, totals=loans.reads.totals_by_class())  # fmt: skip


# ---------------------------------------------------------------- products


@bp.get("/products")
@permission_required("products.manage")
def products() -> Response:
    return render("loans/products.html", products=loans.products.products(), pending=loans.pending_changes(), rate_of=rate_of,
                  current_rate=lambda p: loans.current_rate_bp(p, _today()))  # fmt: skip


@bp.get("/products/<code>")
@permission_required("products.manage")
def product(code: str) -> Response:
    try:
        p = loans.get_product(code)
    except NotFound:
        abort(404)
    return render("loans/product.html", p=p, rate_of=rate_of, rates=p.rates)


def _product_payload(form: ProductForm) -> dict:
    def bp_(name):
        return _bp_of(getattr(form, name).data, getattr(form, name).label.text) or 0

    def whole(name):
        raw = (getattr(form, name).data or "").strip()
        if not raw.isdigit():
            raise ValidationError(f"{getattr(form, name).label.text}: a whole number.", field=name)
        return int(raw)

    no_g = amount_of(form.no_guarantor_upto) or 2_00_000_00
    return {
        "code": form.code.data, "name": form.name.data, "kind": form.kind.data, "interest_type": form.interest_type.data,
        "frequency": form.frequency.data, "rate_bp": bp_("rate"), "min_rate_bp": bp_("min_rate"),
        "max_rate_bp": bp_("max_rate"), "min_amount_paise": amount_of(form.min_amount, required=True),
        "max_amount_paise": amount_of(form.max_amount, required=True), "min_months": whole("min_months"),
        "max_months": whole("max_months"), "processing_fee_bp": bp_("processing_fee"), "gst_bp": bp_("gst"),
        "penal_mode": form.penal_mode.data, "penal_rate_bp": bp_("penal_rate"),
        "penal_fixed_paise": amount_of(form.penal_fixed, allow_zero=True), "grace_days": whole("grace_days"),
        "security_type": form.security_type.data, "max_ltv_bp": bp_("max_ltv"), "share_link_bp": bp_("share_link"),
        "settings": {"sanction_limits": {"manager": amount_of(form.manager_limit) or None, "admin": None},
                     "guarantor_bands": [[no_g, 0], [None, 1]], "tranches": bool(form.tranches.data)},
    }  # fmt: skip


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required("products.manage")
def product_new() -> Response:
    form = ProductForm()
    form.kind.choices = select_choices((k, k.title()) for k in LOAN_KINDS)
    if request.method == "POST" and form.validate():
        try:
            req = loans.submit_product_change("create", _product_payload(form), maker=current_staff())
            uow.commit()
            return toast(redirect(url_for("loans.products")), f"Product {req.entity_id} sent for approval.")
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
    return render("loans/product_new.html", form=form, status=422 if form.errors or form.form_errors else 200)


def _rupees(paise: int | None) -> str:
    return str(from_paise(paise or 0))


def _fill_product_form(form: ProductForm, p) -> None:
    """The form as the product stands (rates as percentages, amounts in rupees, from exact integers)."""
    for name, bp_field in (("rate", None), ("min_rate", "min_rate_bp"), ("max_rate", "max_rate_bp"),
                           ("processing_fee", "processing_fee_bp"), ("gst", "gst_bp"), ("penal_rate", "penal_rate_bp"),
                           ("max_ltv", "max_ltv_bp"), ("share_link", "share_link_bp")):  # fmt: skip
        value = loans.current_rate_bp(p, _today()) if bp_field is None else getattr(p, bp_field)
        getattr(form, name).data = str(rate_of(value))
    for name, paise in (("min_amount", p.min_amount_paise), ("max_amount", p.max_amount_paise),
                        ("penal_fixed", p.penal_fixed_paise)):  # fmt: skip
        getattr(form, name).data = _rupees(paise)
    for name in ("code", "name", "kind", "interest_type", "frequency", "penal_mode", "security_type"):
        getattr(form, name).data = getattr(p, name)
    form.min_months.data, form.max_months.data, form.grace_days.data = (
        str(p.min_months),
        str(p.max_months),
        str(p.grace_days),
    )
    limits = p.setting("sanction_limits", {}) or {}
    form.manager_limit.data = _rupees(limits.get("manager")) if limits.get("manager") else ""
    bands = p.setting("guarantor_bands", []) or []
    form.no_guarantor_upto.data = _rupees(bands[0][0]) if bands and bands[0][1] == 0 and bands[0][0] else ""
    form.tranches.data = bool(p.setting("tranches", False))


@bp.route("/products/<code>/edit", methods=["GET", "POST"])
@permission_required("products.manage")
def product_edit(code: str) -> Response:
    try:
        p = loans.get_product(code)
    except NotFound:
        abort(404)
    form = ProductForm()
    form.kind.choices = select_choices((k, k.title()) for k in LOAN_KINDS)
    if request.method == "GET":
        _fill_product_form(form, p)
    form.code.data, form.kind.data = p.code, p.kind  # neither changes on an edit (loan numbers and GL hang on them)
    if request.method == "POST" and form.validate():
        try:
            loans.submit_product_change("update", _product_payload(form), maker=current_staff())
            uow.commit()
            return toast(redirect(url_for("loans.product", code=p.code)), f"Change to {p.code} sent for approval.")
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
    return render(
        "loans/product_new.html", form=form, product=p, status=422 if form.errors or form.form_errors else 200
    )


# ---------------------------------------------------------------- application


def _product_choices(form: ApplicationForm) -> None:
    form.product_code.choices = select_choices(
        (p.code, f"{p.code} — {p.name}") for p in loans.products.products(active_only=True)
    )
    if not form.product_code.data:
        default = next((p for p in loans.products.products(active_only=True) if p.is_default), None)
        form.product_code.data = default.code if default else None


def _gold_items(text: str | None) -> list[loans.GoldItem]:
    items = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            desc, gross, net, carat = parts[0], Decimal(parts[1]), Decimal(parts[2]), int(parts[3])
        except (IndexError, InvalidOperation, ValueError):
            raise ValidationError(f"Gold line {n}: description, gross g, net g, carat.", field="gold_items") from None
        items.append(loans.GoldItem(desc, int(gross * 1000), int(net * 1000), carat))
    return items


def _application(form: ApplicationForm) -> loans.Application:
    months = (form.months.data or "").strip()
    if not months.isdigit():
        raise ValidationError("Tenure: a whole number of months.", field="months")
    principal = parse_amount_field(form.amount.data, "amount")
    return loans.Application(
        member_no=(form.member_no.data or "").strip().upper(), principal_paise=principal, months=int(months),
        product_code=form.product_code.data, rate_bp=_bp_of(form.annual_rate.data, "annual_rate"),
        purpose=form.purpose.data, guarantor_nos=[g.strip() for g in (form.guarantors.data or "").split(",") if g.strip()],
        gold_items=_gold_items(form.gold_items.data), gold_declared=bool(form.gold_declared.data),
        lien_account_no=(form.deposit_account.data or "").strip() or None,
        lien_paise=parse_amount_field(form.lien_amount.data, "lien_amount") if (form.lien_amount.data or "").strip() else 0,
        security_details=form.security_details.data,
        security_value_paise=parse_amount_field(form.security_value.data, "security_value") if (form.security_value.data or "").strip() else 0,
        si_account_no=(form.si_account.data or "").strip() or None,
    )  # fmt: skip


@bp.route("/apply", methods=["GET", "POST"])
@permission_required("loans.manage")
def apply() -> Response:
    form = ApplicationForm()
    _product_choices(form)
    if request.method == "POST" and form.validate():
        try:
            loan = loans.apply(_application(form), by=current_staff())
            uow.commit()
            response = redirect(url_for("loans.loan", loan_no=loan.loan_no))
            return toast(response, f"Application {loan.loan_no} recorded and queued for sanction.")
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render("loans/apply.html", form=form, preview=_preview(request.values), status=status)


def _preview(values) -> dict:
    """The live EMI preview and eligibility panel (no state changes)."""
    out: dict = {}
    member_no = (values.get("member_no") or "").strip().upper()
    member = members.find(member_no) if member_no else None
    if member is not None:
        out["member"] = member
        out["problem"] = members.eligibility_problem(member)
        out["exposure"] = loans.applications.exposure_paise(member)
        out["shares"] = loans.applications.shares.holding(member).amount_paise
    try:
        product = loans.get_product(values.get("product_code"))
        principal = parse_amount_field(values.get("amount") or "", "amount")
        months = int((values.get("months") or "0").strip() or 0)
        rate = _bp_of(values.get("annual_rate"), "annual_rate") or loans.current_rate_bp(product, _today())
        loans.applications.check_terms(product, principal, months, rate)
        sched = loans.schedule.preview(principal, rate, months, _today(), interest_type=product.interest_type,
                                       frequency=product.frequency)  # fmt: skip
        fee, gst = loans.disbursement.fee_paise(_FeeProbe(product, principal))
        if member is not None:
            probe = Loan(member=member, product=product, member_id=member.id, principal_paise=principal, months=months,
                         rate_bp=rate, guarantors=[])  # fmt: skip
            out["checks"] = loans.eligibility(probe, _today())
        out.update(product=product, schedule=sched, rate=rate_of(rate), fee=fee, gst=gst,
                   guarantors_needed=loans.products.guarantors_required(product, principal),
                   share_need=loans.applications.share_need_paise(product, principal))  # fmt: skip
    except (DomainError, ValueError) as exc:
        out["error"] = getattr(exc, "message", "Enter the amount and tenure.")
    return out


class _FeeProbe:
    """Enough of a loan for ``fee_paise`` (the preview has no loan yet)."""

    def __init__(self, product, principal: int):
        self.product, self.principal_paise = product, principal


@bp.get("/apply/preview")
@permission_required("loans.manage")
def apply_preview() -> Response:
    return render("loans/_preview.html", preview=_preview(request.args))


# ---------------------------------------------------------------- sanction queue and workflow


@bp.get("/sanction")
@permission_required("loans.approve")
def sanction_queue() -> Response:
    return render("loans/sanction.html", queue=loans.sanction_queue(), form=RemarksForm(), user=current_staff())


def _decide(loan_no: str, action) -> Response:
    loan = _loan_or_404(loan_no)
    form = RemarksForm()
    error = None
    try:
        action(loan, by=current_staff(), remarks=form.remarks.data)
        uow.commit()
    except DomainError as exc:
        db.session.rollback()
        loan = _loan_or_404(loan_no)
        error = exc.message
    if is_htmx():
        response = render("loans/_sanction_row.html", loan=loan, req=loans.workflow.pending_request(loan), error=error,
                          form=RemarksForm(formdata=None), user=current_staff())  # fmt: skip
        return toast(response, error or f"Loan {loan.loan_no} {loan.status}.", "error" if error else "success")
    if error:
        return render("loans/sanction.html", queue=loans.sanction_queue(), form=form, user=current_staff(),
                      error=error, status=422)  # fmt: skip
    return redirect(url_for("loans.loan", loan_no=loan.loan_no))


@bp.post("/<loan_no>/sanction")
@permission_required("loans.approve")
def sanction(loan_no: str) -> Response:
    return _decide(loan_no, loans.sanction)


@bp.post("/<loan_no>/reject")
@permission_required("loans.approve")
def reject(loan_no: str) -> Response:
    return _decide(loan_no, loans.reject)


@bp.post("/<loan_no>/appraise")
@permission_required("loans.manage")
def appraise(loan_no: str) -> Response:
    loan = _loan_or_404(loan_no)
    try:
        loans.appraise(loan, by=current_staff(), remarks=RemarksForm().remarks.data)
        uow.commit()
        return toast(redirect(url_for("loans.loan", loan_no=loan_no)), "Appraisal recorded.")
    except DomainError as exc:
        db.session.rollback()
        return _loan_page(_loan_or_404(loan_no), errors={"appraise": exc.message}, status=422)


# ---------------------------------------------------------------- the loan account page


def _loan_page(loan, *, errors: dict | None = None, status: int = 200, repay_form: RepayForm | None = None,
               result=None) -> Response:  # fmt: skip
    summary = loans.summary(loan)
    quote = loans.quote(loan, _today()) if loan.status in ("active", "disbursed") else None
    return render(
        "loans/loan.html", "loans/_loan_body.html", status=status, loan=loan, s=summary, quote=quote,
        rows=loans.schedule.rows(loan) if loan.schedule_version else [], events=loans.history(loan),
        charges=loans.reads.charges(loan), classes=loans.reads.classifications(loan), labels=ASSET_CLASS_LABELS,
        checks=loan.eligibility or [], today=_today(), errors=errors or {}, remarks=RemarksForm(formdata=None),
        disburse_form=_disburse_form(loan), repay_form=repay_form or RepayForm(formdata=None), result=result,
        sanction_req=loans.workflow.pending_request(loan), tranches=loans.allows_tranches(loan),
        released=loans.disbursed_paise(loan), written_off=loans.written_off_paise(loan),
        recovered=loans.recovered_paise(loan), documents=loans.documents.documents(loan),
        document_form=LoanDocumentForm(formdata=None), doc_labels=LOAN_DOC_TYPES,
    )  # fmt: skip


def _disburse_form(loan, form: DisburseForm | None = None) -> DisburseForm:
    """The disburse form, its beneficiary choice filled with the member's saved payees."""
    form = form or DisburseForm(formdata=None)
    now = utcnow()
    choices = [("", "— choose —")]
    for b in payments.beneficiaries(loan.member_id):
        cooling = b.cooling_until if b.cooling_until.tzinfo else b.cooling_until.replace(tzinfo=UTC)
        note = f" (new payee until {ist(cooling, '%d-%m-%Y %H:%M')})" if cooling > now else ""
        choices.append((str(b.id), f"{b.name} · A/c …{(b.account_number or '')[-4:]} · {b.ifsc}{note}"))
    form.beneficiary_id.choices = choices
    return form


@bp.get("/<loan_no>")
@permission_required("loans.view")
def loan(loan_no: str) -> Response:
    return _loan_page(_loan_or_404(loan_no))


@bp.post("/<loan_no>/disburse")
@permission_required("loans.disburse")
def disburse(loan_no: str) -> Response:
    loan = _loan_or_404(loan_no)
    form = DisburseForm()
    try:
        amount = parse_amount_field(form.amount.data, "amount") if (form.amount.data or "").strip() else None
        key = f"loan-release:{form.nonce.data}" if form.nonce.data and loan.status == "active" else None
        payout = None
        if form.mode.data == "payout":
            payout = payments.disburse_loan(loan, beneficiary_id=form.beneficiary_id.data, by=current_staff(),
                                            mode=form.payout_mode.data or "NEFT", amount_paise=amount,
                                            idempotency_key=key)  # fmt: skip
        else:
            loans.disburse(loan, by=current_staff(), to_account_no=form.to_account.data,
                           mode=form.mode.data or "transfer", amount_paise=amount, idempotency_key=key)  # fmt: skip
        uow.commit()
        if payout is not None and payout.status == "queued":
            jobs.enqueue(payment_jobs.send_payout, payout.id)  # after the commit: the disbursement is saved first
    except DomainError as exc:
        db.session.rollback()
        if not has_permission(current_staff(), "loans.view"):
            return make_response(exc.message, 422)
        return _loan_page(_loan_or_404(loan_no), errors={"disburse": exc.message}, status=422)
    response = (
        redirect(url_for("loans.loan", loan_no=loan_no))
        if has_permission(current_staff(), "loans.view")
        else make_response("Disbursed", 200)
    )
    sent = f" Payout {payout.payout_id} of {format_inr(payout.amount_paise)} {payout.mode} queued." if payout else ""
    return toast(
        response,
        f"Loan {loan_no}: {format_inr(loans.disbursed_paise(loan))} released of {format_inr(loan.principal_paise)}."
        + sent,
    )


@bp.post("/<loan_no>/repay")
@permission_required("loans.repay")
def repay(loan_no: str) -> Response:
    loan = _loan_or_404(loan_no)
    form = RepayForm()
    amount = amount_of(form.amount, required=True)
    error = None
    result = None
    if not form.amount.errors:
        try:
            result = loans.repay(loan, amount, mode=form.mode.data or "cash", by=current_staff(),
                                 from_account_no=form.from_account.data, reduce=form.reduce.data or "tenure",
                                 idempotency_key=f"loan-repay:{form.nonce.data}" if form.nonce.data else None)  # fmt: skip
            uow.commit()
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    else:
        error = " ".join(form.amount.errors)
    loan = _loan_or_404(loan_no)
    if not has_permission(current_staff(), "loans.view"):
        return make_response(error or f"Received {format_inr(amount)} for {loan_no}.", 422 if error else 200)
    response = _loan_page(loan, errors={"repay": error} if error else None, status=422 if error else 200,
                          repay_form=form if error else None, result=result)  # fmt: skip
    return toast(response, error or f"Received {format_inr(amount)} for {loan_no}.", "error" if error else "success")


@bp.get("/<loan_no>/receipts/<entry_no>")
@permission_required("loans.view")
def receipt(loan_no: str, entry_no: str) -> Response:
    loan = _loan_or_404(loan_no)
    try:
        slip = loans.reads.receipt(loan, entry_no)
    except NotFound:
        abort(404)
    return render("loans/receipt.html", loan=loan, slip=slip)


@bp.post("/<loan_no>/recover")
@permission_required("loans.repay")
def recover(loan_no: str) -> Response:
    loan = _loan_or_404(loan_no)
    form = RepayForm()
    amount = amount_of(form.amount, required=True)
    try:
        if form.amount.errors:
            raise ValidationError(" ".join(form.amount.errors), field="amount")
        loans.recover(loan, amount, mode=form.mode.data or "cash", by=current_staff(), from_account_no=form.from_account.data,
                      idempotency_key=f"loan-recovery:{form.nonce.data}" if form.nonce.data else None)  # fmt: skip
        uow.commit()
    except DomainError as exc:
        db.session.rollback()
        return _loan_page(_loan_or_404(loan_no), errors={"recover": exc.message}, status=422, repay_form=form)
    return toast(redirect(url_for("loans.loan", loan_no=loan_no)), f"Recovered {format_inr(amount)} on {loan_no}.")


@bp.get("/<loan_no>/quote")
@permission_required("loans.view")
def quote(loan_no: str) -> Response:
    loan = _loan_or_404(loan_no)
    q = loans.quote(loan, _today()) if loan.status in ("active", "disbursed") else None
    return render("loans/_quote.html", loan=loan, quote=q)


@bp.get("/<loan_no>/statement")
@permission_required("loans.view")
def statement(loan_no: str) -> Response:
    loan = _loan_or_404(loan_no)
    if request.args.get("format") == "csv":
        response = make_response(loans.reads.statement_csv(loan))
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        response.headers["Content-Disposition"] = f'attachment; filename="{loan.loan_no}-statement.csv"'
        return response
    template = "loans/statement_print.html" if request.args.get("print") else "loans/statement.html"
    return render(
        template,
        loan=loan,
        stmt=loans.reads.statement(loan),
        receipts=loans.reads.receipts(loan),
        s=loans.summary(loan),
    )


# ---------------------------------------------------------------- registers


@bp.get("/demand")
@permission_required("loans.view")
def demand() -> Response:
    span = request.args.get("span", "week")
    start = _today()
    end = (
        start + timedelta(days=6)
        if span == "week"
        else date(start.year + (start.month == 12), start.month % 12 + 1, 1) - timedelta(days=1)
    )
    rows = loans.demand(start, end)
    return render("loans/demand.html", "loans/_demand_rows.html", rows=rows, span=span, start=start, end=end,
                  total=sum(r.due_paise for r in rows))  # fmt: skip


@bp.get("/overdue")
@permission_required("loans.view")
def overdue() -> Response:
    return render("loans/overdue.html", buckets=loans.dpd_buckets(), labels=ASSET_CLASS_LABELS)


@bp.get("/npa")
@permission_required("loans.view")
def npa() -> Response:
    rows = loans.npa_register()
    return render("loans/npa.html", rows=rows, labels=ASSET_CLASS_LABELS, totals=loans.reads.totals_by_class(),
                  total_out=sum(r.outstanding_paise for r in rows), total_prov=sum(r.provision_paise for r in rows))  # fmt: skip


@bp.route("/gold-rate", methods=["GET", "POST"])
@permission_required("loans.gold_rate")
def gold_rate() -> Response:
    form = GoldRateForm()
    message = None
    if request.method == "POST":
        paise = amount_of(form.rate, required=True)
        if paise and not form.rate.errors:
            try:
                loans.record_gold_rate(_today(), paise)
                uow.commit()
                message = f"22 carat rate for {_today():%d-%m-%Y}: {format_inr(paise)} a gram."
            except DomainError as exc:
                form.rate.errors = [exc.message]
    try:
        today_rate = loans.gold_rate(_today() + timedelta(days=1))
    except DomainError:
        today_rate = None
    return render("loans/gold_rate.html", form=form, message=message, rate=today_rate,
                  status=422 if form.rate.errors else 200)  # fmt: skip


def _npa_action(loan_no: str, action, done: str) -> Response:
    loan = _loan_or_404(loan_no)
    try:
        action(loan, by=current_staff(), remarks=RemarksForm().remarks.data)
        uow.commit()
    except DomainError as exc:
        db.session.rollback()
        return _loan_page(_loan_or_404(loan_no), errors={"npa": exc.message}, status=422)
    return toast(redirect(url_for("loans.loan", loan_no=loan_no)), done)


@bp.post("/<loan_no>/mark-loss")
@permission_required("loans.approve")
def mark_loss(loan_no: str) -> Response:
    return _npa_action(loan_no, loans.mark_loss, "Marked a loss asset from the next classification.")


@bp.post("/<loan_no>/write-off")
@permission_required("loans.approve")
def write_off(loan_no: str) -> Response:
    return _npa_action(loan_no, loans.write_off, "Loan written off against its provision.")
