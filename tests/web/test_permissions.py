"""Every route declares a permission; every role gets exactly what the table grants."""

import re

import pytest

from app.models.users import ROLES
from app.permissions import AUTHENTICATED, MEMBER, PERMISSIONS, PUBLIC

DECLARED = set(PERMISSIONS) | {PUBLIC, MEMBER, AUTHENTICATED}


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
