"""Staff screens: deposit accounts (list, open, account page, status actions, closure), passbook
(date range, HTMX paging, print, CSV), deposit products (maker-checker proposals, rate history),
Form 15G/15H and the quarterly TDS register.

Views are thin: they parse the form, call one service function, commit once, and render the
page or — for HTMX requests — the partial that changed. Service errors land next to fields.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from flask import Response, abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import (
    SelectChoice,
)

from app import jobs, navigation
from app.auth_loader import current_staff
from app.blueprints.forms import amount_of
from app.blueprints.staff import bp
from app.blueprints.staff.deposit_forms import (
    KIND_CHOICES,
    STATUS_CHOICES,
    CloseForm,
    OpenForm,
    ProductForm,
    RatesForm,
    StatusForm,
    TdsFormForm,
)
from app.blueprints.staff.teller_forms import new_nonce
from app.clock import ist
from app.extensions import db
from app.jobs import payments as payment_jobs
from app.models.base import utcnow
from app.models.deposits import DEPOSIT_KINDS, FD_PAYOUTS, MATURITY_ACTIONS, DepositAccount, DepositProduct, rate_of
from app.models.ledger import Account
from app.models.members import Member
from app.money import format_inr, format_plain
from app.navigation import NavItem
from app.pagination import paginate
from app.permissions import has_permission, permission_required
from app.services import deposits, ledger, members, payments
from app.services.common import DomainError, ValidationError, uow
from app.services.deposits import fixed as fixed_deposits
from app.services.deposits import interest, passbook, savings, tds
from app.services.deposits import recurring as recurring_deposits
from app.web import apply_domain_error, is_htmx, render, select_choices, toast

navigation.add(NavItem("Deposit accounts", "staff.deposit_accounts", "accounts.view"), before="ledger.index")
navigation.add(NavItem("Deposit products", "staff.deposit_products", "products.manage"), before="ledger.index")
navigation.add(NavItem("TDS (194A)", "staff.tds_register", "reports.view"), before="ledger.index")


def _date_arg(name: str) -> date | None:
    raw = (request.values.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _whole(form: FlaskForm, name: str) -> int:
    field = getattr(form, name)
    raw = (field.data or "").strip()
    if not raw:
        return 0
    if not raw.lstrip("-").isdigit():
        field.errors = [*field.errors, "A whole number."]
        return 0
    return int(raw)


# ---------------------------------------------------------------- accounts list


@bp.get("/staff/deposits")
@permission_required("accounts.view")
def deposit_accounts():
    """Deposit accounts with live search by account number, member number or name."""
    args = request.args
    stmt = (
        select(Account)
        .join(DepositAccount, DepositAccount.account_id == Account.id)
        .join(Member, Member.id == Account.member_id)
        .where(Account.kind.in_(DEPOSIT_KINDS))
        .order_by(Account.id.desc())
    )
    q = (args.get("q") or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Account.account_no.ilike(like), Member.member_no.ilike(like), Member.name.ilike(like)))
    if args.get("kind") in DEPOSIT_KINDS:
        stmt = stmt.where(Account.kind == args["kind"])
    if args.get("status"):
        stmt = stmt.where(Account.status == args["status"])
    page = paginate(stmt, args.get("page", 1, type=int))
    return render(
        "staff/deposits/accounts.html",
        "staff/deposits/_account_rows.html",
        page=page,
        args=args,
        kinds=KIND_CHOICES,
        statuses=STATUS_CHOICES,
        details=_details([a.id for a in page.items]),
    )


def _details(account_ids: list[int]) -> dict[int, DepositAccount]:
    if not account_ids:
        return {}
    return {
        da.account_id: da
        for da in db.session.scalars(select(DepositAccount).where(DepositAccount.account_id.in_(account_ids)))
    }


# ---------------------------------------------------------------- opening


def _product_choices(kind: str | None = None) -> list[SelectChoice]:
    rows = deposits.products(kind, active_only=True)
    return select_choices([("", "Default product")] + [(p.code, f"{p.code} — {p.name}") for p in rows])


def _default_nominee(form: OpenForm, member: Member) -> None:
    """Pre-select the member's registered nominee when one nominee holds 100 %."""
    if not form.nominee_id.data and len(member.nominees) == 1 and member.nominees[0].share_bp == 10_000:
        form.nominee_id.data = str(member.nominees[0].id)


