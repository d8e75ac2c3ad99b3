from flask import Blueprint

bp = Blueprint("staff", __name__)

from app.blueprints.staff import (  # noqa: F401
    approvals,
    day,
    deposit_prints,
    deposits,
    members,
    payments,
    routes,
    shares,
    teller,
)
