"""Disbursement: the loan account opened, money paid out through the ledger, the schedule stored.

Dr the loan account (under the product's "loans to members" control GL) for the principal;
Cr the member's savings account with the net amount, or pay it in cash from the acting
cashier's drawer (``counter.pay_cash``), or Cr payouts in transit for a payout to the member's
beneficiary (``payments.disburse_loan`` records the payout); Cr processing fee income and GST payable
with the fee. A share-linkage shortfall is bought out of the disbursed money (from the
savings account, through the members face). Then the schedule is generated and stored as
version 1 from the disbursement date, and the loan becomes active.

Products marked for tranches (housing: money released as construction progresses) may pay
out less than the sanctioned amount first; each further tranche is Dr loan / Cr savings
(or cash) for its amount only (the fee was taken on the whole sanction with the first),
and writes a new schedule version on the new outstanding over the instalments left, the
EMI rising. The first instalment after a tranche bears interest on the tranche only from
the day it was released (``schedule.add_tranche``). No tranche goes to a loan in arrears
or a non-performing one.
What has been released is the sum of the disbursement events; no second figure is kept.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import Account
from app.models.loans import Loan, LoanEvent, LoanScheduleRow
from app.models.users import StaffUser
from app.money import format_inr
from app.services import counter, ledger
from app.services.common import Conflict, ValidationError
from app.services.ledger import calendar, coa
from app.services.members import shares

from . import applications, events, schedule

MODES = ("transfer", "cash", "payout")  # payout: to payouts in transit, through ``payments.disburse_loan`` only
RELEASES = ("disbursed", "tranche")


def fee_paise(loan: Loan) -> tuple[int, int]:
    """(processing fee, GST on it), each half-up to the paisa."""
    product = loan.product
    fee = int((Decimal(loan.principal_paise) * product.processing_fee_bp / 10000).quantize(Decimal(1), ROUND_HALF_UP))
    gst = int((Decimal(fee) * product.gst_bp / 10000).quantize(Decimal(1), ROUND_HALF_UP))
    return fee, gst


def _target(loan: Loan, to_account_no: str | None) -> Account:
    if not to_account_no:
        raise ValidationError("Name the member's savings account to credit (to_account).", field="to_account")
    acc = db.session.scalar(select(Account).where(Account.account_no == to_account_no.strip().upper()))
    if acc is None or acc.kind != "savings" or acc.member_id != loan.member_id:
        raise ValidationError(f"{to_account_no} is not a savings account of this member.", field="to_account")
    if acc.status != "active":
        raise ValidationError(f"Savings account {acc.account_no} is {acc.status}.", field="to_account")
    return acc


def _open_account(loan: Loan, on) -> Account:
    acc = Account(
        account_no=loan.loan_no, kind="loan", title=f"{loan.product.name} {loan.member.name}"[:160],
        member_id=loan.member_id, control_gl_id=loan.product.control_gl_id, balance_paise=0, min_balance_paise=0,
        enforce_limit=True, status="active", branch_id=loan.member.branch_id, opened_on=on,
    )  # fmt: skip
    db.session.add(acc)
    db.session.flush()
    loan.account_id = acc.id
    loan.account = acc
    return acc


def allows_tranches(loan: Loan) -> bool:
    """Whether the loan's product releases money in tranches (a product setting)."""
    product = loan.product
    return bool((product.settings or {}).get("tranches")) and product.interest_type != "flat"


def disbursed_paise(loan: Loan) -> int:
    """The money released so far: the sum of the disbursement and tranche events."""
    if loan.id is None:
        return 0
    total = db.session.scalar(
        select(func.coalesce(func.sum(LoanEvent.amount_paise), 0)).where(
            LoanEvent.loan_id == loan.id, LoanEvent.kind.in_(RELEASES)
        )
    )
    return int(total or 0)


def undisbursed_paise(loan: Loan) -> int:
    """What of the sanctioned amount is still to be released (0 once fully disbursed)."""
    if loan.status not in ("active", "disbursed", "sanctioned"):
        return 0
    return loan.principal_paise - disbursed_paise(loan)


