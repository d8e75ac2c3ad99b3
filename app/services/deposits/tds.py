"""TDS on deposit interest (section 194A): per member per financial year, deducted at each credit.

Every interest credit subject to 194A (FD and RD interest; SB interest only when
``SB_INTEREST_TDS``) writes a ``TdsDeduction`` row — also when nothing is deducted — so the
year's interest so far is a sum over that table. The amount comes from the pure rule
``interest.tds_on_credit`` (cumulative convention: tax on the whole year's interest once it
crosses the threshold, minus what was deducted already). Thresholds and rates are settings
(``TDS_THRESHOLD_PAISE``, ``TDS_THRESHOLD_SENIOR_PAISE``, ``TDS_RATE_PAN``, ``TDS_RATE_NO_PAN``).

Senior citizen: the Income-tax Act (s. 194A(3)(i), proviso) means a resident "of the age of
sixty years or more at any time during the relevant previous year", so a member is treated
as senior for a whole financial year when they are 60 or more on its LAST day (31 March);
see docs/decisions/0011-deposit-rules.md. PAN: the member's PAN on the credit date; without
one, 20 % (s. 206AA; Form 60 does not change that). A Form 15G/15H on file for the year
stops deduction for that year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NotRequired, TypedDict, Unpack

from sqlalchemy import func, select

from app.extensions import db
from app.models.deposits import TdsDeduction, TdsForm, rate_of
from app.models.ledger import Account, JournalEntry
from app.models.members import Member
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services import members as member_rules
from app.services.common import Conflict, ValidationError, audit
from app.services.ledger import Line, coa
from app.settings import setting

from . import interest

QUARTERS = {1: "Q1 (Apr–Jun)", 2: "Q2 (Jul–Sep)", 3: "Q3 (Oct–Dec)", 4: "Q4 (Jan–Mar)"}
REASON_LABELS = {
    "below_threshold": "Below threshold",
    "form_15g": "Form 15G on file",
    "form_15h": "Form 15H on file",
    "pan": "Deducted (PAN)",
    "no_pan": "Deducted, no PAN (s. 206AA)",
}


def is_senior_for_fy(member: Member, on: date) -> bool:
    """Senior citizen for the financial year containing ``on``: of age at any time in it (on 31 March)."""
    _first, last = interest.financial_year_bounds(on)
    return member_rules.is_senior_citizen(member, last)


def threshold_paise(senior: bool) -> int:
    return interest.tds_threshold(senior)


def form_on_file(member_id: int, fy: str) -> TdsForm | None:
    return db.session.scalar(select(TdsForm).where(TdsForm.member_id == member_id, TdsForm.fy == fy))


def fy_totals(member_id: int, fy: str) -> tuple[int, int]:
    """(interest credited, TDS deducted) for a member in a financial year, in paise."""
    interest_sum, tds_sum = db.session.execute(
        select(
            func.coalesce(func.sum(TdsDeduction.interest_paise), 0), func.coalesce(func.sum(TdsDeduction.tds_paise), 0)
        ).where(TdsDeduction.member_id == member_id, TdsDeduction.fy == fy)
    ).one()
    return int(interest_sum), int(tds_sum)


def lock_member(member_id: int) -> Member:
    """Serialise TDS for one member (two credits at once must not both miss the threshold)."""
    return db.session.scalars(
        select(Member).where(Member.id == member_id).with_for_update().execution_options(populate_existing=True)
    ).one()


def assess(account: Account, interest_paise: int, on: date) -> TdsDeduction:
    """Work out the TDS on an interest credit to ``account`` on ``on`` and record the row.

    The row is added to the session (``entry_id`` empty: the caller sets it once the
    interest is posted). ``row.tds_paise`` is what to deduct (0 when nothing is due): the
    year's TDS still due by the cumulative rule, but never more than this credit — the tax is
    taken out of the interest being credited, so it can never overdraw the account it is
    debited from. What is left over stays due for the year and, because the cumulative rule
    subtracts only what was actually deducted, is taken from the next credit (decision 0011.11).
    """
    if interest_paise < 0:
        raise ValidationError("Interest cannot be negative.")
    member = lock_member(account.member_id)  # type: ignore[arg-type]
    fy = interest.financial_year(on)
    before_interest, before_tds = fy_totals(member.id, fy)
    senior = is_senior_for_fy(member, on)
    form = form_on_file(member.id, fy)
    has_pan = bool(member.pan)
    tds = interest.tds_on_credit(
        interest_paise,
        before_interest,
        fy_tds_before_paise=before_tds,
        threshold_paise=threshold_paise(senior),
        has_pan=has_pan,
        exempt_15g_15h=form is not None,
    )
    due = tds
    tds = min(tds, interest_paise)
    if form is not None:
        reason, rate = ("form_15h" if form.form == "15H" else "form_15g"), Decimal(0)
    elif tds == 0 and before_interest + interest_paise <= threshold_paise(senior):
        reason, rate = "below_threshold", Decimal(0)
    else:
        reason = "pan" if has_pan else "no_pan"
        rate = Decimal(setting("TDS_RATE_PAN" if has_pan else "TDS_RATE_NO_PAN"))
    row = TdsDeduction(
        member_id=member.id,
        account_id=account.id,
        fy=fy,
        credited_on=on,
        interest_paise=interest_paise,
        tds_paise=tds,
        rate_bp=int(rate * 100),
        reason=reason,
        senior=senior,
        pan=member.pan,
    )
    db.session.add(row)
    db.session.flush()
    if due > tds:
        audit.record(
            "tds.shortfall",
            "account",
            account.account_no,
            after={"fy": fy, "interest_paise": interest_paise, "due_paise": due, "deducted_paise": tds,
                   "carried_paise": due - tds},
        )  # fmt: skip
    return row


def shortfall_paise(member_id: int, fy: str) -> int:
    """TDS due for the year by the cumulative rule but not yet deducted (taken from the next credit)."""
    member = db.session.get(Member, member_id)
    if member is None or form_on_file(member_id, fy) is not None:
        return 0
    interest_sum, tds_sum = fy_totals(member_id, fy)
    first = date(int(fy[:4]), 4, 1)
    due = interest.tds_on_credit(
        0,
        interest_sum,
        fy_tds_before_paise=tds_sum,
        threshold_paise=threshold_paise(is_senior_for_fy(member, first)),
        has_pan=bool(member.pan),
        exempt_15g_15h=False,
    )
    return due


def post_deduction(
    row: TdsDeduction, debit_account: Account, interest_entry: JournalEntry, **post_kw
) -> JournalEntry | None:
    """Link the row to its interest entry and post the TDS: Dr the credited account / Cr TDS payable."""
    row.entry_id = interest_entry.id
    if row.tds_paise <= 0:
        return None
    source = db.session.get(Account, row.account_id)
    entry = ledger.post(
        [
            Line.dr(debit_account, row.tds_paise, "TDS u/s 194A"),
            Line.cr(coa.TDS_PAYABLE, row.tds_paise, f"TDS {row.fy} {source.account_no if source else ''}"),
        ],
        kind="tds",
        narration=f"TDS u/s 194A @ {rate_of(row.rate_bp)}% on interest {format_inr(row.interest_paise)} ({row.fy})",
        reference=source.account_no if source else None,
        options=ledger.PostOptions(
            **post_kw,
            allow_frozen=True,
        ),
    )
    row.tds_entry_id = entry.id
    audit.record(
        "tds.deduct",
        "account",
        source.account_no if source else row.account_id,
        after={"fy": row.fy, "interest_paise": row.interest_paise, "tds_paise": row.tds_paise, "reason": row.reason},
    )
    return entry


def deduct_on_credit(
    account: Account,
    interest_paise: int,
    interest_entry: JournalEntry,
    on: date,
    *,
    debit_account: Account | None = None,
    **post_kw,
) -> TdsDeduction:
    """Assess and post TDS for interest earned on ``account`` and already credited by ``interest_entry``.

    The TDS is debited from ``debit_account`` (where the interest went, e.g. the SB that
    received an FD payout), by default ``account`` itself. Returns the register row.
    """
    row = assess(account, interest_paise, on)
    post_deduction(row, debit_account or account, interest_entry, **post_kw)
    return row


# ---------------------------------------------------------------- Form 15G / 15H


class Form15(TypedDict):
    """A Form 15G / 15H as received (keywords of ``record_form``)."""

    fy: str
    form: str
    received_on: date
    estimated_income_paise: NotRequired[int | None]
    reference: NotRequired[str | None]
    by: NotRequired[StaffUser | None]


def record_form(member: Member, **details: Unpack[Form15]) -> TdsForm:
    """Record a Form 15G (below SENIOR_CITIZEN_AGE) or 15H (senior citizens) for a member and year."""
    fy, form, received_on = details["fy"], details["form"], details["received_on"]
    estimated_income_paise, reference = details.get("estimated_income_paise"), details.get("reference")
    by = details.get("by")
    form = (form or "").strip().upper().replace("FORM", "").strip()
    if form not in ("15G", "15H"):
        raise ValidationError("Choose Form 15G or Form 15H.", field="form")
    fy = (fy or "").strip()
    try:
        first = int(fy[:4])
        valid_fy = len(fy) == 7 and fy[4] == "-" and int(fy[5:]) == (first + 1) % 100
    except ValueError:
        valid_fy = False
    if not valid_fy:
        raise ValidationError("Financial year as 2026-27.", field="fy")
    if received_on > date(int(fy[:4]) + 1, 3, 31):
        raise ValidationError("The form was received after that financial year ended.", field="received_on")
    senior = member_rules.is_senior_citizen(member, date(int(fy[:4]) + 1, 3, 31))
    if form == "15H" and not senior:
        raise ValidationError(
            f"Form 15H is for senior citizens; {member.name} is under {setting('SENIOR_CITIZEN_AGE')} in {fy}: use 15G.",
            field="form",
        )
    if form == "15G" and senior:
        raise ValidationError(f"{member.name} is a senior citizen in {fy}: use Form 15H.", field="form")
    if not member.pan:
        raise ValidationError("Form 15G/15H is valid only with the member's PAN on record.", field="form")
    if form_on_file(member.id, fy) is not None:
        raise Conflict(f"A Form 15G/15H for {fy} is already on file for {member.name}.", field="fy")
    row = TdsForm(
        member_id=member.id,
        fy=fy,
        form=form,
        received_on=received_on,
        estimated_income_paise=estimated_income_paise,
        reference=(reference or "").strip()[:40] or None,
        recorded_by_id=by.id if by else None,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "tds.form_recorded",
        "member",
        member.member_no,
        after={"fy": fy, "form": form, "received_on": received_on, "reference": row.reference},
    )
    return row


def forms(fy: str | None = None) -> list[TdsForm]:
    stmt = select(TdsForm).order_by(TdsForm.fy.desc(), TdsForm.id.desc())
    if fy:
        stmt = stmt.where(TdsForm.fy == fy)
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------- register (quarterly, for returns)


def quarter_bounds(fy: str, quarter: int) -> tuple[date, date]:
    """First and last day of quarter 1–4 of financial year ``"2026-27"``."""
    first_year = int(fy[:4])
    starts = {
        1: date(first_year, 4, 1),
        2: date(first_year, 7, 1),
        3: date(first_year, 10, 1),
        4: date(first_year + 1, 1, 1),
    }
    ends = {
        1: date(first_year, 6, 30),
        2: date(first_year, 9, 30),
        3: date(first_year, 12, 31),
        4: date(first_year + 1, 3, 31),
    }
    if quarter not in starts:
        raise ValidationError("Quarter is 1 to 4.", field="quarter")
    return starts[quarter], ends[quarter]


def quarter_of(on: date) -> tuple[str, int]:
    """(financial year, quarter 1–4) containing ``on``."""
    return interest.financial_year(on), {4: 1, 5: 1, 6: 1, 7: 2, 8: 2, 9: 2, 10: 3, 11: 3, 12: 3}.get(on.month, 4)


@dataclass
class RegisterRow:
    deduction: TdsDeduction
    member_no: str
    member_name: str
    account_no: str


def register(start: date, end: date, *, deducted_only: bool = False) -> list[RegisterRow]:
    """The 194A register for a period: every assessed credit (or only those with TDS)."""
    stmt = (
        select(TdsDeduction, Member.member_no, Member.name, Account.account_no)
        .join(Member, Member.id == TdsDeduction.member_id)
        .join(Account, Account.id == TdsDeduction.account_id)
        .where(TdsDeduction.credited_on >= start, TdsDeduction.credited_on <= end)
        .order_by(TdsDeduction.credited_on, TdsDeduction.id)
    )
    if deducted_only:
        stmt = stmt.where(TdsDeduction.tds_paise > 0)
    return [RegisterRow(*row) for row in db.session.execute(stmt)]


def account_deductions(account: Account) -> list[TdsDeduction]:
    """Every 194A assessment of one account, newest first (for the account page)."""
    return list(
        db.session.scalars(
            select(TdsDeduction).where(TdsDeduction.account_id == account.id).order_by(TdsDeduction.id.desc())
        )
    )
