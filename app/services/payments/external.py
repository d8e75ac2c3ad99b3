"""Money the society pays a member out of a loan or a deposit, sent by payout to a saved beneficiary.

Loans and deposits sit below payments in the layer order, so the orchestration is here: a loan
disbursement (``loans.disburse(mode="payout")``: Dr loan / Cr payouts in transit, with the fee
and GST lines) or an FD's closing proceeds (``deposits.close_account(mode="payout")``: Dr FD / Cr
payouts in transit), then one ``Payout`` row for the money in transit, in the same unit of work.
The beneficiary is one the member saved earlier: refused while it is still cooling or when its
details do not suit the mode. If the payout fails or is reversed the money goes to the member's
savings account (decision 0050); the loan stays disbursed, the deposit closed. Caller commits,
then sends the payout (``jobs.payments.send_payout``) after the commit.
"""

from __future__ import annotations

import secrets
from datetime import UTC

from sqlalchemy import func, select

from app.clock import ist
from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.models.loans import Loan
from app.models.payments import Beneficiary, Payout
from app.models.users import StaffUser

from .. import deposits, ledger, loans
from ..common import Conflict, NotFound, ValidationError, audit
from ..ledger import coa
from . import history, payouts

OUT_MODES = ("NEFT", "IMPS", "RTGS")  # a loan or a deposit goes to a bank account, not a UPI id


def beneficiaries(member_id: int) -> list[Beneficiary]:
    """The member's saved bank-account payees (for the staff screens' choice), oldest first."""
    return list(
        db.session.scalars(
            select(Beneficiary)
            .where(Beneficiary.member_id == member_id, Beneficiary.account_number.is_not(None))
            .order_by(Beneficiary.id)
        )
    )


def ready_beneficiary(member_id: int, beneficiary_id: object, mode: str) -> tuple[Beneficiary, dict]:
    """A saved beneficiary of the member, well formed for ``mode`` and past its cooling period."""
    if mode not in OUT_MODES:
        raise ValidationError("payout_mode: NEFT, IMPS or RTGS (to a bank account).", field="payout_mode")
    try:
        pk = int(str(beneficiary_id or "").strip())
    except ValueError:
        raise ValidationError("beneficiary_id: choose one of the member's saved beneficiaries.",
                              field="beneficiary_id") from None  # fmt: skip
    row = db.session.get(Beneficiary, pk)
    if row is None or row.member_id != member_id:
        raise NotFound(f"No beneficiary {pk} of this member.", field="beneficiary_id")
    try:
        ben = payouts.clean_beneficiary(mode, {"name": row.name, "account_number": row.account_number,
                                               "ifsc": row.ifsc})  # fmt: skip
    except ValidationError as exc:
        raise ValidationError(f"beneficiary_id: the saved details of {row.name} are not usable ({exc.message}).",
                              field="beneficiary_id") from None  # fmt: skip
    cooling = row.cooling_until if row.cooling_until.tzinfo else row.cooling_until.replace(tzinfo=UTC)
    if cooling > utcnow():
        raise ValidationError(
            f"beneficiary_id: {row.name} is a new payee; money from a loan or a deposit can go to them from "
            f"{ist(cooling, '%d %b %Y %H:%M')}. Choose another beneficiary or pay to savings.",
            field="beneficiary_id",
        )
    return row, ben


def _return_account(member_id: int) -> Account:
    """The member's active savings account: a failed or reversed payout comes back to it."""
    account = db.session.scalar(
        select(Account)
        .where(Account.member_id == member_id, Account.kind == "savings", Account.status == "active")
        .order_by(Account.id)
    )
    if account is None:
        raise ValidationError("The member needs an active savings account (a returned payout is credited to it).",
                              field="beneficiary_id")  # fmt: skip
    return account


