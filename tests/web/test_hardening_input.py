"""Issue 15, item 3: hostile input is refused with a 4xx before any database call.

Before: a NUL byte in a username, narration, account number, query parameter or path was a
500 (``psycopg.DataError`` on PostgreSQL), 5,000-level JSON a 500 (``RecursionError``), TRACE
a 405 without ``Allow`` and ``/reports/daily?date=`` a 200.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.conftest import PASSWORD

NUL_REQUESTS = [
    ("username", "post", "/api/v1/auth/login", {"json": {"username": "asha\u0000", "password": "x"}}),
    (
        "narration",
        "post",
        "/api/v1/accounts/SB0001/deposit",
        {"json": {"amount": "10.00", "mode": "cash", "narration": "rent\u0000"}, "headers": {"Idempotency-Key": "k1"}},
    ),
    ("account number", "get", "/api/v1/accounts/SB%000001", {}),
    ("query parameter", "get", "/api/v1/journal?account_no=SB%00", {}),
    ("path", "get", "/api/v1/members/HO%00001", {}),
    ("header used as a key", "post", "/api/v1/transfers", {"json": {}, "headers": {"Idempotency-Key": "a\u0000b"}}),
    ("JSON key", "post", "/api/v1/auth/login", {"json": {"user\u0000name": "asha", "password": "x"}}),
    ("lone surrogate", "post", "/api/v1/auth/login", {"data": '{"username": "\\ud800", "password": "x"}'}),
]


@contextmanager
def statements():
    """Collect the SQL statements run meanwhile."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def send(client, method: str, url: str, kwargs: dict):
    kwargs = dict(kwargs)
    if "data" in kwargs:
        kwargs["content_type"] = "application/json"
    return getattr(client, method)(url, **kwargs)


def assert_refused(response, status: int = 400, title: str = "Control characters refused") -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] == title
    return body


@pytest.mark.postgres
@pytest.mark.parametrize(("where", "method", "url", "kwargs"), NUL_REQUESTS, ids=[r[0] for r in NUL_REQUESTS])
def test_nul_is_refused_before_the_database_on_postgresql(pg_app, where, method, url, kwargs):
    client = pg_app.test_client()
    with statements() as seen:
        response = send(client, method, url, kwargs)
    assert_refused(response)
    assert seen == []  # refused at the door: not one statement reached PostgreSQL


def test_control_characters_in_an_html_form_are_a_400_page(client):
    with statements() as seen:
        response = client.post("/auth/login", data={"username": "asha\u0007", "password": "x"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "control character" in response.get_data(as_text=True)
    assert seen == []


def test_multipart_part_without_a_field_name_is_a_400(client):
    body = b'--XX\r\nContent-Disposition: form-data; name="a\rb"\r\n\r\nvalue\r\n--XX--\r\n'
    response = client.post("/api/v1/members/HO000001/kyc", data=body, content_type="multipart/form-data; boundary=XX")
    assert_refused(response)


def test_free_text_may_hold_tabs_and_line_breaks(client, make_user):
    make_user("clerk", username="asha")
    response = client.post("/api/v1/auth/login", json={"username": "asha", "password": "line\none\ttab\r"})
    assert response.status_code == 401  # an ordinary wrong password, not refused input
    response = client.post("/api/v1/auth/login", json={"username": "asha", "password": PASSWORD})
    assert response.status_code == 200


def test_deeply_nested_json_is_a_400(client):
    with statements() as seen:
        response = client.post("/api/v1/auth/login", data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert "32" in assert_refused(response, 400, "JSON nested too deeply")["detail"]
    assert seen == []


def test_json_at_the_depth_limit_is_accepted(app, client):
    body = {"username": "asha", "password": "x"}
    nested = body
    for _ in range(app.config["JSON_MAX_DEPTH"] - 2):
        nested["extra"] = {}
        nested = nested["extra"]
    assert client.post("/api/v1/auth/login", json=body).status_code == 401  # looked at, not refused


def test_brackets_inside_strings_do_not_count_as_depth(client):
    body = json.dumps({"username": "[" * 100 + "{" * 100, "password": "x"})
    assert client.post("/api/v1/auth/login", data=body, content_type="application/json").status_code == 401


def test_json_body_size_limit_is_a_413(app, client):
    app.config["JSON_MAX_BYTES"] = 1000
    response = client.post("/api/v1/auth/login", json={"username": "asha", "password": "x" * 2000})
    assert_refused(response, 413, "Request body too large")


@pytest.mark.parametrize("url", ["/api/v1/me", "/auth/login"])
def test_trace_is_405_with_allow(client, url):
    response = client.open(url, method="TRACE")
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert "GET" in allowed and "TRACE" not in allowed


def test_daily_report_with_an_empty_date_is_a_400(client, make_user, books):
    make_user("accountant", username="anil")
    token = client.post("/api/v1/auth/login", json={"username": "anil", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    body = assert_refused(client.get("/api/v1/reports/daily?date=", headers=headers), 400, "Malformed request")
    assert "YYYY-MM-DD" in body["detail"]
    assert client.get("/api/v1/reports/daily", headers=headers).status_code == 200
