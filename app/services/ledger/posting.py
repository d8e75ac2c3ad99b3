"""The posting service: the only writer of journal rows.

``post()`` validates a balanced set of lines, locks the member accounts it touches in
ascending id order, updates their cached balances, writes the entry and its lines, and
records the audit row (with a digest of the lines), all inside the caller's unit of work.
The same idempotency key with the same request returns the original entry; with a
different request it is refused.

Every posting — two lines at the counter or two thousand in a batch — is written with a
few Core statements (``writer``), in this order and with these round trips on PostgreSQL:

1. the day lock, the open day, the idempotency lookup and the chart's fingerprint
   (``open_posting``: one SELECT; the chart itself comes from a per-process cache),
2. the member accounts locked ``FOR UPDATE`` in ascending id order (one SELECT; none when
   the caller already locked them with ``lock_accounts`` in this transaction),
3. the entry (``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: a concurrent duplicate key
   writes nothing), 4. the balances (one UPDATE re-checking each old balance in its WHERE),
5. the lines (one INSERT), 6. the audit row (one INSERT).

With BEGIN and COMMIT that is at most 8 round trips; the audit seal happens off the
request path (``uow.seal_after_commit``, ADR 0014). Lines may name accounts by
``AccountRef`` (plain row values), so batch callers need not load ORM accounts; ORM
accounts in the session get their new balance without a reload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import Account, JournalEntry
from app.money import format_inr
from app.services.common import Conflict, DomainError, NotFound, ValidationError, audit

from . import calendar, glcache, writer
from .glcache import GLInfo
from .writer import id_in, loaded_objects  # noqa: F401  (the face exports them)


class PostingError(DomainError):
    type = "posting-refused"
    title = "Posting refused"


class UnbalancedEntry(PostingError):
    type = "unbalanced-entry"
    title = "Entry does not balance"


class InsufficientFunds(PostingError):
    type = "insufficient-funds"
    title = "Insufficient balance"


class AccountNotOperable(PostingError):
    type = "account-not-operable"
    title = "Account cannot take this posting"


class NotAControlAccount(PostingError):
    type = "not-a-control-account"
    title = "Member account under a non-control GL"


class BackdateNotAllowed(PostingError):
    type = "backdate-not-allowed"
    title = "Back value date not allowed"


class IdempotencyConflict(Conflict):
    type = "idempotency-conflict"
    title = "Idempotency key reused with a different request"


class AlreadyReversed(Conflict):
    type = "already-reversed"
    title = "Entry already reversed"


KINDS = frozenset(
    {
        "deposit", "withdrawal", "transfer", "interest", "fee", "charge", "disbursement", "repayment",
        "reversal", "eod", "journal", "admission", "shares", "tds", "maturity", "payout", "teller",
        "provision", "dividend", "payment", "opening",
    }
)  # fmt: skip


@dataclass(frozen=True)
class AccountRef:
    """A member account named by plain row values, for bulk postings that load no ORM objects.

    Only what validation needs before the lock: the id (lock order, lines), the number
    (messages) and the control GL. Status, balance and limits are read under the row lock.
    """

    id: int
    account_no: str
    control_gl_id: int


@dataclass(frozen=True)
class Line:
    """One side of a posting. Give ``gl`` (a code), or ``account`` (its control GL is used)."""

    debit: int = 0
    credit: int = 0
    gl: str | None = None
    account: Account | AccountRef | None = None
    narration: str | None = None
    floor_paise: int | None = None  # a stricter minimum for this account (e.g. product minimum balance)

    @classmethod
    def dr(
        cls,
        target: str | Account | AccountRef,
        paise: int,
        narration: str | None = None,
        *,
        floor_paise: int | None = None,
    ) -> Line:
        if isinstance(target, (Account, AccountRef)):
            return cls(debit=paise, account=target, narration=narration, floor_paise=floor_paise)
        return cls(debit=paise, gl=target, narration=narration)

    @classmethod
    def cr(cls, target: str | Account | AccountRef, paise: int, narration: str | None = None) -> Line:
        if isinstance(target, (Account, AccountRef)):
            return cls(credit=paise, account=target, narration=narration)
        return cls(credit=paise, gl=target, narration=narration)


@dataclass(frozen=True)
class PostOptions:
    """The rarely used options of ``post`` (the common ones are its own keywords).

    ``business_date`` must be the open business date (the default); ``value_date`` may be
    earlier only with ``allow_backdate`` (the caller checks the permission).
    ``fingerprint_extra`` joins the request hash an idempotent retry is compared with.
    """

    posted_by_id: int | None = None
    approved_by_id: int | None = None
    branch_id: int | None = None
    channel: str = "branch"
    business_date: date | None = None
    value_date: date | None = None
    allow_backdate: bool = False
    reverses: JournalEntry | None = None
    allow_frozen: bool = False
    enforce_limits: bool = True
    fingerprint_extra: dict | None = None


_DEFAULTS = PostOptions()


@dataclass
class _Resolved:
    line: Line
    gl: GLInfo
    account_id: int | None


def request_fingerprint(kind: str, narration: str, lines: Sequence[Line], extra: dict | None = None) -> str:
    """A stable hash of what a posting asks for (used to compare idempotent retries)."""
    payload = {
        "kind": kind,
        "narration": narration,
        "lines": [
            [ln.gl or "", ln.account.id if ln.account is not None else None, ln.debit, ln.credit] for ln in lines
        ],
        "extra": extra or {},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _check_amounts(lines: Sequence[Line]) -> None:
    if len(lines) < 2:
        raise UnbalancedEntry("An entry needs at least two lines.")
    debit = credit = 0
    for ln in lines:
        for amount in (ln.debit, ln.credit):
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise ValidationError("Amounts must be whole paise (int).")
        if ln.debit < 0 or ln.credit < 0:
            raise ValidationError("Amounts cannot be negative.", field="amount")
        if (ln.debit > 0) == (ln.credit > 0):
            raise ValidationError("Each line needs either a debit or a credit greater than zero.", field="amount")
        if ln.gl is None and ln.account is None:
            raise ValidationError("Each line needs a GL account or a member account.")
        debit += ln.debit
        credit += ln.credit
    if debit != credit:
        raise UnbalancedEntry(
            f"Debits {format_inr(debit)} and credits {format_inr(credit)} differ by {format_inr(abs(debit - credit))}."
        )


def _control_gl(account: Account | AccountRef, by_id: Mapping[int, GLInfo]) -> GLInfo:
    gl = by_id.get(account.control_gl_id) if account.control_gl_id is not None else None
    if gl is None:
        orm_gl = getattr(account, "control_gl", None)
        gl = by_id.get(orm_gl.id) if orm_gl is not None and orm_gl.id is not None else None
    if gl is None:
        raise ValidationError(f"Account {account.account_no} has no control GL account.")
    return gl


def _resolve(lines: Sequence[Line], chart: glcache.Chart) -> list[_Resolved]:
    """Each line with its GL account, refusing what the chart forbids."""
    missing = {ln.gl for ln in lines if ln.gl is not None and ln.gl not in chart.by_code}
    if missing:
        raise ValidationError(f"Unknown GL account {', '.join(sorted(missing))}.", field="gl")
    resolved: list[_Resolved] = []
    for ln in lines:
        if ln.account is not None:
            gl = _control_gl(ln.account, chart.by_id)
            if not gl.is_control:
                raise NotAControlAccount(
                    f"Account {ln.account.account_no} sits under GL {gl.code} {gl.name}, which is not a control "
                    "account: member accounts may only be posted under a control account."
                )
            if ln.gl is not None and chart.by_code[ln.gl].id != gl.id:
                raise ValidationError(f"Account {ln.account.account_no} belongs to GL {gl.code}, not {ln.gl}.")
            resolved.append(_Resolved(ln, gl, ln.account.id))
        else:
            gl = chart.by_code[ln.gl]  # type: ignore[index]
            if gl.is_control:
                raise ValidationError(
                    f"GL {gl.code} {gl.name} is a control account: post to a member account under it."
                )
            resolved.append(_Resolved(ln, gl, None))
        if not gl.active:
            raise PostingError(f"GL {gl.code} {gl.name} is inactive.")
        if gl.is_group:
            raise PostingError(f"GL {gl.code} {gl.name} is a heading and takes no postings.")
    return resolved


def validate_lines(lines: Sequence[Line]) -> list[_Resolved]:
    """The checks ``post`` makes of the lines themselves (manual vouchers refuse at submission)."""
    _check_amounts(lines)
    return _resolve(lines, glcache.chart(None))


_OPEN_PG = text(
    "SELECT ledger_posting_day() AS day, " + glcache.FINGERPRINT_SQL + " AS chart, e.id AS entry_id, "
    "e.request_hash FROM (SELECT 1) AS one LEFT JOIN journal_entries AS e ON e.idempotency_key = :key"
)


@dataclass(frozen=True)
class _Opened:
    day: date | None
    chart: str | None
    entry_id: int | None
    request_hash: str | None


def open_posting(idempotency_key: str | None) -> _Opened:
    """Take the shared day lock and read the open day, the entry of the key and the chart's fingerprint.

    One statement on PostgreSQL: ``ledger_posting_day()`` (migration 0011) takes the lock
    and reads the day with a fresh snapshot, so a close this posting waited for is seen.
    The day cannot close until this transaction ends (``calendar``, ADR 0007).
    """
    if writer.is_pg():
        row = db.session.execute(_OPEN_PG, {"key": idempotency_key}).one()
        return _Opened(row.day, row.chart, row.entry_id, row.request_hash)
    day = calendar.business_date_or_none()
    found = None
    if idempotency_key:
        found = db.session.execute(
            select(JournalEntry.id, JournalEntry.request_hash).where(JournalEntry.idempotency_key == idempotency_key)
        ).first()
    return _Opened(day, None, found.id if found else None, found.request_hash if found else None)


def _conflict(key: str, entry_id: int) -> IdempotencyConflict:
    return IdempotencyConflict(
        f"Idempotency key {key!r} was already used for a different request (entry JE{entry_id:08d})."
    )


@dataclass
class _Request:
    """A posting request checked up to the row locks."""

    narration: str
    fingerprint: str
    existing: JournalEntry | None = None
    resolved: list[_Resolved] = field(default_factory=list)
    open_date: date | None = None
    value: date | None = None


def _check_request(lines: Sequence[Line], kind: str, narration: str, key: str | None, opts: PostOptions) -> _Request:
    """Kind, narration, amounts, the day lock, idempotent replay, the chart and the date rules.

    Returns the request with ``existing`` set (and nothing else done) when the idempotency
    key names an entry already posted for the same request.
    """
    if kind not in KINDS:
        raise ValidationError(f"Unknown entry kind {kind!r}.")
    narration = (narration or "").strip()
    if not narration:
        raise ValidationError("A narration is required.", field="narration")
    db.session.flush()  # new accounts get their ids; pending changes reach the rows before they are locked
    fingerprint = request_fingerprint(kind, narration, lines, opts.fingerprint_extra)
    opened = open_posting(key)
    if key and opened.entry_id is not None:
        if opened.request_hash != fingerprint:
            raise _conflict(key, opened.entry_id)
        return _Request(narration, fingerprint, existing=db.session.get(JournalEntry, opened.entry_id))
    _check_amounts(lines)
    if opened.day is None:
        raise calendar.DayClosed("No business day is open. A manager must open the day before postings.")
    resolved = _resolve(lines, glcache.chart(opened.chart))
    value = check_dates(opened.day, opts)
    return _Request(narration, fingerprint, resolved=resolved, open_date=opened.day, value=value)


def check_dates(open_date: date, opts: PostOptions) -> date:
    """The business date must be the open day; the value date (returned) not later, earlier only if allowed."""
    if opts.business_date is not None and opts.business_date != open_date:
        raise calendar.DayClosed(
            f"Business day {opts.business_date:%d-%m-%Y} is not open for posting "
            f"(the open day is {open_date:%d-%m-%Y})."
        )
    value = opts.value_date or open_date
    if value > open_date:
        raise ValidationError("The value date cannot be after the business date.", field="value_date")
    if value < open_date and not opts.allow_backdate:
        raise BackdateNotAllowed(
            f"Value date {value:%d-%m-%Y} is before the business date {open_date:%d-%m-%Y}: "
            "back-dated value dates need the back-dating permission.",
            field="value_date",
        )
    return value


# ---------------------------------------------------------------- locks


_LOCKED = "ledger.locked_accounts"


def lock_accounts(numbers: Iterable[str]) -> dict[str, Account]:
    """Read member accounts by number and lock them, in ascending id order, in ONE statement.

    A posting of these accounts later in the same transaction takes no second lock (and
    reads their status and balance from these objects). Missing numbers are simply absent.
    """
    wanted = sorted({n for n in numbers if n})
    if not wanted:
        return {}
    found = db.session.scalars(
        select(Account)
        .where(Account.account_no.in_(wanted))
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    tx = db.session().get_transaction()
    held = db.session.info.get(_LOCKED)
    ids = set(held[1]) if held and held[0] is tx else set()
    db.session.info[_LOCKED] = (tx, ids | {a.id for a in found})
    return {a.account_no: a for a in found}


def _locked_accounts(resolved: list[_Resolved]) -> Mapping[int, Any]:
    """The posting's member accounts, locked: by ``lock_accounts`` earlier, or with one SELECT now."""
    ids = {r.account_id for r in resolved if r.account_id is not None}
    if not ids:
        return {}
    held = db.session.info.get(_LOCKED)
    if held and held[0] is db.session().get_transaction() and not db.session().in_nested_transaction():
        objects = {r.account_id: r.line.account for r in resolved if isinstance(r.line.account, Account)}
        if ids <= held[1] and ids <= objects.keys():
            return objects
    return writer.lock_rows(ids)


