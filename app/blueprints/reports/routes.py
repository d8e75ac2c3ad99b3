"""Report screens: each statement as a page (or HTMX partial), a print view, a PDF and a CSV.

Views parse the query string, call one ``app.services.reports`` function and render; a bad
date or period is shown as a clear error (422) and nothing else is computed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from app import navigation
from app.blueprints.printing import printed
from app.blueprints.reports import bp
from app.blueprints.reports.forms import YearEndInput, default_year_end, read_date, read_period
from app.extensions import db
from app.money import from_paise
from app.navigation import NavItem
from app.permissions import has_permission, permission_required
from app.services import reports
from app.services.common import DomainError, uow
from app.web import render, toast

navigation.add(NavItem("Reports", "reports.index", "reports.view"), before="loans.index")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> Response:
    """A ``text/csv`` download (amounts as plain two-decimal numbers)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _amt(paise: int | None) -> Any:
    return "" if paise is None else from_paise(int(paise))


def _statement(
    *,
    template: str,
    partial: str,
    title: str,
    build: Callable[[], Any],
    fmt: str,
    filename: str,
    csv_rows: Callable[[Any], tuple[list[str], Iterable[Iterable[Any]]]],
    **context: Any,
) -> Response:
    """One statement in the format asked for: page/partial, print (``?print=1``), ``pdf`` or ``csv``."""
    try:
        report = build()
        error = None
    except DomainError as exc:
        report, error = None, exc
    if fmt in ("csv", "pdf") and error is not None:
        return Response(error.message, status=422, mimetype="text/plain")
    if fmt == "csv":
        header, rows = csv_rows(report)
        return csv_response(f"{filename}.csv", header, rows)
    if fmt == "pdf" or request.args.get("print"):
        return printed(partial, title, fmt, f"{filename}.pdf", report=report)
    return render(template, partial, status=422 if error else 200, report=report, error=error, title=title, **context)


@bp.get("/")
@permission_required("reports.view")
def index():
    """The list of reports."""
    return render("reports/index.html", on=reports.default_date(), reports_tables=list(reports.TABLES.values()))


# ---------------------------------------------------------------- profit and loss


def _pl_csv(pl: reports.ProfitAndLoss):
    rows: list[list[Any]] = []
    for side, items in (("income", pl.income), ("expense", pl.expense)):
        rows.extend([side, r.code, r.name, _amt(r.amount_paise), _amt(r.previous_paise)] for r in items)
    rows.append(["total", "", "Total income", _amt(pl.total_income), _amt(pl.previous_income)])
    rows.append(["total", "", "Total expenditure", _amt(pl.total_expense), _amt(pl.previous_expense)])
    rows.append(["total", "", "Net profit", _amt(pl.net_profit), _amt(pl.previous_net_profit)])
    return ["side", "code", "name", "amount", "previous_year"], rows


@bp.get("/profit-and-loss.csv", defaults={"fmt": "csv"})
@bp.get("/profit-and-loss.pdf", defaults={"fmt": "pdf"})
@bp.get("/profit-and-loss", defaults={"fmt": "html"})
@permission_required("reports.view")
def profit_and_loss(fmt: str):
    """Income and expenditure for a period, with the same period of last year alongside."""
    args = request.args
    return _statement(
        template="reports/profit_and_loss.html",
        partial="reports/_profit_and_loss.html",
        title="Profit and loss account",
        build=lambda: reports.profit_and_loss(*_period(args)),
        fmt=fmt,
        filename=f"profit-and-loss-{args.get('from', '')}-{args.get('to', '')}".rstrip("-"),
        csv_rows=_pl_csv,
        args=args,
    )


def _period(args) -> tuple:
    period = read_period(args)
    return period.date_from, period.date_to


# ---------------------------------------------------------------- balance sheet


