"""General ledger screens: chart of accounts, journal, GL statement, day book, trial balance, vouchers.

Reads come from ``app.services.ledger_reports``; every change (voucher, reversal, chart
change) is a maker-checker request made through ``app.services.ledger_workflows``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for

from app import navigation
from app.auth_loader import current_staff
from app.blueprints import printing
from app.blueprints.ledger import bp
from app.blueprints.ledger.forms import (
    GLChangeForm,
    NewGLForm,
    ReversalForm,
    VoucherDraft,
    blank_voucher,
    check_voucher,
    query_int,
    read_voucher,
)
from app.extensions import db
from app.models.ledger import GLAccount
from app.models.users import StaffUser
from app.money import format_inr, from_paise
from app.navigation import NavItem
from app.permissions import has_permission, permission_required
from app.services.common import DomainError, uow
from app.services.ledger import reports
from app.services.ledger import workflows as wf
from app.web import apply_domain_error, render, select_choices

navigation.add(NavItem("Journal", "ledger.journal", "ledger.view"), before="loans.index")
navigation.add(NavItem("Day book", "ledger.daybook", "reports.view"), before="loans.index")
navigation.add(NavItem("Trial balance", "ledger.trial_balance", "reports.view"), before="loans.index")
navigation.add(NavItem("Journal voucher", "ledger.voucher", "ledger.post_voucher"), before="loans.index")


def _gl_or_404(code: str) -> GLAccount:
    gl = reports.gl_by_code(code)
    if gl is None:
        abort(404)
    return gl


def _csv_cell(value: Any) -> Any:
    # Text that a spreadsheet would run as a formula is quoted (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> Response:
    """A ``text/csv`` download; amounts should be passed as Decimals (plain two-decimal numbers)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_refused(errors: Mapping[str, list[str]]) -> Response:
    text = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    return Response(text, status=422, mimetype="text/plain")


def _amount(paise: int) -> Any:
    return from_paise(int(paise))


def _who(user: StaffUser | None) -> str:
    return user.username if user is not None else ""


def _export_args(args: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in args.items() if k != "page" and v}


# ---------------------------------------------------------------- chart of accounts


@bp.get("/")
@permission_required("ledger.view")
def index():
    """The chart of accounts as a tree with balances and group totals."""
    errors: dict[str, list[str]] = {}
    as_of = reports.parse_date(request.args.get("date"), "date", errors) or reports.default_date()
    pending = reports.pending_gl_changes()
    return render(
        "ledger/index.html",
        rows=reports.chart_tree(as_of),
        as_of=as_of,
        errors=errors,
        pending_new=[r for r in pending if r.payload.get("action") == "create"],
        pending_count=len(pending),
    )


@bp.get("/coa.csv")
@permission_required("ledger.view")
def coa_csv():
    """The chart of accounts as CSV: one row per account with its balance (headings carry group totals)."""
    errors: dict[str, list[str]] = {}
    as_of = reports.parse_date(request.args.get("date"), "date", errors) or reports.default_date()
    if errors:
        return _csv_refused(errors)
    rows = (
        [
            r.gl.code,
            r.gl.name,
            r.gl.type,
            r.gl.normal_side,
            "yes" if r.gl.is_control else "no",
            "yes" if r.gl.active else "no",
            _amount(r.balance_paise),
        ]
        for r in reports.chart_tree(as_of)
    )
    header = ["code", "name", "type", "normal_side", "control", "active", "balance"]
    return csv_response(f"chart-of-accounts-{as_of.isoformat()}.csv", header, rows)


def _new_gl_form() -> NewGLForm:
    form = NewGLForm()
    form.parent.choices = select_choices(
        [("", "— top level —")] + [(g.code, f"{g.code} {g.name}") for g in reports.group_accounts()]
    )
    return form