def _balance_changes(
    resolved: list[_Resolved], accounts: Mapping[int, Any], *, allow_frozen: bool, enforce_limits: bool
) -> dict[int, tuple[int, int]]:
    """(balance before, balance after) per member account, refusing what the rules forbid.

    ``accounts`` holds the locked accounts (ORM objects or rows with the same attributes:
    account_no, status, status_reason, balance_paise, min_balance_paise, enforce_limit).
    """
    deltas: dict[int, int] = {}
    floors: dict[int, int] = {}
    for r in resolved:
        if r.account_id is None:
            continue
        signed = r.line.debit - r.line.credit
        deltas[r.account_id] = deltas.get(r.account_id, 0) + (signed if r.gl.normal_side == "debit" else -signed)
        if r.line.floor_paise is not None:
            floors[r.account_id] = max(floors.get(r.account_id, r.line.floor_paise), r.line.floor_paise)
    changes: dict[int, tuple[int, int]] = {}
    for acc_id in sorted(deltas):
        acc = accounts.get(acc_id)
        if acc is None:
            raise NotFound(f"No member account {acc_id}.")
        if acc.status == "closed":
            raise AccountNotOperable(f"Account {acc.account_no} is closed.")
        if acc.status == "frozen" and not allow_frozen:
            raise AccountNotOperable(
                f"Account {acc.account_no} is frozen{': ' + acc.status_reason if acc.status_reason else ''}."
            )
        new = acc.balance_paise + deltas[acc_id]
        floor = max(acc.min_balance_paise, floors.get(acc_id, acc.min_balance_paise))
        if deltas[acc_id] < 0 and new < floor and enforce_limits and acc.enforce_limit:
            available = max(0, acc.balance_paise - floor)
            raise InsufficientFunds(
                f"Account {acc.account_no} has {format_inr(available)} available; this needs {format_inr(-deltas[acc_id])}.",
                field="amount",
            )
        changes[acc_id] = (acc.balance_paise, new)
    return changes


