"""Year-end screens: propose through the form (maker), refusals shown, register and unclaimed lists after approval."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.services.common import approvals, uow
from tests.conftest import login_as
from tests.integration.test_reports_yearend import _entries, _new_year, year  # noqa: F401  (fixture)


def test_propose_approve_and_read_the_dividend_register(client, year):  # noqa: F811
    _new_year()
    login_as(client, "acct")
    page = client.get("/reports/year-end").get_data(as_text=True)
    assert 'value="2026-03-31"' in page and "3200:25" in page
    count = _entries()
    refused = client.post(
        "/reports/year-end", data={"year_end": "2026-03-31", "funds": "3200:25", "dividend_rate": "20"}
    )
    assert refused.status_code == 422 and "above the cap of 15%" in refused.get_data(as_text=True)
    refused = client.post("/reports/year-end", data={"year_end": "2026-03-31", "funds": "3200:x", "dividend_rate": "5"})
    assert refused.status_code == 422 and "GL code:per cent" in refused.get_data(as_text=True)
    assert _entries() == count
    sent = client.post(
        "/reports/year-end", data={"year_end": "2026-03-31", "funds": "3200:25, 3303:1", "dividend_rate": "10"}
    )
    assert sent.status_code == 302
    assert 'id="year-end-pending"' in client.get("/reports/year-end").get_data(as_text=True)
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "reports.year_end"))
    assert req.entity_id == "2025-26" and _entries() == count
    approvals.approve(req.id, checker=year["checker"])
    uow.commit()
    runs = client.get("/reports/year-end").get_data(as_text=True)
    assert "2025-26" in runs and "17,208.34" in runs
    register = client.get("/reports/year-end/2025-26/dividends").get_data(as_text=True)
    assert "Asha" in register and "1,000.00" in register and "208.33" in register
    csv = client.get("/reports/year-end/2025-26/dividends.csv").get_data(as_text=True)
    assert ",1000.00,credited," in csv and ",208.33,payable," in csv
    unclaimed = client.get("/reports/dividends/unclaimed").get_data(as_text=True)
    assert "Bhim" in unclaimed and "Chitra" in unclaimed and "Asha" not in unclaimed
    assert client.get("/reports/year-end/2024-25/dividends").status_code == 404