@bp.route("/coa/new", methods=["GET", "POST"])
@permission_required("ledger.coa_manage")
def coa_new():
    """Propose a new GL account (a chart change request for a checker)."""
    form = _new_gl_form()
    if request.method == "GET" and request.args.get("parent"):
        form.parent.data = request.args["parent"]
    if form.validate_on_submit():
        data = {
            "code": (form.code.data or "").strip(),
            "name": (form.name.data or "").strip(),
            "type": form.type.data,
            "parent": form.parent.data or "",
            "is_group": bool(form.is_group.data),
            "is_cash": bool(form.is_cash.data),
        }
        try:
            req = wf.submit_gl_change("create", data, maker=current_staff())
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            return render("ledger/coa_new.html", form=form, status=422)
        uow.commit()
        flash(
            f"New GL {data['code']} {data['name']} sent for approval (request #{req.id}); "
            "it joins the chart when a checker approves it.",
            "success",
        )
        return redirect(url_for("ledger.index"))
    return render("ledger/coa_new.html", form=form, status=422 if request.method == "POST" else 200)


def _coa_page(gl: GLAccount, form: GLChangeForm | None = None, status: int = 200) -> Response:
    tree = reports.chart_tree()
    row = next(r for r in tree if r.gl.id == gl.id)
    return render(
        "ledger/coa_account.html",
        gl=gl,
        row=row,
        form=form or GLChangeForm(formdata=None),
        pending=reports.pending_for_gl(gl),
        has_postings=wf.gl_has_postings(gl),
        delete_blockers=wf.deletion_blockers(gl),
        children=[r.gl for r in tree if r.gl.parent_id == gl.id],
        status=status,
    )


@bp.get("/coa/<code>")
@permission_required("ledger.view")
def coa_account(code: str):
    """One GL account: its properties, balance, pending changes and (for managers of the chart) change forms."""
    return _coa_page(_gl_or_404(code))


@bp.post("/coa/<code>/change")
@permission_required("ledger.coa_manage")
def coa_change(code: str):
    """Propose renaming, deactivating, activating or deleting a GL account."""
    gl = _gl_or_404(code)
    form = GLChangeForm()
    if not form.validate_on_submit():
        form.form_errors.append("Choose what to change.")
        return _coa_page(gl, form, 422)
    action = form.action.data
    data: dict[str, Any] = {"gl_id": gl.id}
    if action == "rename":
        data["name"] = (form.name.data or "").strip()
    try:
        req = wf.submit_gl_change(action, data, maker=current_staff())
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _coa_page(gl, form, 422)
    uow.commit()
    flash(f"{req.summary}: sent for approval (request #{req.id}).", "success")
    return redirect(url_for("ledger.coa_account", code=gl.code))


# ---------------------------------------------------------------- journal


@bp.get("/journal")
@permission_required("ledger.view")
def journal():
    """Journal entries with live filters (date range, kind, GL, member account, amount, text)."""
    f, errors = reports.parse_journal_filter(request.args)
    page = None if errors else reports.search_journal(f, query_int(request.args, "page"))
    return render(
        "ledger/journal.html",
        "ledger/_journal_rows.html",
        page=page,
        errors=errors,
        args=request.args,
        export_args=_export_args(request.args),
        kinds=reports.entry_kinds(),
        reversed_by=reports.reversals_of(e.id for e in page.items) if page else {},
    )


@bp.get("/journal.csv")
@permission_required("ledger.view")
def journal_csv():
    """The filtered journal as CSV, one row per entry."""
    f, errors = reports.parse_journal_filter(request.args)
    if errors:
        return _csv_refused(errors)
    entries = reports.all_journal(f)
    reversed_by = reports.reversals_of(e.id for e in entries)
    rows = (
        [
            e.number,
            e.business_date.isoformat(),
            e.value_date.isoformat(),
            e.kind,
            e.narration,
            e.reference or "",
            _amount(e.total_paise),
            _who(e.posted_by),
            _who(e.approved_by),
            e.reverses.number if e.reverses_id else "",
            reversed_by[e.id].number if e.id in reversed_by else "",
        ]
        for e in entries
    )
    header = [
        "entry_no", "business_date", "value_date", "kind", "narration", "reference", "amount",
        "posted_by", "approved_by", "reverses", "reversed_by",
    ]  # fmt: skip
    return csv_response("journal.csv", header, rows)


