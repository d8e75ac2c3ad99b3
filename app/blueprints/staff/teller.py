"""Staff screens: the cashier's counter, cash drawer open/close, receipts, transfers,
counter approvals for managers and the Cash Transaction Report."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any, NoReturn

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user

from app.auth_loader import current_staff
from app.blueprints.forms import parse_amount_field
from app.blueprints.staff import bp
from app.blueprints.staff.teller_forms import CounterForm, OpenDrawerForm, TransferForm, VaultForm, new_nonce
from app.extensions import db
from app.models.deposits import AccountHolder, DepositAccount
from app.models.members import Member, Nominee
from app.models.teller import DENOMINATIONS
from app.money import MoneyError, format_plain, parse_amount, to_json
from app.navigation import NavItem, add
from app.permissions import has_permission, permission_required
from app.services import ledger
from app.services.common import DomainError, approvals, uow
from app.services.counter import teller, transfers
from app.services.ledger import calendar
from app.services.members import kyc
from app.web import apply_domain_error, is_htmx, render, toast

add(NavItem("Counter", "staff.teller_counter", "teller.operate"))
add(NavItem("Transfer", "staff.transfer_new", "transfers.create"))
add(NavItem("Counter approvals", "staff.teller_approvals", "teller.approve"))
add(NavItem("Cash transaction report", "staff.teller_ctr", "reports.view"))


def _drawer_context(drawer: Any) -> dict[str, Any]:
    summary = teller.drawer_summary(drawer) if drawer is not None else None
    recent = teller.recent_cash(drawer) if drawer is not None else []
    return {"drawer": drawer, "summary": summary, "recent": recent}


# ---------------------------------------------------------------- the counter


def _counter_page(
    form: CounterForm,
    *,
    status: int = 200,
    result: Any = None,
    need_form60: bool = False,
    oob: bool = False,
    oob_card: Any = None,
) -> Response:
    drawer = teller.current_drawer(current_staff())
    card = teller.account_card(form.account_no.data) if form.account_no.data else None
    return render(
        "staff/teller/counter.html",
        "staff/teller/_counter_panel.html",
        status=status,
        form=form,
        card=card,
        result=result,
        need_form60=need_form60,
        business_day_open=calendar.business_date_or_none() is not None,
        oob=oob,
        oob_card=oob_card,
        **_drawer_context(drawer),
    )


def _shown_result() -> Any:
    """The receipt (``?entry=``) or pending request (``?request=``) to show after a redirect."""
    try:
        if request.args.get("entry", type=int):
            return teller.receipt(request.args.get("entry", type=int))
        if request.args.get("request", type=int):
            return approvals.get(request.args.get("request", type=int))
    except DomainError:
        return None
    return None


def _verified(member: Member, doc_type: str):
    """The member's verified image of ``doc_type`` (photo / specimen signature), if any."""
    return next(
        (
            d
            for d in kyc.current_documents(member)
            if d.doc_type == doc_type and d.status == "verified" and d.content_type != "application/pdf"
        ),
        None,
    )


def card_people(card: Any) -> dict[str, Any]:
    """For the cashier's check before paying out: each holder's verified photo and specimen
    signature (through the authorised document route), the nominee and the mode of operation."""
    if card is None or card.member is None:
        return {"holders": [], "nominee": None, "mode": ""}
    members = [card.member]
    members += list(
        db.session.scalars(
            db.select(Member)
            .join(AccountHolder, AccountHolder.member_id == Member.id)
            .where(AccountHolder.account_id == card.account.id)
            .order_by(AccountHolder.position)
        )
    )
    show = has_permission(current_user, "accounts.view")
    holders = []
    for m in members:
        photo, sign = (_verified(m, t) if show else None for t in ("photo", "signature"))
        holders.append(
            {
                "name": m.name,
                "member_no": m.member_no,
                "photo": url_for("staff.specimen_view", member_no=m.member_no, doc_id=photo.id) if photo else None,
                "signature": url_for("staff.specimen_view", member_no=m.member_no, doc_id=sign.id) if sign else None,
            }
        )
    da = db.session.scalar(db.select(DepositAccount).where(DepositAccount.account_id == card.account.id))
    nominee = db.session.get(Nominee, da.nominee_id) if da is not None and da.nominee_id else None
    mode = "Single" if len(members) == 1 else f"Joint ({len(members)} holders)"
    return {"holders": holders, "nominee": nominee, "mode": mode}


@bp.context_processor
def _card_people() -> dict[str, Any]:
    return {"card_people": card_people}


