"""API: cash deposit and withdrawal at the counter, and internal transfers (DESIGN.md §9).

POST /api/v1/accounts/{account_no}/deposit and .../withdraw (staff with teller.operate) and
POST /api/v1/transfers (staff with transfers.create, and members from their own accounts).
All three need an Idempotency-Key; they call the same services as the staff screens.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from app.blueprints.api import bp
from app.blueprints.api.auth import api_permission, current_subject
from app.blueprints.api.common import json_body
from app.blueprints.api.idempotency import idempotent
from app.blueprints.api.openapi import api_doc, boolean, date, integer, money, obj, schema, string
from app.blueprints.forms import parse_amount_field
from app.errors import problem
from app.models.ledger import Account
from app.money import to_json
from app.services import access
from app.services.common import ValidationError, uow
from app.services.counter import teller, transfers

CASH_REQUEST = schema(
    "CashTransactionRequest",
    obj(
        amount=money("Amount in rupees as a string, at most two decimals"),
        mode=string(
            "`cash` (default; the cashier needs an open drawer) or `transfer` "
            "(with `from_account` for a deposit, `to_account` for a withdrawal)",
            enum=["cash", "transfer"],
        ),
        narration=string("Printed on the passbook", maxLength=120),
        form60_ref=string("Reference of a Form 60 collected now (cash of ₹50,000+ without PAN)", maxLength=40),
        from_account=string("Source account for a deposit by transfer"),
        to_account=string("Target account for a withdrawal by transfer"),
        required=["amount"],
    ),
)
CASH_RESULT = schema(
    "CashTransactionResult",
    obj(
        status=string(enum=["posted"]),
        entry_no=string("Journal entry number, e.g. JE00000042"),
        account_no=string(),
        type=string(enum=["deposit", "withdrawal"]),
        mode=string(enum=["cash", "transfer"]),
        amount=money(),
        balance=money("The account's balance after the transaction"),
        narration=string(),
        business_date=date(),
        ctr_flag=boolean("The member's cash this month is above the Cash Transaction Report threshold"),
        required=["status", "entry_no", "account_no", "amount", "balance"],
    ),
)
PENDING = schema(
    "ApprovalPending",
    obj(
        status=string(enum=["pending_approval"]),
        approval_id=integer("The maker-checker request; the money moves when a manager approves it"),
        account_no=string(),
        amount=money(),
        balance=money("The account's balance (unchanged until approval)"),
        required=["status", "approval_id", "amount"],
    ),
)
TRANSFER_REQUEST = schema(
    "TransferRequest",
    obj(
        from_account=string("Account to debit (members: one of their own)"),
        to_account=string("Account in this bank to credit"),
        amount=money("Amount in rupees as a string, at most two decimals"),
        mode=string("Only internal transfers here", enum=["internal", "transfer"]),
        narration=string(maxLength=120),
        required=["from_account", "to_account", "amount"],
    ),
)
TRANSFER_RESULT = schema(
    "TransferResult",
    obj(
        status=string(enum=["posted"]),
        entry_no=string(),
        account_no=string("The debited account"),
        from_account=string(),
        to_account=string(),
        amount=money(),
        balance=money("The debited account's balance after the transfer"),
        mode=string(enum=["internal"]),
        narration=string(),
        business_date=date(),
        required=["status", "entry_no", "from_account", "to_account", "amount", "balance"],
    ),
)


def _amount(data: dict[str, Any]) -> int:
    """The body's amount in paise; 422 with a field error when it is not a valid amount."""
    return parse_amount_field(data.get("amount"))


