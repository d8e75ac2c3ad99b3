"""API: loans — apply, read, sanction, disburse, schedule, repayments, foreclosure quote (DESIGN.md §9).

Members may apply for and read their own loans only; another member's loan answers 404,
exactly as a loan that does not exist. Repayments need an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, after_this_request, g, jsonify

from app import jobs
from app.blueprints.api import bp
from app.blueprints.api.auth import api_permission, current_subject
from app.blueprints.api.common import json_body
from app.blueprints.api.idempotency import idempotent
from app.blueprints.api.openapi import api_doc, array, date, integer, money, obj, schema, string
from app.extensions import db
from app.jobs import payments as payment_jobs
from app.models.loans import ASSET_CLASSES, LOAN_STATUSES, Loan, rate_of
from app.models.members import Member
from app.money import MoneyError, parse_amount, to_json
from app.services import loans, payments
from app.services.access import member_id_of
from app.services.common import NotFound, ValidationError, uow
from app.services.ledger import calendar

LOAN = schema(
    "Loan",
    obj(
        loan_no=string("Product prefix + serial + check digit", example="PL00000013"),
        member_no=string(),
        product_code=string(),
        principal=money("The sanctioned amount"),
        disbursed=money("Released so far (less than principal while tranches remain)"),
        annual_rate=string("Per cent a year", example="12.00"),
        months=integer(),
        status=string(enum=list(LOAN_STATUSES)),
        outstanding_principal=money(),
        overdue=money("Instalment arrears due before today"),
        penal_due=money("Penal charges accrued and unpaid"),
        dpd=integer("Days past due"),
        asset_class=string(enum=list(ASSET_CLASSES)),
        next_due_date=date(),
        next_due_amount=money(),
        emi=money(),
        purpose=string(),
        required=["loan_no", "member_no", "product_code", "principal", "annual_rate", "months", "status"],
    ),
)
APPLY = schema(
    "LoanApplication",
    obj(
        member_no=string("Staff: the borrower; members: their own number (may be omitted)"),
        product_code=string("Defaults to the default product (personal loan)"),
        principal=money(),
        months=integer(),
        annual_rate=string("Defaults to the product's rate"),
        purpose=string(),
        guarantors=array(string(), "Member numbers of guarantors"),
        deposit_account=string("Loan against a deposit: the deposit put under lien"),
        si_account=string("Savings account debited on each due date"),
        required=["principal", "months"],
    ),
)
SCHEDULE = schema(
    "LoanSchedule",
    obj(
        loan_no=string(),
        version=integer(),
        schedule=array(
            obj(
                installment=integer(),
                due_date=date(),
                emi=money(),
                principal=money(),
                interest=money(),
                balance=money(),
                paid=money(),
                status=string(enum=["due", "partial", "paid"]),
            )
        ),
    ),
)
REPAYMENT = schema(
    "LoanRepaymentRequest",
    obj(
        amount=money(),
        mode=string(enum=["cash", "transfer"]),
        from_account=string("Savings account (mode transfer)"),
        reduce=string("An excess prepays principal: shorter tenure (default) or lower EMI", enum=["tenure", "emi"]),
        required=["amount", "mode"],
    ),
)
RECEIPT = schema(
    "LoanRepayment",
    obj(
        loan_no=string(),
        entry_no=string(),
        amount=money(),
        penal=money(),
        interest=money(),
        principal=money(),
        prepayment=money(),
        status=string(),
        outstanding_principal=money(),
    ),
)
QUOTE = schema(
    "ForeclosureQuote",
    obj(
        loan_no=string(),
        date=date(),
        penal=money(),
        interest_due=money(),
        broken_period_interest=money(),
        principal=money(),
        foreclosure_charge=money(),
        total=money(),
    ),
)


def _visible(loan_no: str) -> Loan:
    """404 unless the caller may see the loan (staff: any; members: their own)."""
    own = member_id_of(current_subject())
    try:
        loan = loans.get_loan(loan_no)
    except NotFound:
        raise NotFound("No such loan.") from None
    if own is not None and loan.member_id != own:
        raise NotFound("No such loan.")
    return loan


def loan_json(loan: Loan) -> dict[str, Any]:
    """The API shape of a loan (the same summary the staff page shows)."""
    s = loans.summary(loan)
    return {
        "loan_no": loan.loan_no,
        "member_no": loan.member.member_no,
        "product_code": loan.product.code,
        "principal": to_json(loan.principal_paise),
        "disbursed": to_json(loans.disbursed_paise(loan)),
        "annual_rate": str(rate_of(loan.rate_bp)),
        "months": loan.months,
        "status": loan.status,
        "outstanding_principal": to_json(s.outstanding_paise),
        "overdue": to_json(s.overdue_paise),
        "penal_due": to_json(s.penal_due_paise),
        "dpd": loan.dpd,
        "asset_class": loan.asset_class,
        "next_due_date": s.next_due_date.isoformat() if s.next_due_date else None,
        "next_due_amount": to_json(s.next_due_paise) if s.next_due_date else None,
        "emi": to_json(loan.emi_paise or 0),
        "purpose": loan.purpose,
    }


def _money(data: dict[str, Any], name: str, *, required: bool = True) -> int:
    if data.get(name) in (None, ""):
        if required:
            raise ValidationError(f"{name}: required.", field=name)
        return 0
    try:
        return parse_amount(data[name], field=name)
    except MoneyError as exc:
        raise ValidationError(str(exc), field=name) from exc


def _rate_bp(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        paise = parse_amount(value, field="annual_rate")  # "12.50" → 1250 (two decimals, no floats)
    except MoneyError as exc:
        raise ValidationError('annual_rate: a rate such as "12.50".', field="annual_rate") from exc
    return paise


def _months(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ValidationError("months: a whole number.", field="months")
    return int(str(value).strip())


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name}: a string.", field=name)
    return value.strip() or None


def application_from(data: dict[str, Any], own_member_id: int | None) -> loans.Application:
    member_no = _text(data, "member_no")
    if own_member_id is not None:
        me = db.session.get(Member, own_member_id)
        if member_no and me is not None and member_no.upper() != me.member_no:
            raise NotFound("No such member.")
        member_no = me.member_no if me is not None else None
    if not member_no:
        raise ValidationError("member_no: required.", field="member_no")
    guarantors = data.get("guarantors") or []
    if not isinstance(guarantors, list) or not all(isinstance(x, str) for x in guarantors):
        raise ValidationError("guarantors: a list of member numbers.", field="guarantors")
    return loans.Application(
        member_no=member_no,
        principal_paise=_money(data, "principal"),
        months=_months(data.get("months")),
        product_code=_text(data, "product_code"),
        rate_bp=_rate_bp(data.get("annual_rate")),
        purpose=_text(data, "purpose"),
        guarantor_nos=guarantors,
        lien_account_no=_text(data, "deposit_account"),
        lien_paise=_money(data, "lien_amount", required=False),
        si_account_no=_text(data, "si_account"),
    )


@bp.post("/v1/loans")
@api_doc(
    "Apply for a loan",
    tags=["loans"],
    description="Staff apply for a member; a member applies for themselves. The terms are checked against "
    "the product (default: the personal loan) and the member must be active with current KYC.",
    request=APPLY,
    responses={201: ("The application", LOAN)},
)
@api_permission("loans.manage", allow_members=True)
def loan_apply() -> tuple[Response, int]:
    own = member_id_of(current_subject())
    application = application_from(json_body(), own)
    by = g.api_user if own is None else None
    loan = loans.apply(application, by=by, channel="api")
    uow.commit()
    return jsonify(loan_json(loan)), 201


@bp.get("/v1/loans/<loan_no>")
@api_doc("Read a loan", tags=["loans"], responses={200: ("The loan", LOAN), 404: "No such loan"})
@api_permission("loans.view", allow_members=True)
def loan_read(loan_no: str) -> Response:
    return jsonify(loan_json(_visible(loan_no)))


@bp.post("/v1/loans/<loan_no>/approve")
@api_doc(
    "Sanction a loan (checker)",
    tags=["loans"],
    description="A different user from the one who took or appraised the application, within the sanction "
    "limit of their role for the product.",
    request=schema("LoanApproval", obj(remarks=string())),
    responses={200: ("The sanctioned loan", LOAN)},
)
@api_permission("loans.approve")
def loan_approve(loan_no: str) -> Response:
    data = json_body()
    loan = loans.sanction(_visible(loan_no), by=g.api_user, remarks=_text(data, "remarks"))
    uow.commit()
    return jsonify(loan_json(loan))


@bp.post("/v1/loans/<loan_no>/disburse")
@api_doc(
    "Disburse a sanctioned loan",
    tags=["loans"],
    description="Credits the member's savings account `to_account` (processing fee and GST deducted); "
    "`mode: cash` pays from the API user's open cash drawer; `mode: payout` sends the net amount to one of the "
    "member's saved beneficiaries (`beneficiary_id`, past its cooling period) by `payout_mode` NEFT (default), "
    "IMPS or RTGS through RazorpayX: Dr loan / Cr payouts in transit at once, the answer carries the `payout` "
    "(sent after the commit; a failed or reversed payout is credited to the member's savings account). "
    "`amount` (optional, default all that is left) releases a tranche on products disbursed in tranches; called "
    "again on an active loan it releases the next.",
    request=schema(
        "LoanDisbursement",
        obj(
            to_account=string("mode transfer: the member's savings account"),
            mode=string(enum=["transfer", "cash", "payout"]),
            beneficiary_id=integer("mode payout: the id of one of the member's saved beneficiaries"),
            payout_mode=string(enum=list(payments.external.OUT_MODES), description="mode payout (default NEFT)"),
            amount=money(),
        ),
    ),
    responses={200: ("The active loan (with `payout` for mode payout)", LOAN)},
)
@api_permission("loans.disburse")
@idempotent
def loan_disburse(loan_no: str) -> Response:
    data = json_body()
    amount = _money(data, "amount", required=False) or None
    mode = _text(data, "mode") or "transfer"
    if mode == "payout":
        return _disburse_by_payout(_visible(loan_no), data, amount)
    loan = loans.disburse(_visible(loan_no), by=g.api_user, to_account_no=_text(data, "to_account"),
                          mode=mode, amount_paise=amount, channel="api")  # fmt: skip
    uow.commit()
    return jsonify(loan_json(loan))


def _disburse_by_payout(loan: Loan, data: dict[str, Any], amount: int | None) -> Response:
    payout = payments.disburse_loan(loan, beneficiary_id=data.get("beneficiary_id"), by=g.api_user,
                                    mode=_text(data, "payout_mode") or "NEFT", amount_paise=amount, channel="api")  # fmt: skip
    uow.commit()
    pk, queued = payout.id, payout.status == "queued"

    @after_this_request
    def _send(response: Response) -> Response:  # after the commit: the disbursement is saved before sending
        if queued and response.status_code == 200:
            jobs.enqueue(payment_jobs.send_payout, pk)
        return response

    body = loan_json(loan)
    body["payout"] = {"payout_id": payout.payout_id, "status": payout.status, "amount": to_json(payout.amount_paise),
                      "mode": payout.mode, "beneficiary_id": payout.beneficiary_id, "utr": payout.utr}  # fmt: skip
    return jsonify(body)


@bp.get("/v1/loans/<loan_no>/schedule")
@api_doc("The stored repayment schedule", tags=["loans"], responses={200: ("The schedule", SCHEDULE)})
@api_permission("loans.view", allow_members=True)
def loan_schedule(loan_no: str) -> Response:
    loan = _visible(loan_no)
    rows = loans.schedule.rows(loan) if loan.schedule_version else []
    return jsonify(
        {
            "loan_no": loan.loan_no,
            "version": loan.schedule_version,
            "schedule": [
                {
                    "installment": r.installment,
                    "due_date": r.due_date.isoformat(),
                    "emi": to_json(r.emi_paise),
                    "principal": to_json(r.principal_paise),
                    "interest": to_json(r.interest_paise),
                    "balance": to_json(r.closing_principal_paise),
                    "paid": to_json(r.paid_paise),
                    "status": r.status,
                }
                for r in rows
            ],
        }
    )


@bp.post("/v1/loans/<loan_no>/repayments")
@api_doc(
    "Repay a loan",
    tags=["loans"],
    description="Allocated to penal charges, overdue interest, overdue principal, then the current instalment; "
    "any excess prepays principal. A payment equal to the foreclosure quote closes the loan; more is refused.",
    request=REPAYMENT,
    responses={201: ("The receipt", RECEIPT)},
)
@api_permission("loans.repay")
@idempotent
def loan_repay(loan_no: str) -> tuple[Response, int]:
    data = json_body()
    loan = _visible(loan_no)
    result = loans.repay(
        loan, _money(data, "amount"), mode=_text(data, "mode") or "", by=g.api_user,
        from_account_no=_text(data, "from_account"), reduce=_text(data, "reduce") or "tenure", channel="api",
        form60_ref=_text(data, "form60_ref"),
    )  # fmt: skip
    uow.commit()
    a = result.allocation
    body = {
        "loan_no": loan.loan_no,
        "entry_no": result.entry.number if result.entry is not None else None,
        "amount": data.get("amount") and to_json(_money(data, "amount")),
        "penal": to_json(a.penal_paise if a else 0),
        "interest": to_json(a.interest_paise if a else 0),
        "principal": to_json(a.principal_paise - a.prepayment_paise if a else 0),
        "prepayment": to_json(a.prepayment_paise if a else 0),
        "status": result.loan.status,
        "outstanding_principal": to_json(result.loan.outstanding_paise),
    }
    return jsonify(body), 201


@bp.get("/v1/loans/<loan_no>/foreclosure-quote")
@api_doc("What closes the loan today", tags=["loans"], responses={200: ("The quote", QUOTE)})
@api_permission("loans.view", allow_members=True)
def loan_foreclosure_quote(loan_no: str) -> Response:
    loan = _visible(loan_no)
    q = loans.quote(loan, calendar.current_business_date())
    return jsonify(
        {
            "loan_no": loan.loan_no,
            "date": q.on.isoformat(),
            "penal": to_json(q.penal_paise),
            "interest_due": to_json(q.interest_due_paise),
            "broken_period_interest": to_json(q.broken_interest_paise),
            "principal": to_json(q.principal_paise),
            "foreclosure_charge": to_json(q.charge_paise),
            "total": to_json(q.total_paise),
        }
    )
