"""The auditor's audit log screen: filters by actor, entity, action and date; pagination."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from app.extensions import db
from app.services.common import Actor, acting_as, audit, uow
from app.templating import IST

HX = {"HX-Request": "true"}
KIRAN = Actor(type="staff", id=101, name="kiran", role="cashier", ip="10.0.0.5")
MEENA = Actor(type="staff", id=102, name="meena", role="clerk", ip="10.0.0.6")


def _at(day: str, clock: str = "10:00:00") -> datetime:
    """A moment on the clock in India: staff filter and read the log by IST days."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=IST)


def add(actor: Actor, action: str, entity_type: str, entity_id: str, when: datetime) -> int:
    with acting_as(actor):
        row = audit.record(action, entity_type, entity_id, after={"note": action})
    row.occurred_at = when
    db.session.flush()
    return row.id


@pytest.fixture
def history(client, login):
    """An auditor signed in, and a known set of audit rows around March 2026."""
    login("auditor", username="audrey")
    ids = {
        "k_mar01": add(KIRAN, "teller.deposit", "account", "SB-1", _at("2026-03-01")),
        "m_mar09": add(MEENA, "member.update", "member", "M-7", _at("2026-03-09", "23:59:59")),
        "k_mar15": add(KIRAN, "teller.withdraw", "account", "SB-2", _at("2026-03-15")),
        "m_mar20": add(MEENA, "member.create", "member", "M-8", _at("2026-03-20")),
        "m_mar31": add(MEENA, "member.kyc", "member", "M-7", _at("2026-03-31", "23:59:59")),
        "k_apr01": add(KIRAN, "teller.deposit", "account", "SB-1", _at("2026-04-01", "00:00:00")),
    }
    uow.commit()
    return ids


def rows(response) -> list[tuple[int, str, str, str]]:
    """(id, actor, action, entity) of each rendered row, in order."""
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)]
        if len(cells) == 9:
            found.append((int(cells[0]), cells[2], cells[4], " ".join(cells[5].split())))
    return found


def test_actor_filter_shows_only_that_actors_rows(client, history):
    found = rows(client.get("/staff/audit?actor=KIR", headers=HX))
    assert [r[0] for r in found] == [history["k_apr01"], history["k_mar15"], history["k_mar01"]]  # newest first
    assert {r[1] for r in found} == {"kiran"}
    assert found[0][2:] == ("teller.deposit", "account SB-1")


def test_entity_filters(client, history):
    members = rows(client.get("/staff/audit?entity_type=member", headers=HX))
    assert [r[0] for r in members] == [history["m_mar31"], history["m_mar20"], history["m_mar09"]]
    one = rows(client.get("/staff/audit?entity_type=member&entity_id=M-7", headers=HX))
    assert [(r[0], r[3]) for r in one] == [(history["m_mar31"], "member M-7"), (history["m_mar09"], "member M-7")]
    assert rows(client.get("/staff/audit?entity_type=loan", headers=HX)) == []
    assert "No audit entries match" in client.get("/staff/audit?entity_type=loan", headers=HX).get_data(as_text=True)


def test_action_filter_is_a_prefix(client, history):
    found = rows(client.get("/staff/audit?action=teller.", headers=HX))
    assert {r[0] for r in found} == {history["k_mar01"], history["k_mar15"], history["k_apr01"]}


def test_date_range_includes_whole_days(client, history):
    found = rows(client.get("/staff/audit?from=2026-03-10&to=2026-03-31", headers=HX))
    # 09-03 23:59:59 is before the range, 01-04 00:00:00 after it; 31-03 23:59:59 is inside.
    assert [r[0] for r in found] == [history["m_mar31"], history["m_mar20"], history["k_mar15"]]
    combined = rows(client.get("/staff/audit?from=2026-03-01&to=2026-03-31&actor=meena&entity_id=M-7", headers=HX))
    assert [r[0] for r in combined] == [history["m_mar31"], history["m_mar09"]]


def test_a_bad_date_is_explained_not_silently_ignored(client, history):
    response = client.get("/staff/audit?from=31-03-2026&actor=kiran", headers=HX)
    assert "From date must be a date like 2026-04-01" in response.get_data(as_text=True)
    assert len(rows(response)) == 3  # the other filters still apply
    backwards = client.get("/staff/audit?from=2026-04-01&to=2026-03-01", headers=HX)
    assert "after the To date" in backwards.get_data(as_text=True) and rows(backwards) == []


def test_pagination_keeps_filters_and_shows_each_row_once(app, client, history):
    app.config["PAGE_SIZE"] = 4
    extra = [add(KIRAN, "teller.deposit", "account", f"SB-{n}", _at("2026-03-02")) for n in range(10, 17)]
    uow.commit()
    kiran_ids = sorted([history["k_mar01"], history["k_mar15"], history["k_apr01"], *extra], reverse=True)
    assert len(kiran_ids) == 10

    first = client.get("/staff/audit?actor=kiran", headers=HX)
    html = first.get_data(as_text=True)
    assert "Page 1 of 3 (10 rows)" in html
    assert "page=2" in html and "actor=kiran" in html.split("Next")[0].rsplit("href=", 1)[1]
    seen = [r[0] for r in rows(first)]
    for page in (2, 3):
        seen += [r[0] for r in rows(client.get(f"/staff/audit?actor=kiran&page={page}", headers=HX))]
    assert seen == kiran_ids  # newest first, no gaps, no repeats
    last = client.get("/staff/audit?actor=kiran&page=3", headers=HX).get_data(as_text=True)
    assert "Page 3 of 3" in last and "Next" not in last and "Previous" in last


def test_full_page_keeps_the_filter_values_and_partial_is_only_the_table(client, history):
    page = client.get("/staff/audit?actor=kiran&from=2026-03-01").get_data(as_text=True)
    assert "<html" in page and 'name="actor" value="kiran"' in page and 'value="2026-03-01"' in page
    partial = client.get("/staff/audit?actor=kiran", headers=HX)
    assert "<html" not in partial.get_data(as_text=True)
    assert "HX-Request" in partial.headers["Vary"]


def test_roles_without_audit_view_cannot_open_it(client, login):
    login("clerk")
    assert client.get("/staff/audit").status_code == 403


def test_changes_read_as_labelled_fields_with_rupees_and_export_as_csv(client, history):
    with acting_as(KIRAN):
        row = audit.record(
            "loan.update",
            "loan",
            "LN-9",
            before={"amount_paise": 5000000, "kyc_status": "pending"},
            after={"amount_paise": 5050050, "kyc_status": "approved"},
        )
    uow.commit()
    html = client.get("/staff/audit?entity_type=loan", headers=HX).get_data(as_text=True)
    assert "amount_paise" not in html and "5000000" not in html
    assert "<dt>Amount</dt>" in html and "₹50,000.00" in html and "₹50,500.50" in html
    assert "<dt>KYC status</dt>" in html and "approved" in html
    assert "format=csv" in html and "entity_type=loan" in html  # the export link keeps the filters
    export = client.get("/staff/audit?entity_type=loan&format=csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    lines = export.get_data(as_text=True).splitlines()
    assert lines[0].startswith("#,When (IST),User,Role,Action")
    assert len(lines) == 2 and lines[1].startswith(f"{row.id},") and "IST" in lines[1]
    assert "Amount: ₹50,000.00" in lines[1] and "Amount: ₹50,500.50" in lines[1] and "kiran" in lines[1]
    only_kiran = client.get("/staff/audit?actor=meena&format=csv").get_data(as_text=True).splitlines()
    assert len(only_kiran) == 4 and all("meena" in line for line in only_kiran[1:])
