"""Read models of loans: one summary per loan (API, screens, portal), demand, DPD buckets, NPA register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import Account, JournalEntry, JournalLine
from app.models.loans import NPA_CLASSES, Loan, LoanCharge, LoanClassification, LoanEvent, LoanScheduleRow
from app.models.members import Member
from app.services.common import NotFound
from app.services.deposits import passbook
from app.services.ledger import calendar

from . import repayments, schedule

LIVE = ("active", "disbursed")
BUCKETS = (("Current", 0, 0), ("1–30 (SMA-0)", 1, 30), ("31–60 (SMA-1)", 31, 60), ("61–90 (SMA-2)", 61, 90),
           ("Over 90 (NPA)", 91, None))  # fmt: skip


@dataclass(frozen=True)
class Summary:
    loan: Loan
    outstanding_paise: int
    overdue_paise: int
    penal_due_paise: int
    next_due_date: date | None
    next_due_paise: int
    installments_paid: int
    installments_total: int


def summary(loan: Loan, on: date | None = None) -> Summary:
    """Outstanding principal, overdue (instalment arrears due before today), the next instalment."""
    day = on or calendar.business_date_or_today()
    rows = schedule.rows(loan) if loan.schedule_version else []
    unpaid = [r for r in rows if r.status != "paid"]
    overdue = sum(r.unpaid_paise for r in unpaid if r.due_date < day)
    nxt = next((r for r in unpaid if r.due_date >= day), None)
    penal = sum(c.amount_paise - c.paid_paise for c in repayments.open_charges(loan)) if loan.id else 0
    return Summary(
        loan=loan, outstanding_paise=loan.outstanding_paise, overdue_paise=overdue, penal_due_paise=penal,
        next_due_date=nxt.due_date if nxt else None, next_due_paise=nxt.unpaid_paise if nxt else 0,
        installments_paid=sum(1 for r in rows if r.status == "paid"), installments_total=len(rows),
    )  # fmt: skip


def member_loans(member: Member) -> list[Loan]:
    return list(db.session.scalars(select(Loan).where(Loan.member_id == member.id).order_by(Loan.id.desc())))


def search(q: str | None = None, status: str | None = None, limit: int = 200) -> list[Loan]:
    stmt = select(Loan).join(Member, Member.id == Loan.member_id).order_by(Loan.id.desc())
    if status:
        stmt = stmt.where(Loan.status == status)
    text = (q or "").strip()
    if text:
        like = f"%{text}%"
        stmt = stmt.where(Loan.loan_no.ilike(like) | Member.name.ilike(like) | Member.member_no.ilike(like))
    return list(db.session.scalars(stmt.limit(limit)))


@dataclass(frozen=True)
class DemandRow:
    loan_no: str
    member_no: str
    name: str
    installment: int
    due_date: date
    due_paise: int


def demand(start: date, end: date) -> list[DemandRow]:
    """Instalments of live loans falling due between ``start`` and ``end`` and not yet paid."""
    stmt = (
        select(Loan.loan_no, Member.member_no, Member.name, LoanScheduleRow.installment, LoanScheduleRow.due_date,
               LoanScheduleRow.emi_paise - LoanScheduleRow.principal_paid_paise - LoanScheduleRow.interest_paid_paise)
        .join(Loan, Loan.id == LoanScheduleRow.loan_id).join(Member, Member.id == Loan.member_id)
        .where(LoanScheduleRow.version == Loan.schedule_version, Loan.status.in_(LIVE),
               LoanScheduleRow.status != "paid", LoanScheduleRow.due_date.between(start, end))
        .order_by(LoanScheduleRow.due_date, Loan.loan_no)
    )  # fmt: skip
    return [DemandRow(*row) for row in db.session.execute(stmt)]


@dataclass(frozen=True)
class Bucket:
    label: str
    low: int
    high: int | None
    count: int
    outstanding_paise: int
    loans: list[Loan]


def dpd_buckets() -> list[Bucket]:
    """Live loans by DPD bucket with their outstanding principal."""
    loans = list(db.session.scalars(select(Loan).where(Loan.status.in_(LIVE)).order_by(Loan.dpd.desc(), Loan.loan_no)))
    out = []
    for label, low, high in BUCKETS:
        inside = [ln for ln in loans if ln.dpd >= low and (high is None or ln.dpd <= high)]
        out.append(Bucket(label, low, high, len(inside), sum(ln.outstanding_paise for ln in inside), inside))
    return out


def npa_register() -> list[Loan]:
    return list(db.session.scalars(
        select(Loan).where(Loan.status.in_(LIVE), Loan.asset_class.in_(NPA_CLASSES)).order_by(Loan.npa_since, Loan.loan_no)
    ))  # fmt: skip


def totals_by_class() -> dict[str, tuple[int, int, int]]:
    """asset class → (loans, outstanding, provision) of live loans."""
    stmt = (
        select(Loan.asset_class, func.count(Loan.id), func.coalesce(func.sum(Account.balance_paise), 0),
               func.coalesce(func.sum(Loan.provision_paise), 0))
        .join(Account, Account.id == Loan.account_id).where(Loan.status.in_(LIVE)).group_by(Loan.asset_class)
    )  # fmt: skip
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in db.session.execute(stmt)}


def charges(loan: Loan) -> list[LoanCharge]:
    return list(
        db.session.scalars(select(LoanCharge).where(LoanCharge.loan_id == loan.id).order_by(LoanCharge.charge_date))
    )


def classifications(loan: Loan) -> list[LoanClassification]:
    return list(db.session.scalars(
        select(LoanClassification).where(LoanClassification.loan_id == loan.id).order_by(LoanClassification.id)
    ))  # fmt: skip


def statement(loan: Loan, start: date | None = None, end: date | None = None, *, page: int = 1, per_page: int = 200):
    """The loan account's ledger lines with running balance (the same reader as a passbook)."""
    if loan.account is None:
        return None
    return passbook.statement(loan.account, start, end, page=page, per_page=per_page)


