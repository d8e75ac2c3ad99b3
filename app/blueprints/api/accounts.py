"""API: open and read deposit accounts, and the transaction history (DESIGN.md §9).

POST /api/v1/accounts (staff with accounts.open; Idempotency-Key) opens a savings, fixed or
recurring deposit; GET /api/v1/accounts/{account_no} reads one; GET /api/v1/transactions
lists postings with running balances. Members may read only accounts they hold and their
own transactions: any other account or member number answers 404.
"""

from __future__ import annotations

from datetime import date as date_type
from typing import Any

from flask import Response, g, jsonify, request

from app.blueprints.api import bp
from app.blueprints.api.auth import api_permission, current_subject
from app.blueprints.api.common import json_body
from app.blueprints.api.idempotency import idempotent
from app.blueprints.api.openapi import api_doc, array, date, integer, money, obj, schema, string
from app.blueprints.api.serializers import account_json, line_json
from app.models.deposits import DEPOSIT_KINDS, FD_PAYOUTS, MATURITY_ACTIONS
from app.models.ledger import ACCOUNT_STATUSES
from app.money import MoneyError, parse_amount, to_json
from app.services import access, deposits
from app.services.common import ValidationError, uow
from app.services.deposits import passbook

ACCOUNT = schema(
    "DepositAccount",
    obj(
        account_no=string("Product prefix + serial + check digit", example="SB00000013"),
        type=string(enum=list(DEPOSIT_KINDS)),
        status=string(enum=list(ACCOUNT_STATUSES)),
        status_reason=string(),
        balance=money(),
        interest_rate=string("Annual rate in per cent (savings: the rate in force today)", example="7.25"),
        member_no=string(),
        product_code=string(),
        product_name=string(),
        opened_on=date(),
        closed_on=date(),
        joint_holders=array(string(), "Member numbers of joint holders"),
        minimum_balance=money("Savings: the product minimum balance"),
        available_balance=money("Savings: what may be withdrawn"),
        principal=money("FD principal"),
        installment=money("RD monthly instalment"),
        months=integer(),
        days=integer(),
        start_date=date(),
        maturity_date=date(),
        maturity_amount=money("FD / RD: expected amount at maturity"),
        payout=string(enum=list(FD_PAYOUTS)),
        maturity_action=string(enum=list(MATURITY_ACTIONS)),
        payout_account=string("Savings account that receives payouts / maturity"),
        installments_paid=integer(),
        installments_total=integer(),
        si_account=string("RD: savings account of the standing instruction"),
        required=["account_no", "type", "status", "balance", "interest_rate"],
    ),
)
OPEN_ACCOUNT = schema(
    "OpenAccountRequest",
    obj(
        member_no=string(),
        type=string(enum=list(DEPOSIT_KINDS)),
        product_code=string("Defaults to the type's default product"),
        principal=money("FD principal, or the opening deposit of a savings account"),
        months=integer("FD / RD tenure in months"),
        days=integer("FD tenure: extra days"),
        installment=money("RD monthly instalment (the first is collected now)"),
        payout=string(enum=list(FD_PAYOUTS)),
        maturity_action=string(enum=list(MATURITY_ACTIONS)),
        payout_account=string("Member's savings account for FD payouts / maturity"),
        si_account=string("RD: savings account for the standing instruction"),
        funding=obj(
            mode=string(enum=["cash", "transfer"]),
            from_account=string("Member's savings account (mode transfer)"),
            form60_ref=string("Mode cash: reference of a Form 60 collected now (₹50,000+ without PAN)"),
        ),
        joint_holders=array(string(), "Member numbers of joint holders"),
        nominee_id=integer("One of the member's registered nominees"),
        required=["member_no", "type"],
    ),
)
TRANSACTION = schema(
    "Transaction",
    obj(
        entry_no=string(),
        date=date("Business date"),
        value_date=date(),
        account_no=string(),
        narration=string(),
        mode=string("Cash, Transfer, Interest, TDS, Charges …"),
        kind=string(),
        channel=string(),
        debit=money(),
        credit=money(),
        balance=money("The account's balance after this line"),
    ),
)
TRANSACTIONS = schema(
    "TransactionPage",
    obj(
        items=array(TRANSACTION),
        page=integer(),
        per_page=integer(),
        total=integer(),
        pages=integer(),
        opening_balance=money("Balance brought forward (single account only)"),
        closing_balance=money("Balance at the end of the range (single account only)"),
    ),
)


# ---------------------------------------------------------------- helpers


def _money_field(data: dict[str, Any], *names: str) -> int:
    for name in names:
        if data.get(name) not in (None, ""):
            try:
                return parse_amount(data[name], field=name)
            except MoneyError as exc:
                raise ValidationError(str(exc), field=name) from exc
    return 0


def _int_field(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError(f"{name}: a whole number.", field=name)
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise ValidationError(f"{name}: a whole number.", field=name)
    return int(text)


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name}: a string.", field=name)
    return value.strip()[:40] or None