@bp.get("/teller")
@permission_required("teller.operate")
def teller_counter():
    form = CounterForm(formdata=None, nonce=new_nonce(), account_no=request.args.get("account_no", ""))
    return _counter_page(form, result=_shown_result())


@bp.get("/teller/account-card")
@permission_required("accounts.view")
def teller_account_card():
    """The account card shown as the number is typed (and the PAN/Form 60 prompt, out of band)."""
    account_no = next(
        (request.args[k] for k in ("account_no", "from_account", "to_account") if request.args.get(k)), ""
    )
    card = teller.account_card(account_no)
    need_form60 = False
    raw_amount = (request.args.get("amount") or "").strip()
    if card is not None and raw_amount and request.args.get("oob_form60"):
        try:
            amount = parse_amount(raw_amount)
            direction = "out" if request.args.get("txn") == "withdrawal" else "in"
            need_form60 = calendar.business_date_or_none() is not None and teller.id_proof_needed(
                card.account, amount, direction
            )
        except MoneyError:
            need_form60 = False
    return render(
        "staff/teller/_account_card.html",
        card=card,
        account_no=account_no,
        need_form60=need_form60,
        oob_form60=bool(request.args.get("oob_form60")),
        form=CounterForm(formdata=None, form60_ref=request.args.get("form60_ref", "")),
    )


@bp.post("/teller/transaction")
@permission_required("teller.operate")
def teller_transaction():
    form = CounterForm()
    if not form.validate_on_submit():
        return _counter_page(form, status=422)
    me = current_staff()
    try:
        amount = parse_amount_field(form.amount.data)
        account = teller.find_account(form.account_no.data)
        post = teller.cash_deposit if form.txn.data == "deposit" else teller.cash_withdrawal
        result = post(
            teller.current_drawer(me),
            account,
            amount,
            cashier=me,
            narration=form.narration.data,
            form60_ref=form.form60_ref.data,
            idempotency_key=f"counter:{me.id}:{form.nonce.data}",
        )
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _counter_page(form, status=422, need_form60=isinstance(exc, teller.IdentityProofRequired))
    uow.commit()
    if result.pending:
        if result.direction == "in":
            message = (
                f"Deposit of ₹{format_plain(result.amount_paise)} to {result.account.account_no} sent for "
                f"approval (request #{result.approval.id}). Keep the cash apart until a manager approves it."
            )
        else:
            message = (
                f"Withdrawal of ₹{format_plain(result.amount_paise)} from {result.account.account_no} sent for "
                f"approval (request #{result.approval.id}). Pay the cash only after a manager approves it."
            )
        target = url_for("staff.teller_counter", request=result.approval.id)
    else:
        word = "Deposit" if result.direction == "in" else "Withdrawal"
        message = f"{word} of ₹{format_plain(result.amount_paise)} posted ({result.entry.number})."
        if result.ctr_flag:
            message += " This member's cash this month is above the CTR threshold."
        target = url_for("staff.teller_counter", entry=result.entry.id)
    if not is_htmx():
        flash(message, "warning" if result.pending else "success")
        return redirect(target)
    fresh = CounterForm(formdata=None, nonce=new_nonce())
    display = result.approval if result.pending else teller.receipt(result.entry.id)
    response = _counter_page(fresh, result=display, oob=True, oob_card=teller.account_card(result.account.account_no))
    return toast(response, message, "warning" if result.pending else "success")


# ---------------------------------------------------------------- drawer: open, vault, close


@bp.route("/teller/drawer/open", methods=["GET", "POST"])
@permission_required("teller.operate")
def teller_drawer_open():
    me = current_staff()
    form = OpenDrawerForm()
    existing = teller.current_drawer(me)
    if existing is not None:
        flash(f"Your drawer for today is already {existing.status}.", "info")
        return redirect(url_for("staff.teller_drawer"))
    if form.validate_on_submit():
        try:
            drawer = teller.open_drawer(
                me, parse_amount_field(form.opening_float.data, "opening_float", allow_zero=True)
            )
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            return render("staff/teller/drawer_open.html", form=form, vault=_vault_or_none(), status=422)
        uow.commit()
        flash(f"Drawer opened with a float of ₹{format_plain(drawer.opening_float_paise)}.", "success")
        return redirect(url_for("staff.teller_counter"))
    return render("staff/teller/drawer_open.html", form=form, vault=_vault_or_none())


def _vault_or_none() -> int | None:
    try:
        from app.services import ledger
        from app.services.ledger import coa

        return ledger.gl_balance(coa.VAULT_CASH)
    except DomainError:
        return None


@bp.get("/teller/drawer")
@permission_required("teller.operate")
def teller_drawer():
    drawer = teller.current_drawer(current_staff())
    return render("staff/teller/drawer.html", vault_form=VaultForm(formdata=None), **_drawer_context(drawer))


