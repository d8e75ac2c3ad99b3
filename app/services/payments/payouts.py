"""Payouts (NEFT, IMPS, UPI, RTGS) from a member's savings to an outside account or VPA.

The amount leaves the SB at once (Dr SB / Cr payouts in transit, one ``ledger.post``), then
:func:`send` asks RazorpayX with our ``payout_id`` as ``reference_id`` and the payout's own
``X-Payout-Idempotency`` key: a timeout or 5xx is retried with the same key (the payout stays
``queued``, the member sees "processing", reconciliation sends it again — never twice, the key
makes the gateway answer the first payout); a definite refusal fails it and returns the money.
``payout.processed`` records the UTR and moves the money out of transit (Dr payouts in transit /
Cr the RazorpayX balance, once per payout: decision 0050); ``payout.reversed`` / ``payout.failed``
return the money once (a ledger reversal: an entry is reversed at most once), undoing the move
out of transit first when the bank sent back a payout already processed. Staff payouts above
``PAYOUT_APPROVAL_PAISE`` wait for a checker (maker-checker), and are debited on approval.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from app.clock import ist, ist_date, ist_day_start
from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import Account, JournalEntry
from app.models.payments import PAYOUT_MODES, Beneficiary, Payout
from app.models.users import StaffUser
from app.money import format_inr
from app.settings import setting

from .. import access, ledger
from ..common import NotFound, ValidationError, approvals, audit
from ..ledger import coa, kinds
from . import gateway, history

IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
ACCOUNT_NO = re.compile(r"^\d{9,18}$")
VPA = re.compile(r"^[A-Za-z0-9.\-_]{2,256}@[A-Za-z][A-Za-z0-9]{1,63}$")
MODE_MAX = {"UPI": 1_00_000_00, "IMPS": 5_00_000_00}
RTGS_MIN = 2_00_000_00
SEND_ATTEMPTS = 3
APPROVAL_KIND = "payments.payout"
LIVE = ("pending_approval", "queued", "processing", "processed")


@dataclass(frozen=True)
class PayoutRequest:
    from_account: str
    amount_paise: int
    mode: str
    beneficiary: dict
    narration: str | None = None


def clean_beneficiary(mode: str, data: Any) -> dict:
    """The beneficiary normalised, or a ValidationError naming the bad field."""
    if mode not in PAYOUT_MODES:
        raise ValidationError("mode: NEFT, IMPS, UPI or RTGS.", field="mode")
    if not isinstance(data, dict):
        raise ValidationError("beneficiary: {name, account_number, ifsc} or {name, vpa}.", field="beneficiary")
    name = str(data.get("name") or "").strip()
    if not 2 <= len(name) <= 100:
        raise ValidationError("beneficiary.name: the payee's name (2–100 characters).", field="beneficiary.name")
    if mode == "UPI":
        vpa = str(data.get("vpa") or "").strip()
        if not VPA.match(vpa):
            raise ValidationError("beneficiary.vpa: a UPI id such as name@bank.", field="beneficiary.vpa")
        return {"name": name, "vpa": vpa.lower()}
    number = str(data.get("account_number") or "").strip().replace(" ", "")
    ifsc = str(data.get("ifsc") or "").strip().upper()
    if not ACCOUNT_NO.match(number):
        raise ValidationError("beneficiary.account_number: 9 to 18 digits.", field="beneficiary.account_number")
    if not IFSC.match(ifsc):
        raise ValidationError(
            "beneficiary.ifsc: 11 characters, e.g. SBIN0001234 (fifth is 0).", field="beneficiary.ifsc"
        )
    return {"name": name, "account_number": number, "ifsc": ifsc}


def _saved(member_id: int, ben: dict) -> Beneficiary:
    stmt = select(Beneficiary).where(Beneficiary.member_id == member_id)
    if "vpa" in ben:
        stmt = stmt.where(Beneficiary.vpa == ben["vpa"])
    else:
        stmt = stmt.where(Beneficiary.account_number == ben["account_number"], Beneficiary.ifsc == ben["ifsc"])
    row = db.session.scalar(stmt)
    if row is None:
        now = utcnow()
        row = Beneficiary(
            member_id=member_id,
            name=ben["name"],
            account_number=ben.get("account_number"),
            ifsc=ben.get("ifsc"),
            vpa=ben.get("vpa"),
            created_at=now,
            cooling_until=now + timedelta(hours=int(setting("BENEFICIARY_COOLING_HOURS"))),
        )
        db.session.add(row)
        db.session.flush()
        audit.record("beneficiary.add", "beneficiary", row.id, after=ben)
    return row


def _today_start() -> datetime:
    """Today's payout limit runs by the Indian day: from 00:00 IST."""
    return ist_day_start(ist_date(utcnow()))