def _refresh_accounts(lines: Sequence[Line], changes: dict[int, tuple[int, int]]) -> None:
    """ORM accounts in the session now hold the new balance (expired instead inside a savepoint,
    whose rollback would not know to restore a value set behind the ORM's back)."""
    objects = {ln.account.id: ln.account for ln in lines if isinstance(ln.account, Account)}
    if len(objects) < len(changes):
        objects.update(loaded_objects(Account, changes))
    nested = db.session().in_nested_transaction()
    for acc_id, obj in objects.items():
        if acc_id not in changes or obj not in db.session:
            continue
        if nested:
            db.session.expire(obj, ["balance_paise"])
        else:
            set_committed_value(obj, "balance_paise", changes[acc_id][1])


def _attach_entry(entry_id: int, values: dict[str, Any]) -> JournalEntry:
    """The entry just inserted as a clean ORM object in the session (no second round trip)."""
    entry = JournalEntry(id=entry_id, **values)
    make_transient_to_detached(entry)
    stale = db.session.identity_map.get(identity_key(JournalEntry, entry_id))
    if stale is not None:  # an object of a rolled-back entry whose id was used again (SQLite reuses ids)
        db.session.expunge(stale)
    db.session.add(entry)
    return entry


def _lost_race(req: _Request, key: str | None, opts: PostOptions) -> JournalEntry:
    """The entry insert hit a unique key: a concurrent request with the same key, or a second reversal."""
    if key:
        winner = db.session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))
        if winner is not None:
            if winner.request_hash != req.fingerprint:
                raise _conflict(key, winner.id)
            return winner
    if opts.reverses is not None:
        raise AlreadyReversed(f"Entry {opts.reverses.number} has already been reversed.")
    raise PostingError("The entry could not be written; nothing was posted.")


