"""Bearer-token authentication and permissions for API views.

Every API view carries exactly one of these decorators (directly under the route decorator,
above ``idempotent``); each sets ``view._permission`` like ``app.permissions`` does, so the
permission test covers the API too:

* ``api_public`` — no token (sign-in, calculators, the OpenAPI document).
* ``api_permission("accounts.view")`` — a staff token whose role holds the permission in
  ``PERMISSIONS``; ``allow_members=True`` also lets members through (the view then scopes
  every query to ``current_subject()``).
* ``api_member`` — member tokens only; ``api_authenticated`` — any valid token.

On success ``g.api_subject`` is the ``tokens.Subject``, ``g.api_user`` the loaded row
(``StaffUser`` or member) and the audit actor is set. Failures are problem+json: 401 (with
``WWW-Authenticate: Bearer``) for a missing, expired, invalid or revoked token (an access token
dies with its sign-in: logout, refresh-token reuse, password change), 403 for a role lacking
the permission. The API never looks at the session cookie: only the bearer token counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from flask import Response, g, make_response, request

from app.blueprints.api.common import client_ip, user_agent
from app.errors import problem
from app.permissions import AUTHENTICATED, MEMBER, PERMISSIONS, PUBLIC
from app.services.access import tokens
from app.services.common import AuthError, set_actor

STAFF = "staff"
MEMBER_KIND = "member"


def _mark(view: Callable, permission: str, kinds: Iterable[str]) -> Callable:
    view._permission = permission  # type: ignore[attr-defined]
    view._api_kinds = tuple(kinds)  # type: ignore[attr-defined]  (read by the OpenAPI builder)
    return view


def unauthorized(detail: str, *, error: str = "invalid_token") -> Response:
    """A 401 problem with the RFC 6750 ``WWW-Authenticate`` challenge."""
    response = problem(401, "Authentication required", detail, type_="unauthorized")
    response.headers["WWW-Authenticate"] = f'Bearer realm="api", error="{error}"'
    return response


def forbidden(detail: str = "Your role does not allow this action.") -> Response:
    """A 403 problem."""
    return problem(403, "Forbidden", detail, type_="forbidden")


def bearer_token() -> str | None:
    """The token from ``Authorization: Bearer <token>``, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authenticate_request(kinds: Iterable[str]) -> tokens.Subject | Response:
    """Check the bearer token and load its subject; a problem response when refused."""
    token = bearer_token()
    if token is None:
        return unauthorized("Send an access token: Authorization: Bearer <access_token>.", error="invalid_request")
    try:
        claims = tokens.verify_access(token)
    except AuthError as exc:
        if "expired" in exc.message:
            return unauthorized("The access token has expired; get a new one from /api/v1/auth/refresh.")
        if "revoked" in exc.message:
            return unauthorized("This sign-in has been signed out or revoked. Sign in again.")
        return unauthorized("The access token is not valid. Sign in again.")
    subject = tokens.load_subject(claims.kind, claims.subject_id)
    if subject is None:
        return unauthorized("This account can no longer use the API. Contact your administrator.")
    if subject.kind not in tuple(kinds):
        return forbidden("This endpoint is not available to your kind of account.")
    set_actor(subject.actor(client_ip(), user_agent()))
    g.api_subject = subject
    g.api_user = subject.entity
    return subject


def current_subject() -> tokens.Subject:
    """The authenticated subject of this API request (only inside an authenticated view)."""
    subject = g.get("api_subject")
    if subject is None:
        raise RuntimeError("no authenticated API subject: decorate the view with api_permission/api_member")
    return subject


def api_public(view: Callable) -> Callable:
    """Declare an API view open to anyone (no token)."""
    return _mark(view, PUBLIC, ())


def _guarded(view: Callable, kinds: tuple[str, ...], permission: str | None) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        outcome = authenticate_request(kinds)
        if isinstance(outcome, Response):
            return outcome
        if permission is not None and outcome.kind == STAFF and outcome.role not in PERMISSIONS[permission]:
            return forbidden(f"Your role ({outcome.role}) does not allow this action.")
        response = make_response(view(*args, **kwargs))
        response.headers.setdefault("Cache-Control", "no-store")  # personal data: never cached
        return response

    return wrapper


def api_permission(permission: str, *, allow_members: bool = False) -> Callable[[Callable], Callable]:
    """Require a staff token whose role holds ``permission`` (and members too if allowed)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    kinds = (STAFF, MEMBER_KIND) if allow_members else (STAFF,)

    def decorator(view: Callable) -> Callable:
        return _mark(_guarded(view, kinds, permission), permission, kinds)

    return decorator


def api_member(view: Callable) -> Callable:
    """Require a member token (the member's own data; scope every query to the member)."""
    kinds = (MEMBER_KIND,)
    return _mark(_guarded(view, kinds, None), MEMBER, kinds)


def api_authenticated(view: Callable) -> Callable:
    """Require any valid token, staff or member (e.g. /me)."""
    kinds = (STAFF, MEMBER_KIND)
    return _mark(_guarded(view, kinds, None), AUTHENTICATED, kinds)


# ---------------------------------------------------------------- sign-in extension points

LoginFlow = Callable[[dict], Response]
SecondFactor = Callable[[tokens.Subject, str], str]

#: POST /v1/auth/login dispatches on the identifying field of the body: "username" is staff
#: (built in, see routes.py); the member API registers "mobile".
login_flows: dict[str, LoginFlow] = {}
#: POST /v1/auth/otp dispatches on the OTP token's subject kind; each verifier checks a code
#: (raising AuthError) and returns the method used ("totp", "recovery", "sms").
second_factors: dict[str, SecondFactor] = {}


def register_login_flow(field: str, handler: LoginFlow) -> None:
    """Route sign-in bodies that contain ``field`` to ``handler`` (which returns the response)."""
    login_flows[field] = handler


def register_second_factor(kind: str, verifier: SecondFactor) -> None:
    """Let subjects of ``kind`` finish sign-in at /v1/auth/otp with ``verifier``."""
    second_factors[kind] = verifier
