"""Ledger API: trial balance, daily report, journal list and entry detail (JSON, problem+json)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.services import ledger
from app.services.common import uow
from app.services.ledger import Line, calendar, coa
from tests.conftest import PASSWORD, new_account


def token_for(client, make_user, role: str) -> dict[str, str]:
    user = make_user(role, username=f"api_{role}")
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


@pytest.fixture
def posted(books):
    """01-04: opening 10,000 (cash→SB), deposit 2,500, withdrawal 1,200.50, rent 15,000 by bank; 02-04: deposit 500."""
    sb = new_account("savings", opening_paise=1_000_000)
    ledger.post([Line.dr(coa.VAULT_CASH, 250_000), Line.cr(sb, 250_000)], kind="deposit", narration="Cash deposit")
    ledger.post([Line.dr(sb, 120_050), Line.cr(coa.VAULT_CASH, 120_050)], kind="withdrawal", narration="Withdrawal")
    ledger.post(
        [Line.dr("5202", 1_500_000, "April rent"), Line.cr(coa.BANK_DCCB, 1_500_000)],
        kind="journal",
        narration="Rent for April",
    )
    calendar.close_business_day(date(2026, 4, 1))
    calendar.open_business_day(date(2026, 4, 2))
    ledger.post([Line.dr(coa.VAULT_CASH, 50_000), Line.cr(sb, 50_000)], kind="deposit", narration="Second day")
    uow.commit()
    return sb


def assert_problem(response, status: int, detail_has: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and detail_has in body["detail"], body
    return body


def test_trial_balance_json(client, make_user, posted):
    headers = token_for(client, make_user, "accountant")
    body = client.get("/api/v1/reports/trial-balance?date=2026-04-01", headers=headers).get_json()
    assert body["date"] == "2026-04-01"
    assert body["total_debit"] == body["total_credit"] == "26299.50"
    assert body["balanced"] is True and body["difference"] == "0.00"
    rows = {r["code"]: r for r in body["rows"]}
    assert set(rows) == {"1101", "1201", "2101", "5202"}
    assert rows["1101"] == {
        "code": "1101",
        "name": "Cash in hand (vault)",
        "type": "asset",
        "debit": "11299.50",
        "credit": "0.00",
    }
    assert (rows["2101"]["debit"], rows["2101"]["credit"]) == ("0.00", "11299.50")
    assert sum(Decimal(r["debit"]) for r in body["rows"]) == Decimal(body["total_debit"])
    # default date: the open business date (02-04), which includes the second day's deposit
    today = client.get("/api/v1/reports/trial-balance", headers=headers).get_json()
    assert today["date"] == "2026-04-02" and today["total_debit"] == today["total_credit"] == "26799.50"


def test_daily_report_json(client, make_user, posted):
    headers = token_for(client, make_user, "auditor")
    day1 = client.get("/api/v1/reports/daily?date=2026-04-01", headers=headers).get_json()
    assert day1 == {
        "date": "2026-04-01",
        "entries": 4,
        "total_debit": "28700.50",
        "total_credit": "28700.50",
        "cash_opening": "0.00",
        "cash_receipts": "12500.00",
        "cash_payments": "1200.50",
        "cash_closing": "11299.50",
    }
    day2 = client.get("/api/v1/reports/daily?date=2026-04-02", headers=headers).get_json()
    assert (day2["entries"], day2["cash_opening"], day2["cash_closing"]) == (1, "11299.50", "11799.50")


def test_bad_dates_are_422_problems(client, make_user, posted):
    headers = token_for(client, make_user, "manager")
    body = assert_problem(
        client.get("/api/v1/reports/trial-balance?date=01-04-2026", headers=headers), 422, "use YYYY-MM-DD"
    )
    assert body["errors"]["date"] and body["type"].endswith("/validation-error")
    assert_problem(client.get("/api/v1/reports/daily?date=2026-13-01", headers=headers), 422, "date:")
    body = assert_problem(client.get("/api/v1/journal?from=2026-04-02&to=2026-04-01", headers=headers), 422, "before")
    assert "to" in body["errors"]
    assert_problem(client.get("/api/v1/journal?page=0", headers=headers), 422, "page")
    assert_problem(client.get("/api/v1/journal?per_page=1000", headers=headers), 422, "per_page")


def test_journal_list_filters_and_pagination(client, make_user, posted):
    sb = posted
    headers = token_for(client, make_user, "accountant")
    body = client.get("/api/v1/journal?per_page=2", headers=headers).get_json()
    assert (body["total"], body["pages"], body["page"], body["per_page"]) == (5, 3, 1, 2)
    assert [e["entry_no"] for e in body["items"]] == ["JE00000005", "JE00000004"]
    rent = body["items"][1]
    assert rent["kind"] == "journal" and rent["amount"] == "15000.00" and rent["business_date"] == "2026-04-01"
    assert rent["reverses"] is None and rent["reversed_by"] is None
    page3 = client.get("/api/v1/journal?per_page=2&page=3", headers=headers).get_json()
    assert [e["entry_no"] for e in page3["items"]] == ["JE00000001"]

    def numbers(query: str) -> list[str]:
        response = client.get(f"/api/v1/journal?{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [e["entry_no"] for e in response.get_json()["items"]]

    assert numbers("from=2026-04-02&to=2026-04-02") == ["JE00000005"]
    assert numbers("kind=deposit") == ["JE00000005", "JE00000002"]
    assert numbers(f"account_no={sb.account_no}&to=2026-04-01") == ["JE00000003", "JE00000002", "JE00000001"]
    assert numbers("min=1000&max=2500") == ["JE00000003", "JE00000002"]


def test_journal_entry_with_lines_and_reversal_links(client, make_user, posted):
    sb = posted
    original = ledger.get_entry(3)
    ledger.reverse(original, reason="Keyed twice")
    uow.commit()
    headers = token_for(client, make_user, "auditor")
    body = client.get("/api/v1/journal/JE00000003", headers=headers).get_json()
    assert body["entry_no"] == "JE00000003" and body["amount"] == "1200.50" and body["reversed_by"] == "JE00000006"
    assert body["lines"] == [
        {
            "gl_code": "2101",
            "gl_name": "Savings deposits",
            "account_no": sb.account_no,
            "debit": "1200.50",
            "credit": "0.00",
            "narration": None,
        },
        {
            "gl_code": "1101",
            "gl_name": "Cash in hand (vault)",
            "account_no": None,
            "debit": "0.00",
            "credit": "1200.50",
            "narration": None,
        },
    ]
    reversal = client.get("/api/v1/journal/JE00000006", headers=headers).get_json()
    assert reversal["kind"] == "reversal" and reversal["reverses"] == "JE00000003"
    assert [(ln["debit"], ln["credit"]) for ln in reversal["lines"]] == [("0.00", "1200.50"), ("1200.50", "0.00")]
    assert_problem(client.get("/api/v1/journal/JE00009999", headers=headers), 404, "No journal entry")
    assert_problem(client.get("/api/v1/journal/nonsense", headers=headers), 404, "No journal entry")


def test_permissions_and_tokens(client, make_user, posted):
    assert client.get("/api/v1/reports/trial-balance").status_code == 401
    clerk = token_for(client, make_user, "clerk")
    for url in (
        "/api/v1/reports/trial-balance",
        "/api/v1/reports/daily",
        "/api/v1/journal",
        "/api/v1/journal/JE00000001",
    ):
        assert_problem(client.get(url, headers=clerk), 403, "does not allow")
    for role in ("manager", "admin"):
        assert client.get("/api/v1/reports/daily", headers=token_for(client, make_user, role)).status_code == 200


def test_endpoints_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    tb = doc["paths"]["/api/v1/reports/trial-balance"]["get"]
    assert tb["x-permission"] == "reports.view"
    assert set(tb["x-roles"]) == {"admin", "manager", "accountant", "auditor"}
    assert {p["name"] for p in doc["paths"]["/api/v1/journal"]["get"]["parameters"]} >= {
        "from",
        "to",
        "kind",
        "account_no",
        "page",
    }
    assert "/api/v1/journal/{entry_no}" in doc["paths"] and "/api/v1/reports/daily" in doc["paths"]
    assert doc["components"]["schemas"]["TrialBalance"]["properties"]["total_debit"]["type"] == "string"
