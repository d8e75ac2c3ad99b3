from flask import Blueprint

bp = Blueprint("portal", __name__)

from app.blueprints.portal import routes  # noqa: F401
