"""The year-end: close a financial year (31 March), appropriate the net profit, pay the dividend.

``propose`` computes the figures and submits a maker-checker request (kind
``reports.year_end``, checker permission ``yearend.approve``: the committee — manager or
admin). Approval re-checks everything and posts, through ``ledger.post``, on the open
business day of the new year with value date 31 March:

1. closing entry — every income and expense account's balance at the year end moved to the
   profit and loss appropriation account (the accounts start the new year at zero);
2. appropriation — Dr appropriation; Cr statutory reserve (at least
   ``STATUTORY_RESERVE_MIN_PCT`` of the profit), the other funds, and dividend payable; what
   is left stays in the appropriation account, carried forward;
3. dividend — Dr dividend payable; Cr each member's savings account (``DIVIDEND_MODE`` =
   ``sb``); members without one keep theirs payable (the unclaimed list).

Dividend = rate × Σ(face value × shares × whole months held in the year) / 12, rounded
half-up to the paisa per member (``DIVIDEND_PRO_RATA`` off: shares held at the year end ×
12 months). A share counts for a month when held for all of it: bought on the 1st counts
from that month, later from the next; given up during a month, that month does not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import utcnow
from app.models.calendar import BusinessDay
from app.models.ledger import Account, GLAccount
from app.models.members import Member, ShareCertificate
from app.models.reports import DividendLine, YearEndRun
from app.models.users import StaffUser
from app.money import format_inr, round_half_up
from app.services import ledger
from app.services.common import Conflict, ValidationError, approvals, audit
from app.services.ledger import coa
from app.settings import setting

from . import statements

KIND = "reports.year_end"
HUNDRED = Decimal(100)


# ---------------------------------------------------------------- settings and input


def statutory_minimum_pct() -> Decimal:
    return Decimal(setting("STATUTORY_RESERVE_MIN_PCT"))


def dividend_cap_pct() -> Decimal:
    return Decimal(setting("DIVIDEND_MAX_RATE_PCT"))


def default_funds() -> dict[str, Decimal]:
    """``YEAR_END_FUNDS`` ("3200:25,3303:1") as GL code → per cent."""
    return parse_funds(setting("YEAR_END_FUNDS"))


def parse_funds(text: str) -> dict[str, Decimal]:
    """``"3200:25, 3301:10"`` → {"3200": 25, "3301": 10}; ValidationError when malformed."""
    out: dict[str, Decimal] = {}
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        code, sep, pct = part.partition(":")
        try:
            value = Decimal(pct.strip()) if sep else None
        except InvalidOperation:
            value = None
        if value is None or not code.strip():
            raise ValidationError(f"{part!r} is not 'GL code:per cent', e.g. 3200:25.", field="funds")
        out[code.strip()] = out.get(code.strip(), Decimal(0)) + value
    return out


def parse_pct(raw: Any, name: str) -> Decimal:
    """A percentage from user input (0 to 100, at most two decimals)."""
    try:
        value = Decimal(str(raw).strip() or "0")
    except InvalidOperation:
        raise ValidationError(f"{raw!r} is not a percentage.", field=name) from None
    if value < 0 or value > 100 or value != value.quantize(Decimal("0.01")):
        raise ValidationError(f"{raw} is not a percentage from 0 to 100 with at most two decimals.", field=name)
    return value


# ---------------------------------------------------------------- the figures


@dataclass
class Appropriation:
    code: str
    name: str
    pct: Decimal
    amount_paise: int


@dataclass
class MemberDividend:
    member_id: int
    member_no: str
    name: str
    share_paise_months: int
    paid_up_paise: int
    dividend_paise: int
    credit_account: Account | None = None


@dataclass
class YearEndProposal:
    fy: str
    year_start: date
    year_end: date
    net_profit_paise: int
    closing: dict[int, int]  # GL id → net debit balance at the year end (income and expense)
    funds: list[Appropriation]
    dividend_rate: Decimal
    dividends: list[MemberDividend] = field(default_factory=list)

    @property
    def dividend_total(self) -> int:
        return sum(d.dividend_paise for d in self.dividends)

    @property
    def funds_total(self) -> int:
        return sum(f.amount_paise for f in self.funds)

    @property
    def carried_forward(self) -> int:
        """Profit left in the appropriation account after funds and dividend."""
        return self.net_profit_paise - self.funds_total - self.dividend_total


def fy_label(year_end: date) -> str:
    return f"{year_end.year - 1}-{year_end.year % 100:02d}"


def _month_index(year_start: date, on: date) -> int:
    return (on.year - year_start.year) * 12 + on.month - year_start.month


def months_held(issued_on: date, closed_on: date | None, year_start: date, year_end: date) -> int:
    """Whole calendar months of the year for which a share was held (see the module docstring)."""
    if issued_on > year_end or (closed_on is not None and closed_on <= year_start):
        return 0
    if issued_on <= year_start:
        first = 0
    else:
        first = _month_index(year_start, issued_on) + (0 if issued_on.day == 1 else 1)
    last = 12 if closed_on is None or closed_on > year_end else _month_index(year_start, closed_on)
    return max(0, min(12, last) - first)


def dividends(year_start: date, year_end: date, rate: Decimal) -> list[MemberDividend]:
    """Each member's dividend for the year at ``rate`` per cent (members with nothing are left out)."""
    pro_rata = bool(setting("DIVIDEND_PRO_RATA"))
    per_member: dict[int, list[int]] = {}
    for cert in db.session.scalars(
        select(ShareCertificate).where(ShareCertificate.issued_on <= year_end).order_by(ShareCertificate.id)
    ):
        value = cert.shares * cert.face_value_paise
        if pro_rata:
            months = months_held(cert.issued_on, cert.closed_on, year_start, year_end)
        else:
            months = 12 if cert.closed_on is None or cert.closed_on > year_end else 0
        held_at_end = cert.closed_on is None or cert.closed_on > year_end
        acc = per_member.setdefault(cert.member_id, [0, 0])
        acc[0] += value * months
        acc[1] += value if held_at_end else 0
    if not per_member:
        return []
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(list(per_member))))}
    out = []
    for member_id, (paise_months, paid_up) in sorted(per_member.items()):
        amount = int(round_half_up(Decimal(paise_months) * rate / (HUNDRED * 12), Decimal(1)))
        if amount <= 0:
            continue
        m = members[member_id]
        out.append(MemberDividend(member_id, m.member_no, m.name, paise_months, paid_up, amount))
    return out


