"""The member's own data over the API: /api/v1/me/accounts, /me/loans, statement PDFs and
transfers with an SMS code above ``PORTAL_TRANSFER_OTP_PAISE``.

Every read goes through ``access.scoping`` with the token's subject: another member's
account, loan or statement answers 404 exactly like one that does not exist. Money moves
only through the counter face's transfer service, exactly once per ``Idempotency-Key``
(the key is part of the ledger entry's idempotency key, so a retry returns the posted
transfer). The code step commits its attempt counter, so it is not wrapped in
``@idempotent`` (which rolls back every refusal).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify, make_response, request
from flask_babel import get_locale
from sqlalchemy import select

from app.blueprints.api import bp
from app.blueprints.api.auth import api_member, current_subject
from app.blueprints.api.common import domain_problem, json_body
from app.blueprints.api.openapi import api_doc, array, boolean, integer, money, obj, ref, schema, string
from app.errors import problem
from app.extensions import db, limiter
from app.jobs import enqueue
from app.jobs.statements import make_statement
from app.models.ledger import JournalEntry
from app.money import MoneyError, parse_amount, to_json
from app.services import access, loans
from app.services.access import member_auth
from app.services.common import AuthError, NotFound, ValidationError, notifications, uow
from app.services.common import validators as v
from app.services.counter import transfers
from app.services.deposits import statements
from app.settings import setting

TYPES = {"savings": "savings", "fd": "fd", "rd": "rd", "share": "share", "loan": "loan"}
PROBLEM = ref("Problem")
MY_ACCOUNT = schema(
    "MyAccount",
    obj(
        account_no=string(),
        masked=string("The number with all but the last four characters hidden"),
        type=string(enum=list(TYPES)),
        balance=money(),
        status=string(enum=["active", "dormant", "frozen", "closed"]),
        joint=boolean("true when the member is a joint (not the first) holder"),
        required=["account_no", "type", "balance", "status"],
    ),
)
MY_ACCOUNTS = schema("MyAccounts", obj(items=array(MY_ACCOUNT), required=["items"]))
MY_LOAN = schema(
    "MyLoan",
    obj(
        loan_no=string(),
        product_code=string(),
        principal=money(),
        annual_rate=string("Per cent a year"),
        months=integer(),
        status=string(),
        outstanding_principal=money(),
        overdue=money(),
        next_due_date=string(format="date"),
        next_due_amount=money(),
        required=["loan_no", "status", "outstanding_principal"],
    ),
)
MY_LOANS = schema("MyLoans", obj(items=array(MY_LOAN), required=["items"]))
STATEMENT_JOB = schema(
    "StatementJob",
    obj(
        statement_id=string(),
        status=string(enum=["queued", "running", "ready", "failed"]),
        lines=integer(),
        pages=integer(),
        required=["statement_id", "status"],
    ),
)
MY_TRANSFER = schema(
    "MemberTransferRequest",
    obj(
        from_account=string("One of the member's own savings accounts"),
        to_account=string("Any account number in the society (own or another member's)"),
        amount=money(),
        narration=string(),
        otp=string("The SMS code, for amounts above the code threshold (sent by the first call)"),
        required=["from_account", "to_account", "amount"],
    ),
)
MY_TRANSFER_RESULT = schema(
    "MemberTransferResult",
    obj(
        status=string(enum=["posted"]),
        entry_no=string(),
        from_account=string(),
        to_account=string(),
        amount=money(),
        balance=money("The source account's balance after the transfer"),
        required=["status", "entry_no", "from_account", "to_account", "amount", "balance"],
    ),
)
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


def _limit() -> str:
    return str(setting("RATELIMIT_PORTAL"))


def _login():
    return current_subject().entity


def account_json(account, member_id: int) -> dict[str, Any]:
    return {
        "account_no": account.account_no,
        "masked": statements.mask_account(account.account_no),
        "type": TYPES.get(account.kind, account.kind),
        "balance": to_json(account.balance_paise),
        "status": account.status,
        "joint": account.member_id != member_id,
    }


def loan_json(loan) -> dict[str, Any]:
    s = loans.summary(loan)
    return {
        "loan_no": loan.loan_no,
        "product_code": loan.product.code if loan.product else None,
        "principal": to_json(loan.principal_paise),
        "annual_rate": f"{loan.rate_bp / 100:.2f}",
        "months": loan.months,
        "status": loan.status,
        "outstanding_principal": to_json(s.outstanding_paise),
        "overdue": to_json(s.overdue_paise),
        "dpd": loan.dpd,
        "next_due_date": s.next_due_date.isoformat() if s.next_due_date else None,
        "next_due_amount": to_json(s.next_due_paise),
    }


@bp.get("/v1/me/accounts")
@api_doc("My accounts", tags=["me"], responses={200: ("The member's accounts (first and joint holder)", MY_ACCOUNTS)})
@api_member
def my_accounts() -> Response:
    login = _login()
    items = [account_json(a, login.member_id) for a in access.visible_accounts(login)]
    return jsonify({"items": items})


@bp.get("/v1/me/loans")
@api_doc("My loans", tags=["me"], responses={200: ("The member's loans, newest first", MY_LOANS)})
@api_member
def my_loans() -> Response:
    member = access.own_member(_login())
    return jsonify({"items": [loan_json(loan) for loan in loans.member_loans(member)]})


def _date_arg(name: str) -> date:
    raw = (request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a date like 2026-04-01.", field=name) from None


def _pdf(data: bytes, name: str) -> Response:
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _job_json(row) -> dict[str, Any]:
    return {"statement_id": row.token, "status": row.status, "lines": row.lines, "pages": row.pages}


@bp.get("/v1/me/statements")
@api_doc(
    "Download a statement (PDF)",
    tags=["me"],
    description="One of the member's accounts over a period (at most STATEMENT_MAX_DAYS days). Small "
    "statements answer the PDF at once; longer ones answer 202 with a `statement_id` to poll at "
    "/api/v1/me/statements/{statement_id}. Labels follow Accept-Language (en, hi).",
    query={"account_no": string(), "from": string(format="date"), "to": string(format="date")},
    responses={
        200: ("The statement", PDF),
        202: ("Being made; poll it", STATEMENT_JOB),
        404: ("No such account", PROBLEM),
    },
)
@api_member
@limiter.limit(_limit)
def my_statement() -> Response | tuple[Response, int]:
    login = _login()
    account = access.visible_account(login, request.args.get("account_no") or "")
    start, end = _date_arg("from"), _date_arg("to")
    result = statements.statement_pdf(account, start, end, language=_language(), member_id=login.member_id)
    uow.commit()
    if isinstance(result, statements.Rendered):
        return _pdf(result.pdf, statements.filename(account, start, end))
    enqueue(make_statement, result.id)
    return jsonify(_job_json(result)), 202


@bp.get("/v1/me/statements/<statement_id>")
@api_doc(
    "A statement being made",
    tags=["me"],
    responses={
        200: ("The PDF, when ready", PDF),
        202: ("Still being made", STATEMENT_JOB),
        404: ("No such statement", PROBLEM),
    },
)
@api_member
def my_statement_file(statement_id: str) -> Response | tuple[Response, int]:
    row = statements.find_file(statement_id, member_id=_login().member_id)
    if row.status == "ready" and row.pdf:
        return _pdf(row.pdf, statements.filename(row.account, row.start_date, row.end_date))
    return jsonify(_job_json(row)), (202 if row.status in ("queued", "running") else 200)


def _language() -> str:
    return str(get_locale() or "en")


def otp_required_problem(login) -> Response:
    """Send the transfer code and answer 428: repeat the same request with ``otp``."""
    member_auth.issue_otp(login, "transfer")
    uow.commit()
    notifications.dispatch()
    return problem(
        428,
        "Code required",
        f"Transfers above {to_json(int(setting('PORTAL_TRANSFER_OTP_PAISE')))} need the code we sent by SMS to "
        f'{v.mask_mobile(login.mobile)}. Send the same request again with "otp": "<code>".',
        type_="otp-required",
    )


@bp.post("/v1/me/transfers")
@api_doc(
    "Transfer from my account",
    tags=["me"],
    description="From one of the member's own savings accounts to any account in the society. Above the "
    "code threshold the first call sends a 6-digit SMS code and answers 428 (`otp-required`); repeat it "
    "with `otp`. Wrong codes are counted (then the code dies), codes expire. Needs an `Idempotency-Key` "
    "header: a retry with the same key returns the posted transfer and moves no money twice.",
    request=MY_TRANSFER,
    responses={
        201: ("Posted", MY_TRANSFER_RESULT),
        404: ("No such account (another member's source account included)", PROBLEM),
        428: ("An SMS code is needed; it was sent", PROBLEM),
    },
    rate_limited=True,
)
@api_member
@limiter.limit(_limit)
def my_transfer() -> Response | tuple[Response, int]:
    login = _login()
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > 80:
        raise ValidationError("Send an Idempotency-Key header (at most 80 characters).", field="Idempotency-Key")
    data = json_body()
    try:
        amount = parse_amount(data.get("amount"))
    except MoneyError as exc:
        raise ValidationError(str(exc), field="amount") from None
    source = access.visible_account(login, str(data.get("from_account") or ""), kinds=("savings",))
    if source.member_id != login.member_id:
        raise NotFound(f"No account {data.get('from_account')!r}.")
    to_no = str(data.get("to_account") or "").strip().upper()
    if not to_no:
        raise ValidationError("Give to_account.", field="to_account")
    narration = str(data.get("narration") or "").strip()[:80] or None
    ledger_key = f"api-member:{login.id}:{key}"
    if member_auth.transfer_code_needed(amount) and not _already_posted(ledger_key):
        code = str(data.get("otp") or "").strip()
        if not code:
            return otp_required_problem(login)
        try:
            member_auth.check_code(login, "transfer", code)
        except AuthError as exc:
            uow.commit()  # keep the attempt counter
            return domain_problem(exc)
    result = transfers.transfer_by_number(
        source.account_no,
        to_no,
        amount,
        narration=narration,
        member_id=login.member_id,
        channel="api",
        idempotency_key=ledger_key,
    )
    uow.commit()
    body = {
        "status": "posted",
        "entry_no": result.entry.number,
        "from_account": result.source.account_no,
        "to_account": result.target.account_no,
        "amount": to_json(amount),
        "balance": to_json(result.source.balance_paise),
    }
    response = jsonify(body)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


def _already_posted(ledger_key: str) -> bool:
    return db.session.scalar(select(JournalEntry.id).where(JournalEntry.idempotency_key == ledger_key)) is not None
