"""The posting service: the only writer of journal rows, plus ledger reads and verification.

``post()`` validates a balanced set of lines, locks the member accounts it touches in
ascending id order, updates their cached balances, writes the entry and its lines, and
records the audit row, all inside the caller's unit of work. The same idempotency key with
the same request returns the original entry; with a different request it is refused.

``post(..., bulk=True)`` posts ONE entry of many lines (batch runs such as crediting savings
interest) with the same validation, day lock, row locks in ascending id order, limits,
idempotency and audit; only the writing is set-based: the accounts are read
and locked with one Core SELECT ... FOR UPDATE, their cached balances are written with one
UPDATE and the lines with one INSERT, instead of loading and flushing an ORM object per
account and per line. Its member lines may name accounts by ``AccountRef`` (plain row
values), so the caller need not load ORM accounts either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import Account, GLAccount, GLDailyBalance, JournalEntry, JournalLine
from app.money import format_inr
from app.services.common import Conflict, DomainError, NotFound, ValidationError, audit

from . import calendar


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


@dataclass
class _Resolved:
    line: Line
    gl: GLAccount
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


def _gl_by_code(codes: Iterable[str]) -> dict[str, GLAccount]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = db.session.scalars(select(GLAccount).where(GLAccount.code.in_(wanted))).all()
    found = {gl.code: gl for gl in rows}
    missing = wanted - found.keys()
    if missing:
        raise ValidationError(f"Unknown GL account {', '.join(sorted(missing))}.", field="gl")
    return found


def _load_gls(codes: set[str], ids: set[int]) -> tuple[dict[str, GLAccount], dict[int, GLAccount]]:
    """GL accounts by code (lines naming a GL) and by id (member accounts' control GLs), in one query."""
    if not codes and not ids:
        return {}, {}
    rows = db.session.scalars(select(GLAccount).where(or_(GLAccount.code.in_(codes), GLAccount.id.in_(ids)))).all()
    by_code = {gl.code: gl for gl in rows}
    missing = codes - by_code.keys()
    if missing:
        raise ValidationError(f"Unknown GL account {', '.join(sorted(missing))}.", field="gl")
    return by_code, {gl.id: gl for gl in rows}


def _validate(lines: Sequence[Line]) -> list[_Resolved]:
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
        if (ln.gl is None) == (ln.account is None) and ln.account is None:
            raise ValidationError("Each line needs a GL account or a member account.")
        debit += ln.debit
        credit += ln.credit
    if debit != credit:
        raise UnbalancedEntry(
            f"Debits {format_inr(debit)} and credits {format_inr(credit)} differ by {format_inr(abs(debit - credit))}."
        )
    gls, by_id = _load_gls(
        {ln.gl for ln in lines if ln.gl},
        {ln.account.control_gl_id for ln in lines if ln.account is not None and ln.account.control_gl_id is not None},
    )
    resolved: list[_Resolved] = []
    for ln in lines:
        if ln.account is not None:
            gl = by_id.get(ln.account.control_gl_id) or getattr(ln.account, "control_gl", None)  # type: ignore[arg-type]
            if gl is None:
                raise ValidationError(f"Account {ln.account.account_no} has no control GL account.")
            if not gl.is_control:
                raise NotAControlAccount(
                    f"Account {ln.account.account_no} sits under GL {gl.code} {gl.name}, which is not a control "
                    "account: member accounts may only be posted under a control account."
                )
            if ln.gl is not None and gls[ln.gl].id != gl.id:
                raise ValidationError(f"Account {ln.account.account_no} belongs to GL {gl.code}, not {ln.gl}.")
            resolved.append(_Resolved(ln, gl, ln.account.id))
        else:
            gl = gls[ln.gl]  # type: ignore[index]
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


def _lock_accounts(ids: set[int]) -> dict[int, Account]:
    """Lock member accounts in ascending id order (no deadlocks) and reload their balances."""
    if not ids:
        return {}
    stmt = (
        select(Account)
        .where(Account.id.in_(sorted(ids)))
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {acc.id: acc for acc in db.session.scalars(stmt)}


def _balance_changes(
    resolved: list[_Resolved], accounts: dict[int, Any], *, allow_frozen: bool, enforce_limits: bool
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


def _apply_balances(
    resolved: list[_Resolved], accounts: dict[int, Account], *, allow_frozen: bool, enforce_limits: bool
) -> dict[int, tuple[int, int]]:
    changes = _balance_changes(resolved, accounts, allow_frozen=allow_frozen, enforce_limits=enforce_limits)
    for acc_id, (_old, new) in changes.items():
        accounts[acc_id].balance_paise = new
    return changes


def _existing_for_key(key: str, fingerprint: str) -> JournalEntry | None:
    existing = db.session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))
    if existing is None:
        return None
    if existing.request_hash != fingerprint:
        raise IdempotencyConflict(
            f"Idempotency key {key!r} was already used for a different request (entry {existing.number})."
        )
    return existing


@dataclass
class _Request:
    """A posting request checked up to the row locks."""

    narration: str
    fingerprint: str
    existing: JournalEntry | None = None
    resolved: list[_Resolved] = field(default_factory=list)
    open_date: date | None = None
    value: date | None = None


def _check_request(
    lines: Sequence[Line],
    *,
    kind: str,
    narration: str,
    idempotency_key: str | None,
    fingerprint_extra: dict | None,
    business_date: date | None,
    value_date: date | None,
    allow_backdate: bool,
) -> _Request:
    """Kind, narration, idempotent replay, line validation and the day lock with its date rules.

    Returns the request with ``existing`` set (and nothing else done) when the idempotency
    key names an entry already posted for the same request.
    """
    if kind not in KINDS:
        raise ValidationError(f"Unknown entry kind {kind!r}.")
    narration = (narration or "").strip()
    if not narration:
        raise ValidationError("A narration is required.", field="narration")
    fingerprint = request_fingerprint(kind, narration, lines, fingerprint_extra)
    if idempotency_key:
        existing = _existing_for_key(idempotency_key, fingerprint)
        if existing is not None:
            return _Request(narration, fingerprint, existing=existing)
    resolved = _validate(lines)
    # Share-locks the open day until commit: a concurrent close waits for this posting,
    # and a posting that waited for a close is refused here (see calendar.posting_date).
    open_date = calendar.posting_date()
    if business_date is not None and business_date != open_date:
        raise calendar.DayClosed(
            f"Business day {business_date:%d-%m-%Y} is not open for posting (the open day is {open_date:%d-%m-%Y})."
        )
    value = value_date or open_date
    if value > open_date:
        raise ValidationError("The value date cannot be after the business date.", field="value_date")
    if value < open_date and not allow_backdate:
        raise BackdateNotAllowed(
            f"Value date {value:%d-%m-%Y} is before the business date {open_date:%d-%m-%Y}: "
            "back-dated value dates need the back-dating permission.",
            field="value_date",
        )
    return _Request(narration, fingerprint, resolved=resolved, open_date=open_date, value=value)


def _insert_entry(
    req: _Request,
    lines: Sequence[Line],
    *,
    kind: str,
    idempotency_key: str | None,
    reverses: JournalEntry | None,
    undo: Callable[[], None],
    **columns: Any,
) -> tuple[JournalEntry, bool]:
    """Insert the entry row; returns (entry, False), or (the winner, True) on a concurrent duplicate key.

    ``undo`` puts back what the caller changed before the insert when a concurrent
    request with the same idempotency key won.
    """
    entry = JournalEntry(
        business_date=req.open_date,
        value_date=req.value,
        posted_at=utcnow(),
        kind=kind,
        narration=req.narration[:255],
        idempotency_key=idempotency_key,
        request_hash=req.fingerprint,
        reverses_id=reverses.id if reverses is not None else None,
        total_paise=sum(ln.debit for ln in lines),
        **columns,
    )
    try:
        if idempotency_key or reverses is not None:
            # A unique key could collide with a concurrent request: isolate the insert.
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
        else:
            db.session.add(entry)
            db.session.flush()
    except IntegrityError as exc:
        # A concurrent request with the same key (or a second reversal of the same entry) won.
        if idempotency_key:
            undo()
            winner = _existing_for_key(idempotency_key, req.fingerprint)
            if winner is not None:
                db.session.flush()
                return winner, True
        if reverses is not None:
            raise AlreadyReversed(f"Entry {reverses.number} has already been reversed.") from exc
        raise
    return entry, False


def _audit_posting(
    entry: JournalEntry, kind: str, changes: dict[int, tuple[int, int]], numbers: dict[int, str]
) -> None:
    audit.record(
        "ledger.post",
        "journal_entry",
        entry.id,
        after={
            "kind": kind,
            "total_paise": entry.total_paise,
            "narration": entry.narration,
            "reverses": entry.reverses_id,
            "balances": {numbers[a]: {"before": b, "after": n} for a, (b, n) in changes.items()},
        },
    )


def post(
    lines: Sequence[Line],
    *,
    kind: str,
    narration: str,
    idempotency_key: str | None = None,
    fingerprint_extra: dict | None = None,
    business_date: date | None = None,
    value_date: date | None = None,
    allow_backdate: bool = False,
    posted_by_id: int | None = None,
    approved_by_id: int | None = None,
    branch_id: int | None = None,
    channel: str = "branch",
    reference: str | None = None,
    reverses: JournalEntry | None = None,
    allow_frozen: bool = False,
    enforce_limits: bool = True,
    bulk: bool = False,
) -> JournalEntry:
    """Post one balanced journal entry in the current unit of work and return it.

    ``business_date`` must be the open business date (default); ``value_date`` may be
    earlier only with ``allow_backdate`` (the caller checks the permission).
    Raises a PostingError subclass (nothing written) when anything is wrong.

    ``bulk`` writes an entry of many lines (batch runs) set-based, under the same checks,
    locks, limits, idempotency and audit: the member accounts are locked in ascending id
    order with one SELECT ... FOR UPDATE of plain rows, their cached balances written with
    one UPDATE (which also checks each old balance) and the lines inserted with one INSERT.
    Lines may then name accounts by ``AccountRef``; account objects already in the session
    get the new balance.
    """
    req = _check_request(
        lines,
        kind=kind,
        narration=narration,
        idempotency_key=idempotency_key,
        fingerprint_extra=fingerprint_extra,
        business_date=business_date,
        value_date=value_date,
        allow_backdate=allow_backdate,
    )
    if req.existing is not None:
        return req.existing
    resolved = req.resolved
    ids = {r.account_id for r in resolved if r.account_id is not None}
    accounts: dict[int, Any]
    if bulk:
        db.session.flush()  # pending ORM changes to these accounts reach the rows before they are read
        accounts = _lock_account_rows(ids)
        changes = _balance_changes(resolved, accounts, allow_frozen=allow_frozen, enforce_limits=enforce_limits)
    else:
        accounts = _lock_accounts(ids)
        changes = _apply_balances(resolved, accounts, allow_frozen=allow_frozen, enforce_limits=enforce_limits)

    def undo() -> None:  # a concurrent duplicate won: put back what was changed before the insert
        if not bulk:  # bulk writes nothing before the entry row
            for acc_id, (old, _new) in changes.items():
                accounts[acc_id].balance_paise = old

    entry, replayed = _insert_entry(
        req,
        lines,
        kind=kind,
        idempotency_key=idempotency_key,
        reverses=reverses,
        undo=undo,
        channel=channel,
        reference=reference,
        posted_by_id=posted_by_id,
        approved_by_id=approved_by_id,
        branch_id=branch_id,
    )
    if replayed:
        return entry
    if bulk:
        _write_balances(changes)
        _insert_lines(entry, resolved)
        _audit_posting(entry, kind, changes, {a: accounts[a].account_no for a in changes})
        return entry
    db.session.add_all(
        [
            JournalLine(
                entry_id=entry.id,
                gl_account_id=r.gl.id,
                account_id=r.account_id,
                business_date=req.open_date,
                debit_paise=r.line.debit,
                credit_paise=r.line.credit,
                narration=r.line.narration,
            )
            for r in resolved
        ]
    )
    db.session.flush()
    _audit_posting(entry, kind, changes, {a: accounts[a].account_no for a in changes})
    return entry


# ---------------------------------------------------------------- bulk posting

_ACC = Account.__table__
_JL = JournalLine.__table__


def id_in(column: Any, ids: Sequence[int]) -> Any:
    """``column IN (ids)`` for many ids: one array parameter on PostgreSQL (``= ANY``), else a plain IN.

    An expanded IN of hundreds of parameters is compiled, rendered and parsed again for
    every distinct length; one array parameter keeps the statement fixed and cached.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))
    return column.in_(list(ids))


def loaded_objects(model: type, ids: Container[int]) -> list[tuple[int, Any]]:
    """(id, object) for the ORM objects of ``model`` already in the session whose id is in ``ids``.

    For code that changed rows with Core statements: walks the identity map (small in
    batch runs) instead of looking up every id, and reads ids from the keys (an expired
    object is not reloaded).
    """
    identity_map = db.session.identity_map
    found = []
    for key in list(identity_map.keys()):
        if key[0] is model and key[1][0] in ids:
            obj = identity_map.get(key)
            if obj is not None:
                found.append((key[1][0], obj))
    return found


def _lock_account_rows(ids: set[int]) -> dict[int, Any]:
    """``_lock_accounts`` without ORM objects: lock in ascending id order, return plain rows."""
    if not ids:
        return {}
    stmt = (
        select(
            _ACC.c.id,
            _ACC.c.account_no,
            _ACC.c.status,
            _ACC.c.status_reason,
            _ACC.c.balance_paise,
            _ACC.c.min_balance_paise,
            _ACC.c.enforce_limit,
        )
        .where(id_in(_ACC.c.id, sorted(ids)))
        .order_by(_ACC.c.id)
        .with_for_update()
    )
    return {row.id: row for row in db.session.execute(stmt).all()}


def _pg_int_array(values: Iterable[int | None]) -> str:
    """A PostgreSQL array literal of integers (``{1,NULL,3}``), bound as one text parameter and cast.

    Much cheaper to build and send than adapting a list element by element.
    """
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def _pg_text_array(values: Iterable[str | None]) -> str:
    """A PostgreSQL array literal of strings: each element double-quoted with ``\\`` and ``"`` escaped."""
    quoted: dict[str, str] = {}
    out = []
    for v in values:
        if v is None:
            out.append("NULL")
            continue
        if v not in quoted:
            quoted[v] = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append(quoted[v])
    return "{" + ",".join(out) + "}"


def _write_balances(changes: dict[int, tuple[int, int]]) -> None:
    """Write the new cached balances of locked accounts in one statement (checking the old ones)."""
    if not changes:
        return
    ids = sorted(changes)
    olds = [changes[i][0] for i in ids]
    news = [changes[i][1] for i in ids]
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = text(
            "UPDATE accounts SET balance_paise = v.new FROM unnest(CAST(:ids AS bigint[]), "
            "CAST(:olds AS bigint[]), CAST(:news AS bigint[])) AS v(id, old, new) "
            "WHERE accounts.id = v.id AND accounts.balance_paise = v.old"
        )
        params = {"ids": _pg_int_array(ids), "olds": _pg_int_array(olds), "news": _pg_int_array(news)}
        written = db.session.execute(stmt, params).rowcount
    else:
        stmt = (
            update(_ACC)
            .where(_ACC.c.id == bindparam("b_id"), _ACC.c.balance_paise == bindparam("b_old"))
            .values(balance_paise=bindparam("b_new"))
        )
        result = db.session.execute(
            stmt, [{"b_id": i, "b_old": o, "b_new": n} for i, o, n in zip(ids, olds, news, strict=True)]
        )
        written = result.rowcount if result.dialect.supports_sane_multi_rowcount else len(ids)
    if written != len(ids):  # the rows are locked: a different balance means a writer skipped the lock
        raise PostingError("A member account balance changed while it was locked; nothing was posted.")
    # ORM objects of these accounts already in the session now hold the new balance.
    for acc_id, obj in loaded_objects(Account, changes):
        set_committed_value(obj, "balance_paise", changes[acc_id][1])


def _insert_lines(entry: JournalEntry, resolved: list[_Resolved]) -> None:
    """Insert an entry's lines with one statement (INSERT ... SELECT FROM unnest on PostgreSQL)."""
    gls = [r.gl.id for r in resolved]
    accs = [r.account_id for r in resolved]
    drs = [r.line.debit for r in resolved]
    crs = [r.line.credit for r in resolved]
    notes = [r.line.narration for r in resolved]
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text(
                "INSERT INTO journal_lines (entry_id, gl_account_id, account_id, business_date, debit_paise, "
                "credit_paise, narration) SELECT :entry_id, v.gl, v.acc, :business_date, v.dr, v.cr, v.note "
                "FROM unnest(CAST(:gls AS integer[]), CAST(:accs AS integer[]), CAST(:drs AS bigint[]), "
                "CAST(:crs AS bigint[]), CAST(:notes AS varchar[])) WITH ORDINALITY AS v(gl, acc, dr, cr, note, n) "
                "ORDER BY v.n"
            ),
            {
                "entry_id": entry.id,
                "business_date": entry.business_date,
                "gls": _pg_int_array(gls),
                "accs": _pg_int_array(accs),
                "drs": _pg_int_array(drs),
                "crs": _pg_int_array(crs),
                "notes": _pg_text_array(notes),
            },
        )
    else:
        db.session.execute(
            insert(_JL),
            [
                {
                    "entry_id": entry.id,
                    "gl_account_id": gl,
                    "account_id": acc,
                    "business_date": entry.business_date,
                    "debit_paise": dr,
                    "credit_paise": cr,
                    "narration": note,
                }
                for gl, acc, dr, cr, note in zip(gls, accs, drs, crs, notes, strict=True)
            ],
        )


