"""The approval queue screen: pending list, inline approve/reject, withdraw, tabs, dashboard count."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import GLAccount, JournalEntry
from app.services import ledger
from app.services.common import uow
from app.services.ledger import coa
from app.services.ledger import workflows as wf
from tests.conftest import login_as

HX = {"HX-Request": "true"}
RENT = [
    {"gl": "5202", "debit": 1_500_000, "credit": 0, "narration": "April rent"},
    {"gl": coa.BANK_DCCB, "debit": 0, "credit": 1_500_000},
]


@pytest.fixture
def staff(books, make_user):
    return {role: make_user(role) for role in ("accountant", "manager", "admin", "clerk")}


def submit(maker, narration="Rent for April", rows=RENT) -> ApprovalRequest:
    req = wf.submit_voucher(rows, narration=narration, maker=maker)
    uow.commit()
    return req


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0


def fresh(req: ApprovalRequest) -> ApprovalRequest:
    db.session.expire_all()
    return db.session.get(ApprovalRequest, req.id)


def toast_of(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["toast"]


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_pending_list_shows_kind_summary_amount_maker_and_age(client, staff):
    req = submit(staff["accountant"])
    login_as(client, staff["manager"].username)
    page = text(client.get("/staff/approvals"))
    row = page[page.index(f'<tr id="req-{req.id}"') :]
    row = row[: row.index("</tr>", row.index('<td class="actions">'))]
    assert "Journal voucher" in row and "Journal voucher ₹15,000.00: Rent for April" in row
    assert '<td class="num">15,000.00</td>' in row
    assert "<td>accountant_user</td>" in row
    assert re.search(r"<td title=\"[^\"]+\">\d+ s</td>", row)
    assert "Rent, rates and taxes" in row  # the voucher lines, with GL names, under Details
    assert "Approve" in row and 'name="note" required' in row and 'hx-target="#req-' in row
    assert ">Approvals<" in page  # sidebar entry


def test_approve_inline_swaps_the_row_and_posts(client, staff):
    req = submit(staff["accountant"])
    login_as(client, staff["manager"].username)
    response = client.post(f"/staff/approvals/{req.id}/approve", headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and body.strip().startswith(f'<tr id="req-{req.id}"')
    assert "Approved" in body and "JE00000001" in body and "Approve</button>" not in body
    assert toast_of(response) == {"message": f"Request #{req.id} approved — posted JE00000001.", "level": "success"}
    assert fresh(req).status == "approved" and entries() == 1
    assert ledger.gl_balance("5202") == 1_500_000
    decided = text(client.get("/staff/approvals?tab=decided"))
    assert f'id="req-{req.id}"' in decided and "by manager_user" in decided


def test_maker_cannot_approve_own_request(client, staff):
    req = submit(staff["manager"], narration="Own voucher")
    login_as(client, staff["manager"].username)
    page = text(client.get("/staff/approvals"))
    assert "Your request: another user must decide it." in page and "Approve</button>" not in page

    response = client.post(f"/staff/approvals/{req.id}/approve", headers=HX)
    assert response.status_code == 403
    assert toast_of(response)["level"] == "error"
    assert "a different user must approve" in toast_of(response)["message"]
    assert "a different user must approve" in text(response) and "<html" not in text(response)
    plain = client.post(f"/staff/approvals/{req.id}/approve")
    assert plain.status_code == 403 and "a different user must approve" in text(plain)
    assert fresh(req).status == "pending" and entries() == 0


def test_reject_needs_a_reason_and_posts_nothing(client, staff):
    req = submit(staff["accountant"])
    login_as(client, staff["admin"].username)
    empty = client.post(f"/staff/approvals/{req.id}/reject", data={"note": " "}, headers=HX)
    assert empty.status_code == 422 and toast_of(empty)["message"] == "Give a reason for rejecting."
    assert fresh(req).status == "pending"
    response = client.post(f"/staff/approvals/{req.id}/reject", data={"note": "No bill attached"}, headers=HX)
    assert response.status_code == 200 and "Rejected" in text(response) and "No bill attached" in text(response)
    assert fresh(req).status == "rejected" and fresh(req).checker_id == staff["admin"].id and entries() == 0
    again = client.post(f"/staff/approvals/{req.id}/approve", headers=HX)
    assert again.status_code == 409 and "already rejected" in toast_of(again)["message"]


def test_plain_form_post_redirects_with_a_flash(client, staff):
    req = submit(staff["accountant"])
    login_as(client, staff["manager"].username)
    response = client.post(f"/staff/approvals/{req.id}/approve", follow_redirects=True)
    assert response.status_code == 200 and f"Request #{req.id} approved — posted JE00000001." in text(response)


def test_maker_withdraws_and_others_cannot(client, staff):
    req = submit(staff["accountant"])
    other = submit(staff["manager"], narration="Manager's own")
    login_as(client, staff["accountant"].username)
    mine = text(client.get("/staff/approvals?tab=mine"))
    assert f'id="req-{req.id}"' in mine and f'id="req-{other.id}"' not in mine and "Withdraw" in mine
    refused = client.post(f"/staff/approvals/{other.id}/cancel", headers=HX)
    assert refused.status_code == 403 and "Only the maker" in toast_of(refused)["message"]
    response = client.post(f"/staff/approvals/{req.id}/cancel", headers=HX)
    assert response.status_code == 200 and "Withdrawn" in text(response)
    assert fresh(req).status == "cancelled" and fresh(other).status == "pending"


def test_roles_without_decide_see_no_buttons_and_are_refused(client, staff):
    req = submit(staff["accountant"])
    login_as(client, staff["clerk"].username)
    page = text(client.get("/staff/approvals"))
    assert f'id="req-{req.id}"' in page and "Awaiting a checker" in page and "Approve</button>" not in page
    assert client.post(f"/staff/approvals/{req.id}/approve", headers=HX).status_code == 403
    assert fresh(req).status == "pending"


def test_failed_execution_keeps_the_request_pending(client, staff):
    req = submit(staff["accountant"])
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == "5202"))
    gl.active = False  # deactivated after the voucher was made
    db.session.commit()
    login_as(client, staff["manager"].username)
    response = client.post(f"/staff/approvals/{req.id}/approve", headers=HX)
    assert response.status_code == 422 and "is inactive" in toast_of(response)["message"]
    assert fresh(req).status == "pending" and entries() == 0


def test_kind_filter_and_dashboard_count(client, staff):
    submit(staff["accountant"])
    wf.submit_gl_change("rename", {"gl_id": 1, "name": "All assets"}, maker=staff["accountant"])
    submit(staff["manager"], narration="Manager's own")
    uow.commit()
    login_as(client, staff["manager"].username)
    only_coa = text(client.get("/staff/approvals?kind=ledger.coa"))
    assert "Rename GL 1000 Assets → All assets" in only_coa and "Rent for April" not in only_coa
    dashboard = text(client.get("/"))
    assert 'id="pending-approvals">3<' in dashboard and "2 awaiting your decision" in dashboard
    assert 'href="/staff/approvals"' in dashboard
