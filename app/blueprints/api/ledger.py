"""API: ledger reports and the journal (DESIGN.md §9).

``GET /v1/reports/trial-balance``, ``GET /v1/reports/daily``, ``GET /v1/journal`` and
``GET /v1/journal/{entry_no}``. The same reads as the staff screens
(``app.services.ledger_reports``); money as two-decimal strings, dates ISO, bad input a 422
problem with field errors.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify, request

from app.blueprints.api import bp
from app.blueprints.api.auth import api_permission
from app.blueprints.api.openapi import api_doc, array, boolean, integer, money, obj, schema, string
from app.blueprints.api.openapi import date as date_schema
from app.errors import problem
from app.models.ledger import JournalEntry
from app.money import to_json
from app.services.ledger import reports

MAX_PER_PAGE = 200

TRIAL_BALANCE = schema(
    "TrialBalance",
    obj(
        date=date_schema("As of the end of this business date"),
        rows=array(
            obj(
                code=string(),
                name=string(),
                type=string(enum=["asset", "liability", "equity", "income", "expense"]),
                debit=money(),
                credit=money(),
                required=["code", "name", "debit", "credit"],
            )
        ),
        total_debit=money(),
        total_credit=money(),
        balanced=boolean("Whether total debit equals total credit"),
        difference=money("Total debit minus total credit (0.00 when the books agree)"),
        required=["date", "rows", "total_debit", "total_credit"],
    ),
)
DAILY = schema(
    "DailyReport",
    obj(
        date=date_schema(),
        entries=integer("Journal entries posted on the date"),
        total_debit=money(),
        total_credit=money(),
        cash_opening=money("Sum of the cash GL accounts at the start of the day"),
        cash_receipts=money("Net cash received, summed over entries"),
        cash_payments=money("Net cash paid out, summed over entries"),
        cash_closing=money("Opening plus receipts minus payments"),
        required=["date", "entries", "total_debit", "total_credit", "cash_opening", "cash_closing"],
    ),
)
JOURNAL_LINE = schema(
    "JournalLine",
    obj(
        gl_code=string(),
        gl_name=string(),
        account_no=string("Member account (sub-ledger), or null", nullable=True),
        debit=money(),
        credit=money(),
        narration=string(nullable=True),
        required=["gl_code", "gl_name", "debit", "credit"],
    ),
)
_ENTRY_FIELDS: dict[str, Any] = {
    "entry_no": string(example="JE00000012"),
    "business_date": date_schema(),
    "value_date": date_schema(),
    "posted_at": string(format="date-time"),
    "kind": string(),
    "narration": string(),
    "reference": string(nullable=True),
    "channel": string(),
    "amount": money("Sum of the debits (= sum of the credits)"),
    "posted_by": string(nullable=True),
    "approved_by": string(nullable=True),
    "reverses": string("Entry number this entry reverses", nullable=True),
    "reversed_by": string("Entry number that reversed this one", nullable=True),
}
JOURNAL_ENTRY = schema(
    "JournalEntry", obj(**_ENTRY_FIELDS, required=["entry_no", "business_date", "kind", "narration", "amount"])
)
JOURNAL_ENTRY_DETAIL = schema(
    "JournalEntryDetail",
    obj(
        **_ENTRY_FIELDS,
        lines=array(JOURNAL_LINE),
        required=["entry_no", "business_date", "kind", "narration", "amount", "lines"],
    ),
)
JOURNAL_PAGE = schema(
    "JournalPage",
    obj(
        items=array(JOURNAL_ENTRY),
        page=integer(),
        per_page=integer(),
        total=integer(),
        pages=integer(),
        required=["items", "page", "per_page", "total", "pages"],
    ),
)
DATE_QUERY = {"date": date_schema("Business date (default: the open business date)")}


def _invalid(errors: dict[str, list[str]]) -> Response:
    detail = " ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    return problem(422, "Invalid input", detail, type_="validation-error", errors=errors)


def _date_arg() -> date | Response:
    raw = request.args.get("date")
    if raw is not None and not raw.strip():
        detail = "date: give a date as YYYY-MM-DD, or leave the parameter out for the open business date."
        return problem(400, "Malformed request", detail, type_="malformed-request")
    errors: dict[str, list[str]] = {}
    on = reports.parse_date(raw, "date", errors)
    if errors:
        return _invalid(errors)
    return on or reports.default_date()


def _positive_int(name: str, default: int, errors: dict[str, list[str]], maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" up to {maximum}" if maximum else ""
        errors.setdefault(name, []).append(f"{raw!r} is not a whole number from 1{limit}.")
    return value


def _entry_json(entry: JournalEntry, reversed_by: JournalEntry | None) -> dict[str, Any]:
    return {
        "entry_no": entry.number,
        "business_date": entry.business_date.isoformat(),
        "value_date": entry.value_date.isoformat(),
        "posted_at": entry.posted_at.isoformat(),
        "kind": entry.kind,
        "narration": entry.narration,
        "reference": entry.reference,
        "channel": entry.channel,
        "amount": to_json(entry.total_paise),
        "posted_by": entry.posted_by.username if entry.posted_by else None,
        "approved_by": entry.approved_by.username if entry.approved_by else None,
        "reverses": f"JE{entry.reverses_id:08d}" if entry.reverses_id else None,
        "reversed_by": reversed_by.number if reversed_by else None,
    }


@bp.get("/v1/reports/trial-balance")
@api_doc(
    "Trial balance as of a date",
    tags=["reports"],
    description="Every GL account with a non-zero balance, in the debit or the credit column.",
    query=DATE_QUERY,
    responses={200: ("The trial balance", TRIAL_BALANCE)},
)
@api_permission("reports.view")
def trial_balance() -> Response:
    """Trial balance rows and totals as of ``date``."""
    on = _date_arg()
    if isinstance(on, Response):
        return on
    tb = reports.trial_balance(on)
    return jsonify(
        date=on.isoformat(),
        rows=[
            {
                "code": r.gl.code,
                "name": r.gl.name,
                "type": r.gl.type,
                "debit": to_json(r.debit_paise),
                "credit": to_json(r.credit_paise),
            }
            for r in tb.rows
        ],
        total_debit=to_json(tb.total_debit),
        total_credit=to_json(tb.total_credit),
        balanced=tb.balanced,
        difference=to_json(tb.difference),
    )


@bp.get("/v1/reports/daily")
@api_doc(
    "Day book summary for a business date",
    tags=["reports"],
    description="Entry count, debit and credit totals and the cash position (all `is_cash` GL accounts).",
    query=DATE_QUERY,
    responses={200: ("The day's summary", DAILY)},
)
@api_permission("reports.view")
def daily_report() -> Response:
    """Entries, totals and cash opening/receipts/payments/closing of ``date``."""
    on = _date_arg()
    if isinstance(on, Response):
        return on
    s = reports.day_summary(on)
    return jsonify(
        date=on.isoformat(),
        entries=s.entries,
        total_debit=to_json(s.total_debit),
        total_credit=to_json(s.total_credit),
        cash_opening=to_json(s.cash.opening),
        cash_receipts=to_json(s.cash.receipts),
        cash_payments=to_json(s.cash.payments),
        cash_closing=to_json(s.cash.closing),
    )


@bp.get("/v1/journal")
@api_doc(
    "Journal entries, newest first",
    tags=["ledger"],
    query={
        "from": date_schema("First business date"),
        "to": date_schema("Last business date"),
        "kind": string("Entry kind, e.g. deposit, journal, reversal"),
        "account_no": string("Only entries touching this member account"),
        "gl": string("Only entries touching this GL account (or any account under a heading)"),
        "min": money("Smallest entry amount"),
        "max": money("Largest entry amount"),
        "q": string("Text in the narration or reference, or an entry number"),
        "page": integer("Page number, from 1"),
        "per_page": integer(f"Entries per page (default 50, at most {MAX_PER_PAGE})"),
    },
    responses={200: ("One page of entries", JOURNAL_PAGE)},
)
@api_permission("ledger.view")
def journal_list() -> Response:
    """A page of journal entries matching the filters."""
    f, errors = reports.parse_journal_filter(request.args)
    page_no = _positive_int("page", 1, errors)
    per_page = _positive_int("per_page", 50, errors, MAX_PER_PAGE)
    if errors:
        return _invalid(errors)
    page = reports.search_journal(f, page_no, per_page)
    reversed_by = reports.reversals_of(e.id for e in page.items)
    return jsonify(
        items=[_entry_json(e, reversed_by.get(e.id)) for e in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
    )


@bp.get("/v1/journal/<entry_no>")
@api_doc(
    "One journal entry with its lines",
    tags=["ledger"],
    responses={
        200: ("The entry", JOURNAL_ENTRY_DETAIL),
        404: ("No such entry", {"$ref": "#/components/schemas/Problem"}),
    },
)
@api_permission("ledger.view")
def journal_entry(entry_no: str) -> Response:
    """The entry numbered ``entry_no`` (e.g. ``JE00000012``) with every line."""
    detail = reports.entry_detail(entry_no)
    if detail is None:
        return problem(404, "Not found", f"No journal entry {entry_no}.", type_="not-found")
    body = _entry_json(detail.entry, detail.reversed_by)
    body["lines"] = [
        {
            "gl_code": ln.gl_account.code,
            "gl_name": ln.gl_account.name,
            "account_no": ln.account.account_no if ln.account else None,
            "debit": to_json(ln.debit_paise),
            "credit": to_json(ln.credit_paise),
            "narration": ln.narration,
        }
        for ln in detail.lines
    ]
    return jsonify(body)