def get_entry(entry_id: int) -> JournalEntry:
    entry = db.session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"No journal entry {entry_id}.")
    return entry


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
        reverses=entry,
        posted_by_id=posted_by_id,
        approved_by_id=approved_by_id,
        branch_id=entry.branch_id,
        allow_frozen=True,
        enforce_limits=True,
    )


# ---------------------------------------------------------------- reads


@dataclass
class GLBalance:
    gl: GLAccount
    debit_paise: int = 0
    credit_paise: int = 0

    @property
    def balance_paise(self) -> int:
        """Balance on the account's normal side."""
        net = self.debit_paise - self.credit_paise
        return net if self.gl.normal_side == "debit" else -net

    @property
    def net_debit(self) -> int:
        return self.debit_paise - self.credit_paise


def gl_totals(as_of: date | None = None, *, since: date | None = None) -> dict[int, tuple[int, int]]:
    """Cumulative (debit, credit) per GL id up to ``as_of`` inclusive.

    Reads the latest day-end snapshot on or before ``as_of`` plus the lines after it, so
    reports stay fast however long the ledger grows.
    """
    totals: dict[int, tuple[int, int]] = {}
    snap_date = None
    if as_of is not None and since is None:
        snap_date = db.session.scalar(
            select(func.max(GLDailyBalance.business_date)).where(GLDailyBalance.business_date <= as_of)
        )
    if snap_date is not None:
        for gl_id, dr, cr in db.session.execute(
            select(
                GLDailyBalance.gl_account_id, GLDailyBalance.debit_total_paise, GLDailyBalance.credit_total_paise
            ).where(GLDailyBalance.business_date == snap_date)
        ):
            totals[gl_id] = (dr, cr)
    stmt = select(
        JournalLine.gl_account_id, func.sum(JournalLine.debit_paise), func.sum(JournalLine.credit_paise)
    ).group_by(JournalLine.gl_account_id)
    if as_of is not None:
        stmt = stmt.where(JournalLine.business_date <= as_of)
    lower = snap_date or (since and date.fromordinal(since.toordinal() - 1))
    if lower is not None:
        stmt = stmt.where(JournalLine.business_date > lower)
    for gl_id, dr, cr in db.session.execute(stmt):
        base_dr, base_cr = totals.get(gl_id, (0, 0))
        totals[gl_id] = (base_dr + int(dr or 0), base_cr + int(cr or 0))
    return totals