def _bs_csv(bs: reports.BalanceSheet):
    rows: list[list[Any]] = []
    for side, schedules in (("liabilities", bs.equity + bs.liabilities), ("assets", bs.assets)):
        for s in schedules:
            rows.extend([side, s.title, r.code, r.name, _amt(r.amount_paise), _amt(r.previous_paise)] for r in s.rows)
            rows.append([side, s.title, "", f"Total {s.title.lower()}", _amt(s.total), _amt(s.previous_total)])
    rows.append(["total", "", "", "Total capital and liabilities", _amt(bs.total_equity + bs.total_liabilities), ""])
    rows.append(["total", "", "", "Total assets", _amt(bs.total_assets), _amt(bs.previous_total_assets)])
    return ["side", "schedule", "code", "name", "amount", "previous_year"], rows


@bp.get("/balance-sheet.csv", defaults={"fmt": "csv"})
@bp.get("/balance-sheet.pdf", defaults={"fmt": "pdf"})
@bp.get("/balance-sheet", defaults={"fmt": "html"})
@permission_required("reports.view")
def balance_sheet(fmt: str):
    """The balance sheet as of a date in the co-operative format, with schedules."""
    args = request.args
    return _statement(
        template="reports/balance_sheet.html",
        partial="reports/_balance_sheet.html",
        title="Balance sheet",
        build=lambda: reports.balance_sheet(read_date(args)),
        fmt=fmt,
        filename=f"balance-sheet-{args.get('date', '')}".rstrip("-"),
        csv_rows=_bs_csv,
        args=args,
    )


# ---------------------------------------------------------------- receipts and payments


def _rp_csv(rp: reports.ReceiptsPayments):
    rows: list[list[Any]] = [["opening", "", "Opening cash and bank", _amt(rp.opening_paise)]]
    rows.extend(["receipt", r.code, r.name, _amt(r.amount_paise)] for r in rp.receipts)
    rows.extend(["payment", r.code, r.name, _amt(r.amount_paise)] for r in rp.payments)
    rows.append(["closing", "", "Closing cash and bank", _amt(rp.closing_paise)])
    return ["side", "code", "name", "amount"], rows


@bp.get("/receipts-payments.csv", defaults={"fmt": "csv"})
@bp.get("/receipts-payments.pdf", defaults={"fmt": "pdf"})
@bp.get("/receipts-payments", defaults={"fmt": "html"})
@permission_required("reports.view")
def receipts_payments(fmt: str):
    """Cash and bank receipts and payments by head of account for a period."""
    args = request.args
    return _statement(
        template="reports/receipts_payments.html",
        partial="reports/_receipts_payments.html",
        title="Receipts and payments",
        build=lambda: reports.receipts_and_payments(*_period(args)),
        fmt=fmt,
        filename=f"receipts-payments-{args.get('from', '')}-{args.get('to', '')}".rstrip("-"),
        csv_rows=_rp_csv,
        args=args,
    )


# ---------------------------------------------------------------- year-end


def _year_end_page(entry: YearEndInput, *, error: DomainError | None = None, status: int = 200) -> Response:
    return render(
        "reports/year_end.html",
        "reports/_year_end_form.html",
        status=status,
        entry=entry,
        error=error,
        runs=reports.yearend.runs(),
        pending=reports.yearend.pending_requests(),
        can_prepare=has_permission(current_user, "yearend.prepare"),
        cap=reports.yearend.dividend_cap_pct(),
        minimum=reports.yearend.statutory_minimum_pct(),
    )


@bp.get("/year-end")
@permission_required("reports.view")
def year_end():
    """Closed years, the proposal awaiting the committee, and the form to propose a year-end."""
    on = reports.default_date()
    entry = YearEndInput(
        request.args.get("year_end") or default_year_end(on).isoformat(),
        ", ".join(f"{code}:{pct}" for code, pct in reports.yearend.default_funds().items()),
        request.args.get("dividend_rate") or "0",
    )
    return _year_end_page(entry)


