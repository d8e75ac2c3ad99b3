"""The loan workflow: applied → appraised → sanctioned / rejected → disbursed → active → closed.

Sanction is maker-checker through ``common.approvals`` (kind ``loans.sanction``): the
request is made by the staff user who took the application (or, for an application from
the member, by the appraiser); a different user holding ``loans.approve`` decides it, and
only within the sanction limit of their role for the product (a manager up to the limit,
above it the admin / committee). Every transition is a ``LoanEvent``, audited with its
remarks, and the member is told through the notifications outbox.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import utcnow
from app.models.loans import Loan
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, PermissionDenied, ValidationError, approvals
from app.services.ledger import calendar, coa

from . import applications, collateral, events, products, schedule
from .events import get_loan

APPROVAL_KIND = "loans.sanction"
SANCTIONABLE = ("applied", "appraised")


def _remarks(remarks: str | None, *, required: bool, what: str) -> str:
    text = (remarks or "").strip()
    if required and not text:
        raise ValidationError(f"Give remarks for the {what}.", field="remarks")
    return text[:255]


def pending_request(loan: Loan) -> ApprovalRequest | None:
    return db.session.scalar(
        select(ApprovalRequest).where(
            ApprovalRequest.kind == APPROVAL_KIND,
            ApprovalRequest.entity_id == loan.loan_no,
            ApprovalRequest.status == "pending",
        )
    )


def submit_for_sanction(loan: Loan, *, maker: StaffUser) -> ApprovalRequest:
    """Queue the sanction of ``loan`` for a checker (once)."""
    existing = pending_request(loan)
    if existing is not None:
        return existing
    return approvals.submit(
        APPROVAL_KIND,
        {"loan_no": loan.loan_no},
        maker=maker,
        summary=f"Sanction loan {loan.loan_no}: {loan.member.name}, {format_inr(loan.principal_paise)} "
        f"for {loan.months} months at {loan.rate}%",
        entity=("loan", loan.loan_no),
        amount_paise=loan.principal_paise,
    )


def apply(application: applications.Application, *, by: StaffUser | None, channel: str = "branch") -> Loan:
    """Take an application; a staff maker's application is queued for sanction at once."""
    loan = applications.apply(application, by=by, channel=channel)
    if by is not None:
        submit_for_sanction(loan, maker=by)
    return loan


def appraise(loan: Loan, *, by: StaffUser, remarks: str | None) -> Loan:
    """The appraiser's review: eligibility re-run and stored, remarks recorded, sanction queued."""
    loan = events.lock(loan)
    if loan.status != "applied":
        raise Conflict(f"Loan {loan.loan_no} is {loan.status}; only an application can be appraised.")
    note = _remarks(remarks, required=True, what="appraisal")
    checks = applications.eligibility(loan)
    loan.eligibility = [asdict(c) for c in checks]
    loan.appraised_by_id = by.id
    events.record(loan, "appraised", to_status="appraised", remarks=note, by=by,
                  data={"failed": [c.name for c in checks if not c.ok]})  # fmt: skip
    submit_for_sanction(loan, maker=by)
    return loan


def check_authority(loan: Loan, checker: StaffUser) -> None:
    """Refuse a sanction by the maker or appraiser, or above the checker's limit for the product."""
    if checker.id in (loan.applied_by_id, loan.appraised_by_id):
        raise PermissionDenied("You took or appraised this application; a different user must sanction it.")
    allowed, limit = products.sanction_limit(loan.product, checker.role)
    if not allowed:
        raise PermissionDenied(f"A {checker.role} cannot sanction {loan.product.name} loans.")
    if limit is not None and loan.principal_paise > limit:
        raise PermissionDenied(
            f"A {checker.role} sanctions up to {format_inr(limit)}; {format_inr(loan.principal_paise)} needs "
            "a higher authority (admin / committee)."
        )


def _execute(req: ApprovalRequest, checker: StaffUser) -> dict:
    loan = events.lock(get_loan(req.payload["loan_no"]))
    if loan.status not in SANCTIONABLE:
        raise Conflict(f"Loan {loan.loan_no} is {loan.status}; it cannot be sanctioned.")
    check_authority(loan, checker)
    checks = applications.eligibility(loan)
    loan.eligibility = [asdict(c) for c in checks]
    failed = applications.blocking_failures(checks)
    if failed:
        raise ValidationError("Not eligible: " + " ".join(c.reason for c in failed), field="eligibility")
    loan.sanctioned_by_id = checker.id
    loan.sanctioned_on = _today()
    events.record(loan, "sanctioned", to_status="sanctioned", remarks=req.decision_note or None, by=checker,
                  amount_paise=loan.principal_paise)  # fmt: skip
    return {"loan_no": loan.loan_no, "status": loan.status}