def _nominee_choices(member: Member) -> list[SelectChoice]:
    return select_choices([("", "None")] + [(str(n.id), f"{n.name} ({n.relationship_})") for n in member.nominees])


def _member_or_none(member_no: str | None) -> Member | None:
    if not (member_no or "").strip():
        return None
    return db.session.scalar(select(Member).where(Member.member_no == member_no.strip().upper()))


def _open_request(form: OpenForm) -> deposits.OpenRequest | None:
    amount = amount_of(form.amount)
    installment = amount_of(form.installment)
    months, days = _whole(form, "months"), _whole(form, "days")
    if any(getattr(form, f).errors for f in ("amount", "installment", "months", "days")):
        return None
    nominee = form.nominee_id.data
    return deposits.OpenRequest(
        member_no=(form.member_no.data or "").strip(),
        kind=form.kind.data,
        product_code=form.product_code.data or None,
        amount_paise=amount,
        months=months,
        days=days,
        installment_paise=installment,
        payout=form.payout.data,
        maturity_action=form.maturity_action.data,
        funding_mode=form.funding_mode.data,
        from_account_no=(form.from_account.data or "").strip() or None,
        payout_account_no=(form.payout_account.data or "").strip() or None,
        si_account_no=(form.si_account.data or "").strip() or None,
        joint_member_nos=[x.strip() for x in (form.joint_holders.data or "").split(",") if x.strip()],
        nominee_id=int(nominee) if nominee and str(nominee).isdigit() else None,
        form60_ref=(form.form60_ref.data or "").strip() or None,
    )


def _open_page(form: OpenForm, status: int = 200, preview: Any = None) -> Response:
    form.product_code.choices = _product_choices()
    member = _member_or_none(form.member_no.data)
    if member is not None:
        form.nominee_id.choices = _nominee_choices(member)
    return render(
        "staff/deposits/open.html",
        status=status,
        form=form,
        member=member,
        member_accounts=deposits.member_accounts(member) if member else [],
        eligibility=members.eligibility_problem(member) if member else None,
        preview=preview,
    )


@bp.route("/staff/deposits/open", methods=["GET", "POST"])
@permission_required("accounts.open")
def deposit_open():
    """Open a savings, fixed or recurring deposit for a member."""
    form = OpenForm()
    if request.method == "GET":
        form.nonce.data = new_nonce()  # one-time token: a double submit opens one account
        form.member_no.data = request.args.get("member_no", form.member_no.data)
        if request.args.get("kind") in DEPOSIT_KINDS:
            form.kind.data = request.args["kind"]
        if not has_permission(current_user, "teller.operate"):
            form.funding_mode.data = "transfer"  # only a cashier takes cash; others fund from savings
        member = _member_or_none(form.member_no.data)
        if member is not None:
            _default_nominee(form, member)
        return _open_page(form)
    if not form.validate_on_submit():
        return _open_page(form, 422)
    req = _open_request(form)
    if req is None:
        return _open_page(form, 422)
    try:
        me = current_staff()
        account = deposits.open_account(req, by=me, idempotency_key=f"open:{me.id}:{form.nonce.data}")
    except DomainError as exc:
        db.session.rollback()
        _place_open_error(form, exc)
        return _open_page(form, 422)
    uow.commit()
    flash(f"Account {account.account_no} opened for {account.title}.", "success")
    return redirect(url_for("staff.deposit_account", account_no=account.account_no))


def _place_open_error(form: OpenForm, exc: DomainError) -> None:
    aliases = {"principal": "amount", "type": "kind", "funding": "funding_mode", "from_account": "from_account",
               "product_code": "product_code", "si_account": "si_account", "joint_holders": "joint_holders",
               "nominee": "nominee_id", "installment": "installment", "months": "months", "payout": "payout",
               "maturity_action": "maturity_action", "payout_account": "payout_account", "member_no": "member_no"}  # fmt: skip
    exc.errors = {aliases.get(k, k): v for k, v in (exc.errors or {}).items()}
    apply_domain_error(form, exc)