def sent_today_paise(member_id: int) -> int:
    """The member's own payouts today (from savings; a loan or deposit paid out by payout is not counted)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Payout.amount_paise), 0))
        .select_from(Payout)
        .outerjoin(JournalEntry, JournalEntry.id == Payout.entry_id)
        .where(
            Payout.member_id == member_id,
            Payout.status.in_(LIVE),
            Payout.created_at >= _today_start(),
            or_(JournalEntry.id.is_(None), JournalEntry.kind == "payout"),
        )
    )
    return int(total or 0)


def check_amount(mode: str, amount: int) -> None:
    """The amount rules of the payment rails (more than zero, UPI/IMPS caps, the RTGS floor)."""
    if amount <= 0:
        raise ValidationError("amount: more than zero.", field="amount")
    if mode in MODE_MAX and amount > MODE_MAX[mode]:
        raise ValidationError(f"amount: {mode} takes at most {format_inr(MODE_MAX[mode])}.", field="amount")
    if mode == "RTGS" and amount < RTGS_MIN:
        raise ValidationError(f"amount: RTGS starts at {format_inr(RTGS_MIN)}; use NEFT or IMPS.", field="amount")


def check_request(subject: Any, req: PayoutRequest) -> tuple[Account, dict]:
    """The checks that need no writing (the account visible to ``subject``, the payee, the amount)."""
    try:
        account = access.visible_account(subject, req.from_account, kinds=("savings", "current"))
    except NotFound:
        raise NotFound(f"No account {(req.from_account or '').strip().upper()!r}.", field="from_account") from None
    ben = clean_beneficiary(req.mode, req.beneficiary)
    check_amount(req.mode, req.amount_paise)
    return account, ben


def code_needed(amount_paise: int) -> bool:
    """Whether a member's own payout of this amount needs an SMS code (``PAYOUT_OTP_PAISE``; 0: every one)."""
    return int(amount_paise) > int(setting("PAYOUT_OTP_PAISE"))


def create_payout(subject: Any, req: PayoutRequest, *, by: StaffUser | None = None) -> Payout:
    """Validate, save the beneficiary, debit the SB into transit (or wait for a checker). Caller commits."""
    account, ben = check_request(subject, req)
    amount = req.amount_paise
    limit = int(setting("PAYOUT_DAILY_LIMIT_PAISE"))
    already = sent_today_paise(account.member_id)
    if already + amount > limit:
        raise ValidationError(
            f"amount: above today's payout limit of {format_inr(limit)} "
            f"({format_inr(max(limit - already, 0))} left today).",
            field="amount",
        )
    saved = _saved(account.member_id, ben)
    cooling = saved.cooling_until if saved.cooling_until.tzinfo else saved.cooling_until.replace(tzinfo=UTC)
    if by is None and amount > int(setting("BENEFICIARY_COOLING_PAISE")) and cooling > utcnow():
        raise ValidationError(
            f"amount: {ben['name']} is a new payee; until {ist(cooling, '%d %b %Y %H:%M')} payouts to them are "
            f"limited to {format_inr(int(setting('BENEFICIARY_COOLING_PAISE')))}.",
            field="amount",
        )
    floor = kinds.withdrawal_floor(account)
    if account.balance_paise - amount < floor:
        raise ValidationError(
            f"amount: more than the available balance of {format_inr(max(account.balance_paise - floor, 0))}.",
            field="amount",
        )
    payout = Payout(
        payout_id=history.new_payout_id(),
        member_id=account.member_id,
        account_id=account.id,
        beneficiary_id=saved.id,
        amount_paise=amount,
        mode=req.mode,
        beneficiary=ben,
        narration=(req.narration or "").strip()[:120] or None,
        status="queued",
        gateway_key=secrets.token_hex(16),
        attempts=0,
        created_by_id=by.id if by is not None else None,
    )
    db.session.add(payout)
    db.session.flush()
    audit.record(
        "payout.create",
        "payout",
        payout.payout_id,
        after={"account": account.account_no, "amount_paise": amount, "mode": req.mode, "beneficiary": ben},
    )
    if by is not None and amount > int(setting("PAYOUT_APPROVAL_PAISE")):
        payout.status = "pending_approval"
        req_row = approvals.submit(
            APPROVAL_KIND,
            {"payout": payout.payout_id},
            maker=by,
            summary=f"Payout {format_inr(amount)} {req.mode} from {account.account_no} to {ben['name']}",
            entity=("payout", payout.payout_id),
            amount_paise=amount,
        )
        payout.approval_id = req_row.id
        history.note("payout.submitted", payout=payout, status_to="pending_approval")
        return payout
    _debit(payout, account, floor)
    history.note("payout.created", payout=payout, status_to="queued")
    return payout


