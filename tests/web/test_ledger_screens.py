"""Ledger screens: chart, journal, entry detail, statement, day book, trial balance, voucher, CSV.

The figures are worked by hand from the postings in ``books_with_entries``:

01-04-2026  JE1 opening   Dr 1101 vault cash 10,000.00  / Cr savings T (2101)
            JE2 deposit   Dr 1101 2,500.00              / Cr savings
            JE3 withdrawal Dr savings 1,200.50          / Cr 1101
            JE4 journal   Dr 5202 rent 15,000.00        / Cr 1201 bank (DCCB)
02-04-2026  JE5 deposit   Dr 1101 500.00                / Cr savings

Cash (1101) at the end of 01-04: 10,000 + 2,500 − 1,200.50 = 11,299.50; at the end of
02-04: 11,799.50. Trial balance 01-04: debits 11,299.50 + 15,000 = 26,299.50 = credits.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import GLAccount, JournalEntry
from app.services import ledger
from app.services.common import uow
from app.services.ledger import Line, calendar, coa
from tests.conftest import login_as, new_account

DAY1 = date(2026, 4, 1)
DAY2 = date(2026, 4, 2)


@pytest.fixture
def books_with_entries(books):
    sb = new_account("savings", opening_paise=1_000_000)
    ledger.post([Line.dr(coa.VAULT_CASH, 250_000), Line.cr(sb, 250_000)], kind="deposit", narration="Cash deposit")
    ledger.post(
        [Line.dr(sb, 120_050), Line.cr(coa.VAULT_CASH, 120_050)], kind="withdrawal", narration="Cash withdrawal"
    )
    ledger.post(
        [Line.dr("5202", 1_500_000, "April rent"), Line.cr(coa.BANK_DCCB, 1_500_000)],
        kind="journal",
        narration="Rent for April paid by cheque",
    )
    uow.commit()
    return sb


@pytest.fixture
def second_day(books_with_entries):
    sb = books_with_entries
    calendar.close_business_day(DAY1)
    calendar.open_business_day(DAY2)
    ledger.post([Line.dr(coa.VAULT_CASH, 50_000), Line.cr(sb, 50_000)], kind="deposit", narration="Second day")
    uow.commit()
    return sb


def htmx(client, url: str, **kw):
    return client.get(url, headers={"HX-Request": "true"}, **kw)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, text_of(response)
    assert response.mimetype == "text/csv"
    assert "attachment; filename=" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(text_of(response))))


def compact(html: str) -> str:
    return re.sub(r"\s+", " ", html)


# ---------------------------------------------------------------- trial balance


def test_trial_balance_shows_balances_totals_and_balanced_badge(client, login, books_with_entries):
    login("accountant")
    page = compact(text_of(client.get("/ledger/trial-balance?date=2026-04-01")))
    assert 'id="tb-status">Balanced<' in page
    assert 'id="tb-debit">26,299.50<' in page and 'id="tb-credit">26,299.50<' in page
    # each row drills down to the account statement
    assert 'href="/ledger/gl/1101/statement?to=2026-04-01">1101<' in page
    assert "11,299.50" in page and "15,000.00" in page
    # group headings and zero-balance accounts are not listed
    assert ">1000<" not in page and "Cash in hand (vault)" in page and "Salaries" not in page


def test_trial_balance_that_does_not_agree_says_by_how_much(client, login, books_with_entries):
    from app.models.ledger import JournalLine

    # Simulate a corrupted ledger (SQLite has no balancing trigger): one stray paisa on 1101.
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == "1101"))
    db.session.add(JournalLine(entry_id=1, gl_account_id=gl.id, business_date=DAY1, debit_paise=1, credit_paise=0))
    db.session.commit()
    login("accountant")
    page = compact(text_of(client.get("/ledger/trial-balance?date=2026-04-01")))
    assert 'id="tb-status">Out by ₹0.01<' in page
    assert 'id="tb-debit">26,299.51<' in page and 'id="tb-credit">26,299.50<' in page


def test_trial_balance_before_any_posting_is_empty_and_balanced(client, login, books_with_entries):
    login("auditor")
    page = compact(text_of(htmx(client, "/ledger/trial-balance?date=2026-03-31")))
    assert "<html" not in page
    assert "No balances as of this date." in page and 'id="tb-debit">0.00<' in page and "Balanced" in page


def test_trial_balance_csv(client, login, books_with_entries):
    login("manager")
    rows = csv_rows(client.get("/ledger/trial-balance.csv?date=2026-04-01"))
    assert rows[0] == ["code", "name", "type", "debit", "credit"]
    body = {r[0]: r for r in rows[1:-1]}
    assert body["1101"] == ["1101", "Cash in hand (vault)", "asset", "11299.50", "0.00"]
    assert body["1201"][3:] == ["0.00", "15000.00"]
    assert body["2101"][3:] == ["0.00", "11299.50"]
    assert body["5202"][3:] == ["15000.00", "0.00"]
    assert rows[-1] == ["", "Total", "", "26299.50", "26299.50"]


def test_trial_balance_bad_date_is_a_field_error(client, login, books):
    login("accountant")
    page = text_of(client.get("/ledger/trial-balance?date=31-03-2026"))
    assert "is not a date; use YYYY-MM-DD" in page
    assert client.get("/ledger/trial-balance.csv?date=nope").status_code == 422


# ---------------------------------------------------------------- day book


def test_day_book_cash_opening_receipts_payments_closing(client, login, second_day):
    login("accountant")
    day1 = compact(text_of(client.get("/ledger/daybook?date=2026-04-01")))
    assert 'id="cash-opening">₹0.00<' in day1
    assert 'id="cash-receipts">₹12,500.00<' in day1
    assert 'id="cash-payments">₹1,200.50<' in day1
    assert 'id="cash-closing">₹11,299.50<' in day1
    assert 'id="db-entries">4<' in day1
    assert 'id="db-debits">₹28,700.50<' in day1 and 'id="db-credits">₹28,700.50<' in day1
    assert "JE00000004" in day1 and "Rent for April paid by cheque" in day1 and "April rent" in day1
    assert "JE00000005" not in day1

    day2 = compact(text_of(htmx(client, "/ledger/daybook?date=2026-04-02")))
    assert "<html" not in day2
    assert 'id="cash-opening">₹11,299.50<' in day2
    assert 'id="cash-receipts">₹500.00<' in day2 and 'id="cash-payments">₹0.00<' in day2
    assert 'id="cash-closing">₹11,799.50<' in day2
    assert "JE00000005" in day2 and "JE00000001" not in day2


def test_day_book_csv_has_every_line(client, login, second_day):
    login("auditor")
    rows = csv_rows(client.get("/ledger/daybook.csv?date=2026-04-01"))
    assert rows[0][:4] == ["business_date", "entry_no", "kind", "narration"]
    assert len(rows) == 1 + 8  # four entries of two lines each
    rent = [r for r in rows if r[1] == "JE00000004"]
    assert [(r[4], r[7], r[8], r[9]) for r in rent] == [
        ("5202", "15000.00", "0.00", "April rent"),
        ("1201", "0.00", "15000.00", ""),
    ]
    assert sum(float(r[7]) for r in rows[1:]) == pytest.approx(28700.50)  # only to double-check the CSV


# ---------------------------------------------------------------- GL statement


def test_statement_running_balance_opening_and_closing(client, login, second_day):
    sb = second_day
    login("accountant")
    page = compact(text_of(client.get("/ledger/gl/1101/statement?from=2026-04-01&to=2026-04-02")))
    assert 'id="st-opening">₹0.00<' in page
    assert 'id="st-closing">₹11,799.50 Dr<' in page
    running = re.findall(r'<td class="num">([\d,]+\.\d\d Dr)</td> </tr>', page)
    assert running == ["10,000.00 Dr", "12,500.00 Dr", "11,299.50 Dr", "11,799.50 Dr"]
    assert f"Opening balance {sb.account_no}" in page  # the entry narration stands in for a line narration

    second = compact(text_of(htmx(client, "/ledger/gl/1101/statement?from=2026-04-02&to=2026-04-02")))
    assert "<html" not in second
    assert 'id="st-opening">₹11,299.50 Dr<' in second and 'id="st-closing">₹11,799.50 Dr<' in second


def test_statement_of_a_credit_account_and_a_heading(client, login, books_with_entries):
    sb = books_with_entries
    login("auditor")
    page = compact(text_of(client.get("/ledger/gl/2101/statement?from=2026-04-01&to=2026-04-01")))
    assert 'id="st-closing">₹11,299.50 Cr<' in page and sb.account_no in page
    # a heading's statement includes every account under it: 1100 Cash → 1101
    group = compact(text_of(client.get("/ledger/gl/1100/statement?from=2026-04-01&to=2026-04-01")))
    assert 'id="st-closing">₹11,299.50 Dr<' in group and "including the accounts under this heading" in group


def test_statement_paging_carries_the_balance_forward(app, client, login, books_with_entries):
    app.config["PAGE_SIZE"] = 2
    login("accountant")
    page2 = compact(text_of(client.get("/ledger/gl/1101/statement?from=2026-04-01&to=2026-04-01&page=2")))
    assert "Brought forward" in page2 and "12,500.00 Dr" in page2
    assert re.findall(r'<td class="num">([\d,]+\.\d\d Dr)</td> </tr>', page2) == ["11,299.50 Dr"]


def test_statement_csv_and_bad_range(client, login, second_day):
    login("accountant")
    rows = csv_rows(client.get("/ledger/gl/1101/statement.csv?from=2026-04-02&to=2026-04-02"))
    assert rows[0] == ["date", "entry_no", "kind", "narration", "gl_code", "account_no", "debit", "credit", "balance"]
    assert rows[1][3] == "Opening balance" and rows[1][-1] == "11299.50"
    assert rows[2][1] == "JE00000005" and rows[2][6:] == ["500.00", "0.00", "11799.50"]
    assert rows[-1][3] == "Closing balance" and rows[-1][-1] == "11799.50"
    bad = text_of(client.get("/ledger/gl/1101/statement?from=2026-04-02&to=2026-04-01"))
    assert "The end date is before the start date." in bad
    assert client.get("/ledger/gl/9999/statement").status_code == 404


# ---------------------------------------------------------------- chart of accounts


def test_chart_shows_balances_group_totals_and_flags(client, login, books_with_entries):
    login("auditor")
    page = compact(text_of(client.get("/ledger/")))
    row_1101 = re.search(r"<tr class=\"\">.{0,200}?1101</a>.*?</tr>", page).group(0)
    assert "11,299.50 Dr" in row_1101 and "cash" in row_1101
    row_1100 = re.search(r'<tr class="group">\s?<td><a [^>]*>1100</a>.*?</tr>', page).group(0)
    assert "11,299.50 Dr" in row_1100  # heading total
    row_assets = re.search(r'<tr class="group">\s?<td><a [^>]*>1000</a>.*?</tr>', page).group(0)
    assert "3,700.50 Cr" in row_assets  # 11,299.50 cash − 15,000 bank overdrawn
    row_2101 = re.search(r"<td><a [^>]*>2101</a>.*?</tr>", page).group(0)
    assert "11,299.50 Cr" in row_2101 and "control" in row_2101
    assert "Propose a new account" not in page  # auditors read only


def test_chart_change_requests_go_to_approval(client, login, make_user, books_with_entries):
    login("accountant")
    response = client.post(
        "/ledger/coa/new",
        data={"code": "5291", "name": "Electricity", "type": "expense", "parent": "5000"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(GLAccount).where(GLAccount.code == "5291")) is None
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "ledger.coa"))
    assert req.status == "pending" and req.payload["code"] == "5291"
    index = text_of(client.get("/ledger/"))
    assert "New GL 5291 Electricity" in index and "1 chart change awaiting approval" in index

    # bad input: error next to the field, nothing saved
    bad = client.post("/ledger/coa/new", data={"code": "12", "name": "X", "type": "expense"})
    assert bad.status_code == 422 and "Code must be 3 to 8 digits." in text_of(bad)
    dup = client.post("/ledger/coa/new", data={"code": "1101", "name": "X", "type": "asset"})
    assert dup.status_code == 422 and "GL code 1101 already exists." in text_of(dup)
    # a GL with postings cannot be deleted, only deactivated
    refused = client.post("/ledger/coa/1101/change", data={"action": "delete"})
    assert refused.status_code == 422 and "has postings" in text_of(refused)
    rename = client.post("/ledger/coa/5999/change", data={"action": "rename", "name": "Sundry expenses"})
    assert rename.status_code == 302
    detail = text_of(client.get("/ledger/coa/5999"))
    assert "Rename GL 5999 Miscellaneous expenses → Sundry expenses" in detail
    assert db.session.scalar(select(func.count()).select_from(ApprovalRequest)) == 2

    switch_user(client, make_user("manager", username="mgr").username)
    pending = db.session.scalars(select(ApprovalRequest).order_by(ApprovalRequest.id)).all()
    for r in pending:
        assert client.post(f"/staff/approvals/{r.id}/approve").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(GLAccount).where(GLAccount.code == "5291")).name == "Electricity"
    assert db.session.scalar(select(GLAccount).where(GLAccount.code == "5999")).name == "Sundry expenses"


def switch_user(client, username: str) -> None:
    """Sign the test client out and in as another user (requests share one app context, so one client)."""
    client.post("/auth/logout")
    assert login_as(client, username).status_code == 302


# ---------------------------------------------------------------- journal


def test_journal_filters_and_htmx_partial(client, login, books_with_entries):
    sb = books_with_entries
    login("accountant")
    full = text_of(client.get("/ledger/journal"))
    assert "<html" in full and 'id="results"' in full and "4 entries" in full
    assert 'hx-push-url="true"' in full and "input changed delay:400ms" in full

    def numbers(query: str) -> list[str]:
        response = htmx(client, f"/ledger/journal?{query}")
        body = text_of(response)
        assert "<html" not in body and "HX-Request" in response.headers["Vary"]
        return re.findall(r">(JE\d{8})</a></td>", body)

    assert numbers("") == ["JE00000004", "JE00000003", "JE00000002", "JE00000001"]
    assert numbers("kind=withdrawal") == ["JE00000003"]
    assert numbers(f"account_no={sb.account_no.lower()}") == ["JE00000003", "JE00000002", "JE00000001"]
    assert numbers("gl=5202") == ["JE00000004"]
    assert numbers("gl=1100") == ["JE00000003", "JE00000002", "JE00000001"]  # heading: accounts under it
    assert numbers("min=2,500&max=10000") == ["JE00000002", "JE00000001"]
    assert numbers("q=rent") == ["JE00000004"]
    assert numbers("q=JE00000002") == ["JE00000002"]
    assert numbers("from=2026-04-02") == []
    bad = text_of(htmx(client, "/ledger/journal?min=12.345&gl=9999"))
    assert "at most two decimal places" in bad and "No GL account 9999." in bad


def test_journal_csv_uses_the_same_filters(client, login, books_with_entries):
    login("auditor")
    rows = csv_rows(client.get("/ledger/journal.csv?kind=journal"))
    assert rows[0][:7] == ["entry_no", "business_date", "value_date", "kind", "narration", "reference", "amount"]
    assert rows[1:] == [
        [
            "JE00000004",
            "2026-04-01",
            "2026-04-01",
            "journal",
            "Rent for April paid by cheque",
            "",
            "15000.00",
            "",
            "",
            "",
            "",
        ]
    ]
    everything = csv_rows(client.get("/ledger/journal.csv"))
    assert [r[6] for r in everything[1:]] == ["15000.00", "1200.50", "2500.00", "10000.00"]


def test_journal_csv_neutralises_formula_text(client, login, books):
    ledger.post([Line.dr("5203", 100), Line.cr("1201", 100)], kind="journal", narration="=HYPERLINK(1)")
    uow.commit()
    login("accountant")
    rows = csv_rows(client.get("/ledger/journal.csv"))
    assert rows[1][4] == "'=HYPERLINK(1)"


def test_entry_detail_shows_lines_people_and_totals(client, login, make_user, books):
    maker, checker = make_user("accountant", username="anita"), make_user("manager", username="mohan")
    entry = ledger.post(
        [Line.dr("5203", 75_000, "Ledger books"), Line.cr(coa.BANK_DCCB, 75_000)],
        kind="journal",
        narration="Stationery",
        options=ledger.PostOptions(
            posted_by_id=maker.id,
            approved_by_id=checker.id,
        ),
    )
    uow.commit()
    login("auditor")
    page = compact(text_of(client.get(f"/ledger/journal/{entry.number}")))
    assert "Printing and stationery" in page and "Ledger books" in page and "Balance with District" in page
    assert ">anita<" in page and ">mohan<" in page
    assert page.count("750.00") >= 4  # the two lines and both totals
    assert "Request reversal" not in page  # auditors cannot ask for reversals
    assert client.get(f"/ledger/journal/{entry.id}").headers["Location"].endswith(f"/ledger/journal/{entry.number}")
    assert client.get("/ledger/journal/JE00009999").status_code == 404


def test_reversal_request_through_the_entry_page(client, login, make_user, books_with_entries):
    sb = books_with_entries
    login("accountant")
    before = sb.balance_paise
    entry_page = text_of(client.get("/ledger/journal/JE00000003"))
    assert "Request reversal" in entry_page

    empty = client.post("/ledger/journal/JE00000003/reverse", data={"reason": "  "})
    assert empty.status_code == 422 and "This field is required." in text_of(empty)
    assert db.session.scalar(select(func.count()).select_from(ApprovalRequest)) == 0

    response = client.post("/ledger/journal/JE00000003/reverse", data={"reason": "Keyed twice"})
    assert response.status_code == 302
    page = text_of(client.get("/ledger/journal/JE00000003"))
    assert "A reversal is awaiting approval" in page and "Keyed twice" in page
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "ledger.reversal"))
    assert req.status == "pending" and entry_count() == 4

    switch_user(client, make_user("manager", username="mgr").username)
    approved = client.post(f"/staff/approvals/{req.id}/approve", headers={"HX-Request": "true"})
    assert approved.status_code == 200 and "JE00000005" in approved.headers["HX-Trigger"]
    db.session.expire_all()
    assert entry_count() == 5 and db.session.get(type(sb), sb.id).balance_paise == before + 120_050
    page = compact(text_of(client.get("/ledger/journal/JE00000003")))
    assert "Reversed by" in page and "JE00000005" in page and "Request reversal" not in page
    reversal = compact(text_of(client.get("/ledger/journal/JE00000005")))
    assert "Reverses" in reversal and "JE00000003" in reversal and ">mgr<" in reversal
    journal = text_of(htmx(client, "/ledger/journal"))
    assert "Reversed by" in journal


def test_second_reversal_request_is_refused(client, login, books_with_entries):
    login("accountant")
    assert client.post("/ledger/journal/JE00000002/reverse", data={"reason": "Wrong"}).status_code == 302
    again = client.post("/ledger/journal/JE00000002/reverse", data={"reason": "Again"})
    assert again.status_code == 422 and "already awaiting approval" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(ApprovalRequest)) == 1


# ---------------------------------------------------------------- manual journal voucher


VOUCHER = {
    "narration": "Printing bill for April",
    "gl": ["5203", coa.BANK_DCCB],
    "debit": ["1,500.00", ""],
    "credit": ["", "1500"],
    "note": ["Pass books", ""],
    "op": "submit",
}


def test_voucher_page_lists_only_manual_accounts(client, login, books):
    login("accountant")
    page = text_of(client.get("/ledger/voucher"))
    assert 'value="5203"' in page and 'value="1101"' in page
    assert 'value="2101"' not in page and 'value="1210"' not in page and 'value="1000"' not in page
    assert "<script" not in page.split("</head>")[1] and " onclick=" not in page and "hx-on" not in page


def test_voucher_preview_and_line_editing(client, login, books):
    login("accountant")
    preview = client.post(
        "/ledger/voucher/preview",
        data={"gl": ["5203", "1201"], "debit": ["1,000", ""], "credit": ["", "900.50"]},
        headers={"HX-Request": "true"},
    )
    body = compact(text_of(preview))
    assert "<html" not in body
    assert 'id="voucher-debit">1,000.00<' in body and 'id="voucher-credit">900.50<' in body
    assert "Difference ₹99.50 (debits higher)" in body
    balanced = text_of(
        client.post(
            "/ledger/voucher/preview",
            data={"debit": ["10", ""], "credit": ["", "10.00"]},
            headers={"HX-Request": "true"},
        )
    )
    assert "Balanced" in balanced
    bad = text_of(client.post("/ledger/voucher/preview", data={"debit": ["1.234"]}, headers={"HX-Request": "true"}))
    assert "Line 1:" in bad and "at most two decimal places" in bad

    added = text_of(
        client.post(
            "/ledger/voucher/lines?op=add",
            data={"gl": ["5203", ""], "debit": ["7", ""]},
            headers={"HX-Request": "true"},
        )
    )
    assert "<html" not in added and added.count('name="gl"') == 3 and 'value="7"' in added
    removed = text_of(
        client.post(
            "/ledger/voucher/lines?op=remove&i=0",
            data={"gl": ["5203", "1201", "1101"], "debit": ["7", "", ""]},
            headers={"HX-Request": "true"},
        )
    )
    assert removed.count('name="gl"') == 2 and 'value="7"' not in removed
    # without JavaScript the same buttons post the whole form
    nojs = text_of(client.post("/ledger/voucher", data={"narration": "x", "gl": ["", ""], "op": "add"}))
    assert nojs.count('name="gl"') == 3 and "<html" in nojs


def test_unbalanced_voucher_is_refused_and_nothing_saved(client, login, books):
    login("accountant")
    response = client.post("/ledger/voucher", data=dict(VOUCHER, credit=["", "1499.99"]))
    assert response.status_code == 422
    assert "differ by ₹0.01" in text_of(response)
    missing = client.post("/ledger/voucher", data=dict(VOUCHER, narration="", gl=["", coa.BANK_DCCB]))
    page = text_of(missing)
    assert missing.status_code == 422 and "A narration is required." in page and "Choose a GL account." in page
    both = client.post("/ledger/voucher", data=dict(VOUCHER, credit=["5", "1500"]))
    assert both.status_code == 422 and "Enter either a debit or a credit." in text_of(both)
    control = client.post("/ledger/voucher", data=dict(VOUCHER, gl=["5203", coa.SB_DEPOSITS]))
    assert control.status_code == 422 and "cannot be used in a manual voucher" in text_of(control)
    assert db.session.scalar(select(func.count()).select_from(ApprovalRequest)) == 0


def test_refused_voucher_rechecks_its_fields_live_as_they_are_fixed(client, login, books):
    login("accountant")
    refused = client.post("/ledger/voucher", data=dict(VOUCHER, narration="", gl=["", coa.BANK_DCCB]))
    page = compact(text_of(refused))
    assert refused.status_code == 422 and 'name="checked" value="1"' in page
    assert '<span id="line-errors-0" data-error-slot><small class="error">Choose a GL account.</small></span>' in page
    assert '<span id="narration-errors" data-error-slot><small class="error">A narration is required.' in page
    hx = {"HX-Request": "true"}
    # the GL of line 1 is chosen: its slot comes back empty (out of band), the narration's still holds its message
    fixed_gl = compact(
        text_of(client.post("/ledger/voucher/preview", data=dict(VOUCHER, narration="", checked="1"), headers=hx))
    )
    assert '<span id="line-errors-0" data-error-slot hx-swap-oob="true"></span>' in fixed_gl
    assert 'id="narration-errors" data-error-slot hx-swap-oob="true"><small class="error">A narration is required.' in (
        fixed_gl
    )
    everything = compact(text_of(client.post("/ledger/voucher/preview", data=dict(VOUCHER, checked="1"), headers=hx)))
    assert (
        'class="error"' not in everything
        and '<div id="voucher-errors" data-error-slot hx-swap-oob="true"></div>' in (everything)
    )
    # before any refused submit the preview only totals: no out-of-band slots, no checks of untouched fields
    first = text_of(client.post("/ledger/voucher/preview", data=dict(VOUCHER, narration=""), headers=hx))
    assert "hx-swap-oob" not in first and "A narration is required." not in first
    # adding a row keeps the re-check going
    added = text_of(
        client.post("/ledger/voucher/lines?op=add", data=dict(VOUCHER, gl=["", coa.BANK_DCCB], checked="1"), headers=hx)
    )
    assert added.count('name="gl"') == 3 and "Choose a GL account." in added


def test_voucher_end_to_end_maker_then_checker(client, login, make_user, books):
    login("accountant", username="anita")
    response = client.post("/ledger/voucher", data=VOUCHER, follow_redirects=True)
    assert response.status_code == 200
    assert "Journal voucher for ₹1,500.00 sent for approval (request #1)" in text_of(response)
    assert entry_count() == 0 and ledger.gl_balance("5203") == 0
    mine = text_of(client.get("/staff/approvals?tab=mine"))
    assert "Journal voucher ₹1,500.00: Printing bill for April" in mine and "Withdraw" in mine

    switch_user(client, make_user("manager", username="mohan").username)
    queue = text_of(client.get("/staff/approvals"))
    assert "Printing and stationery" in queue and "Approve" in queue and "anita" in queue
    approved = client.post("/staff/approvals/1/approve", headers={"HX-Request": "true"})
    assert approved.status_code == 200
    assert "<html" not in text_of(approved) and "Approved" in text_of(approved)
    assert "posted JE00000001" in approved.headers["HX-Trigger"]

    entry = db.session.scalar(select(JournalEntry))
    assert entry.kind == "journal" and entry.total_paise == 150_000
    assert entry.posted_by.username == "anita" and entry.approved_by.username == "mohan"
    assert ledger.gl_balance("5203") == 150_000 and ledger.gl_balance(coa.BANK_DCCB) == -150_000
    tb = compact(text_of(client.get("/ledger/trial-balance")))
    assert 'id="tb-debit">1,500.00<' in tb and "Balanced" in tb
    line_notes = [ln.narration for ln in entry.lines]
    assert line_notes == ["Pass books", None]


# ---------------------------------------------------------------- the same reads on PostgreSQL


@pytest.mark.postgres
def test_report_queries_on_postgresql(pg_books):
    from app.services.ledger import reports

    sb = new_account("savings", opening_paise=1_000_000)
    ledger.post([Line.dr(coa.VAULT_CASH, 250_000), Line.cr(sb, 250_000)], kind="deposit", narration="50% cash_deposit")
    ledger.post([Line.dr(sb, 120_050), Line.cr(coa.VAULT_CASH, 120_050)], kind="withdrawal", narration="Withdrawal")
    uow.commit()

    f, errors = reports.parse_journal_filter({"q": "50%", "account_no": sb.account_no, "min": "1,000", "gl": "1100"})
    assert errors == {}
    assert [e.number for e in reports.search_journal(f).items] == ["JE00000002"]
    f, _ = reports.parse_journal_filter({"q": "cash_"})  # LIKE wildcards are matched literally
    assert [e.number for e in reports.all_journal(f)] == ["JE00000002"]

    gl = reports.gl_by_code(coa.VAULT_CASH)
    st = reports.gl_statement(gl, DAY1, DAY1, page=2, per_page=2)
    assert st.brought_forward_net_debit == 1_250_000 and [s.balance_paise for s in st.lines] == [1_129_950]
    summary = reports.day_summary(DAY1)
    assert (summary.entries, summary.total_debit, summary.cash.receipts, summary.cash.payments) == (
        3,
        1_370_050,
        1_250_000,
        120_050,
    )
    tb = reports.trial_balance(DAY1)
    assert tb.balanced and tb.total_debit == 1_129_950
    tree = {row.gl.code: row for row in reports.chart_tree(DAY1)}
    assert tree["1000"].net_debit == 1_129_950 and tree["2000"].net_debit == -1_129_950


# ---------------------------------------------------------------- value date (back-dating permission)


def test_voucher_back_value_date_needs_the_permission(client, login, make_user, books):
    login("accountant", username="anita")
    page = text_of(client.get("/ledger/voucher"))
    assert 'name="value_date"' in page and "needs the back-dating permission" in page
    refused = client.post("/ledger/voucher", data=dict(VOUCHER, value_date="2026-03-30"))
    assert refused.status_code == 422
    assert "Only users with the back-dating permission may use a value date before the business date" in text_of(
        refused
    )
    future = client.post("/ledger/voucher", data=dict(VOUCHER, value_date="2026-04-05"))
    assert future.status_code == 422 and "cannot be after the business date" in text_of(future)
    garbage = client.post("/ledger/voucher", data=dict(VOUCHER, value_date="30/03/2026"))
    assert garbage.status_code == 422 and "Enter the value date as a date" in text_of(garbage)
    assert db.session.scalar(select(func.count()).select_from(ApprovalRequest)) == 0
    # The business date itself is allowed without the permission.
    same = client.post("/ledger/voucher", data=dict(VOUCHER, value_date="2026-04-01"))
    assert same.status_code == 302

    switch_user(client, make_user("manager", username="mohan").username)
    ok = client.post("/ledger/voucher", data=dict(VOUCHER, value_date="2026-03-30"))
    assert ok.status_code == 302
    req = db.session.scalars(select(ApprovalRequest).order_by(ApprovalRequest.id.desc())).first()
    assert req.payload["value_date"] == "2026-03-30"
    switch_user(client, make_user("admin", username="adi").username)
    assert client.post(f"/staff/approvals/{req.id}/approve").status_code == 302
    entry = db.session.scalar(select(JournalEntry))
    assert entry.value_date == date(2026, 3, 30) and entry.business_date == DAY1


# ---------------------------------------------------------------- chart of accounts CSV


def test_chart_of_accounts_csv(client, login, books_with_entries):
    login("auditor")
    assert 'href="/ledger/coa.csv?date=2026-04-01"' in text_of(client.get("/ledger/"))
    response = client.get("/ledger/coa.csv?date=2026-04-01")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(text_of(response))))
    assert rows[0] == ["code", "name", "type", "normal_side", "control", "active", "balance"]
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code[coa.VAULT_CASH] == [
        coa.VAULT_CASH,
        "Cash in hand (vault)",
        "asset",
        "debit",
        "no",
        "yes",
        "11299.50",
    ]
    assert by_code[coa.SB_DEPOSITS][3:] == ["credit", "yes", "yes", "11299.50"]
    assert by_code[coa.BANK_DCCB][-1] == "-15000.00"  # credit balance on a debit-side account
    assert by_code["1000"][-1] == "-3700.50"  # heading total: 11,299.50 − 15,000
    assert len(rows) - 1 == db.session.scalar(select(func.count()).select_from(GLAccount))
    assert client.get("/ledger/coa.csv?date=nope").status_code == 422


def test_chart_of_accounts_csv_needs_the_chart_permission(client, login, books):
    login("cashier")
    assert client.get("/ledger/coa.csv").status_code == 403


# ---------------------------------------------------------------- retry of unsafe requests on 40001/40P01


class _Orig(Exception):
    sqlstate = "40001"


def test_a_serialization_failure_reruns_the_whole_view(client, login, books, monkeypatch):
    from sqlalchemy.exc import OperationalError

    login("accountant")
    real_commit = db.session.commit
    attempts = []

    def flaky_commit():
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("COMMIT", {}, _Orig("could not serialize access"))
        return real_commit()

    monkeypatch.setattr(db.session, "commit", flaky_commit)
    response = client.post("/ledger/voucher", data=VOUCHER)
    monkeypatch.undo()
    assert response.status_code == 302
    assert len(attempts) >= 2
    reqs = db.session.scalars(select(ApprovalRequest)).all()
    assert len(reqs) == 1 and reqs[0].kind == "ledger.voucher"


def test_a_persistent_serialization_failure_gives_up_after_a_few_attempts(app, client, login, books, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.web import VIEW_ATTEMPTS

    login("accountant")
    attempts = []

    def always_fails():
        attempts.append(1)
        raise OperationalError("COMMIT", {}, _Orig("could not serialize access"))

    monkeypatch.setattr(uow, "commit", always_fails)
    with pytest.raises(OperationalError):
        client.post("/ledger/voucher", data=VOUCHER)
    monkeypatch.undo()
    assert len(attempts) == VIEW_ATTEMPTS
    assert db.session.scalar(select(func.count()).select_from(ApprovalRequest)) == 0


def test_idempotent_api_routes_are_not_wrapped_twice(app):
    idempotent = [e for e, v in app.view_functions.items() if getattr(v, "_idempotent", False)]
    assert idempotent  # e.g. api.transfer_create
    for endpoint in idempotent:
        assert not getattr(app.view_functions[endpoint], "_retrying", False), endpoint
    assert getattr(app.view_functions["ledger.voucher"], "_retrying", False)
