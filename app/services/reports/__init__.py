"""reports: public face — financial statements, deposit reports, returns, the year-end and dashboards.

Nouns: a *statement* (profit and loss for a period, balance sheet as of a date, receipts
and payments) is built from ``ledger.gl_totals`` — the day-end GL snapshot plus later
lines — never from a scan of the whole journal. The *year-end run* closes a financial year
once: net profit appropriated (statutory reserve at least the setting, other funds,
dividend within the cap), income and expense closed to zero, dividends per member.
Invariant: the balance sheet always balances, because the year's unappropriated surplus
sits in equity. Nothing here reads ``request``; callers commit.
"""

from . import (  # noqa: F401
    dashboards,
    loans,
    statements,
    tables,
    yearend,
)
from .statements import (  # noqa: F401
    BalanceSheet,
    ProfitAndLoss,
    ReceiptsPayments,
    Row,
    Schedule,
    balance_sheet,
    check_date,
    check_period,
    default_date,
    first_day,
    fy_end,
    fy_start,
    last_day,
    net_debits,
    net_debits_full_scan,
    parse_date,
    period_net_debits,
    profit_and_loss,
    receipts_and_payments,
)
from .tables import TABLES, Table  # noqa: F401
from .yearend import (  # noqa: F401
    YearEndProposal,
    months_held,
    parse_funds,
    parse_pct,
)
