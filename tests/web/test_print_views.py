"""Print views and PDFs of the ledger screens (figures from ``books_with_entries``, see test_ledger_screens)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.web.test_ledger_screens import books_with_entries, second_day  # noqa: F401 - the fixtures


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


def test_gl_statement_print_view_holds_the_whole_period_and_a_pdf(client, login, second_day, app):  # noqa: F811
    app.config["PAGE_SIZE"] = 2  # the screen pages the four cash lines; the printout holds them all
    login("accountant")
    screen = client.get("/ledger/gl/1101/statement?from=2026-04-01&to=2026-04-02").get_data(as_text=True)
    assert "/ledger/gl/1101/statement?print=1&amp;from=2026-04-01&amp;to=2026-04-02" in screen
    assert "/ledger/gl/1101/statement.pdf?from=2026-04-01&amp;to=2026-04-02" in screen
    assert "Closing balance (period totals)" not in screen  # page 1 of 2
    response = client.get("/ledger/gl/1101/statement?from=2026-04-01&to=2026-04-02&print=1")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert "<h1>GL statement 1101 Cash in hand (vault), 01-04-2026 to 02-04-2026</h1>" in page
    assert 'id="st-opening">₹0.00<' in page and 'id="st-closing">₹11,799.50 Dr<' in page
    running = re.findall(r'<td class="num">([\d,]+\.\d\d Dr)</td> </tr>', page)
    assert running == ["10,000.00 Dr", "12,500.00 Dr", "11,299.50 Dr", "11,799.50 Dr"]  # every line, unpaged
    assert "Opening balance" in page and "Closing balance (period totals)" in page
    assert "window.print" in page and 'class="pager' not in page
    pdf = client.get("/ledger/gl/1101/statement.pdf?from=2026-04-01&to=2026-04-02")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert 'filename="gl-1101-2026-04-01-2026-04-02.pdf"' in pdf.headers["Content-Disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "11,799.50 Dr" in text and "Closing balance" in text
    assert client.get("/ledger/gl/9999/statement.pdf").status_code == 404


def test_gl_statement_print_and_pdf_need_ledger_view(client, login, books_with_entries):  # noqa: F811
    login("clerk")
    assert client.get("/ledger/gl/1101/statement?from=2026-04-01&to=2026-04-01&print=1").status_code == 403
    assert client.get("/ledger/gl/1101/statement.pdf?from=2026-04-01&to=2026-04-01").status_code == 403


def test_print_buttons_open_the_print_view_and_its_csp_lets_its_own_style_and_print_call_run(
    client,
    login,
    books_with_entries,  # noqa: F811
):
    login("accountant")
    screen = client.get("/ledger/trial-balance?date=2026-04-01").get_data(as_text=True)
    # the Print button opens the HTML print view (not the PDF), the PDF button the PDF
    assert 'href="/ledger/trial-balance?date=2026-04-01&amp;print=1"' in screen
    assert 'href="/ledger/trial-balance.pdf?date=2026-04-01"' in screen
    response = client.get("/ledger/trial-balance?date=2026-04-01&print=1")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    page = response.get_data(as_text=True)
    assert f'<style nonce="{nonce}">' in page and f'<script nonce="{nonce}">window.print' in page
    again = client.get("/ledger/trial-balance?date=2026-04-01&print=1").headers["Content-Security-Policy"]
    assert nonce not in again  # a new nonce each time
    assert "nonce-" not in client.get("/ledger/trial-balance?date=2026-04-01").headers["Content-Security-Policy"]
