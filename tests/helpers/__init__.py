"""Shared test builders and readers (``from tests.helpers import lines_of``).

Fixtures stay in ``tests/conftest.py``; plain functions that several test modules need live
here, once. ``tests.factories``, ``tests.deposit_helpers`` and ``tests.teller_helpers`` hold
the domain builders and import the readers from here.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import JournalEntry, JournalLine


def lines_of(
    entry: JournalEntry, *, account: Literal["no", "id"] = "no", ordered: bool = True
) -> list[tuple[str, str | int | None, int, int]]:
    """(GL code, account, debit, credit) of each line of ``entry``.

    ``account="no"`` names the sub-ledger account by number (None for a GL-only line),
    ``account="id"`` by its id. ``ordered=True`` keeps posting order; False sorts the tuples
    (for entries whose line order is not part of the rule).
    """
    rows = list(
        db.session.scalars(select(JournalLine).where(JournalLine.entry_id == entry.id).order_by(JournalLine.id))
    )
    if account == "id":
        out = [(ln.gl_account.code, ln.account_id, ln.debit_paise, ln.credit_paise) for ln in rows]
    else:
        out = [
            (ln.gl_account.code, ln.account.account_no if ln.account else None, ln.debit_paise, ln.credit_paise)
            for ln in rows
        ]
    return out if ordered else sorted(out)  # type: ignore[type-var]