@bp.post("/teller/drawer/vault")
@permission_required("teller.operate")
def teller_drawer_vault():
    me = current_staff()
    form = VaultForm()
    drawer = teller.current_drawer(me)
    if form.validate_on_submit():
        try:
            if drawer is None:
                _no_drawer()
            entry = teller.vault_transfer(
                drawer, parse_amount_field(form.amount.data), direction=form.direction.data, cashier=me
            )
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            uow.commit()
            flash(f"Cash moved ({entry.number}).", "success")
            return redirect(url_for("staff.teller_drawer"))
    return render("staff/teller/drawer.html", vault_form=form, status=422, **_drawer_context(drawer))


def _no_drawer() -> NoReturn:
    raise teller.DrawerNotOpen("Open your cash drawer first.")


def _count_context(drawer: Any, counts: dict[str, int] | None) -> dict[str, Any]:
    counts = counts or {}
    total = teller.count_total(counts)
    expected = drawer.account.balance_paise if drawer is not None and drawer.status == "open" else None
    if drawer is not None and drawer.status != "open":
        expected = drawer.expected_paise
    return {
        "denominations": DENOMINATIONS,
        "counts": counts,
        "total": total,
        "expected": expected,
        "difference": None if expected is None else total - expected,
    }


@bp.route("/teller/drawer/close", methods=["GET", "POST"])
@permission_required("teller.operate")
def teller_drawer_close():
    me = current_staff()
    drawer = teller.current_drawer(me)
    if request.method == "GET":
        counts = (drawer.denominations if drawer is not None else None) or {}
        return render("staff/teller/drawer_close.html", drawer=drawer, errors={}, **_count_context(drawer, counts))
    raw = {key: request.form.get(key, "") for key, _label, _value in DENOMINATIONS}
    try:
        if drawer is None:
            _no_drawer()
        counts = teller.parse_denominations(raw)
        if request.form.get("op") == "total":  # the no-JS "recalculate" button
            return render("staff/teller/drawer_close.html", drawer=drawer, errors={}, **_count_context(drawer, counts))
        teller.close_drawer(drawer, counts, cashier=me)
    except DomainError as exc:
        db.session.rollback()
        counts = {k: v for k, v in raw.items() if str(v).isdigit()}
        counts = {k: int(v) for k, v in counts.items()}
        flash(exc.message, "error")
        return render(
            "staff/teller/drawer_close.html",
            drawer=drawer,
            errors=exc.errors,
            status=422,
            **_count_context(drawer, counts),
        )
    uow.commit()
    if drawer.status == "closed":
        flash("Drawer counted and closed; the cash is back in the vault.", "success")
    else:
        flash(
            f"The count differs by ₹{format_plain(abs(drawer.difference_paise or 0))}; "
            "a manager must approve it before the drawer closes.",
            "warning",
        )
    return redirect(url_for("staff.teller_drawer_close"))


@bp.post("/teller/drawer/count-total")
@permission_required("teller.operate")
def teller_count_total():
    """Live total of the denomination count (HTMX)."""
    drawer = teller.current_drawer(current_staff())
    raw = {key: request.form.get(key, "") for key, _label, _value in DENOMINATIONS}
    counts = {k: int(v) for k, v in raw.items() if str(v).strip().isdigit() and len(str(v).strip()) <= 7}
    return render("staff/teller/_count_total.html", live=True, **_count_context(drawer, counts))


@bp.post("/teller/drawer/reopen")
@permission_required("teller.operate")
def teller_drawer_reopen():
    me = current_staff()
    drawer = teller.current_drawer(me)
    try:
        if drawer is None:
            _no_drawer()
        teller.reopen_drawer(drawer, cashier=me)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("staff.teller_drawer"))
    uow.commit()
    flash("Drawer reopened; count it again when you are ready to close.", "success")
    return redirect(url_for("staff.teller_drawer"))


# ---------------------------------------------------------------- receipts


@bp.get("/teller/receipt/<int:entry_id>")
@permission_required("accounts.view")
def teller_receipt(entry_id: int):
    data = teller.receipt(entry_id)
    return render("staff/teller/receipt.html", r=data)


# ---------------------------------------------------------------- transfers


def _transfer_page(form: TransferForm, *, status: int = 200, result: Any = None) -> Response:
    return render(
        "staff/teller/transfer.html",
        "staff/teller/_transfer_panel.html",
        status=status,
        form=form,
        result=result,
        from_card=teller.account_card(form.from_account.data) if form.from_account.data else None,
        to_card=teller.account_card(form.to_account.data) if form.to_account.data else None,
    )