def post(
    lines: Sequence[Line],
    *,
    kind: str,
    narration: str,
    idempotency_key: str | None = None,
    reference: str | None = None,
    options: PostOptions | None = None,
) -> JournalEntry:
    """Post one balanced journal entry in the current unit of work and return it.

    Raises a PostingError subclass (nothing written) when anything is wrong. Rarely used
    options (who posted and approved it, branch, channel, dates, reversal, frozen accounts,
    limits) come in ``options`` (``PostOptions``).
    """
    opts = options or _DEFAULTS
    req = _check_request(lines, kind, narration, idempotency_key, opts)
    if req.existing is not None:
        return req.existing
    accounts = _locked_accounts(req.resolved)
    changes = _balance_changes(
        req.resolved, accounts, allow_frozen=opts.allow_frozen, enforce_limits=opts.enforce_limits
    )
    values = {
        "business_date": req.open_date,
        "value_date": req.value,
        "posted_at": utcnow(),
        "kind": kind,
        "narration": req.narration[:255],
        "channel": opts.channel,
        "reference": reference,
        "idempotency_key": idempotency_key,
        "request_hash": req.fingerprint,
        "reverses_id": opts.reverses.id if opts.reverses is not None else None,
        "posted_by_id": opts.posted_by_id,
        "approved_by_id": opts.approved_by_id,
        "branch_id": opts.branch_id,
        "total_paise": sum(ln.debit for ln in lines),
    }
    entry_id = writer.insert_entry(values)
    if entry_id is None:
        return _lost_race(req, idempotency_key, opts)
    if not writer.write_balances(changes):
        raise PostingError("A member account changed while it was locked; nothing was posted.")
    rows = [(r.gl.id, r.account_id, r.line.debit, r.line.credit, r.line.narration) for r in req.resolved]
    writer.insert_lines(entry_id, req.open_date, rows)  # type: ignore[arg-type]
    audit.record_now(
        "ledger.post",
        "journal_entry",
        entry_id,
        after={
            "kind": kind,
            "total_paise": values["total_paise"],
            "narration": values["narration"],
            "reverses": values["reverses_id"],
            "balances": {accounts[a].account_no: {"before": b, "after": n} for a, (b, n) in changes.items()},
            "lines_digest": writer.lines_digest(entry_id, req.open_date, rows),  # type: ignore[arg-type]
        },
    )
    _refresh_accounts(lines, changes)
    return _attach_entry(entry_id, values)