def gl_balances(as_of: date | None = None) -> list[GLBalance]:
    """Every GL account with its cumulative debits and credits as of a date."""
    totals = gl_totals(as_of)
    out = []
    for gl in db.session.scalars(select(GLAccount).order_by(GLAccount.code)):
        dr, cr = totals.get(gl.id, (0, 0))
        out.append(GLBalance(gl, dr, cr))
    return out


def gl_balance(code: str, as_of: date | None = None) -> int:
    """One GL account's balance on its normal side."""
    gl = _gl_by_code([code])[code]
    dr, cr = db.session.execute(
        select(
            func.coalesce(func.sum(JournalLine.debit_paise), 0), func.coalesce(func.sum(JournalLine.credit_paise), 0)
        ).where(JournalLine.gl_account_id == gl.id, *([JournalLine.business_date <= as_of] if as_of else []))
    ).one()
    return GLBalance(gl, int(dr), int(cr)).balance_paise


def snapshot_day(on: date) -> int:
    """Write the day-end GL snapshot for ``on`` (idempotent); returns rows written.

    Locks business day ``on`` exclusively first, so postings in flight on it finish (and
    later ones wait, then find the day closed) before the totals are read.
    """
    calendar.lock_day(on)
    if db.session.scalar(select(func.count()).select_from(GLDailyBalance).where(GLDailyBalance.business_date == on)):
        return 0
    totals = gl_totals(on)
    rows = [
        GLDailyBalance(gl_account_id=gl_id, business_date=on, debit_total_paise=dr, credit_total_paise=cr)
        for gl_id, (dr, cr) in totals.items()
    ]
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)