def _release_amount(loan: Loan, amount_paise: int | None) -> int:
    left = loan.principal_paise - disbursed_paise(loan)
    if amount_paise is None:
        return left
    if amount_paise <= 0:
        raise ValidationError("The amount to release must be more than zero.", field="amount")
    if amount_paise > left:
        raise ValidationError(f"Only {format_inr(left)} of the sanctioned {format_inr(loan.principal_paise)} is left "
                              "to release.", field="amount")  # fmt: skip
    if amount_paise < left and not allows_tranches(loan):
        raise ValidationError(f"{loan.product.name} loans are disbursed in full ({format_inr(left)}).", field="amount")
    return amount_paise


def _target_of(loan: Loan, mode: str, to_account_no: str | None) -> Account | str | None:
    """Where the net money goes: the member's savings (transfer), payouts in transit (payout), the drawer (None)."""
    if mode == "transfer":
        return _target(loan, to_account_no)
    return coa.PAYOUTS_IN_TRANSIT if mode == "payout" else None


def _pay_out(loan: Loan, lines: list[ledger.Line], amount: int, target: Account | str | None, *, text: str,  # noqa: PLR0913
             key: str, by: StaffUser | None, channel: str):  # fmt: skip
    """Dr the loan account ``amount``; Cr ``target`` (an account, or the in-transit GL of a payout) with
    what is left after ``lines``, or pay that in cash."""
    account = loan.account
    net = amount - sum(line.credit for line in lines)
    options = ledger.PostOptions(posted_by_id=by.id if by else None, channel=channel)
    if target is not None:
        return ledger.post([ledger.Line.dr(account, amount, "Loan disbursed"), ledger.Line.cr(target, net, text), *lines],
                           kind="disbursement", narration=text, idempotency_key=key, reference=loan.loan_no,
                           options=options)  # fmt: skip
    entry = counter.pay_cash(account, net, cashier=by, narration=text, kind="disbursement", channel=channel,
                             idempotency_key=key).entry  # fmt: skip
    if lines:
        ledger.post([ledger.Line.dr(account, amount - net, "Processing fee and GST"), *lines], kind="fee",
                    narration=f"Processing fee {loan.loan_no}", idempotency_key=f"{key}:fee", reference=loan.loan_no,
                    options=options)  # fmt: skip
    return entry


def disburse(  # noqa: PLR0913  (keyword-only options of a payout)
    loan: Loan,
    *,
    by: StaffUser | None,
    to_account_no: str | None = None,
    mode: str = "transfer",
    amount_paise: int | None = None,
    idempotency_key: str | None = None,
    channel: str = "branch",
) -> Loan:
    """Disburse a sanctioned loan (in full, or its first tranche), or release the next tranche of an active one.

    ``mode="payout"`` credits payouts in transit: call it through ``payments.disburse_loan``, which
    checks the member's beneficiary and records the payout in the same unit of work.
    """
    loan = events.lock(loan)
    if ledger.entry_by_key(idempotency_key) is not None:
        return loan  # a repeat of a release already made (a double click, an API retry)
    if mode not in MODES:
        raise ValidationError("mode: transfer, cash or payout (to a beneficiary).", field="mode")
    if loan.status == "sanctioned":
        return _first(loan, _release_amount(loan, amount_paise), by=by, to_account_no=to_account_no, mode=mode,
                      key=idempotency_key or f"loan-disburse:{loan.loan_no}", channel=channel)  # fmt: skip
    if loan.status == "active" and disbursed_paise(loan) < loan.principal_paise:
        return _tranche(loan, _release_amount(loan, amount_paise), by=by, to_account_no=to_account_no, mode=mode,
                        key=idempotency_key, channel=channel)  # fmt: skip
    raise Conflict(f"Loan {loan.loan_no} is {loan.status}; only a sanctioned loan can be disbursed.")