def _savings_account(member_id: int) -> Account | None:
    return db.session.scalar(
        select(Account)
        .where(Account.member_id == member_id, Account.kind == "savings", Account.status == "active")
        .order_by(Account.id)
        .limit(1)
    )


def _check_year(year_end: date) -> tuple[date, date]:
    if (year_end.month, year_end.day) != (3, 31):
        raise ValidationError(f"A financial year ends on 31 March, not {year_end:%d-%m-%Y}.", field="year_end")
    year_start = date(year_end.year - 1, 4, 1)
    fy = fy_label(year_end)
    first = statements.first_day()
    if first is None or first > year_end:
        raise ValidationError(f"The society had no business days in {fy}; there is nothing to close.", field="year_end")
    closed = db.session.scalar(select(YearEndRun).where(YearEndRun.fy == fy, YearEndRun.status == "closed"))
    if closed is not None:
        raise Conflict(f"The year {fy} was already closed on {closed.closed_at:%d-%m-%Y}; a year closes once.")
    open_in_year = db.session.scalar(
        select(BusinessDay.business_date)
        .where(BusinessDay.status == "open", BusinessDay.business_date <= year_end)
        .limit(1)
    )
    if open_in_year is not None:
        raise Conflict(
            f"Business day {open_in_year:%d-%m-%Y} of {fy} is still open; run its day-end before closing the year."
        )
    if ledger.business_date_or_none() is None:
        raise Conflict("No business day is open; open the first day of the new year to post the year-end.")
    return year_start, year_end


