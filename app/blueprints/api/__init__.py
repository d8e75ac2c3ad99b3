"""JSON API for mobile apps and payment webhooks: /api/v1 (DESIGN.md §9)."""

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)

from app.blueprints.api import (  # noqa: F401
    accounts,
    calculators,
    counter,
    ledger,
    loans,
    me,
    members,
    payments,
    reports,
    routes,
)
