"""Reports: financial statements, deposit reports, returns and the year-end (staff screens)."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.blueprints.reports import routes  # noqa: F401