@bp.post("/year-end")
@permission_required("yearend.prepare")
def year_end_propose():
    """Check the figures and send the year-end to the committee (maker-checker)."""
    entry = YearEndInput.read(request.form)
    try:
        year_end_on, funds, rate = entry.parsed()
        req = reports.yearend.propose(
            year_end_on, funds=funds, dividend_rate=rate, maker=current_user._get_current_object()
        )
    except DomainError as exc:
        db.session.rollback()
        return _year_end_page(entry, error=exc, status=422)
    uow.commit()
    message = f"Sent for approval: {req.summary}."
    if request.headers.get("HX-Request"):
        return toast(_year_end_page(entry), message)
    flash(message, "success")
    return redirect(url_for("reports.year_end"))


def _dividend_csv(rows):
    header = ["member_no", "name", "share_paise_months", "paid_up", "dividend", "status", "credited_to"]
    return header, (
        [m.member_no, m.name, d.share_paise_months, _amt(d.paid_up_paise), _amt(d.dividend_paise), d.status,
         acc.account_no if acc else ""]
        for d, m, acc in rows
    )  # fmt: skip


@bp.get("/year-end/<fy>/dividends.csv", defaults={"fmt": "csv"})
@bp.get("/year-end/<fy>/dividends", defaults={"fmt": "html"})
@permission_required("reports.view")
def dividend_register(fy: str, fmt: str):
    """The dividend register of a closed year: one row per member."""
    run = reports.yearend.get_run(fy)
    if run is None:
        abort(404)
    rows = reports.yearend.dividend_register(run)
    if fmt == "csv":
        header, body = _dividend_csv(rows)
        return csv_response(f"dividend-register-{fy}.csv", header, body)
    return render("reports/dividends.html", run=run, rows=rows)


@bp.get("/dividends/unclaimed.csv", defaults={"fmt": "csv"})
@bp.get("/dividends/unclaimed", defaults={"fmt": "html"})
@permission_required("reports.view")
def unclaimed_dividends(fmt: str):
    """Dividends held payable because the member had no savings account to credit."""
    rows = reports.yearend.unclaimed_dividends()
    if fmt == "csv":
        return csv_response(
            "unclaimed-dividends.csv",
            ["fy", "member_no", "name", "dividend"],
            ([run.fy, m.member_no, m.name, _amt(d.dividend_paise)] for d, m, run in rows),
        )
    return render("reports/unclaimed.html", rows=rows)


# ---------------------------------------------------------------- tabular reports (deposits, returns, loans)


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "money":
        return from_paise(int(value))
    if kind == "date":
        return value.isoformat()
    return value


@bp.get("/t/<slug>.csv", defaults={"fmt": "csv"})
@bp.get("/t/<slug>", defaults={"fmt": "html"})
@permission_required("reports.view")
def table(slug: str, fmt: str):
    """A tabular report (deposit reports, regulatory returns) as a page, print view or CSV."""
    report = reports.TABLES.get(slug)
    if report is None:
        abort(404)
    try:
        result, error = reports.tables.build(slug, request.args), None
    except DomainError as exc:
        result, error = None, exc
    if fmt == "csv":
        if error is not None:
            return Response(error.message, status=422, mimetype="text/plain")
        rows = [[_cell(r.get(c.key), c.kind) for c in result.columns] for r in result.rows]
        if result.totals:
            rows.append([_cell(result.totals.get(c.key), c.kind) if c.key in result.totals else
                         ("Total" if i == 0 else "") for i, c in enumerate(result.columns)])  # fmt: skip
        return csv_response(f"{slug}.csv", [c.key for c in result.columns], rows)
    if request.args.get("print") and result is not None:
        return printed("reports/_table.html", result.title, "html", f"{slug}.pdf", report=result, spec=report)
    return render(
        "reports/table.html", "reports/_table.html", status=422 if error else 200,
        report=result, error=error, spec=report, args=request.args,
    )  # fmt: skip
