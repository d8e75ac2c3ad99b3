"""Member portal: loans — outstanding, next EMI, the full schedule (paid / due / overdue),
repayment history, and applying for a loan (it goes to the staff queue as ``applied``).

A loan is read through ``access.visible_loan`` (its ledger account, numbered like the loan):
another member's loan number answers 404 like one that does not exist.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.blueprints.portal import bp
from app.blueprints.portal.auth_routes import portal_limit
from app.blueprints.portal.forms import LoanApplyForm
from app.blueprints.portal.messages import amount_paise, translate
from app.extensions import db, limiter
from app.models.loans import Loan
from app.permissions import member_required
from app.services import access, loans
from app.services.common import DomainError, NotFound, uow
from app.services.deposits import passbook
from app.services.ledger import calendar
from app.web import apply_domain_error, render, select_choices

HISTORY_ROWS = 50


def _loan_or_404(loan_no: str) -> Loan:
    try:
        account = access.visible_loan(current_user, loan_no)
    except NotFound:
        abort(404)
    loan = db.session.scalar(select(Loan).where(Loan.account_id == account.id))
    if loan is None:
        abort(404)
    return loan


def row_state(row, today) -> str:
    """paid / overdue / due for one instalment of the schedule."""
    if row.status == "paid":
        return "paid"
    return "overdue" if row.due_date < today else "due"


@bp.get("/loans")
@member_required
def loans_page() -> Response:
    member = access.own_member(current_user)
    items = [{"loan": loan, "summary": loans.summary(loan)} for loan in loans.member_loans(member)]
    return render("portal/loans.html", items=items)


@bp.get("/loans/<loan_no>")
@member_required
def loan(loan_no: str) -> Response:
    found = _loan_or_404(loan_no)
    summary = loans.summary(found)
    rows = loans.schedule.rows(found) if found.schedule_version else []
    today = calendar.business_date_or_today()
    history = passbook.transactions([found.account], page=1, per_page=HISTORY_ROWS, newest_first=True).lines
    return render(
        "portal/loan.html",
        loan=found,
        summary=summary,
        rows=[(r, row_state(r, today)) for r in rows],
        history=[ln for ln in history if ln.credit_paise],
    )


def _apply_form() -> LoanApplyForm:
    form = LoanApplyForm()
    form.product.choices = select_choices((p.code, p.name) for p in loans.products.products(active_only=True))
    return form


@bp.route("/loans/apply", methods=["GET", "POST"])
@member_required
@limiter.limit(portal_limit, methods=["POST"])
def loan_apply() -> Response:
    form = _apply_form()
    if form.validate_on_submit():
        try:
            months = int((form.months.data or "").strip())
        except ValueError:
            form.months.errors = [_("Enter the number of months.")]
        else:
            try:
                member = access.own_member(current_user)
                applied = loans.apply(
                    loans.Application(
                        member_no=member.member_no,
                        principal_paise=amount_paise(form.amount.data),
                        months=months,
                        product_code=form.product.data,
                        purpose=form.purpose.data,
                    ),
                    by=None,
                    channel="portal",
                )
            except DomainError as exc:
                exc.message = translate(exc.message)
                apply_domain_error(form, exc)
            else:
                uow.commit()
                flash(_("Your application %(no)s is with the branch.", no=applied.loan_no), "success")
                return redirect(url_for("portal.loans_page"))
    return render("portal/loan_apply.html", form=form, status=422 if request.method == "POST" else 200)
