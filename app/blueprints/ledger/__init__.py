from flask import Blueprint

bp = Blueprint("ledger", __name__)

from app.blueprints.ledger import routes  # noqa: F401