@bp.post("/staff/deposits/open/preview")
@permission_required("accounts.open")
def deposit_open_preview():
    """What the FD / RD would be (rate, maturity date and amount) — nothing is saved."""
    form = OpenForm()
    form.product_code.choices = _product_choices()
    req = _open_request(form)
    preview: dict[str, Any] = {}
    try:
        if req is None:
            raise ValidationError("Check the amounts and tenure.")
        quote = deposits.preview(req)
        preview = {"text": quote.text, "maturity_paise": quote.maturity_paise, "interest_paise": quote.interest_paise}
    except DomainError as exc:
        preview = {"error": exc.message}
    return render("staff/deposits/_preview.html", preview=preview)


@bp.get("/staff/deposits/member-lookup")
@permission_required("accounts.open")
def deposit_member_lookup():
    """The member card on the open form (name, status, KYC, accounts, nominees)."""
    member = _member_or_none(request.args.get("member_no"))
    form = OpenForm(formdata=None)
    if member is not None:
        form.nominee_id.choices = _nominee_choices(member)
        _default_nominee(form, member)
    return render(
        "staff/deposits/_member_card.html",
        member=member,
        member_no=request.args.get("member_no", ""),
        member_accounts=deposits.member_accounts(member) if member else [],
        eligibility=members.eligibility_problem(member) if member else None,
        form=form,
    )


# ---------------------------------------------------------------- account page


PAYOUT_CHOICE = ("payout", "To a beneficiary (NEFT/IMPS)")


def close_form(account: Account, form: CloseForm | None = None) -> CloseForm:
    """The closure form; an FD's also offers its proceeds to one of the member's saved beneficiaries."""
    form = form or CloseForm()
    if account.kind == "fd" and account.member_id is not None:
        form.mode.choices = [*form.mode.choices, PAYOUT_CHOICE]
        now = utcnow()
        choices = [("", "— choose —")]
        for b in payments.beneficiaries(account.member_id):
            cooling = b.cooling_until if b.cooling_until.tzinfo else b.cooling_until.replace(tzinfo=UTC)
            note = f" (new payee until {ist(cooling, '%d-%m-%Y %H:%M')})" if cooling > now else ""
            choices.append((str(b.id), f"{b.name} · A/c …{(b.account_number or '')[-4:]} · {b.ifsc}{note}"))
        form.beneficiary_id.choices = choices
    return form


def _close(account: Account, form: CloseForm) -> tuple[int, Any]:
    """Close by the form: (postings, the payout when the proceeds go to a beneficiary). Caller commits."""
    if form.mode.data == "payout":
        payout = payments.pay_deposit_proceeds(account, beneficiary_id=form.beneficiary_id.data, by=current_staff(),
                                               mode=form.payout_mode.data or "NEFT", reason=form.reason.data or "")  # fmt: skip
        return 1, payout
    entries = deposits.close_account(
        account, mode=form.mode.data, to_account_no=(form.to_account.data or "").strip() or None,
        reason=form.reason.data or "", by=current_staff(), form60_ref=(form.form60_ref.data or "").strip() or None,
    )  # fmt: skip
    return len(entries), None


def _account_context(account: Account) -> dict[str, Any]:
    da = deposits.deposit_of(account)
    today = ledger.business_date_or_today()
    ctx: dict[str, Any] = {
        "account": account,
        "da": da,
        "product": da.product,
        "member": da.member,
        "holders": deposits.holders(account),
        "pending": deposits.pending_status_changes(account),
        "tds_rows": tds.account_deductions(account),
        "recent": passbook.transactions([account], page=1, per_page=10, newest_first=True).lines,
        "status_form": StatusForm(action="unfreeze" if account.status == "frozen" else "freeze"),
        "close_form": close_form(account),
        "today": today,
        "member_url": url_for("staff.member_profile", member_no=da.member.member_no)
        if "staff.member_profile" in current_app.view_functions
        else None,
    }
    if account.kind == "savings":
        sb = savings.daily_product(account)
        through = today - date.resolution  # interest to the end of yesterday
        ctx["sb"] = sb
        ctx["sb_rate"] = rate_of(deposits.savings_rate_bp(da.product, today))
        ctx["sb_floor"] = deposits.savings_floor(account)
        ctx["sb_interest"] = savings.interest_to_date(da, account, through) if account.status != "closed" else 0
        ctx["sb_through"] = through
    elif account.kind == "fd":
        ctx["schedule"] = fixed_deposits.schedule(da)
        ctx["maturity"] = fixed_deposits.maturity_value(da)
        if account.status not in ("closed",) and da.matured_on is None and today < da.maturity_date:
            ctx["quote"] = fixed_deposits.premature_quote(da, today)
    else:
        ctx["installments"] = recurring_deposits.installments(account)
        ctx["rd_quote"] = recurring_deposits.maturity_quote(account, da)
        if account.status != "closed" and da.matured_on is None and today < da.maturity_date:
            ctx["quote"] = recurring_deposits.premature_quote(account, da, today)
    return ctx