@bp.get("/journal/<entry_no>")
@permission_required("ledger.view")
def entry(entry_no: str):
    """One journal entry with every line, who posted and approved it, and its reversal links."""
    detail = reports.entry_detail(entry_no)
    if detail is None:
        abort(404)
    if entry_no != detail.entry.number:
        return redirect(url_for("ledger.entry", entry_no=detail.entry.number))
    return render("ledger/entry.html", d=detail, form=ReversalForm(formdata=None))


@bp.post("/journal/<entry_no>/reverse")
@permission_required("ledger.reverse")
def entry_reverse(entry_no: str):
    """Request the reversal of an entry (posted when a checker approves)."""
    detail = reports.entry_detail(entry_no)
    if detail is None:
        abort(404)
    form = ReversalForm()
    if form.validate_on_submit():
        number = detail.entry.number
        try:
            req = wf.submit_reversal(detail.entry.id, reason=form.reason.data, maker=current_staff())
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            uow.commit()
            flash(
                f"Reversal of {number} sent for approval (request #{req.id}); it is posted when a checker approves it.",
                "success",
            )
            return redirect(url_for("ledger.entry", entry_no=number))
    return render("ledger/entry.html", d=reports.entry_detail(entry_no), form=form, status=422)


# ---------------------------------------------------------------- GL statement