def _debit(payout: Payout, account: Account, floor: int, *, approved_by: StaffUser | None = None) -> None:
    entry = ledger.post(
        [
            ledger.Line.dr(
                account, payout.amount_paise, f"{payout.mode} to {payout.beneficiary['name']}", floor_paise=floor
            ),
            ledger.Line.cr(coa.PAYOUTS_IN_TRANSIT, payout.amount_paise, payout.payout_id),
        ],
        kind="payout",
        narration=f"{payout.mode} payout {payout.payout_id} to {payout.beneficiary['name']}",
        idempotency_key=f"payout:{payout.payout_id}",
        reference=payout.payout_id,
        options=ledger.PostOptions(
            posted_by_id=payout.created_by_id, approved_by_id=approved_by.id if approved_by else None, channel="gateway"
        ),
    )
    payout.entry_id = entry.id


def _execute(req: Any, checker: StaffUser) -> dict:
    payout = db.session.scalar(select(Payout).where(Payout.payout_id == req.payload["payout"]))
    payout = history.lock_payout(payout.id)
    account = db.session.get(Account, payout.account_id)
    _debit(payout, account, kinds.withdrawal_floor(account), approved_by=checker)
    history.move(payout, "queued", "payout.approved", detail={"checker": checker.username})
    return {"payout_id": payout.payout_id}


approvals.register(APPROVAL_KIND, label="Payout", permission="payments.approve", execute=_execute)


def _body(payout: Payout) -> dict:
    ben = payout.beneficiary
    if "vpa" in ben:
        fund = {"account_type": "vpa", "vpa": {"address": ben["vpa"]}}
    else:
        fund = {
            "account_type": "bank_account",
            "bank_account": {"name": ben["name"], "ifsc": ben["ifsc"], "account_number": ben["account_number"]},
        }
    fund["contact"] = {"name": ben["name"], "type": "customer", "reference_id": f"M{payout.member_id}"}
    return {
        "fund_account": fund,
        "amount": payout.amount_paise,
        "currency": "INR",
        "mode": payout.mode,
        "purpose": "payout",
        "queue_if_low_balance": True,
        "reference_id": payout.payout_id,
        "narration": (payout.narration or "Sahakari payout")[:30],
    }


def send(payout: Payout) -> Payout:
    """Send a queued payout to the gateway (retries with the same key); caller commits."""
    p = history.lock_payout(payout.id)
    if p.status != "queued":
        return p
    gw = gateway.current()
    answer = None
    for _ in range(SEND_ATTEMPTS):
        p.attempts += 1
        try:
            answer = gw.create_payout(_body(p), p.gateway_key)
            break
        except gateway.GatewayUnavailable as exc:
            history.note("gateway.unavailable", payout=p, detail={"attempt": p.attempts, "error": exc.message})
        except gateway.GatewayRefused as exc:
            return settle(p, "failed", utr=None, gateway_payout_id=None, source="gateway", reason=exc.message)
    if answer is None:
        return p  # still queued: reconciliation sends it again with the same key
    p.gateway_payout_id = answer.get("id")
    status = answer.get("status")
    history.note("gateway.accepted", payout=p, detail={"gateway_payout_id": p.gateway_payout_id, "status": status})
    if status in ("processed", "reversed", "failed", "rejected", "cancelled"):
        return settle(
            p,
            "failed" if status in ("rejected", "cancelled") else status,
            utr=answer.get("utr"),
            gateway_payout_id=p.gateway_payout_id,
            source="gateway",
        )
    history.move(p, "processing", "payout.processing", detail={"gateway_payout_id": p.gateway_payout_id})
    return p


def match(gateway_payout_id: str | None, reference_id: str | None) -> Payout | None:
    conds = []
    if gateway_payout_id:
        conds.append(Payout.gateway_payout_id == gateway_payout_id)
    if reference_id:
        conds.append(Payout.payout_id == reference_id)
    return db.session.scalar(select(Payout).where(or_(*conds))) if conds else None


