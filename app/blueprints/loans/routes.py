"""Loans: products, applications, approvals, schedules and repayments (index for now)."""

from app.blueprints.loans import bp
from app.permissions import permission_required
from app.web import render


@bp.get("/")
@permission_required("loans.view")
def index():
    return render("loans/index.html")