def _statement_range(args: Mapping[str, str]) -> tuple[date, date, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    end = reports.parse_date(args.get("to"), "to", errors) or reports.default_date()
    start = reports.parse_date(args.get("from"), "from", errors) or end.replace(day=1)
    if start > end:
        errors.setdefault("to", []).append("The end date is before the start date.")
    return start, end, errors


@bp.get("/gl/<code>/statement.pdf", defaults={"fmt": "pdf"})
@bp.get("/gl/<code>/statement", defaults={"fmt": "html"})
@permission_required("ledger.view")
def statement(code: str, fmt: str = "html"):
    """A GL account's lines over a date range with opening, running and closing balances.

    The print view (``?print=1``) and the PDF hold the whole period, unpaged."""
    gl = _gl_or_404(code)
    start, end, errors = _statement_range(request.args)
    printed = fmt == "pdf" or bool(request.args.get("print"))
    page = None if printed else query_int(request.args, "page")
    st = None if errors else reports.gl_statement(gl, start, end, page=page)
    context = {"gl": gl, "st": st, "start": start, "end": end, "errors": errors, "args": request.args,
               "export_args": _export_args(request.args), "printed": printed}  # fmt: skip
    if printed:
        title = f"GL statement {gl.code} {gl.name}, {start.strftime('%d-%m-%Y')} to {end.strftime('%d-%m-%Y')}"
        filename = f"gl-{gl.code}-{start.isoformat()}-{end.isoformat()}.pdf"
        return printing.printed("ledger/_statement.html", title, fmt, filename, **context)
    return render("ledger/statement.html", "ledger/_statement.html", **context)


@bp.get("/gl/<code>/statement.csv")
@permission_required("ledger.view")
def statement_csv(code: str):
    """The GL statement as CSV (opening row, lines with running balance, closing row)."""
    gl = _gl_or_404(code)
    start, end, errors = _statement_range(request.args)
    if errors:
        return _csv_refused(errors)
    st = reports.gl_statement(gl, start, end)
    sign = gl.sign
    rows: list[list[Any]] = [[start.isoformat(), "", "", "Opening balance", "", "", "", "", _amount(st.opening_paise)]]
    for sl in st.lines:
        ln = sl.line
        rows.append(
            [
                ln.business_date.isoformat(),
                ln.entry.number,
                ln.entry.kind,
                ln.narration or ln.entry.narration,
                ln.gl_account.code,
                ln.account.account_no if ln.account else "",
                _amount(ln.debit_paise),
                _amount(ln.credit_paise),
                _amount(sl.balance_paise),
            ]
        )
    rows.append(
        [
            end.isoformat(), "", "", "Closing balance", "", "",
            _amount(st.total_debit), _amount(st.total_credit), _amount(st.closing_net_debit * sign),
        ]
    )  # fmt: skip
    header = ["date", "entry_no", "kind", "narration", "gl_code", "account_no", "debit", "credit", "balance"]
    return csv_response(f"gl-{gl.code}-{start.isoformat()}-{end.isoformat()}.csv", header, rows)


# ---------------------------------------------------------------- day book


def _report_date(args: Mapping[str, str]) -> tuple[date, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    on = reports.parse_date(args.get("date"), "date", errors)
    return on or reports.default_date(), errors


PRINT_MAX_ENTRIES = 5_000  # a printed day book holds the whole day up to this; the CSV has no cap


@bp.get("/daybook.pdf", defaults={"fmt": "pdf"})
@bp.get("/daybook", defaults={"fmt": "html"})
@permission_required("reports.view")
def daybook(fmt: str = "html"):
    """The day book: every entry of a business date with its lines, totals and cash position."""
    on, errors = _report_date(request.args)
    printed = fmt == "pdf" or bool(request.args.get("print"))
    book = None
    if not errors:
        book = (
            reports.day_book(on, per_page=PRINT_MAX_ENTRIES)
            if printed
            else reports.day_book(on, page=query_int(request.args, "page"))
        )
    context = {"book": book, "on": on, "errors": errors, "args": request.args, "printed": printed,
               "prev_day": on - timedelta(days=1), "next_day": on + timedelta(days=1)}  # fmt: skip
    if printed:
        title = f"Day book of {on.strftime('%d-%m-%Y')}"
        return printing.printed("ledger/_daybook.html", title, fmt, f"daybook-{on.isoformat()}.pdf", **context)
    return render("ledger/daybook.html", "ledger/_daybook.html", **context)


@bp.get("/daybook.csv")
@permission_required("reports.view")
def daybook_csv():
    """The day book as CSV, one row per journal line."""
    on, errors = _report_date(request.args)
    if errors:
        return _csv_refused(errors)
    rows = (
        [
            ln.business_date.isoformat(),
            ln.entry.number,
            ln.entry.kind,
            ln.entry.narration,
            ln.gl_account.code,
            ln.gl_account.name,
            ln.account.account_no if ln.account else "",
            _amount(ln.debit_paise),
            _amount(ln.credit_paise),
            ln.narration or "",
        ]
        for ln in reports.day_lines(on)
    )
    header = [
        "business_date", "entry_no", "kind", "narration", "gl_code", "gl_name", "account_no", "debit", "credit",
        "line_narration",
    ]  # fmt: skip
    return csv_response(f"daybook-{on.isoformat()}.csv", header, rows)


# ---------------------------------------------------------------- trial balance


@bp.get("/trial-balance.pdf", defaults={"fmt": "pdf"})
@bp.get("/trial-balance", defaults={"fmt": "html"})
@permission_required("reports.view")
def trial_balance(fmt: str = "html"):
    """The trial balance as of a date: every GL with a balance, in debit and credit columns."""
    on, errors = _report_date(request.args)
    context = {"tb": None if errors else reports.trial_balance(on), "on": on, "errors": errors, "args": request.args}
    if fmt == "pdf" or request.args.get("print"):
        title = f"Trial balance as of {on.strftime('%d-%m-%Y')}"
        return printing.printed(
            "ledger/_trial_balance.html", title, fmt, f"trial-balance-{on.isoformat()}.pdf", **context
        )
    return render("ledger/trial_balance.html", "ledger/_trial_balance.html", **context)


@bp.get("/trial-balance.csv")
@permission_required("reports.view")
def trial_balance_csv():
    """The trial balance as CSV with a total row."""
    on, errors = _report_date(request.args)
    if errors:
        return _csv_refused(errors)
    tb = reports.trial_balance(on)
    rows: list[list[Any]] = [
        [r.gl.code, r.gl.name, r.gl.type, _amount(r.debit_paise), _amount(r.credit_paise)] for r in tb.rows
    ]
    rows.append(["", "Total", "", _amount(tb.total_debit), _amount(tb.total_credit)])
    return csv_response(f"trial-balance-{on.isoformat()}.csv", ["code", "name", "type", "debit", "credit"], rows)


# ---------------------------------------------------------------- manual journal voucher


def _voucher_page(draft: VoucherDraft, status: int = 200, partial: str | None = None, **extra: Any) -> Response:
    return render(
        "ledger/voucher.html",
        partial,
        status=status,
        draft=draft,
        gls=reports.manual_gl_accounts(),
        open_date=reports.business_date(),
        can_backdate=has_permission(current_staff(), "ledger.backdate"),
        **extra,
    )


def _check(draft: VoucherDraft) -> bool:
    return check_voucher(
        draft, business_date=reports.business_date(), can_backdate=has_permission(current_staff(), "ledger.backdate")
    )


def _edit_lines(draft: VoucherDraft, op: str) -> None:
    if op == "add":
        draft.add_line()
    elif op.startswith("remove-"):
        index = op.removeprefix("remove-")
        if index.isdigit():
            draft.remove_line(int(index))


@bp.route("/voucher", methods=["GET", "POST"])
@permission_required("ledger.post_voucher")
def voucher():
    """Enter a manual journal voucher; a balanced voucher goes to a checker for approval."""
    if request.method == "GET":
        return _voucher_page(blank_voucher())
    draft = read_voucher(request.form)
    op = request.form.get("op", "submit")
    if op != "submit":  # add/remove a row without JavaScript
        _edit_lines(draft, op)
        if draft.checked:
            _check(draft)
        return _voucher_page(draft)
    draft.checked = True  # if refused, the page re-checks the fields live as they are fixed
    if not _check(draft):
        return _voucher_page(draft, 422)
    try:
        req = wf.submit_voucher(
            draft.rows(), narration=draft.narration, maker=current_staff(), value_date=draft.value_date
        )
    except DomainError as exc:
        db.session.rollback()
        if "value_date" in (exc.errors or {}):
            draft.value_date_errors.extend(exc.errors["value_date"])
        else:
            draft.errors.append(exc.message)
        return _voucher_page(draft, 422)
    uow.commit()
    flash(
        f"Journal voucher for {format_inr(draft.total_debit)} sent for approval (request #{req.id}). "
        "It is posted to the ledger when a manager approves it.",
        "success",
    )
    return redirect(url_for("ledger.voucher"))


@bp.post("/voucher/lines")
@permission_required("ledger.post_voucher")
def voucher_lines():
    """HTMX: the voucher's line table with a row added (``op=add``) or removed (``op=remove&i=N``)."""
    draft = read_voucher(request.form)
    op = request.args.get("op", "")
    _edit_lines(draft, f"remove-{request.args.get('i', '')}" if op == "remove" else op)
    if draft.checked:
        _check(draft)
    return _voucher_page(draft, partial="ledger/_voucher_lines.html")


@bp.post("/voucher/preview")
@permission_required("ledger.post_voucher")
def voucher_preview():
    """HTMX: the voucher totals and difference, recomputed from the typed amounts.

    After a refused submit (``checked=1``) the field checks run again and every error slot of
    the form is swapped out of band, so a field the user has fixed loses its message at once."""
    draft = read_voucher(request.form)
    if draft.checked:
        _check(draft)
    return _voucher_page(draft, partial="ledger/_voucher_totals.html", recheck=draft.checked)
