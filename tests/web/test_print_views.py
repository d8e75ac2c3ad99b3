"""Print views and PDFs of the ledger screens (figures from ``books_with_entries``, see test_ledger_screens)."""

from __future__ import annotations

from tests.web.test_ledger_screens import books_with_entries  # noqa: F401 - the fixture


def test_trial_balance_print_view(client, login, books_with_entries):  # noqa: F811
    login("accountant")
    response = client.get("/ledger/trial-balance?date=2026-04-01&print=1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Trial balance as of 01-04-2026</h1>" in page
    assert "26,299.50" in page and "Cash in hand (vault)" in page
    assert "window.print" in page


def test_trial_balance_pdf(client, login, books_with_entries):  # noqa: F811
    login("accountant")
    response = client.get("/ledger/trial-balance.pdf?date=2026-04-01")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_trial_balance_print_and_pdf_need_reports_view(client, login, books_with_entries):  # noqa: F811
    login("cashier")
    assert client.get("/ledger/trial-balance?date=2026-04-01&print=1").status_code == 403
    assert client.get("/ledger/trial-balance.pdf?date=2026-04-01").status_code == 403


def test_day_book_print_view_holds_the_whole_day_and_a_pdf(client, login, books_with_entries, app):  # noqa: F811
    app.config["PAGE_SIZE"] = 2  # the screen pages the day's four entries; the printout holds them all
    login("accountant")
    screen = client.get("/ledger/daybook?date=2026-04-01").get_data(as_text=True)
    assert "JE00000004" not in screen and "/ledger/daybook.pdf?date=2026-04-01" in screen
    response = client.get("/ledger/daybook?date=2026-04-01&print=1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>Day book of 01-04-2026</h1>" in page
    assert "JE00000001" in page and "JE00000004" in page and "Rent for April paid by cheque" in page
    assert "₹11,299.50" in page  # closing cash
    pdf = client.get("/ledger/daybook.pdf?date=2026-04-01")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    client.post("/auth/logout")
    login("cashier")
    assert client.get("/ledger/daybook.pdf?date=2026-04-01").status_code == 403
