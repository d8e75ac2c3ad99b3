from flask import Blueprint

bp = Blueprint("loans", __name__)

from app.blueprints.loans import routes  # noqa: F401