def compute(year_end: date, funds: dict[str, Decimal], dividend_rate: Decimal) -> YearEndProposal:
    """Validate and work out the year-end (nothing written). ValidationError/Conflict when refused."""
    year_start, year_end = _check_year(year_end)
    if dividend_rate < 0:
        raise ValidationError("The dividend rate cannot be negative.", field="dividend_rate")
    cap = dividend_cap_pct()
    if dividend_rate > cap:
        raise ValidationError(
            f"A dividend of {dividend_rate}% is above the cap of {cap}% on paid-up share capital.",
            field="dividend_rate",
        )
    balances = statements.net_debits(year_end)
    gls = {gl.id: gl for gl in db.session.scalars(select(GLAccount))}
    by_code = {gl.code: gl for gl in gls.values()}
    closing = {gl_id: net for gl_id, net in balances.items() if net and gls[gl_id].type in ("income", "expense")}
    profit = -sum(closing.values())
    rows: list[Appropriation] = []
    total_pct = Decimal(0)
    for code, pct in funds.items():
        gl = by_code.get(code)
        if gl is None or gl.type != "equity" or gl.is_group or gl.code in (coa.SHARE_CAPITAL, coa.PL_APPROPRIATION):
            raise ValidationError(f"{code} is not a reserve or fund account to appropriate to.", field="funds")
        if pct < 0:
            raise ValidationError(f"The share of {gl.name} cannot be negative.", field="funds")
        total_pct += pct
        amount = int(round_half_up(Decimal(max(profit, 0)) * pct / HUNDRED, Decimal(1)))
        rows.append(Appropriation(code, gl.name, pct, amount))
    if total_pct > 100:
        raise ValidationError(
            f"The appropriations add up to {total_pct}% of the net profit; they cannot exceed 100%.", field="funds"
        )
    minimum = statutory_minimum_pct()
    statutory = funds.get(coa.STATUTORY_RESERVE, Decimal(0))
    if profit > 0 and statutory < minimum:
        raise ValidationError(
            f"The statutory reserve must get at least {minimum}% of the net profit; {statutory}% was proposed.",
            field="funds",
        )
    if profit <= 0 and dividend_rate > 0:
        raise ValidationError(
            f"There is no profit to pay a dividend from (net {'loss' if profit < 0 else 'result'} "
            f"{format_inr(abs(profit))}).",
            field="dividend_rate",
        )
    proposal = YearEndProposal(
        fy_label(year_end),
        year_start,
        year_end,
        profit,
        closing,
        [r for r in rows if r.amount_paise] if profit > 0 else [],
        dividend_rate,
        dividends(year_start, year_end, dividend_rate) if dividend_rate > 0 else [],
    )
    if proposal.carried_forward < 0:
        raise ValidationError(
            f"Funds ({format_inr(proposal.funds_total)}) and the dividend ({format_inr(proposal.dividend_total)}) "
            f"come to more than the net profit of {format_inr(profit)}.",
            field="dividend_rate",
        )
    return proposal


# ---------------------------------------------------------------- maker-checker


def pending_requests() -> list[ApprovalRequest]:
    """Year-end proposals awaiting the committee."""
    return [r for r in approvals.pending("reports.") if r.kind == KIND]


def pending_request(fy: str) -> ApprovalRequest | None:
    return db.session.scalar(
        select(ApprovalRequest).where(
            ApprovalRequest.kind == KIND, ApprovalRequest.status == "pending", ApprovalRequest.entity_id == fy
        )
    )


def propose(year_end: date, *, funds: dict[str, Decimal], dividend_rate: Decimal, maker: StaffUser) -> ApprovalRequest:
    """Check and submit the year-end for the committee's approval (the caller commits)."""
    proposal = compute(year_end, funds, dividend_rate)
    if pending_request(proposal.fy) is not None:
        raise Conflict(f"The year-end of {proposal.fy} is already awaiting approval.")
    summary = (
        f"Close {proposal.fy}: net profit {format_inr(proposal.net_profit_paise)}, "
        f"funds {format_inr(proposal.funds_total)}, dividend {dividend_rate}% = {format_inr(proposal.dividend_total)}"
    )
    return approvals.submit(
        KIND,
        {
            "year_end": year_end.isoformat(),
            "funds": {code: str(pct) for code, pct in funds.items()},
            "dividend_rate": str(dividend_rate),
            "net_profit_paise": proposal.net_profit_paise,
        },
        maker=maker,
        summary=summary,
        entity=("year_end", proposal.fy),
        amount_paise=proposal.net_profit_paise,
    )