def _first(loan: Loan, amount: int, *, by, to_account_no, mode: str, key: str, channel: str) -> Loan:  # noqa: PLR0913
    on = calendar.current_business_date()
    fee, gst = fee_paise(loan)
    short = applications.share_shortfall_paise(loan)
    target = _target_of(loan, mode, to_account_no)
    if short and not isinstance(target, Account):
        raise ValidationError(
            f"Shares worth {format_inr(short)} are still to be bought; disburse to the member's savings account "
            "(the shares are bought from it) or collect the shares first.",
            field="to_account",
        )
    net = amount - fee - gst
    if net <= 0:
        raise ValidationError(
            "The fee exceeds the amount released.", field="amount" if amount < loan.principal_paise else "principal"
        )
    _open_account(loan, on)
    text = f"Loan {loan.loan_no} disbursed to {loan.member.member_no} {loan.member.name}"
    fee_lines = [ledger.Line.cr(coa.INCOME_PROCESSING_FEE, fee, "Processing fee")] if fee else []
    if gst:
        fee_lines.append(ledger.Line.cr(coa.GST_PAYABLE, gst, "GST on processing fee"))
    entry = _pay_out(loan, fee_lines, amount, target, text=text, key=key, by=by, channel=channel)
    loan.processing_fee_paise = fee
    loan.disbursed_on = on
    loan.disbursed_by_id = by.id if by else None
    sched = schedule.build(amount, loan.rate_bp, loan.months, on, interest_type=loan.interest_type,
                           frequency=loan.frequency)  # fmt: skip
    schedule.store(loan, sched, version=1)
    events.record(loan, "disbursed", to_status="disbursed", amount_paise=amount, entry=entry, by=by,
                  data={"mode": mode, "net_paise": net, "fee_paise": fee, "gst_paise": gst,
                        "sanctioned_paise": loan.principal_paise})  # fmt: skip
    if short and isinstance(target, Account):
        count = short // shares.face_value()
        shares.purchase(loan.member, shares=count, mode="transfer", from_account_no=target.account_no, by=by,
                        channel=channel, idempotency_key=f"{key}:shares")  # fmt: skip
    events.record(loan, "activated", to_status="active", by=by, data={"emi_paise": sched.emi_paise})
    return loan


def _tranche(loan: Loan, amount: int, *, by, to_account_no, mode: str, key: str | None, channel: str) -> Loan:  # noqa: PLR0913
    on = calendar.current_business_date()
    _check_tranche(loan, on)
    target = _target_of(loan, mode, to_account_no)
    number = db.session.scalar(
        select(func.count(LoanEvent.id)).where(LoanEvent.loan_id == loan.id, LoanEvent.kind.in_(RELEASES))
    )
    text = f"Loan {loan.loan_no} tranche {number + 1} to {loan.member.member_no} {loan.member.name}"
    entry = _pay_out(loan, [], amount, target, text=text, key=key or f"loan-tranche:{loan.loan_no}:{number + 1}",
                     by=by, channel=channel)  # fmt: skip
    schedule.add_tranche(loan, amount, on)
    events.record(loan, "tranche", amount_paise=amount, entry=entry, by=by,
                  remarks=f"Tranche {number + 1}; EMI now {format_inr(loan.emi_paise or 0)}",
                  data={"mode": mode, "tranche": number + 1, "version": loan.schedule_version})  # fmt: skip
    return loan


def _check_tranche(loan: Loan, on) -> None:
    """No further money to a loan in arrears or a non-performing one."""
    if loan.is_npa:
        raise Conflict(f"Loan {loan.loan_no} is {loan.asset_class_label}; no further tranche can be released.")
    rows = db.session.scalars(
        select(LoanScheduleRow).where(
            LoanScheduleRow.loan_id == loan.id, LoanScheduleRow.version == loan.schedule_version,
            LoanScheduleRow.status != "paid",
            (LoanScheduleRow.due_date <= on) | (LoanScheduleRow.status == "partial"),
        )
    ).first()  # fmt: skip
    if rows is not None:
        raise Conflict(f"Instalment {rows.installment} of {loan.loan_no} is unpaid or part-paid; it must be settled "
                       "before the next tranche.")  # fmt: skip
