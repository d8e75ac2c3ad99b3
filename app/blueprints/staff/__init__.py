from flask import Blueprint

bp = Blueprint("staff", __name__)

from app.blueprints.staff import approvals, day, deposits, members, routes, teller  # noqa: F401
from app.blueprints.staff import payments  # noqa: F401
