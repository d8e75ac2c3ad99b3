"""API: financial statements (DESIGN.md §9).

``GET /v1/reports/profit-and-loss?from=&to=`` and ``GET /v1/reports/balance-sheet?date=``.
The same service functions as the staff report pages (``app.services.reports``); money as
two-decimal strings, a bad date or period a 422 problem with field errors.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from app.blueprints.api import bp
from app.blueprints.api.auth import api_permission
from app.blueprints.api.common import domain_problem
from app.blueprints.api.openapi import api_doc, array, integer, money, obj, ref, schema, string
from app.blueprints.api.openapi import date as date_schema
from app.money import to_json
from app.services import reports
from app.services.common import DomainError

PROBLEM = ref("Problem")
STATEMENT_ROW = schema(
    "StatementRow",
    obj(
        code=string("GL account code (P&L for the year's unappropriated surplus)"),
        name=string(),
        amount=money("On the side the statement shows it; provisions netted against loans are negative"),
        schedule=string("Balance-sheet schedule, e.g. deposits, loans, reserves", nullable=True),
        required=["code", "name", "amount"],
    ),
)
PROFIT_AND_LOSS = schema(
    "ProfitAndLoss",
    obj(
        date_from=date_schema(),
        date_to=date_schema(),
        income=array(STATEMENT_ROW),
        expense=array(STATEMENT_ROW),
        total_income=money(),
        total_expense=money(),
        net_profit=money("Total income less total expense (negative for a loss)"),
        required=["income", "expense", "total_income", "total_expense", "net_profit"],
    ),
)
BALANCE_SHEET = schema(
    "BalanceSheet",
    obj(
        date=date_schema("As of the end of this business date"),
        assets=array(STATEMENT_ROW),
        liabilities=array(STATEMENT_ROW),
        equity=array(STATEMENT_ROW),
        total_assets=money(),
        total_liabilities=money(),
        total_equity=money("Share capital, reserves and the surplus not yet appropriated"),
        required=["assets", "liabilities", "equity", "total_assets", "total_liabilities", "total_equity"],
    ),
)
ERRORS = {422: ("A bad date or period", PROBLEM)}


def _row(r: reports.Row) -> dict[str, Any]:
    return {"code": r.code, "name": r.name, "amount": to_json(r.amount_paise), "schedule": r.schedule}


@bp.get("/v1/reports/profit-and-loss")
@api_doc(
    "Profit and loss for a period",
    tags=["reports"],
    description="Income and expense accounts' movement from `from` to `to` (default: the financial year to date).",
    query={"from": date_schema("First business date"), "to": date_schema("Last business date")},
    responses={200: ("The profit and loss account", PROFIT_AND_LOSS), **ERRORS},
)
@api_permission("reports.view")
def profit_and_loss() -> Response:
    """Income, expense and net profit for the period."""
    try:
        to = reports.parse_date(request.args.get("to"), "to", reports.default_date())
        start = reports.parse_date(
            request.args.get("from"), "from", max(reports.fy_start(to), reports.first_day() or to)
        )
        pl = reports.profit_and_loss(start, to, comparative=False)
    except DomainError as exc:
        return domain_problem(exc)
    return jsonify(
        date_from=pl.date_from.isoformat(),
        date_to=pl.date_to.isoformat(),
        income=[_row(r) for r in pl.income],
        expense=[_row(r) for r in pl.expense],
        total_income=to_json(pl.total_income),
        total_expense=to_json(pl.total_expense),
        net_profit=to_json(pl.net_profit),
    )


@bp.get("/v1/reports/balance-sheet")
@api_doc(
    "Balance sheet as of a date",
    tags=["reports"],
    description="Assets (loans net of provisions), liabilities and equity; assets = liabilities + equity.",
    query={"date": date_schema("Business date (default: the open business date)")},
    responses={200: ("The balance sheet", BALANCE_SHEET), **ERRORS},
)
@api_permission("reports.view")
def balance_sheet() -> Response:
    """Every schedule's rows and the three totals."""
    try:
        on = reports.parse_date(request.args.get("date"), "date", reports.default_date())
        bs = reports.balance_sheet(on, comparative=False)
    except DomainError as exc:
        return domain_problem(exc)
    return jsonify(
        date=on.isoformat(),
        assets=[_row(r) for r in bs.asset_rows],
        liabilities=[_row(r) for r in bs.liability_rows],
        equity=[_row(r) for r in bs.equity_rows],
        total_assets=to_json(bs.total_assets),
        total_liabilities=to_json(bs.total_liabilities),
        total_equity=to_json(bs.total_equity),
    )


LOAN_ROW = schema(
    "LoanOutstandingRow",
    obj(
        loan_no=string(),
        member_no=string(),
        product_code=string(),
        outstanding_principal=money(),
        overdue=money("Unpaid instalments due before the date"),
        dpd=integer("Days past due"),
        asset_class=string(enum=["standard", "sma0", "sma1", "sma2", "substandard", "d1", "d2", "d3", "loss"]),
        provision=money("Provision held against the loan"),
        required=["loan_no", "member_no", "product_code", "outstanding_principal", "overdue", "dpd", "asset_class",
                  "provision"],
    ),
)  # fmt: skip
LOAN_LIST = schema(
    "LoansOutstanding", obj(date=date_schema(), loans=array(LOAN_ROW), total_outstanding=money(), required=["loans"])
)


def _loan_json(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "loan_no": r["loan_no"],
        "member_no": r["member_no"],
        "product_code": r["product_code"],
        "outstanding_principal": to_json(r["outstanding_principal"]),
        "overdue": to_json(r["overdue"]),
        "dpd": r["dpd"],
        "asset_class": r["asset_class"],
        "provision": to_json(r["provision"]),
    }


def _loans(npa_only: bool) -> Response:
    try:
        on = reports.parse_date(request.args.get("date"), "date", reports.default_date())
        rows = reports.loans.outstanding(on, npa_only=npa_only)
    except DomainError as exc:
        return domain_problem(exc)
    return jsonify(
        date=on.isoformat(),
        loans=[_loan_json(r) for r in rows],
        total_outstanding=to_json(sum(r["outstanding_principal"] for r in rows)),
    )


@bp.get("/v1/reports/loans-outstanding")
@api_doc(
    "Loans outstanding as of a date",
    tags=["reports"],
    description="One row per live loan: outstanding principal, overdue, DPD, asset class and provision.",
    query={"date": date_schema("Business date (default: the open business date)")},
    responses={200: ("Every live loan", LOAN_LIST), **ERRORS},
)
@api_permission("reports.view")
def loans_outstanding() -> Response:
    """Every live loan as of ``date``."""
    return _loans(npa_only=False)


@bp.get("/v1/reports/npa")
@api_doc(
    "Non-performing loans as of a date",
    tags=["reports"],
    description="The NPA register: loans classified sub-standard, doubtful or loss, with provisions.",
    query={"date": date_schema("Business date (default: the open business date)")},
    responses={200: ("Every NPA loan", LOAN_LIST), **ERRORS},
)
@api_permission("reports.view")
def npa() -> Response:
    """NPA loans as of ``date``."""
    return _loans(npa_only=True)