@bp.get("/staff/deposits/<account_no>")
@permission_required("accounts.view")
def deposit_account(account_no: str):
    """One deposit account: details, status actions, schedule, maturity, TDS, recent lines."""
    account = deposits.get_account(account_no)
    return render("staff/deposits/account.html", **_account_context(account))


@bp.post("/staff/deposits/<account_no>/status")
@permission_required("accounts.manage")
def deposit_status(account_no: str):
    """Ask for a freeze or unfreeze (a manager other than the maker approves it)."""
    account = deposits.get_account(account_no)
    form = StatusForm()
    try:
        req = deposits.submit_status_change(account, form.action.data, form.reason.data or "", maker=current_staff())
    except DomainError as exc:
        db.session.rollback()
        ctx = _account_context(account)
        ctx["status_form"] = form
        apply_domain_error(form, exc)
        return render("staff/deposits/account.html", "staff/deposits/_status.html", status=422, **ctx)
    uow.commit()
    message = f"{req.summary} — sent for approval (request #{req.id})."
    if is_htmx():
        return toast(
            render("staff/deposits/account.html", "staff/deposits/_status.html", **_account_context(account)), message
        )
    flash(message, "success")
    return redirect(url_for("staff.deposit_account", account_no=account.account_no))


@bp.post("/staff/deposits/<account_no>/reactivate")
@permission_required("accounts.manage")
def deposit_reactivate(account_no: str):
    """Bring a dormant account back to active."""
    account = deposits.get_account(account_no)
    deposits.reactivate(account, reason=request.form.get("reason", ""), by=current_staff())
    uow.commit()
    flash(f"Account {account.account_no} is active again.", "success")
    return redirect(url_for("staff.deposit_account", account_no=account.account_no))


@bp.post("/staff/deposits/<account_no>/close")
@permission_required("accounts.manage")
def deposit_close(account_no: str):
    """Close the account and pay out what is due (SB: balance + interest; FD/RD: premature or matured)."""
    account = deposits.get_account(account_no)
    form = close_form(account)
    if not form.confirm.data:
        form.confirm.errors = ["Tick to confirm the figures were checked with the member."]
        ctx = _account_context(account)
        ctx["close_form"] = form
        return render("staff/deposits/account.html", status=422, **ctx)
    try:
        count, payout = _close(account, form)
    except DomainError as exc:
        db.session.rollback()
        ctx = _account_context(account)
        ctx["close_form"] = form
        apply_domain_error(form, exc)
        return render("staff/deposits/account.html", status=422, **ctx)
    uow.commit()
    if payout is not None:
        if payout.status == "queued":
            jobs.enqueue(payment_jobs.send_payout, payout.id)  # after the commit: the closure is saved first
        flash(f"Account {account.account_no} closed; payout {payout.payout_id} of {format_inr(payout.amount_paise)} "
              f"{payout.mode} to {payout.beneficiary['name']} queued.", "success")  # fmt: skip
        return redirect(url_for("staff.deposit_account", account_no=account.account_no))
    flash(f"Account {account.account_no} closed ({count} posting(s)).", "success")
    return redirect(url_for("staff.deposit_account", account_no=account.account_no))


# ---------------------------------------------------------------- passbook


def _passbook_args(account: Account) -> tuple[date | None, date | None]:
    start, end = _date_arg("from"), _date_arg("to")
    if start and end and start > end:
        start, end = end, start
    return start, end


@bp.get("/staff/deposits/<account_no>/passbook")
@permission_required("accounts.view")
def deposit_passbook(account_no: str):
    """Passbook with a date range and running balance; HTMX pages."""
    account = deposits.get_account(account_no)
    start, end = _passbook_args(account)
    stmt = passbook.statement(account, start, end, page=request.args.get("page", 1, type=int))
    args = {"account_no": account.account_no, **{k: v for k, v in request.args.items() if k in ("from", "to")}}
    return render(
        "staff/deposits/passbook.html",
        "staff/deposits/_passbook_rows.html",
        account=account,
        stmt=stmt,
        args=args,
        start=start,
        end=end,
    )