def _execute(req: ApprovalRequest, checker: StaffUser) -> dict:
    payload = req.payload
    year_end = date.fromisoformat(payload["year_end"])
    funds = {code: Decimal(pct) for code, pct in payload["funds"].items()}
    proposal = compute(year_end, funds, Decimal(payload["dividend_rate"]))
    if proposal.net_profit_paise != payload["net_profit_paise"]:
        raise Conflict(
            f"The net profit is now {format_inr(proposal.net_profit_paise)}, not the "
            f"{format_inr(payload['net_profit_paise'])} proposed; propose the year-end again."
        )
    run = close_year(proposal, maker_id=req.maker_id, checker=checker)
    req.entity_id = proposal.fy
    return {"run_id": run.id, "fy": run.fy, "net_profit_paise": run.net_profit_paise}


def _post_options(proposal: YearEndProposal, maker_id: int | None, checker: StaffUser) -> ledger.PostOptions:
    """Year-end entries carry today's business date and the year's last day as value date."""
    return ledger.PostOptions(
        value_date=proposal.year_end, allow_backdate=True, posted_by_id=maker_id,
        approved_by_id=checker.id, channel="system",
    )  # fmt: skip


def _post_closing(proposal: YearEndProposal, options: ledger.PostOptions) -> Any:
    """Close every income and expense account to the P&L appropriation account."""
    gls = {gl.id: gl for gl in db.session.scalars(select(GLAccount))}
    fy = proposal.fy
    lines: list[ledger.Line] = []
    for gl_id, net in sorted(proposal.closing.items(), key=lambda kv: gls[kv[0]].code):
        code = gls[gl_id].code
        lines.append(ledger.Line.cr(code, net) if net > 0 else ledger.Line.dr(code, -net))
    profit = proposal.net_profit_paise
    if profit > 0:
        lines.append(ledger.Line.cr(coa.PL_APPROPRIATION, profit, f"Net profit {fy}"))
    elif profit < 0:
        lines.append(ledger.Line.dr(coa.PL_APPROPRIATION, -profit, f"Net loss {fy}"))
    if not lines:
        return None
    return ledger.post(
        lines, kind="eod", narration=f"Year-end {fy}: income and expenditure closed",
        idempotency_key=f"year-end:{fy}:close", reference=f"YE{fy}", options=options,
    )  # fmt: skip


def _post_appropriation(proposal: YearEndProposal, options: ledger.PostOptions) -> Any:
    """Reserves and funds by their percentages, and the dividend to dividend payable."""
    fy = proposal.fy
    appropriated = proposal.funds_total + proposal.dividend_total
    if not appropriated:
        return None
    lines = [ledger.Line.dr(coa.PL_APPROPRIATION, appropriated, f"Appropriation of profit {fy}")]
    lines += [ledger.Line.cr(f.code, f.amount_paise, f"{f.pct}% of net profit") for f in proposal.funds]
    if proposal.dividend_total:
        lines.append(
            ledger.Line.cr(coa.DIVIDEND_PAYABLE, proposal.dividend_total, f"Dividend {proposal.dividend_rate}%")
        )
    return ledger.post(
        lines, kind="eod", narration=f"Year-end {fy}: appropriation of net profit",
        idempotency_key=f"year-end:{fy}:appropriation", reference=f"YE{fy}", options=options,
    )  # fmt: skip


