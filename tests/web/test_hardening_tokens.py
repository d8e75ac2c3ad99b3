"""Issue 15, item 2: an access token dies with its sign-in (logout, reuse, password change, deactivation)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.extensions import db
from app.services.access import member_auth, staff_auth, tokens
from app.services.common import uow
from tests.conftest import PASSWORD
from tests.factories import make_member

ME = "/api/v1/me"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client, username: str = "asha") -> dict:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refused(client, access: str) -> dict:
    response = client.get(ME, headers=bearer(access))
    assert response.status_code == 401, response.get_json()
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return response.get_json()


def test_access_token_dies_at_logout(client, make_user):
    make_user("clerk", username="asha")
    pair = sign_in(client)
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert "signed out" in refused(client, pair["access_token"])["detail"]


def test_logout_ends_only_that_sign_in(client, make_user):
    make_user("clerk", username="asha")
    phone, tablet = sign_in(client), sign_in(client)
    client.post("/api/v1/auth/logout", json={"refresh_token": phone["refresh_token"]})
    refused(client, phone["access_token"])
    assert client.get(ME, headers=bearer(tablet["access_token"])).status_code == 200


def test_refresh_token_reuse_kills_every_access_token_of_the_family(client, make_user):
    make_user("clerk", username="asha")
    first = sign_in(client)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).get_json()
    assert client.get(ME, headers=bearer(second["access_token"])).status_code == 200
    # The stolen first refresh token is presented again: the family is revoked ...
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    # ... and with it both access tokens, the thief's and the victim's.
    refused(client, first["access_token"])
    refused(client, second["access_token"])


@pytest.mark.parametrize("action", ["password change", "deactivation", "2fa reset"])
def test_access_tokens_die_when_every_session_is_revoked(client, make_user, action):
    user = make_user("clerk", username="asha")
    admin = make_user("admin", username="root")
    pair = sign_in(client)
    if action == "password change":
        staff_auth.change_password(user, PASSWORD, "Another-Horse-10")
    elif action == "deactivation":
        staff_auth.set_active(user, False, by=admin)
    else:
        staff_auth.reset_totp(user)
    uow.commit()
    refused(client, pair["access_token"])


def test_member_access_token_dies_at_logout(app, client):
    m = make_member()
    db.session.flush()
    login = member_auth.create_login(m, "Member-Pass-123")
    pair = tokens.issue_pair(member_auth.subject_for(login))
    uow.commit()
    assert client.get(ME, headers=bearer(pair.access_token)).status_code == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": pair.refresh_token}).status_code == 204
    refused(client, pair.access_token)


def test_a_token_without_a_sign_in_is_refused_when_families_are_required(app, client, make_user):
    user = make_user("clerk", username="asha")
    unbound, _ttl = tokens.access_token(tokens.staff_subject(user))
    app.config["JWT_REQUIRE_FAMILY"] = True  # the default outside tests
    refused(client, unbound)
    assert client.get(ME, headers=bearer(sign_in(client)["access_token"])).status_code == 200


def test_the_check_is_one_query(app, client, make_user):
    """The sign-in check adds exactly one SELECT on the refresh-token table per request, by primary key."""
    make_user("clerk", username="asha")
    access = sign_in(client)["access_token"]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(ME, headers=bearer(access)).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    lookups = [s for s in statements if "api_refresh_tokens" in s]
    assert len(lookups) == 1 and "WHERE api_refresh_tokens.id =" in lookups[0]  # by primary key