def close_day(on: date, *, by_id: int | None = None) -> int:
    """Day-end for the ledger: lock the day, write its GL snapshot and close it (one unit of work)."""
    written = snapshot_day(on)
    calendar.close_business_day(on, by_id=by_id)
    return written


# ---------------------------------------------------------------- verification


@dataclass
class VerifyReport:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    entries: int = 0
    accounts: int = 0

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def verify(limit: int = 20) -> VerifyReport:
    """Prove the ledger: entries balance, cached balances match lines, control GLs match sub-ledgers."""
    report = VerifyReport()
    report.entries = db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0
    unbalanced = db.session.execute(
        select(JournalLine.entry_id, func.sum(JournalLine.debit_paise), func.sum(JournalLine.credit_paise))
        .group_by(JournalLine.entry_id)
        .having(func.sum(JournalLine.debit_paise) != func.sum(JournalLine.credit_paise))
        .order_by(JournalLine.entry_id)
        .limit(limit)
    ).all()
    for entry_id, dr, cr in unbalanced:
        report.fail(f"entry JE{entry_id:08d} does not balance: debits {dr}, credits {cr}")
    no_lines = db.session.scalars(
        select(JournalEntry.id)
        .where(~select(JournalLine.id).where(JournalLine.entry_id == JournalEntry.id).exists())
        .limit(limit)
    ).all()
    for entry_id in no_lines:
        report.fail(f"entry JE{entry_id:08d} has no lines")

    side = case((GLAccount.normal_side == "debit", 1), else_=-1)
    line_sum = (
        select(
            JournalLine.account_id.label("account_id"),
            func.sum(JournalLine.debit_paise - JournalLine.credit_paise).label("net"),
        )
        .where(JournalLine.account_id.is_not(None))
        .group_by(JournalLine.account_id)
        .subquery()
    )
    mismatched = db.session.execute(
        select(Account.account_no, Account.balance_paise, func.coalesce(line_sum.c.net, 0) * side)
        .join(GLAccount, GLAccount.id == Account.control_gl_id)
        .outerjoin(line_sum, line_sum.c.account_id == Account.id)
        .where(Account.balance_paise != func.coalesce(line_sum.c.net, 0) * side)
        .order_by(Account.id)
        .limit(limit)
    ).all()
    for account_no, cached, from_lines in mismatched:
        report.fail(f"account {account_no}: cached balance {cached} but its lines sum to {from_lines}")
    report.accounts = db.session.scalar(select(func.count()).select_from(Account)) or 0

    stray = db.session.execute(
        select(GLAccount.code, func.count())
        .join(JournalLine, JournalLine.gl_account_id == GLAccount.id)
        .where(GLAccount.is_control.is_(True), JournalLine.account_id.is_(None))
        .group_by(GLAccount.code)
    ).all()
    for code, n in stray:
        report.fail(f"control GL {code} has {n} line(s) without a member account")
    wrong_gl = db.session.execute(
        select(JournalLine.id, Account.account_no)
        .join(Account, Account.id == JournalLine.account_id)
        .where(Account.control_gl_id != JournalLine.gl_account_id)
        .limit(limit)
    ).all()
    for line_id, account_no in wrong_gl:
        report.fail(f"line {line_id} posts account {account_no} to a GL other than its control account")

    totals = gl_totals()
    sub = dict(
        db.session.execute(
            select(Account.control_gl_id, func.sum(Account.balance_paise)).group_by(Account.control_gl_id)
        ).all()
    )
    for gl in db.session.scalars(select(GLAccount).where(GLAccount.is_control.is_(True)).order_by(GLAccount.code)):
        dr, cr = totals.get(gl.id, (0, 0))
        gl_bal = GLBalance(gl, dr, cr).balance_paise
        sub_bal = int(sub.get(gl.id) or 0)
        if gl_bal != sub_bal:
            report.fail(f"control GL {gl.code} {gl.name}: GL balance {gl_bal} but sub-ledger sums to {sub_bal}")
    grand_dr = sum(dr for dr, _ in totals.values())
    grand_cr = sum(cr for _, cr in totals.values())
    if grand_dr != grand_cr:
        report.fail(f"trial balance does not agree: debits {grand_dr}, credits {grand_cr}")
    _verify_snapshots(report, limit)
    return report


