"""Every route declares a permission; every role gets exactly what the table grants."""

import re

import pytest

from app.models.users import ROLES
from app.permissions import AUTHENTICATED, MEMBER, PERMISSIONS, PUBLIC

DECLARED = set(PERMISSIONS) | {PUBLIC, MEMBER, AUTHENTICATED}

# Every endpoint anyone may open without signing in. A new public route must be added here
# on purpose (and reviewed): anything else marked public fails the test below.
PUBLIC_ENDPOINTS = {
    # staff sign-in: password, the TOTP step, enrolment when sign-in requires it
    "auth.login",
    "auth.totp",
    "auth.enrol",
    # member portal sign-in, activation, forgot password, language, manifest, calculators
    "portal.index",
    "portal.login",
    "portal.code",
    "portal.resend",
    "portal.activate",
    "portal.reset",
    "portal.set_password",
    "portal.language",
    "portal.manifest",
    "portal.calculators",
    # liveness / readiness probes
    "health.healthz",
    "health.readyz",
    # public loan and deposit calculators
    "calculators.index",
    "calculators.emi",
    "calculators.fd",
    "calculators.rd",
    # JSON API: sign-in, tokens, self-registration, calculators, documentation
    "api.login",
    "api.otp",
    "api.refresh",
    "api.logout",
    "api.self_register",
    "api.calculator_emi",
    "api.calculator_fd",
    "api.calculator_rd",
    "api.openapi_document",
    "api.swagger_ui",
    # Razorpay webhook: no token, trusted only after its HMAC signature check
    "api.payment_webhook",
    # static assets
    "static",
}
# Sign-in must stay reachable: these may never lose their public mark.
MUST_BE_PUBLIC = {"auth.login", "auth.totp", "api.login", "api.otp", "health.healthz", "static"}


def test_every_route_declares_a_permission(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, "_permission", None)
        if permission not in DECLARED:
            missing.append(f"{rule.rule} ({rule.endpoint}): {permission!r}")
    assert not missing, "routes without a declared permission:\n" + "\n".join(missing)


def public_endpoints(app) -> set[str]:
    """Endpoints open without signing in (marked PUBLIC, plus static files)."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint == "static" or getattr(app.view_functions[rule.endpoint], "_permission", None) == PUBLIC
    }


def test_only_allowlisted_routes_are_public(app):
    public_now = public_endpoints(app)
    unexpected = sorted(public_now - PUBLIC_ENDPOINTS)
    assert not unexpected, "public routes missing from PUBLIC_ENDPOINTS (protect or allowlist them): " + ", ".join(
        unexpected
    )
    assert public_now >= MUST_BE_PUBLIC, f"sign-in routes lost their public mark: {sorted(MUST_BE_PUBLIC - public_now)}"


def test_the_public_allowlist_check_catches_a_new_public_route(app):
    """The check above is not vacuous: a route marked public but not allowlisted is reported."""
    from app.permissions import public

    @public
    def leaky() -> str:
        return "internal data"

    app.add_url_rule("/internal/leak", "leaky", leaky)
    assert public_endpoints(app) - PUBLIC_ENDPOINTS == {"leaky"}


def _fill(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "999999" if "int" in m.group(0) else "X-NONE", rule.rule)


def staff_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        permission = getattr(app.view_functions[rule.endpoint], "_permission", None)
        if permission in PERMISSIONS:
            yield rule, permission


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_exactly_where_the_table_says(app, client, login, role):
    login(role)
    wrong = []
    for rule, permission in staff_routes(app):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(_fill(rule), method=method)
            allowed = role in PERMISSIONS[permission]
            if allowed and response.status_code == 403:
                wrong.append(f"{method} {rule.rule}: {role} refused but holds {permission}")
            if not allowed and response.status_code != 403:
                wrong.append(f"{method} {rule.rule}: {role} got {response.status_code} without {permission}")
    assert not wrong, "\n".join(wrong)


def test_anonymous_staff_pages_redirect_to_login(app, client):
    for rule, _permission in staff_routes(app):
        if "GET" in rule.methods:
            response = client.get(_fill(rule))
            assert response.status_code == 302, rule.rule
            assert "/auth/login" in response.headers["Location"]
