"""Report screens and the report API: JSON contract, pages, print, PDF, CSV, bad input, permissions."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from app.services import ledger
from app.services.common import uow
from app.services.ledger import Line, calendar, coa
from tests.conftest import PASSWORD, new_account


def token_for(client, make_user, role: str) -> dict[str, str]:
    user = make_user(role, username=f"rep_{role}")
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


@pytest.fixture
def posted(books):
    """01-04: SB opening 10,000 by cash, loan interest 1,500 in cash, rent 600 by bank, NPA provision 200; 02-04 open."""
    sb = new_account("savings", opening_paise=10_000_00)
    ledger.post([Line.dr(coa.VAULT_CASH, 1_500_00), Line.cr(coa.INCOME_LOAN_INTEREST, 1_500_00)], kind="repayment",
                narration="Interest")  # fmt: skip
    ledger.post([Line.dr("5202", 600_00), Line.cr(coa.BANK_DCCB, 600_00)], kind="journal", narration="Rent")
    ledger.post([Line.dr(coa.EXP_NPA_PROVISION, 200_00), Line.cr(coa.NPA_PROVISION, 200_00)], kind="provision",
                narration="Provision")  # fmt: skip
    uow.commit()
    ledger.close_day(date(2026, 4, 1))
    calendar.open_business_day(date(2026, 4, 2))
    uow.commit()
    return sb


def test_profit_and_loss_json(client, make_user, posted):
    headers = token_for(client, make_user, "accountant")
    body = client.get("/api/v1/reports/profit-and-loss?from=2026-04-01&to=2026-04-02", headers=headers).get_json()
    assert body["income"] == [{"code": "4101", "name": "Interest on loans", "amount": "1500.00", "schedule": None}]
    assert {r["code"]: r["amount"] for r in body["expense"]} == {"5202": "600.00", "5301": "200.00"}
    assert (body["total_income"], body["total_expense"], body["net_profit"]) == ("1500.00", "800.00", "700.00")
    default = client.get("/api/v1/reports/profit-and-loss", headers=headers).get_json()
    assert default["date_from"] == "2026-04-01" and default["net_profit"] == "700.00"


def test_balance_sheet_json_balances_with_surplus_in_equity(client, make_user, posted):
    headers = token_for(client, make_user, "auditor")
    body = client.get("/api/v1/reports/balance-sheet?date=2026-04-01", headers=headers).get_json()
    assets = {r["code"]: Decimal(r["amount"]) for r in body["assets"]}
    assert assets[coa.VAULT_CASH] == Decimal("11500.00")
    assert assets[coa.BANK_DCCB] == Decimal("-600.00")
    assert assets[coa.NPA_PROVISION] == Decimal("-200.00")  # netted against loans
    assert {r["code"]: r["amount"] for r in body["equity"]} == {"P&L": "700.00"}
    assert {r["code"]: r["amount"] for r in body["liabilities"]} == {coa.SB_DEPOSITS: "10000.00"}
    total_assets = Decimal(body["total_assets"])
    assert total_assets == sum(assets.values()) == Decimal("10700.00")
    assert total_assets == Decimal(body["total_liabilities"]) + Decimal(body["total_equity"])


@pytest.mark.parametrize(
    "url, field, detail",
    [
        ("/api/v1/reports/balance-sheet?date=2026-03-01", "date", "before the society's first business day"),
        ("/api/v1/reports/balance-sheet?date=2027-01-01", "date", "in the future"),
        ("/api/v1/reports/balance-sheet?date=1-4-2026", "date", "use YYYY-MM-DD"),
        ("/api/v1/reports/profit-and-loss?from=2026-04-02&to=2026-04-01", "to", "inverted"),
    ],
)
def test_report_api_bad_input_is_a_422_problem(client, make_user, posted, url, field, detail):
    headers = token_for(client, make_user, "manager")
    response = client.get(url, headers=headers)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    assert detail in body["detail"] and field in body["errors"]


def test_report_api_refuses_a_clerk(client, make_user, posted):
    headers = token_for(client, make_user, "clerk")
    assert client.get("/api/v1/reports/balance-sheet", headers=headers).status_code == 403
    assert client.get("/api/v1/reports/profit-and-loss", headers=headers).status_code == 403


def test_openapi_lists_the_statement_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("profit-and-loss", "balance-sheet", "loans-outstanding", "npa"):
        assert "get" in paths[f"/api/v1/reports/{path}"], path


def test_statement_pages_partials_print_csv_and_pdf(client, login, posted):
    login("accountant")
    page = client.get("/reports/balance-sheet?date=2026-04-01")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Vary" in page.headers
    assert 'id="bs-status">Balanced' in html and 'id="bs-assets">10,700.00' in html
    assert "Loans and advances (net of provisions)" in html and "(200.00)" in html
    partial = client.get("/reports/balance-sheet?date=2026-04-01", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "<nav" not in partial and 'id="bs-funds">10,700.00' in partial
    pl = client.get("/reports/profit-and-loss?from=2026-04-01&to=2026-04-02").get_data(as_text=True)
    assert 'id="pl-net">700.00' in pl and 'id="pl-income">1,500.00' in pl
    csv = client.get("/reports/profit-and-loss.csv?from=2026-04-01&to=2026-04-01")
    assert csv.mimetype == "text/csv"
    assert "total,,Net profit,700.00," in csv.get_data(as_text=True)
    bs_csv = client.get("/reports/balance-sheet.csv?date=2026-04-01").get_data(as_text=True)
    assert "total,,,Total assets,10700.00," in bs_csv
    printed = client.get("/reports/receipts-payments?from=2026-04-01&to=2026-04-01&print=1").get_data(as_text=True)
    assert "<nav" not in printed and 'id="rp-closing">10,900.00' in printed
    pdf = client.get("/reports/balance-sheet.pdf?date=2026-04-01")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_statement_page_bad_date_is_a_clear_error(client, login, posted):
    login("manager")
    response = client.get("/reports/balance-sheet?date=2030-01-01")
    assert response.status_code == 422
    assert "is in the future; the latest business day is 02-04-2026" in response.get_data(as_text=True)
    refused = client.get("/reports/profit-and-loss.csv?from=2026-04-02&to=2026-04-01")
    assert refused.status_code == 422 and "inverted" in refused.get_data(as_text=True)


def test_report_links_open_the_pages_and_print_views_carry_their_csp_nonce(client, login, posted):
    login("accountant")
    index = client.get("/reports/").get_data(as_text=True)
    for path in ("/reports/profit-and-loss", "/reports/balance-sheet", "/reports/receipts-payments"):
        assert f'href="{path}"' in index  # the page, not its PDF or CSV
    printed = client.get("/reports/balance-sheet?date=2026-04-01&print=1")
    nonce = re.search(r'<style nonce="([^"]+)"', printed.get_data(as_text=True))
    assert nonce is not None and f"'nonce-{nonce.group(1)}'" in printed.headers["Content-Security-Policy"]