def _verify_snapshots(report: VerifyReport, limit: int) -> None:
    """Each day-end snapshot row must equal the cumulative lines of its GL up to its date.

    Also a GL with lines up to a snapshot date but no row in that snapshot is reported
    (reports would read it as zero). One pass: daily sums per GL merged with the snapshots.
    """
    snaps: dict[int, dict[date, tuple[int, int]]] = {}
    for gl_id, on, dr, cr in db.session.execute(
        select(
            GLDailyBalance.gl_account_id,
            GLDailyBalance.business_date,
            GLDailyBalance.debit_total_paise,
            GLDailyBalance.credit_total_paise,
        )
    ):
        snaps.setdefault(gl_id, {})[on] = (int(dr), int(cr))
    snap_dates = sorted({on for per_gl in snaps.values() for on in per_gl})
    if not snap_dates:
        return
    daily: dict[int, list[tuple[date, int, int]]] = {}
    for gl_id, on, dr, cr in db.session.execute(
        select(
            JournalLine.gl_account_id,
            JournalLine.business_date,
            func.sum(JournalLine.debit_paise),
            func.sum(JournalLine.credit_paise),
        )
        .where(JournalLine.business_date <= snap_dates[-1])
        .group_by(JournalLine.gl_account_id, JournalLine.business_date)
        .order_by(JournalLine.gl_account_id, JournalLine.business_date)
    ):
        daily.setdefault(gl_id, []).append((on, int(dr or 0), int(cr or 0)))
    codes = dict(db.session.execute(select(GLAccount.id, GLAccount.code)).all())
    found = 0
    for gl_id in sorted(snaps.keys() | daily.keys()):
        days = daily.get(gl_id, [])
        per_gl = snaps.get(gl_id, {})
        i = cum_dr = cum_cr = 0
        for on in snap_dates:
            while i < len(days) and days[i][0] <= on:
                cum_dr += days[i][1]
                cum_cr += days[i][2]
                i += 1
            stored = per_gl.get(on)
            if stored is None and i == 0:
                continue  # no lines yet and no row: nothing to check
            if stored != (cum_dr, cum_cr):
                found += 1
                what = "has no row" if stored is None else f"holds debits {stored[0]}, credits {stored[1]}"
                report.fail(
                    f"day-end snapshot {on.isoformat()} for GL {codes.get(gl_id, gl_id)} {what} "
                    f"but its lines to that date sum to debits {cum_dr}, credits {cum_cr}"
                )
                if found >= limit:
                    return