def settle(
    payout: Payout,
    status: str,
    *,
    utr: str | None,
    gateway_payout_id: str | None,
    source: str,
    reason: str | None = None,
) -> Payout:
    """processed (UTR) / reversed / failed (money back to the SB, once); other statuses just noted."""
    p = history.lock_payout(payout.id)
    if gateway_payout_id and not p.gateway_payout_id:
        p.gateway_payout_id = gateway_payout_id
    if status == "processing":
        if p.status == "queued":
            history.move(p, "processing", f"{source}.processing")
        return p
    if status not in ("processed", "reversed", "failed"):
        history.note(f"{source}.{status}"[:40], payout=p)
        return p
    detail = {"utr": utr, "reason": reason}
    before = p.status
    if not history.move(p, status, f"{source}.{status}", detail=detail):
        history.note(f"{source}.{status}_ignored"[:40], payout=p, detail={**detail, "status": p.status})
        return p
    if status == "processed":
        p.utr = utr or p.utr
        paid_out(p)
        return p
    if before == "processed":  # rare: the bank sent the money back after the gateway said processed
        _undo_paid_out(p, status)
    _return(p, status)
    return p


PAID_KEY_PREFIX = "payout-processed:"


def paid_key(payout: Payout) -> str:
    """The ledger idempotency key of a processed payout's move out of transit."""
    return f"{PAID_KEY_PREFIX}{payout.payout_id}"


def paid_entry(payout: Payout) -> JournalEntry | None:
    """The posting that moved a processed payout out of transit (None before it is processed)."""
    return ledger.entry_by_key(paid_key(payout))


def paid_out(payout: Payout) -> JournalEntry | None:
    """Dr payouts in transit / Cr the RazorpayX balance, once per payout (decision 0050). Caller commits."""
    if payout.entry_id is None or payout.status != "processed":
        return None
    already = paid_entry(payout)
    if already is not None:
        return already
    entry = ledger.post(
        [
            ledger.Line.dr(coa.PAYOUTS_IN_TRANSIT, payout.amount_paise, payout.payout_id),
            ledger.Line.cr(coa.RAZORPAYX_BALANCE, payout.amount_paise, f"{payout.mode} UTR {payout.utr or '-'}"),
        ],
        kind="payout",
        narration=f"{payout.mode} payout {payout.payout_id} processed (UTR {payout.utr or 'not given'})",
        idempotency_key=paid_key(payout),
        reference=payout.payout_id,
        options=ledger.PostOptions(channel="gateway"),
    )
    history.note("payout.paid_out", payout=payout, detail={"entry": entry.number, "utr": payout.utr})
    audit.record("payout.paid_out", "payout", payout.payout_id, after={"entry": entry.number, "utr": payout.utr})
    return entry


def _undo_paid_out(payout: Payout, status: str) -> None:
    """Reverse the move out of transit (the money is back in the RazorpayX balance)."""
    entry = paid_entry(payout)
    if entry is not None and ledger.reversal_of(entry) is None:
        ledger.reverse(entry, reason=f"Payout {payout.payout_id} {status} after it was processed")


def _return(payout: Payout, status: str) -> None:
    """The money back to the member, once: the SB debit reversed, or (a loan or deposit paid out by
    payout) credited to the member's savings account ``payout.account_id``."""
    if payout.entry_id is None or payout.return_entry_id is not None:
        return
    debit = ledger.get_entry(payout.entry_id)
    if debit.kind == "payout":
        back = ledger.reverse(debit, reason=f"Payout {payout.payout_id} {status}")
    else:
        account = db.session.get(Account, payout.account_id)
        back = ledger.post(
            [
                ledger.Line.dr(coa.PAYOUTS_IN_TRANSIT, payout.amount_paise, payout.payout_id),
                ledger.Line.cr(account, payout.amount_paise, f"Returned: {payout.mode} payout {status}"),
            ],
            kind="payout",
            narration=f"{payout.mode} payout {payout.payout_id} {status}: credited to {account.account_no}",
            idempotency_key=f"payout-return:{payout.payout_id}",
            reference=payout.payout_id,
            options=ledger.PostOptions(channel="gateway", allow_frozen=True),
        )
    payout.return_entry_id = back.id


def get_payout(subject: Any, payout_id: str) -> Payout:
    number = (payout_id or "").strip().upper()
    payout = db.session.scalar(select(Payout).where(Payout.payout_id == number)) if number else None
    own = access.member_id_of(subject)
    if payout is None or (own is not None and payout.member_id != own):
        raise NotFound(f"No payout {payout_id!r}.")
    return payout


def payouts(*, status: str | None = None, limit: int = 100) -> list[Payout]:
    stmt = select(Payout).order_by(Payout.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Payout.status == status)
    return list(db.session.scalars(stmt))