def _today():
    return calendar.current_business_date()


def sanction(loan: Loan, *, by: StaffUser, remarks: str | None = None) -> Loan:
    """Sanction ``loan`` as checker (queues the request first when the application came from a member)."""
    if loan.status not in SANCTIONABLE:
        raise Conflict(f"Loan {loan.loan_no} is {loan.status}; only an application can be sanctioned.")
    req = pending_request(loan)
    if req is None:
        raise Conflict(f"Loan {loan.loan_no} has not been appraised yet; appraise it first.")
    req.decision_note = _remarks(remarks, required=False, what="sanction") or None
    approvals.approve(req.id, checker=by, note=req.decision_note)
    db.session.refresh(loan)
    return loan


def reject(loan: Loan, *, by: StaffUser, remarks: str | None) -> Loan:
    """Reject an application (remarks required); releases any lien."""
    note = _remarks(remarks, required=True, what="rejection")
    loan = events.lock(loan)
    if loan.status not in SANCTIONABLE:
        raise Conflict(f"Loan {loan.loan_no} is {loan.status}; only an application can be rejected.")
    req = pending_request(loan)
    if req is not None:
        approvals.reject(req.id, checker=by, note=note)
    elif by.id == loan.applied_by_id:
        raise PermissionDenied("You took this application; a different user must reject it.")
    collateral.release_liens(loan)
    events.record(loan, "rejected", to_status="rejected", remarks=note, by=by)
    return loan


def write_off(loan: Loan, *, by: StaffUser, remarks: str | None) -> Loan:
    """Write an NPA off: the outstanding against its provision (the rest an expense), unpaid interest dropped.

    Dr NPA provision (up to the loan's provision), Dr provision expense (the rest) / Cr the loan
    account; unpaid accrued interest leaves the receivable (from suspense, or as an expense when
    it had been taken to income). The loan account closes; recoveries later are new income.
    """
    note = _remarks(remarks, required=True, what="write-off")
    loan = events.lock(loan)
    if loan.status != "active" or not loan.is_npa or loan.account is None:
        raise Conflict(
            f"Loan {loan.loan_no} is {loan.status} ({loan.asset_class_label}); only an NPA can be written off."
        )
    account, out = loan.account, loan.account.balance_paise
    covered = max(0, min(loan.provision_paise, out, ledger.gl_balance(coa.NPA_PROVISION)))
    unpaid = {"income": 0, "suspense": 0}
    for r in schedule.rows(loan):
        if r.accrued_to in unpaid:
            unpaid[r.accrued_to] += r.interest_paise - r.interest_paid_paise
    lines = [ledger.Line.dr(coa.NPA_PROVISION, covered, "Written off against the provision")] if covered else []
    if out - covered + unpaid["income"]:
        lines.append(ledger.Line.dr(coa.EXP_NPA_PROVISION, out - covered + unpaid["income"], "Written off"))
    if unpaid["suspense"]:
        lines.append(ledger.Line.dr(coa.INTEREST_SUSPENSE, unpaid["suspense"], "Interest in suspense dropped"))
    if unpaid["income"] + unpaid["suspense"]:
        lines.append(
            ledger.Line.cr(coa.INTEREST_RECEIVABLE_LOANS, unpaid["income"] + unpaid["suspense"], "Unpaid interest")
        )
    if out:
        lines.append(ledger.Line.cr(account, out, "Loan written off"))
    entry = ledger.post(lines, kind="provision", narration=f"Loan {loan.loan_no} written off: {note}",
                        options=ledger.PostOptions(posted_by_id=by.id)) if len(lines) >= 2 else None  # fmt: skip
    loan.loss_marked, loan.provision_paise, loan.closed_on = True, 0, _today()
    account.status, account.closed_on, account.status_reason = "closed", loan.closed_on, "Written off"
    events.record(loan, "written_off", to_status="written_off", remarks=note, by=by, entry=entry, amount_paise=out)
    return loan


def mark_loss(loan: Loan, *, by: StaffUser, remarks: str | None) -> Loan:
    """Classify an NPA as a loss asset (from the next classification on)."""
    note = _remarks(remarks, required=True, what="loss classification")
    if not loan.is_npa:
        raise Conflict(f"Loan {loan.loan_no} is not an NPA.")
    loan.loss_marked = True
    events.record(loan, "marked_loss", remarks=note, by=by, data={"at": utcnow().isoformat()})
    return loan


def sanction_queue() -> list[tuple[Loan, ApprovalRequest | None]]:
    loans = list(db.session.scalars(select(Loan).where(Loan.status.in_(SANCTIONABLE)).order_by(Loan.id)))
    return [(loan, pending_request(loan)) for loan in loans]


approvals.register(APPROVAL_KIND, label="Loan sanction", permission="loans.approve", execute=_execute)
