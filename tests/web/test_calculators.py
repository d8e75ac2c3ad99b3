"""Public EMI/FD/RD calculators: HTML pages (full page and HTMX partial) and the JSON API.

Figures are the hand-worked ones from tests/unit (EMI ₹8,884.88; FD ₹1,07,186; RD ₹12,462).
"""

import re
from datetime import date
from decimal import Decimal

import pytest

from app.services.deposits import add_months

HX = {"HX-Request": "true"}
EMI_QS = "principal=1,00,000&annual_rate=12&months=12&start_date=2026-01-31"


def text(response) -> str:
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ HTML


@pytest.mark.parametrize("path", ["/calculators/", "/calculators/emi", "/calculators/fd", "/calculators/rd"])
def test_pages_are_public_and_blank_forms_show_no_errors(client, path):
    response = client.get(path)
    assert response.status_code == 200
    body = text(response)
    assert "<html" in body
    assert 'class="error"' not in body
    assert "has-error" not in body


def test_emi_full_page_shows_result_and_schedule(client):
    response = client.get(f"/calculators/emi?{EMI_QS}")
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")
    body = text(response)
    assert "<html" in body
    assert 'value="1,00,000"' in body  # the form keeps what was typed
    assert "₹8,884.88" in body  # EMI
    assert "₹6,618.53" in body  # total interest
    assert "₹1,06,618.53" in body  # total payment
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td>", body)
    assert rows == [str(n) for n in range(1, 13)]
    # first and last due dates (the century hides on phones: 28-02-26)
    assert '28-02-<span class="cc">20</span>26' in body and '31-01-<span class="cc">20</span>27' in body
    assert "8,884.85" in body  # the balancing last instalment
    assert "₹8,884.85: it settles the paise" in body


def test_emi_htmx_returns_only_the_result_fragment(client):
    response = client.get(f"/calculators/emi?{EMI_QS}", headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and "<form" not in body
    assert "₹8,884.88" in body
    # the fields come along out-of-band, without errors
    assert body.count('hx-swap-oob="true"') == 4
    assert "has-error" not in body


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("principal=abc&annual_rate=12&months=12", "principal", "Not a valid amount"),
        ("principal=100.005&annual_rate=12&months=12", "principal", "two decimal places (paise)"),
        ("principal=-5&annual_rate=12&months=12", "principal", "cannot be negative"),
        ("principal=0&annual_rate=12&months=12", "principal", "more than zero"),
        ("principal=1000&annual_rate=50.01&months=12", "annual_rate", "between 0 and 50"),
        ("principal=1000&annual_rate=8.125&months=12", "annual_rate", "at most two decimals"),
        ("principal=1000&annual_rate=&months=12", "annual_rate", "Enter the interest rate"),
        ("principal=1000&annual_rate=12&months=481", "months", "from 1 to 480"),
        ("principal=1000&annual_rate=12&months=0", "months", "from 1 to 480"),
        ("principal=1000&annual_rate=12&months=1.5", "months", "from 1 to 480"),
        ("principal=1000&annual_rate=12&months=12&start_date=31-01-2026", "start_date", "YYYY-MM-DD"),
    ],
)
def test_emi_validation_errors_sit_next_to_the_field(client, query, field, message):
    response = client.get(f"/calculators/emi?{query}")
    assert response.status_code == 422
    body = text(response)
    block = re.search(rf'<div class="field has-error" id="f-{field}">(.*?)</div>', body, re.S)
    assert block, body
    assert f'id="e-{field}"' in block.group(1)
    assert message in block.group(1)
    assert 'aria-invalid="true"' in block.group(1)
    assert body.count("has-error") == 1
    assert "Repayment schedule" not in body

    partial = client.get(f"/calculators/emi?{query}", headers=HX)
    assert partial.status_code == 200  # htmx swaps only 2xx responses
    pbody = text(partial)
    assert re.search(rf'<div class="field has-error" id="f-{field}" hx-swap-oob="true">', pbody)
    assert message in pbody


def test_fd_page_cumulative_and_quarterly_payout(client):
    body = text(client.get("/calculators/fd?principal=100000&annual_rate=7&months=12&start_date=2026-04-01"))
    assert "₹1,07,186.00" in body and "₹7,186.00" in body and "01-04-2027" in body

    # 12 months 20 days at 7.25 %, quarterly: ₹1,813 × 4 + ₹397 for the last 20 days.
    body = text(
        client.get(
            "/calculators/fd?principal=100000&annual_rate=7.25&months=12&days=20"
            "&start_date=2026-04-01&payout=quarterly",
            headers=HX,
        )
    )
    assert "₹1,813.00" in body
    assert "₹7,649.00" in body  # 4 × 1,813 + 397
    assert "20 days" in body
    body = text(
        client.get("/calculators/fd?principal=100000&annual_rate=7.25&months=12&start_date=2026-04-01&payout=monthly")
    )
    assert "₹601.00" in body and "discounted" in body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("principal=1000&annual_rate=7&months=0&days=3", "months"),  # under 7 days
        ("principal=1000&annual_rate=7", "months"),  # no tenure at all
        ("principal=1000&annual_rate=7&months=12&days=abc", "days"),
        ("principal=1000&annual_rate=7&months=12&payout=weekly", "payout"),
    ],
)
def test_fd_validation(client, query, field):
    response = client.get(f"/calculators/fd?{query}")
    assert response.status_code == 422
    assert f'class="field has-error" id="f-{field}"' in text(response)