def _credit_dividends(run: YearEndRun, proposal: YearEndProposal, options: ledger.PostOptions) -> list[DividendLine]:
    """One register line per member; dividends credited to savings (setting) or held payable."""
    fy = proposal.fy
    to_sb = setting("DIVIDEND_MODE") == "sb"
    credits: list[ledger.Line] = []
    dividend_lines = []
    for d in proposal.dividends:
        account = _savings_account(d.member_id) if to_sb else None
        line = DividendLine(
            run_id=run.id,
            member_id=d.member_id,
            share_paise_months=d.share_paise_months,
            paid_up_paise=d.paid_up_paise,
            dividend_paise=d.dividend_paise,
            status="credited" if account is not None else "payable",
            credit_account_id=account.id if account is not None else None,
        )
        db.session.add(line)
        dividend_lines.append(line)
        if account is not None:
            credits.append(ledger.Line.cr(account, d.dividend_paise, f"Dividend {fy} {d.member_no}"))
    if credits:
        total = sum(c.credit for c in credits)
        entry = ledger.post(
            [ledger.Line.dr(coa.DIVIDEND_PAYABLE, total, f"Dividend {fy} credited"), *credits],
            kind="dividend", narration=f"Dividend {fy} credited to members' savings accounts",
            idempotency_key=f"year-end:{fy}:dividend", reference=f"YE{fy}", options=options,
        )  # fmt: skip
        run.dividend_entry_id = entry.id
        for line in dividend_lines:
            if line.status == "credited":
                line.entry_id = entry.id
    db.session.flush()
    return dividend_lines


def close_year(proposal: YearEndProposal, *, maker_id: int | None, checker: StaffUser) -> YearEndRun:
    """Post the closing, appropriation and dividend entries and record the run (the caller commits)."""
    options = _post_options(proposal, maker_id, checker)
    closing_entry = _post_closing(proposal, options)
    appropriation_entry = _post_appropriation(proposal, options)
    profit = proposal.net_profit_paise
    run = YearEndRun(
        fy=proposal.fy,
        year_start=proposal.year_start,
        year_end=proposal.year_end,
        status="closed",
        net_profit_paise=profit,
        dividend_rate_bp=int(proposal.dividend_rate * 100),
        dividend_total_paise=proposal.dividend_total,
        appropriation={f.code: f.amount_paise for f in proposal.funds}
        | {"dividend": proposal.dividend_total, "carried_forward": proposal.carried_forward},
        closing_entry_id=closing_entry.id if closing_entry else None,
        appropriation_entry_id=appropriation_entry.id if appropriation_entry else None,
        prepared_by_id=maker_id,
        closed_by_id=checker.id,
        closed_at=utcnow(),
    )
    db.session.add(run)
    db.session.flush()
    dividend_lines = _credit_dividends(run, proposal, options)
    audit.record(
        "year_end.close",
        "year_end_run",
        run.id,
        after={
            "fy": proposal.fy,
            "net_profit_paise": profit,
            "appropriation": run.appropriation,
            "dividend_rate_bp": run.dividend_rate_bp,
            "members": len(dividend_lines),
            "closing_entry": closing_entry.number if closing_entry else None,
        },
    )
    return run


approvals.register(KIND, label="Year-end close", permission="yearend.approve", execute=_execute)


# ---------------------------------------------------------------- reads


def runs() -> list[YearEndRun]:
    return list(db.session.scalars(select(YearEndRun).order_by(YearEndRun.year_end.desc())))


def get_run(fy: str) -> YearEndRun | None:
    return db.session.scalar(select(YearEndRun).where(YearEndRun.fy == fy, YearEndRun.status == "closed"))


def dividend_register(run: YearEndRun) -> list[tuple[DividendLine, Member, Account | None]]:
    """Every member's dividend line of a run, with the member and the account credited."""
    stmt = (
        select(DividendLine, Member, Account)
        .join(Member, Member.id == DividendLine.member_id)
        .outerjoin(Account, Account.id == DividendLine.credit_account_id)
        .where(DividendLine.run_id == run.id)
        .order_by(Member.member_no)
    )
    return [tuple(row) for row in db.session.execute(stmt)]  # type: ignore[misc]


def unclaimed_dividends() -> list[tuple[DividendLine, Member, YearEndRun]]:
    """Dividends held payable (no savings account to credit), oldest year first."""
    stmt = (
        select(DividendLine, Member, YearEndRun)
        .join(Member, Member.id == DividendLine.member_id)
        .join(YearEndRun, YearEndRun.id == DividendLine.run_id)
        .where(DividendLine.status == "payable")
        .order_by(YearEndRun.year_end, Member.member_no)
    )
    return [tuple(row) for row in db.session.execute(stmt)]  # type: ignore[misc]