@bp.get("/staff/deposits/<account_no>/passbook.csv")
@permission_required("accounts.view")
def deposit_passbook_csv(account_no: str):
    """The passbook range as CSV."""
    account = deposits.get_account(account_no)
    start, end = _passbook_args(account)
    stmt, lines = passbook.all_lines(account, start, end)
    response = make_response(passbook.csv_text(stmt, lines))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="passbook-{account.account_no}.csv"'
    return response


@bp.get("/staff/deposits/<account_no>/passbook/print")
@permission_required("accounts.view")
def deposit_passbook_print(account_no: str):
    """A printable passbook (print CSS; the browser's print dialog)."""
    account = deposits.get_account(account_no)
    start, end = _passbook_args(account)
    stmt, lines = passbook.all_lines(account, start, end)
    da = deposits.deposit_of(account)
    return render(
        "staff/deposits/passbook_print.html", account=account, da=da, stmt=stmt, lines=lines, start=start, end=end
    )


# ---------------------------------------------------------------- products


@bp.get("/staff/deposit-products")
@permission_required("products.manage")
def deposit_products():
    """Deposit products with their rate in force and pending changes."""
    today = ledger.business_date_or_today()
    rows = [(p, deposits.rate_card(p, today)) for p in deposits.products()]
    return render("staff/deposits/products.html", rows=rows, pending=deposits.pending_product_changes(), today=today)


_SETTING_FIELDS = {
    "savings": {"min_balance_paise": "min_balance", "min_balance_charge_paise": "min_balance_charge", "min_opening_paise": "min_opening"},
    "fd": {"min_amount_paise": "min_amount", "max_amount_paise": "max_amount"},
    "rd": {"min_installment_paise": "min_installment", "installment_multiple_paise": "installment_multiple", "missed_fee_paise": "missed_fee"},
}  # fmt: skip


def _settings_from(form: ProductForm, kind: str) -> dict[str, Any]:
    """The product settings typed on the form; a blank field takes the kind's default."""
    out: dict[str, Any] = {}
    defaults = deposits.kinds.get(kind).default_settings()
    for key, name in _SETTING_FIELDS.get(kind, {}).items():
        raw = (getattr(form, name).data or "").strip()
        if raw or key != "max_amount_paise":
            out[key] = amount_of(getattr(form, name)) if raw else 0
        else:
            out[key] = None
    if kind == "savings":
        out["interest_frequency"] = form.interest_frequency.data
        out["interest_free"] = bool(form.interest_free.data)
    elif kind == "fd":
        out.update(
            min_days=form.min_days.data or defaults["min_days"],
            max_days=form.max_days.data or defaults["max_days"],
            payouts=form.payouts.data or [],
            maturity_actions=form.maturity_actions.data or [],
            premature_penalty=form.premature_penalty.data or defaults["premature_penalty"],
        )
    else:
        out.update(
            min_months=form.min_months.data or defaults["min_months"],
            max_months=form.max_months.data or defaults["max_months"],
            grace_days=form.grace_days.data or defaults["grace_days"],
            premature_penalty=form.premature_penalty.data or defaults["premature_penalty"],
        )
    return out


def _fill_product_form(form: ProductForm, product: DepositProduct) -> None:
    s = product.settings or {}
    for key, name in _SETTING_FIELDS.get(product.kind, {}).items():
        value = s.get(key)
        getattr(form, name).data = format_plain(value).replace(",", "") if value is not None else ""
    form.name.data, form.description.data, form.is_default.data = product.name, product.description, product.is_default
    form.interest_frequency.data = s.get("interest_frequency", "quarterly")
    form.interest_free.data = bool(s.get("interest_free"))
    form.min_days.data, form.max_days.data = str(s.get("min_days", "")), str(s.get("max_days", ""))
    form.payouts.data = s.get("payouts") or []
    form.maturity_actions.data = s.get("maturity_actions") or []
    form.premature_penalty.data = s.get("premature_penalty", "")
    form.min_months.data, form.max_months.data = str(s.get("min_months", "")), str(s.get("max_months", ""))
    form.grace_days.data = str(s.get("grace_days", ""))


def _product_money_errors(form: ProductForm) -> bool:
    return any(getattr(form, n).errors for names in _SETTING_FIELDS.values() for n in names.values())