def open_request(data: dict[str, Any]) -> deposits.OpenRequest:
    """Turn the JSON body into an OpenRequest (money parsed strictly; no floats)."""
    kind = data.get("type")
    if kind not in DEPOSIT_KINDS:
        raise ValidationError("type: savings, fd or rd.", field="type")
    member_no = _text(data, "member_no")
    if not member_no:
        raise ValidationError("member_no: required.", field="member_no")
    funding = data.get("funding") or {}
    if not isinstance(funding, dict):
        raise ValidationError("funding: an object with mode and from_account.", field="funding")
    joint = data.get("joint_holders") or []
    if not isinstance(joint, list) or not all(isinstance(x, str) for x in joint):
        raise ValidationError("joint_holders: a list of member numbers.", field="joint_holders")
    nominee = data.get("nominee_id")
    if nominee is not None and (isinstance(nominee, bool) or not isinstance(nominee, int)):
        raise ValidationError("nominee_id: a number.", field="nominee_id")
    principal = _money_field(data, "principal", "amount")
    installment = _money_field(data, "installment")
    return deposits.OpenRequest(
        member_no=member_no,
        kind=kind,
        product_code=_text(data, "product_code"),
        amount_paise=principal,
        months=_int_field(data, "months"),
        days=_int_field(data, "days"),
        installment_paise=installment,
        payout=_text(data, "payout") or "cumulative",
        maturity_action=_text(data, "maturity_action") or "credit_sb",
        funding_mode=_text(funding, "mode") or "cash",
        from_account_no=_text(funding, "from_account"),
        form60_ref=_text(funding, "form60_ref"),
        payout_account_no=_text(data, "payout_account"),
        si_account_no=_text(data, "si_account"),
        joint_member_nos=joint,
        nominee_id=nominee,
    )


def _date_arg(name: str) -> date_type | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date_type.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError(f"{name}: an ISO date, YYYY-MM-DD.", field=name) from exc


def _page_args() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", passbook.DEFAULT_PER_PAGE))
    except ValueError as exc:
        raise ValidationError("page and per_page are whole numbers.", field="page") from exc
    if page < 1 or not 1 <= per_page <= passbook.MAX_PER_PAGE:
        raise ValidationError(f"page ≥ 1 and per_page from 1 to {passbook.MAX_PER_PAGE}.", field="page")
    return page, per_page


# ---------------------------------------------------------------- views


@bp.post("/v1/accounts")
@api_doc(
    "Open a savings, fixed or recurring deposit",
    tags=["accounts"],
    description="For an active member with approved KYC. FD needs `principal` and a tenure (`months`, "
    "`days`); RD needs `installment` and `months` (the first instalment is collected now). Money comes "
    "in cash — received into the API user's open cash drawer under the counter's rules (PAN or Form 60 "
    "at ₹50,000, cash register) — or by transfer from the member's savings account (`funding`).",
    request=OPEN_ACCOUNT,
    responses={201: ("The new account", ACCOUNT)},
)
@api_permission("accounts.open")
@idempotent
def account_open() -> tuple[Response, int]:
    """Open a deposit account."""
    req = open_request(json_body())
    account = deposits.open_account(req, by=g.api_user, channel="api")
    uow.commit()
    return jsonify(account_json(account)), 201


@bp.get("/v1/accounts/<account_no>")
@api_doc(
    "Read a deposit account",
    tags=["accounts"],
    description="Members may read accounts they hold (first or joint holder); others answer 404.",
    responses={200: ("The account", ACCOUNT), 404: "No such account"},
)
@api_permission("accounts.view", allow_members=True)
def account_read(account_no: str) -> Response:
    """One deposit account with its balance and rate."""
    account = access.visible_account(current_subject(), account_no, kinds=DEPOSIT_KINDS)
    return jsonify(account_json(account))


@bp.get("/v1/transactions")
@api_doc(
    "Transaction history with running balances",
    tags=["accounts"],
    description="Filter by `account_no` or `member_no` (staff need one of them) and a date range. Members "
    "see only their own accounts: another member's account or number answers 404.",
    query={
        "account_no": string(),
        "member_no": string(),
        "from": date("First business date (inclusive)"),
        "to": date("Last business date (inclusive)"),
        "page": integer(),
        "per_page": integer(f"1 to {passbook.MAX_PER_PAGE}"),
    },
    responses={200: ("A page of transactions", TRANSACTIONS), 404: "No such account or member"},
)
@api_permission("accounts.view", allow_members=True)
def transactions_list() -> Response:
    """Postings to one account, or to every account of a member."""
    start, end = _date_arg("from"), _date_arg("to")
    if start and end and start > end:
        raise ValidationError("from is after to.", field="from")
    page, per_page = _page_args()
    scope = access.visible_entries(
        current_subject(), account_no=request.args.get("account_no"), member_no=request.args.get("member_no")
    )
    accounts = scope.accounts
    if not accounts:
        body = {"items": [], "page": page, "per_page": per_page, "total": 0, "pages": 1}
        return jsonify(body)
    stmt = passbook.transactions(accounts, start, end, page=page, per_page=per_page)
    body = {
        "items": [line_json(ln) for ln in stmt.lines],
        "page": stmt.page,
        "per_page": stmt.per_page,
        "total": stmt.total,
        "pages": stmt.pages,
    }
    if scope.single:
        body["opening_balance"] = to_json(stmt.opening_paise)
        body["closing_balance"] = to_json(stmt.closing_paise)
    return jsonify(body)
