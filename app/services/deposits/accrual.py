"""Posting a month-end interest accrual for one deposit kind (FD and RD share it)."""

from __future__ import annotations

from datetime import date

from app.services import ledger
from app.services.common import audit
from app.services.ledger import Line


def post_accrual(kind: str, gls: tuple[str, str], total: int, count: int, month_end: date, on: date) -> None:
    """Dr interest expense / Cr interest payable for ``count`` deposits, value-dated the month end.

    ``gls`` is (expense GL, payable GL); ``kind`` is "fd" or "rd" (narration and audit action).
    Posted on ``on`` (the business date) after the month end, the entry is back-valued to it.
    """
    if total:
        expense, payable = gls
        ledger.post(
            [Line.dr(expense, total), Line.cr(payable, total)],
            kind="interest",
            narration=f"{kind.upper()} interest accrued to {month_end:%d-%m-%Y} ({count} deposits)",
            options=ledger.PostOptions(channel="system", value_date=min(month_end, on), allow_backdate=month_end < on),
        )
    audit.record(f"{kind}.accrued", "deposits", month_end.isoformat(), after={"total_paise": total, "deposits": count})