@bp.route("/staff/deposit-products/new", methods=["GET", "POST"])
@permission_required("products.manage")
def deposit_product_new():
    """Propose a new deposit product (a checker approves it)."""
    form = ProductForm()
    if request.method == "GET":
        form.effective_from.data = ledger.business_date_or_today().isoformat()
        form.payouts.data = list(FD_PAYOUTS)
        form.maturity_actions.data = list(MATURITY_ACTIONS)
        return render("staff/deposits/product_new.html", form=form)
    kind = form.kind.data
    settings = _settings_from(form, kind)
    if not form.validate_on_submit() or _product_money_errors(form):
        return render("staff/deposits/product_new.html", form=form, status=422)
    try:
        rates = deposits.parse_rate_card_text(kind, form.rates.data or "")
        req = deposits.submit_product_change(
            "create",
            {
                "code": form.code.data, "prefix": form.prefix.data, "name": form.name.data, "kind": kind,
                "description": form.description.data, "is_default": form.is_default.data, "settings": settings,
                "rates": rates, "effective_from": form.effective_from.data,
            },
            maker=current_staff(),
        )  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, _settings_error(exc))
        return render("staff/deposits/product_new.html", form=form, status=422)
    uow.commit()
    flash(f"{req.summary}: sent for approval (request #{req.id}).", "success")
    return redirect(url_for("staff.deposit_products"))


def _settings_error(exc: DomainError) -> DomainError:
    names = {k: v for names in _SETTING_FIELDS.values() for k, v in names.items()}
    exc.errors = {names.get(k, k): v for k, v in (exc.errors or {}).items()}
    return exc


def _product_page(
    product: DepositProduct, *, form: ProductForm | None = None, rates_form: RatesForm | None = None, status: int = 200
):
    if form is None:
        form = ProductForm()
        _fill_product_form(form, product)
    if rates_form is None:
        today = ledger.business_date_or_today()
        rates_form = RatesForm(effective_from=(today + date.resolution).isoformat())
        rates_form.rates.data = deposits.rate_card_text(product.kind, deposits.rate_card(product, today))
    return render(
        "staff/deposits/product.html",
        status=status,
        product=product,
        form=form,
        rates_form=rates_form,
        history=deposits.rate_history(product),
        pending=deposits.pending_product_changes(product),
    )


@bp.get("/staff/deposit-products/<code>")
@permission_required("products.manage")
def deposit_product(code: str):
    """A product's settings, rate history and change proposals."""
    return _product_page(deposits.get_product(code))


@bp.post("/staff/deposit-products/<code>/settings")
@permission_required("products.manage")
def deposit_product_settings(code: str):
    """Propose new settings for a product."""
    product = deposits.get_product(code)
    form = ProductForm()
    settings = _settings_from(form, product.kind)
    if _product_money_errors(form):
        return _product_page(product, form=form, status=422)
    try:
        req = deposits.submit_product_change(
            "settings",
            {"product_id": product.id, "name": form.name.data, "description": form.description.data,
             "is_default": form.is_default.data, "settings": settings},
            maker=current_staff(),
        )  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, _settings_error(exc))
        return _product_page(product, form=form, status=422)
    uow.commit()
    flash(f"{req.summary}: sent for approval (request #{req.id}).", "success")
    return redirect(url_for("staff.deposit_product", code=product.code))


@bp.post("/staff/deposit-products/<code>/rates")
@permission_required("products.manage")
def deposit_product_rates(code: str):
    """Propose a new rate card from a date (history is kept)."""
    product = deposits.get_product(code)
    form = RatesForm()
    try:
        rows = deposits.parse_rate_card_text(product.kind, form.rates.data or "")
        req = deposits.submit_product_change(
            "rates",
            {"product_id": product.id, "rates": rows, "effective_from": form.effective_from.data},
            maker=current_staff(),
        )
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _product_page(product, rates_form=form, status=422)
    uow.commit()
    flash(f"{req.summary}: sent for approval (request #{req.id}).", "success")
    return redirect(url_for("staff.deposit_product", code=product.code))


@bp.post("/staff/deposit-products/<code>/status")
@permission_required("products.manage")
def deposit_product_status(code: str):
    """Propose closing (or reopening) a product for new accounts."""
    product = deposits.get_product(code)
    req = deposits.submit_product_change(
        "status", {"product_id": product.id, "active": not product.active}, maker=current_staff()
    )
    uow.commit()
    flash(f"{req.summary}: sent for approval (request #{req.id}).", "success")
    return redirect(url_for("staff.deposit_product", code=product.code))