def get_entry(entry_id: int) -> JournalEntry:
    entry = db.session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"No journal entry {entry_id}.")
    return entry


def entry_by_key(idempotency_key: str | None) -> JournalEntry | None:
    """The entry already posted under this idempotency key, if any (a retry, a repeated batch)."""
    if not idempotency_key:
        return None
    return db.session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key))


def reversal_of(entry: JournalEntry) -> JournalEntry | None:
    return db.session.scalar(select(JournalEntry).where(JournalEntry.reverses_id == entry.id))


def reverse(
    entry: JournalEntry, *, reason: str, posted_by_id: int | None = None, approved_by_id: int | None = None
) -> JournalEntry:
    """Post the mirror image of ``entry`` (a reversal); an entry is reversed at most once."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required for a reversal.", field="reason")
    if entry.kind == "reversal":
        raise PostingError(f"Entry {entry.number} is itself a reversal; post a fresh entry instead.")
    if reversal_of(entry) is not None:
        raise AlreadyReversed(f"Entry {entry.number} has already been reversed.")
    mirrored = [
        Line(
            debit=ln.credit_paise,
            credit=ln.debit_paise,
            gl=None if ln.account is not None else ln.gl_account.code,
            account=ln.account,
            narration=ln.narration,
        )
        for ln in entry.lines
    ]
    return post(
        mirrored,
        kind="reversal",
        narration=f"Reversal of {entry.number}: {reason}"[:255],
        options=PostOptions(
            reverses=entry,
            posted_by_id=posted_by_id,
            approved_by_id=approved_by_id,
            branch_id=entry.branch_id,
            allow_frozen=True,
            enforce_limits=True,
        ),
    )
