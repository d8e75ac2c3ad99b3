from flask import Blueprint

bp = Blueprint("staff", __name__)

from app.blueprints.staff import approvals, deposits, members, routes, teller  # noqa: F401