def statement_csv(loan: Loan) -> str:
    stmt = statement(loan, per_page=passbook.MAX_PER_PAGE)
    return passbook.csv_text(stmt) if stmt is not None else ""


@dataclass(frozen=True)
class Receipt:
    """One repayment as it was applied: the amount, and its penal / interest / principal parts."""

    business_date: date | None
    entry_no: str
    amount_paise: int
    penal_paise: int
    interest_paise: int
    principal_paise: int
    prepayment_paise: int = 0
    entry_id: int | None = None


def receipts(loan: Loan) -> list[Receipt]:
    """Every repayment of the loan with its split (the loan account itself carries principal only)."""
    rows = db.session.scalars(
        select(LoanEvent).where(LoanEvent.loan_id == loan.id, LoanEvent.kind == "repayment").order_by(LoanEvent.id)
    )
    found = []
    for ev in rows:
        data = ev.data or {}
        entry_no = f"JE{ev.entry_id:08d}" if ev.entry_id else ""  # as the passbook numbers entries
        found.append(Receipt(ev.business_date, entry_no, int(ev.amount_paise or 0), int(data.get("penal_paise", 0)),
                             int(data.get("interest_paise", 0)), int(data.get("principal_paise", 0)),
                             int(data.get("prepayment_paise", 0)), ev.entry_id))  # fmt: skip
    return found


@dataclass(frozen=True)
class ReceiptSlip:
    """One repayment receipt to print: the split, how it was paid, what is left after it."""

    receipt: Receipt
    entry: JournalEntry
    cash: bool
    outstanding_after_paise: int


def receipt(loan: Loan, entry_no: str) -> ReceiptSlip:
    """The receipt of the repayment posted as ``entry_no`` (NotFound for any other entry)."""
    found = next((r for r in receipts(loan) if r.entry_no and r.entry_no == (entry_no or "").strip().upper()), None)
    if found is None or loan.account_id is None:
        raise NotFound(f"No repayment {entry_no} on loan {loan.loan_no}.")
    entry = db.session.get(JournalEntry, found.entry_id)
    after = db.session.scalar(
        select(func.coalesce(func.sum(JournalLine.debit_paise - JournalLine.credit_paise), 0)).where(
            JournalLine.account_id == loan.account_id, JournalLine.entry_id <= entry.id
        )
    )
    cash = db.session.scalar(
        select(func.count(JournalLine.id))
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.entry_id == entry.id, Account.kind == "drawer")
    )
    return ReceiptSlip(found, entry, bool(cash), int(after or 0))