# ---------------------------------------------------------------- TDS: forms and register


def _fy_choices(today: date) -> list[str]:
    first = int(interest.financial_year(today)[:4])
    return [f"{y}-{(y + 1) % 100:02d}" for y in range(first + 1, first - 5, -1)]


@bp.get("/staff/tds/forms")
@permission_required("accounts.view")
def tds_forms():
    """Form 15G / 15H on file, by financial year."""
    today = ledger.business_date_or_today()
    fy = request.args.get("fy") or interest.financial_year(today)
    form = TdsFormForm(fy=fy, received_on=today.isoformat())
    return render("staff/deposits/tds_forms.html", rows=tds.forms(fy), fy=fy, fys=_fy_choices(today), form=form)


@bp.post("/staff/tds/forms")
@permission_required("accounts.open")
def tds_form_new():
    """Record a Form 15G / 15H for a member and year."""
    form = TdsFormForm()
    today = ledger.business_date_or_today()
    try:
        member = deposits.get_member(form.member_no.data or "")
        received = date.fromisoformat(form.received_on.data) if form.received_on.data else today
        income = amount_of(form.estimated_income)
        row = tds.record_form(
            member, fy=form.fy.data or "", form=form.form.data, received_on=received,
            estimated_income_paise=income or None, reference=form.reference.data, by=current_staff(),
        )  # fmt: skip
    except (DomainError, ValueError) as exc:
        db.session.rollback()
        if isinstance(exc, DomainError):
            apply_domain_error(form, exc)
        else:
            form.received_on.errors = ["Use a valid date."]
        fy = form.fy.data or interest.financial_year(today)
        return render(
            "staff/deposits/tds_forms.html", status=422, rows=tds.forms(fy), fy=fy, fys=_fy_choices(today), form=form
        )
    uow.commit()
    flash(f"Form {row.form} for {row.fy} recorded for {member.name}.", "success")
    return redirect(url_for("staff.tds_forms", fy=row.fy))


def _register_args() -> tuple[str, int, date, date]:
    fy_now, q_now = tds.quarter_of(ledger.business_date_or_today())
    fy = request.args.get("fy") or fy_now
    try:
        quarter = int(request.args.get("quarter") or q_now)
        start, end = tds.quarter_bounds(fy, quarter)
    except (ValueError, DomainError):
        abort(404)
    return fy, quarter, start, end


@bp.get("/staff/tds/register")
@permission_required("reports.view")
def tds_register():
    """The quarterly 194A register: every assessed interest credit, TDS deducted, totals."""
    fy, quarter, start, end = _register_args()
    deducted_only = request.args.get("deducted") == "1"
    rows = tds.register(start, end, deducted_only=deducted_only)
    return render(
        "staff/deposits/tds_register.html",
        rows=rows,
        fy=fy,
        quarter=quarter,
        quarters=tds.QUARTERS,
        fys=_fy_choices(ledger.business_date_or_today()),
        start=start,
        end=end,
        deducted_only=deducted_only,
        reasons=tds.REASON_LABELS,
        total_interest=sum(r.deduction.interest_paise for r in rows),
        total_tds=sum(r.deduction.tds_paise for r in rows),
    )


@bp.get("/staff/tds/register.csv")
@permission_required("reports.view")
def tds_register_csv():
    """The quarterly register as CSV (full PAN, for preparing Form 26Q)."""
    import csv
    import io

    fy, quarter, start, end = _register_args()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Date", "Member", "Name", "PAN", "Account", "Interest", "TDS", "Rate %", "Reason", "Senior"])
    for r in tds.register(start, end, deducted_only=request.args.get("deducted") == "1"):
        d = r.deduction
        writer.writerow(
            [
                d.credited_on.isoformat(), r.member_no, r.member_name, d.pan or "", r.account_no,
                format_plain(d.interest_paise).replace(",", ""), format_plain(d.tds_paise).replace(",", ""),
                str(rate_of(d.rate_bp)), tds.REASON_LABELS.get(d.reason, d.reason), "Y" if d.senior else "N",
            ]
        )  # fmt: skip
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="tds-194a-{fy}-Q{quarter}.csv"'
    return response
