"""Member self-service portal (mobile-first), separate from the staff screens.

Members sign in with mobile + password, then a code by SMS; every signed-in browser is a
``MemberSession`` row, checked on each request (so "sign out the others" works at once).
Staff sessions never reach these pages and member sessions never reach staff pages
(``app.permissions``). Every read of a member's data goes through ``access.scoping``.
"""

from flask import Blueprint

from app.blueprints.portal.i18n import init_babel, template_globals

bp = Blueprint("portal", __name__)


@bp.record_once
def _setup(state) -> None:
    init_babel(state.app)
    state.app.context_processor(template_globals)


from app.blueprints.portal import (  # noqa: F401
    auth_routes,
    loan_routes,
    pay_routes,
    routes,
)
