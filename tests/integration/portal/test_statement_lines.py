"""The PDF statement's single streamed read agrees with the passbook line for line."""

from __future__ import annotations

from datetime import timedelta

from app.services import ledger
from app.services.common import uow
from app.services.deposits import passbook, statements
from app.services.ledger import coa
from tests.conftest import BUSINESS_DATE
from tests.factories import make_member
from tests.integration.portal.helpers import account_of


def test_read_lines_matches_the_passbook(books):
    member = make_member()
    sb = account_of(member, opening_paise=5_000_00)
    for i, paise in enumerate((1_000_00, 250_50, 3_333_33)):
        lines = [ledger.Line.dr(coa.VAULT_CASH, paise), ledger.Line.cr(sb, paise)]
        if i == 1:
            lines = [ledger.Line.dr(sb, paise), ledger.Line.cr(coa.VAULT_CASH, paise)]
        ledger.post(lines, kind="deposit", narration=f"line {i}")
    uow.commit()
    end = BUSINESS_DATE + timedelta(days=1)
    totals, lines = statements.read_lines(sb, BUSINESS_DATE, end)
    book, book_lines = passbook.all_lines(sb, BUSINESS_DATE, end)
    assert [(ln.line_id, ln.debit_paise, ln.credit_paise, ln.balance_paise, ln.narration) for ln in lines] == [
        (ln.line_id, ln.debit_paise, ln.credit_paise, ln.balance_paise, ln.narration) for ln in book_lines
    ]
    assert (totals.opening_paise, totals.closing_paise, totals.debits_paise, totals.credits_paise) == (
        book.opening_paise,
        book.closing_paise,
        book.debits_paise,
        book.credits_paise,
    )
    assert totals.closing_paise == 5_000_00 + 1_000_00 - 250_50 + 3_333_33
