from flask import Blueprint

bp = Blueprint("loans", __name__)

from app.blueprints.loans import documents, routes  # noqa: F401