def test_rd_page(client):
    body = text(client.get("/calculators/rd?installment=1,000&annual_rate=7&months=12", headers=HX))
    assert "₹12,462.00" in body and "₹12,000.00" in body and "₹462.00" in body


# ------------------------------------------------------------------ JSON API


def test_api_emi_matches_the_contract(client):
    response = client.get("/api/v1/calculators/emi?principal=100000&annual_rate=12&months=12&start_date=2026-01-31")
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {"emi", "total_interest", "total_payment", "schedule"}
    assert (data["emi"], data["total_interest"], data["total_payment"]) == ("8884.88", "6618.53", "106618.53")
    schedule = data["schedule"]
    assert len(schedule) == 12
    assert schedule[0] == {
        "installment": 1,
        "due_date": "2026-02-28",
        "emi": "8884.88",
        "principal": "7884.88",
        "interest": "1000.00",
        "balance": "92115.12",
    }
    assert schedule[-1] == {
        "installment": 12,
        "due_date": "2027-01-31",
        "emi": "8884.85",
        "principal": "8796.88",
        "interest": "87.97",
        "balance": "0.00",
    }
    assert sum(Decimal(row["principal"]) for row in schedule) == Decimal("100000.00")
    assert all(isinstance(row[k], str) for row in schedule for k in ("emi", "principal", "interest", "balance"))


def test_api_emi_start_date_defaults_to_today(client):
    data = client.get("/api/v1/calculators/emi?principal=1200&annual_rate=0&months=2").get_json()
    assert data["emi"] == "600.00"
    assert data["schedule"][0]["due_date"] == add_months(date.today(), 1).isoformat()


def test_api_fd(client):
    data = client.get(
        "/api/v1/calculators/fd?principal=100000&annual_rate=7&months=15&days=10&start_date=2026-04-01"
    ).get_json()
    # 1.0175^5 compounding to 1 Jul 2027, then 10 days simple: interest 9,270.82 → ₹9,271.
    assert data == {"maturity_amount": "109271.00", "interest": "9271.00", "maturity_date": "2027-07-11"}


def test_api_rd(client):
    data = client.get("/api/v1/calculators/rd?installment=1000&annual_rate=7&months=12").get_json()
    assert data == {"maturity_amount": "12462.00", "total_deposited": "12000.00", "interest": "462.00"}


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/api/v1/calculators/emi?principal=-5&annual_rate=51&months=0", {"principal", "annual_rate", "months"}),
        ("/api/v1/calculators/emi?principal=100000.123&annual_rate=12&months=12", {"principal"}),
        ("/api/v1/calculators/emi", {"principal", "annual_rate", "months"}),
        ("/api/v1/calculators/fd?principal=1000&annual_rate=7&months=0&days=0", {"months"}),
        ("/api/v1/calculators/fd?principal=1000&annual_rate=7&months=12&start_date=2026-02-30", {"start_date"}),
        ("/api/v1/calculators/rd?installment=1000&annual_rate=7&months=500", {"months"}),
        ("/api/v1/calculators/rd?installment=1e5&annual_rate=7&months=12", {"installment"}),
    ],
)
def test_api_errors_are_problem_json(client, url, fields):
    response = client.get(url)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    data = response.get_json()
    assert data["type"].endswith("/validation-error")
    assert data["title"] == "Invalid input"
    assert data["status"] == 422
    assert set(data["errors"]) == fields
    assert all(isinstance(m, list) and m for m in data["errors"].values())


# ------------------------------------------------------------------ limits agree with the products


def test_fd_tenure_is_the_products_tenure(client, app):
    start = "start_date=2026-04-01"
    longest = client.get(f"/api/v1/calculators/fd?principal=1000&annual_rate=7&days=3650&{start}")
    assert longest.status_code == 200 and longest.get_json()["maturity_date"] == "2036-03-29"
    too_long = client.get(f"/api/v1/calculators/fd?principal=1000&annual_rate=7&months=120&days=1&{start}")
    assert too_long.status_code == 422 and "at most 3,650 days" in too_long.get_json()["errors"]["months"][0]
    page = client.get(f"/calculators/fd?principal=1000&annual_rate=7&days=3651&{start}")
    assert page.status_code == 422 and "Tenure in all: 7 to 3,650 days" in text(page)
    app.config["FD_MAX_DAYS"] = 4000  # one setting moves the page, the API and the products together
    assert client.get(f"/api/v1/calculators/fd?principal=1000&annual_rate=7&days=3700&{start}").status_code == 200


def test_rd_months_are_the_products_months(client):
    assert client.get("/api/v1/calculators/rd?installment=1000&annual_rate=7&months=120").status_code == 200
    refused = client.get("/api/v1/calculators/rd?installment=1000&annual_rate=7&months=121")
    assert refused.get_json()["errors"]["months"] == ["Enter whole months from 6 to 120."]
    assert "6 to 120 months" in text(client.get("/calculators/rd"))