def _text(data: dict[str, Any], name: str, max_length: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError(f"{name}: a string of at most {max_length} characters.", field=name)
    return value.strip() or None


def _mode(data: dict[str, Any], allowed: tuple[str, ...], default: str) -> str:
    mode = data.get("mode") or default
    if not isinstance(mode, str) or mode.strip().lower() not in allowed:
        raise ValidationError(f"mode: one of {', '.join(allowed)}.", field="mode")
    return mode.strip().lower()


def _pending(req: Any, account: Account, amount: int) -> Response:
    body = {
        "status": "pending_approval",
        "approval_id": req.id,
        "account_no": account.account_no,
        "amount": to_json(amount),
        "balance": to_json(account.balance_paise),
    }
    return jsonify(body), 202


def _cash(direction: str, account_no: str) -> Response:
    data = json_body()
    amount = _amount(data)
    mode = _mode(data, ("cash", "transfer"), "cash")
    narration = _text(data, "narration", 120)
    staff = g.api_user
    account = teller.find_account(account_no)
    if mode == "transfer":
        other_field = "from_account" if direction == "in" else "to_account"
        other_no = _text(data, other_field, 20)
        if not other_no:
            raise ValidationError(f"{other_field}: required for mode transfer.", field=other_field)
        other = transfers.find_account(other_no, field=other_field)
        source, target = (other, account) if direction == "in" else (account, other)
        moved = transfers.transfer(source, target, amount, narration=narration, maker=staff, channel="api")
        uow.commit()
        if moved.pending:
            return _pending(moved.approval, account, amount)
        entry, ctr_flag = moved.entry, False
    else:
        post = teller.cash_deposit if direction == "in" else teller.cash_withdrawal
        result = post(
            teller.current_drawer(staff),
            account,
            amount,
            cashier=staff,
            narration=narration,
            form60_ref=_text(data, "form60_ref", 40),
            channel="api",
        )
        uow.commit()
        if result.pending:
            return _pending(result.approval, account, amount)
        entry, ctr_flag = result.entry, result.ctr_flag
    body = {
        "status": "posted",
        "entry_no": entry.number,
        "account_no": account.account_no,
        "type": "deposit" if direction == "in" else "withdrawal",
        "mode": mode,
        "amount": to_json(amount),
        "balance": to_json(account.balance_paise),
        "narration": entry.narration,
        "business_date": entry.business_date.isoformat(),
        "ctr_flag": ctr_flag,
    }
    return jsonify(body), 201


@bp.post("/v1/accounts/<account_no>/deposit")
@api_doc(
    "Deposit to an account (cash at the counter, or by transfer)",
    tags=["counter"],
    description="Cash needs the calling cashier's drawer open for the business date. Cash of ₹50,000 or more "
    "in a day needs the member's PAN or Form 60 (`form60_ref`). Frozen and closed accounts are refused (422).",
    request=CASH_REQUEST,
    responses={201: ("The posted deposit", CASH_RESULT), 202: ("Sent for approval", PENDING), 404: "No such account"},
)
@api_permission("teller.operate")
@idempotent
def counter_deposit(account_no: str) -> Response:
    """Cash (or transfer) deposit to ``account_no``."""
    return _cash("in", account_no)


@bp.post("/v1/accounts/<account_no>/withdraw")
@api_doc(
    "Withdraw from an account (cash at the counter, or by transfer)",
    tags=["counter"],
    description="Refused (422, nothing posted) beyond the balance or below the minimum balance, or when the "
    "drawer lacks the cash. Withdrawals above the large-withdrawal threshold answer 202 and post on approval.",
    request=CASH_REQUEST,
    responses={
        201: ("The posted withdrawal", CASH_RESULT),
        202: ("Sent for approval", PENDING),
        404: "No such account",
    },
)
@api_permission("teller.operate")
@idempotent
def counter_withdraw(account_no: str) -> Response:
    """Cash (or transfer) withdrawal from ``account_no``."""
    return _cash("out", account_no)


@bp.post("/v1/transfers")
@api_doc(
    "Internal transfer between two accounts in the bank",
    tags=["counter"],
    description="Members may only debit their own accounts (another account answers 404). Staff transfers "
    "above the large-transfer threshold answer 202 and post on approval.",
    request=TRANSFER_REQUEST,
    responses={
        201: ("The posted transfer", TRANSFER_RESULT),
        202: ("Sent for approval", PENDING),
        404: "No such account",
    },
)
@api_permission("transfers.create", allow_members=True)
@idempotent
def transfer_create() -> Response:
    """Transfer money from one account to another."""
    data = json_body()
    amount = _amount(data)
    _mode(data, ("internal", "transfer"), "internal")
    from_no = _text(data, "from_account", 20)
    to_no = _text(data, "to_account", 20)
    missing = {
        name: ["This field is required."] for name, v in (("from_account", from_no), ("to_account", to_no)) if not v
    }
    if missing:
        raise ValidationError(f"Check the field(s): {', '.join(missing)}.", errors=missing)
    narration = _text(data, "narration", 120)
    subject = current_subject()
    if subject.kind == "member":
        access.visible_account(subject, from_no)  # a member debits only an account they hold (else 404)
        if access.member_auth.transfer_code_needed(amount):
            return problem(
                428,
                "Code required",
                "Transfers of this size need an SMS code: send them to POST /api/v1/me/transfers.",
                type_="otp-required",
            )
        result = transfers.transfer_by_number(
            from_no, to_no, amount, narration=narration, member_id=access.member_id_of(subject), channel="api"
        )
    else:
        result = transfers.transfer_by_number(
            from_no, to_no, amount, narration=narration, maker=g.api_user, channel="api"
        )
    uow.commit()
    if result.pending:
        return _pending(result.approval, result.source, amount)
    entry = result.entry
    body = {
        "status": "posted",
        "entry_no": entry.number,
        "account_no": result.source.account_no,
        "from_account": result.source.account_no,
        "to_account": result.target.account_no,
        "amount": to_json(amount),
        "balance": to_json(result.source.balance_paise),
        "mode": "internal",
        "narration": entry.narration,
        "business_date": entry.business_date.isoformat(),
    }
    return jsonify(body), 201
