"""Staff screen: payments reconciliation — the Indian day's gateway figures against the clearing GLs.

``GET /staff/payments-reconciliation?date=YYYY-MM-DD`` shows ``payments.reconcile.daily`` for
that IST day (default: the business date): collected, refunded, paid out, the Razorpay clearing
and payouts-in-transit GL balances, the open payouts, and each difference with its likely
cause; ``&format=csv`` downloads the same figures. "Run reconciliation now" posts to
``/staff/payments-reconciliation/run``: one ``reconcile.run()`` pass (stuck orders and payouts
settled from the gateway's answer), one commit, then the result panel (HTMX, with a toast) or
a redirect back to the screen (no JavaScript).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from flask import Response, flash, redirect, request, url_for

from app.blueprints.staff import bp
from app.extensions import db
from app.models.base import utcnow
from app.money import from_paise
from app.permissions import permission_required
from app.services import ledger, payments
from app.services.common import DomainError, uow
from app.web import is_htmx, render, toast

DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y")
PAGE, PANEL = "staff/payments/reconciliation.html", "staff/payments/_recon.html"


def parse_day(raw: str | None) -> tuple[date | None, str | None]:
    """The IST calendar day asked for (the business date when blank), or an error for the form."""
    text = (raw or "").strip()
    if not text:
        return ledger.business_date_or_today(), None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date(), None
        except ValueError:
            continue
    return None, f"Day: {text[:20]!r} is not a date; give one such as 2026-04-01 (the Indian calendar day)."


def _context(day: date | None, **extra: Any) -> dict[str, Any]:
    return {"day": day, "report": payments.reconcile.daily(day) if day else None, "result": None, "error": None,
            **extra}  # fmt: skip


@bp.get("/staff/payments-reconciliation", endpoint="payments_reconciliation")
@permission_required("payments.view")
def payments_reconciliation() -> Response:
    day, error = parse_day(request.args.get("date"))
    if error:
        return render(PAGE, PANEL, status=422, day=None, report=None, result=None, error=error,
                      raw=request.args.get("date", "")[:20])  # fmt: skip
    if request.args.get("format") == "csv":
        return _csv(payments.reconcile.daily(day))
    return render(PAGE, PANEL, **_context(day))


def _csv_cell(value: Any) -> Any:
    # Text a spreadsheet would run as a formula is quoted (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(report: Any) -> Response:
    """The day's figures, one per line (amounts in rupees, two decimals), then each difference."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["day_ist", "figure", "amount_inr", "note"])
    day = report.on.isoformat()
    for label, paise, note in figures(report):
        writer.writerow([day, label, from_paise(paise), note])
    for diff in report.differences:
        writer.writerow([day, f"difference: {diff.title}", from_paise(diff.amount_paise), _csv_cell(diff.explanation)])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="payments-reconciliation-{day}.csv"'
    return response


def figures(report: Any) -> list[tuple[str, int, str]]:
    """(label, paise, what it is) for the screen's tiles and the CSV."""
    return [
        ("Collected", report.collected_paise, "online payments credited on the day"),
        ("Refunded", report.refunded_paise, "refunds reversed on the day"),
        ("Paid out", report.paid_out_paise, "payouts the gateway processed on the day"),
        ("Razorpay clearing GL", report.clearing_paise, "balance now"),
        ("Payouts in transit GL", report.in_transit_paise, "balance now"),
        ("Open payouts", report.open_payouts_paise, "queued or processing, debited, now"),
        ("RazorpayX balance GL", report.razorpayx_paise, "balance now: funded by voucher, drawn by processed payouts"),
    ]


@bp.app_context_processor
def _recon_globals() -> dict[str, Any]:
    return {"recon_figures": figures}


def _message(result: Any) -> tuple[str, str]:
    text = (
        f"Reconciliation run: orders checked {result.orders_checked}, credited {result.orders_credited}; "
        f"payouts sent {result.payouts_sent}, settled {result.payouts_settled}."
    )
    if result.errors:
        return f"{text} {len(result.errors)} could not be checked.", "warning"
    return text, "success"


def run_now(partial: str = PANEL) -> Response:
    """One reconciliation pass and one commit; the result panel (HTMX) or a redirect to the screen."""
    day, error = parse_day(request.form.get("date"))
    if error:
        if is_htmx():
            return toast(render(PAGE, PANEL, status=422, day=None, report=None, result=None, error=error), error,
                         "error")  # fmt: skip
        flash(error, "error")
        return redirect(url_for("staff.payments_reconciliation"))
    try:
        result = payments.reconcile.run()
    except DomainError as exc:
        db.session.rollback()
        if is_htmx():
            return toast(render(PAGE, partial, status=exc.status, **_context(day, error=exc.message)), exc.message,
                         "error")  # fmt: skip
        flash(exc.message, "error")
        return redirect(url_for("staff.payments_reconciliation", date=day.isoformat()))
    uow.commit()
    message, level = _message(result)
    if not is_htmx():
        flash(message, level)
        for line in result.errors:
            flash(line, "error")
        return redirect(url_for("staff.payments_reconciliation", date=day.isoformat()))
    return toast(render(PAGE, partial, **_context(day, result=result, ran_at=utcnow())), message, level)


@bp.post("/staff/payments-reconciliation/run", endpoint="payments_reconciliation_run")
@permission_required("payments.resolve")
def payments_reconciliation_run() -> Response:
    return run_now()