@bp.route("/transfers/new", methods=["GET", "POST"])
@permission_required("transfers.create")
def transfer_new():
    if request.method == "GET":
        form = TransferForm(formdata=None, nonce=new_nonce(), from_account=request.args.get("from", ""))
        return _transfer_page(form, result=_shown_result())
    form = TransferForm()
    if not form.validate_on_submit():
        return _transfer_page(form, status=422)
    me = current_staff()
    try:
        result = transfers.transfer_by_number(
            form.from_account.data,
            form.to_account.data,
            parse_amount_field(form.amount.data),
            narration=form.narration.data,
            maker=me,
            idempotency_key=f"transfer:{me.id}:{form.nonce.data}",
        )
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _transfer_page(form, status=422)
    uow.commit()
    if result.pending:
        message = f"Transfer of ₹{format_plain(result.amount_paise)} sent for approval (request #{result.approval.id})."
        target = url_for("staff.transfer_new", request=result.approval.id)
    else:
        message = f"Transfer of ₹{format_plain(result.amount_paise)} posted ({result.entry.number})."
        target = url_for("staff.transfer_new", entry=result.entry.id)
    if not is_htmx():
        flash(message, "warning" if result.pending else "success")
        return redirect(target)
    display = result.approval if result.pending else teller.receipt(result.entry.id)
    response = _transfer_page(TransferForm(formdata=None, nonce=new_nonce()), result=display)
    return toast(response, message, "warning" if result.pending else "success")


# ---------------------------------------------------------------- manager: approvals and drawers


@bp.get("/teller/approvals")
@permission_required("teller.approve")
def teller_approvals():
    today = calendar.business_date_or_none()
    return render(
        "staff/teller/approvals.html",
        requests=teller.pending_requests(),
        drawers=teller.drawers_for(today) if today else [],
        summaries={d.id: teller.drawer_summary(d) for d in (teller.drawers_for(today) if today else [])},
        today=today,
    )


def _decide(req_id: int, approve: bool) -> Response:
    me = current_staff()
    note = (request.form.get("note") or "").strip()
    try:
        if approve:
            req = approvals.approve(req_id, checker=me, note=note or None)
        else:
            req = approvals.reject(req_id, checker=me, note=note)
    except DomainError as exc:
        db.session.rollback()
        if is_htmx():
            req = approvals.get(req_id)
            response = render("staff/teller/_approval_row.html", req=req, error=exc.message, status=exc.status)
            return toast(response, exc.message, "error")
        flash(exc.message, "error")
        return redirect(url_for("staff.teller_approvals"))
    uow.commit()
    message = f"Request #{req.id} {req.status}."
    if req.status == "approved" and (req.result or {}).get("entry_no"):
        message += f" Posted {req.result['entry_no']}."
    if is_htmx():
        return toast(render("staff/teller/_approval_row.html", req=req, error=None), message)
    flash(message, "success")
    return redirect(url_for("staff.teller_approvals"))


@bp.post("/teller/approvals/<int:req_id>/approve")
@permission_required("teller.approve")
def teller_approve(req_id: int):
    return _decide(req_id, True)


@bp.post("/teller/approvals/<int:req_id>/reject")
@permission_required("teller.approve")
def teller_reject(req_id: int):
    return _decide(req_id, False)


# ---------------------------------------------------------------- Cash Transaction Report


def _month(raw: str | None) -> date:
    try:
        year, month = (raw or "").split("-")[:2]
        return date(int(year), int(month), 1)
    except ValueError:
        today = ledger.business_date_or_today()
        return today.replace(day=1)


@bp.get("/teller/ctr")
@permission_required("reports.view")
def teller_ctr():
    month = _month(request.args.get("month"))
    rows = teller.cash_transaction_report(month)
    if request.args.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["member_no", "name", "pan", "cash_in", "cash_out", "total", "transactions", "accounts"])
        for row in rows:
            writer.writerow(
                [
                    row.member.member_no,
                    row.member.name,
                    row.member.pan or ("FORM60" if row.member.form60_on_file else ""),
                    to_json(row.cash_in_paise),
                    to_json(row.cash_out_paise),
                    to_json(row.total_paise),
                    row.transactions,
                    " ".join(row.accounts),
                ]
            )
        response = Response(buffer.getvalue(), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="ctr-{month:%Y-%m}.csv"'
        return response
    return render(
        "staff/teller/ctr.html",
        rows=rows,
        month=month,
        threshold=int(teller.setting("CTR_THRESHOLD_PAISE")),
        basis=teller.setting("CTR_BASIS"),
    )