def _in_transit_paise(entry: JournalEntry) -> int:
    """What ``entry`` credited to payouts in transit."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(JournalLine.credit_paise), 0))
        .join(GLAccount, JournalLine.gl_account_id == GLAccount.id)
        .where(JournalLine.entry_id == entry.id, GLAccount.code == coa.PAYOUTS_IN_TRANSIT)
    )
    return int(total or 0)


def _record(entry: JournalEntry, saved: Beneficiary, ben: dict, mode: str, *, by: StaffUser | None,
            what: str) -> Payout:  # fmt: skip
    """The payout of the money ``entry`` put in transit (once per entry)."""
    existing = db.session.scalar(select(Payout).where(Payout.entry_id == entry.id))
    if existing is not None:
        return existing  # a repeat (double click, API retry): the first payout stands
    amount = _in_transit_paise(entry)
    if amount <= 0:
        raise ValidationError("Nothing is left to pay out after the fee and GST.", field="amount")
    payouts.check_amount(mode, amount)
    payout = Payout(
        payout_id=history.new_payout_id(), member_id=saved.member_id, account_id=_return_account(saved.member_id).id,
        beneficiary_id=saved.id, amount_paise=amount, mode=mode, beneficiary=ben, narration=what[:120],
        status="queued", gateway_key=secrets.token_hex(16), attempts=0, entry_id=entry.id,
        created_by_id=by.id if by is not None else None,
    )  # fmt: skip
    db.session.add(payout)
    db.session.flush()
    audit.record("payout.create", "payout", payout.payout_id,
                 after={"from": what, "entry": entry.number, "amount_paise": amount, "mode": mode, "beneficiary": ben})  # fmt: skip
    history.note("payout.created", payout=payout, status_to="queued", detail={"from": what, "entry": entry.number})
    return payout


def disburse_loan(  # noqa: PLR0913  (keyword-only options, as loans.disburse)
    loan: Loan,
    *,
    beneficiary_id: object,
    by: StaffUser | None,
    mode: str = "NEFT",
    amount_paise: int | None = None,
    idempotency_key: str | None = None,
    channel: str = "branch",
) -> Payout:
    """Disburse (or release a tranche of) ``loan`` to the member's saved beneficiary by payout."""
    mode = (mode or "NEFT").strip().upper()
    saved, ben = ready_beneficiary(loan.member_id, beneficiary_id, mode)
    _return_account(loan.member_id)
    released = loans.disbursed_paise(loan)
    tranche = loan.status == "active" and 0 < released < loan.principal_paise
    # A repeat of the first disbursement finds its key (loans' own default) and changes nothing.
    key = idempotency_key or (f"loan-payout:{loan.loan_no}:{released}" if tranche else f"loan-disburse:{loan.loan_no}")
    loans.disburse(loan, by=by, mode="payout", amount_paise=amount_paise, idempotency_key=key, channel=channel)
    entry = ledger.entry_by_key(key)
    if entry is None or _in_transit_paise(entry) <= 0:
        raise Conflict(f"Loan {loan.loan_no} was already disbursed, not by payout.")
    return _record(entry, saved, ben, mode, by=by, what=f"Loan {loan.loan_no}")


def pay_deposit_proceeds(
    account: Account,
    *,
    beneficiary_id: object,
    by: StaffUser | None,
    mode: str = "NEFT",
    reason: str = "",
) -> Payout:
    """Close an FD (matured, or prematurely with the penalty) and send what it pays to a beneficiary."""
    if account.kind != "fd":
        raise ValidationError("Only a fixed deposit's proceeds go out by payout here.", field="mode")
    mode = (mode or "NEFT").strip().upper()
    saved, ben = ready_beneficiary(account.member_id, beneficiary_id, mode)
    _return_account(account.member_id)
    entries = deposits.close_account(account, mode="payout", to_account_no=None, reason=reason, by=by)
    transit = [e for e in entries if _in_transit_paise(e) > 0]
    if not transit:
        raise ValidationError(f"FD {account.account_no} had nothing to pay out by payout (its maturity rule paid it "
                              "already).", field="mode")  # fmt: skip
    return _record(transit[-1], saved, ben, mode, by=by, what=f"FD {account.account_no}")
