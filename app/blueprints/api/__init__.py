"""JSON API for mobile apps and payment webhooks: /api/v1 (DESIGN.md §9)."""

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)

from app.blueprints.api import accounts, calculators, counter, ledger, members, routes  # noqa: F401
from app.blueprints.api import reports  # noqa: F401
from app.blueprints.api import loans  # noqa: F401
from app.blueprints.api import me  # noqa: F401
from app.blueprints.api import payments  # noqa: F401
