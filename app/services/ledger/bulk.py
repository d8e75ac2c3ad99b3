"""``post_many``: one GL line against many member-account lines, posted without per-line objects.

A day-end batch (a quarter's savings interest: Dr interest on savings, Cr each account)
posts entries of thousands of lines. ``posting.post`` handles them, but spends most of its
Python time on what a batch does not need: a ``Line`` object per account, resolving every
line's GL one by one, and building the balance changes, fingerprint and digest line by
line. ``post_many`` takes the accounts and amounts as parallel sequences and writes the same
entry with the same statements (``writer``) and the same guarantees as ``post``:

- kind and narration checked, amounts whole positive paise, the entry balanced by
  construction (the GL line is the total) and by the PostgreSQL trigger at commit;
- the shared day lock, the open day, the idempotency key and the chart in one statement
  (``posting.open_posting``), the business and value date rules of ``post``;
- every account's control GL a control account, active, not a heading; the GL line a
  plain, active GL;
- the accounts locked in ascending id order, closed accounts refused, frozen ones unless
  ``allow_frozen``, debits within the account's limit (``enforce_limits``) — a batch that
  only raises balances takes its locks with the balance UPDATE itself (decision 0033);
- the cached balances written atomically with the lines (the UPDATE re-checks each old
  balance), the lines in order (the GL line first), and the ``ledger.post`` audit row with
  the same ``balances`` and ``lines_digest`` — so ``ledger verify`` checks these entries
  exactly like any other — and the same request fingerprint ``post`` would store.

Each account may appear once per call (a batch posts one line per account).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import JournalEntry
from app.money import format_inr
from app.services.common import NotFound, ValidationError, audit

from . import calendar, glcache, posting, writer
from .posting import AccountNotOperable, AccountRef, InsufficientFunds, PostingError, PostOptions, UnbalancedEntry


def fingerprint(kind: str, narration: str, gl_line: list, account_lines: list[list], extra: dict | None) -> str:
    """``posting.request_fingerprint`` of the same lines, from ``[gl, account id, debit, credit]`` lists."""
    payload = {"kind": kind, "narration": narration, "lines": [gl_line, *account_lines], "extra": extra or {}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def digest(entry_id: int, business_date: date, rows: list[list]) -> str:
    """``writer.lines_digest`` of rows already given as ``[gl, account, debit, credit, narration]`` lists."""
    payload = [entry_id, business_date.isoformat(), rows]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_amounts(amounts: Sequence[int]) -> int:
    if not amounts:
        raise UnbalancedEntry("An entry needs at least two lines.")
    for a in amounts:
        if type(a) is not int:
            raise ValidationError("Amounts must be whole paise (int).")
        if a <= 0:
            raise ValidationError("Each line needs either a debit or a credit greater than zero.", field="amount")
    return sum(amounts)


def _check_chart(gl: str, accounts: Sequence[AccountRef], chart: glcache.Chart) -> glcache.GLInfo:
    """The GL line's GL and every account's control GL, as ``posting._resolve`` checks them."""
    if gl not in chart.by_code:
        raise ValidationError(f"Unknown GL account {gl}.", field="gl")
    info = chart.by_code[gl]
    if info.is_control:
        raise ValidationError(f"GL {info.code} {info.name} is a control account: post to a member account under it.")
    checked = [info]
    first_of: dict[int, AccountRef] = {}
    for ref in accounts:
        if ref.control_gl_id not in first_of:
            first_of[ref.control_gl_id] = ref
    for ref in first_of.values():
        control = posting._control_gl(ref, chart.by_id)
        if not control.is_control:
            raise posting.NotAControlAccount(
                f"Account {ref.account_no} sits under GL {control.code} {control.name}, which is not a control "
                "account: member accounts may only be posted under a control account."
            )
        checked.append(control)
    for g in checked:
        if not g.active:
            raise PostingError(f"GL {g.code} {g.name} is inactive.")
        if g.is_group:
            raise PostingError(f"GL {g.code} {g.name} is a heading and takes no postings.")
    return info


def _changes(
    accounts: Sequence[AccountRef],
    amounts: Sequence[int],
    sign_of: dict[int, int],
    opts: PostOptions,
    numbers: dict[int, str],
) -> dict[int, tuple[int, int]]:
    """(before, after) per account under the row locks, refusing what ``posting._balance_changes`` refuses.

    ``numbers`` receives each account's number as locked (the audit row names accounts by it).
    """
    ids = {ref.id for ref in accounts}
    if len(ids) != len(accounts):
        raise ValidationError("Each account may appear only once in a batch posting.")
    locked = writer.lock_rows(ids)
    changes: dict[int, tuple[int, int]] = {}
    for ref, amount in zip(accounts, amounts, strict=True):
        acc = locked.get(ref.id)
        if acc is None:
            raise NotFound(f"No member account {ref.id}.")
        if acc.status == "closed":
            raise AccountNotOperable(f"Account {acc.account_no} is closed.")
        if acc.status == "frozen" and not opts.allow_frozen:
            raise AccountNotOperable(
                f"Account {acc.account_no} is frozen{': ' + acc.status_reason if acc.status_reason else ''}."
            )
        delta = amount * sign_of[ref.control_gl_id]
        new = acc.balance_paise + delta
        if delta < 0 and new < acc.min_balance_paise and opts.enforce_limits and acc.enforce_limit:
            available = max(0, acc.balance_paise - acc.min_balance_paise)
            raise InsufficientFunds(
                f"Account {acc.account_no} has {format_inr(available)} available; this needs {format_inr(-delta)}.",
                field="amount",
            )
        changes[ref.id] = (acc.balance_paise, new)
        numbers[ref.id] = acc.account_no
    return changes


def _new_balances(
    batch: Batch, sign_of: dict[int, int], opts: PostOptions, numbers: dict[int, str], *, one_statement: bool
) -> tuple[dict[int, tuple[int, int]], bool]:
    """(before, after) per account, and whether they are written already.

    A batch that only raises balances (interest credits) is written at once by one
    ``UPDATE ... RETURNING`` that also takes the row locks (``writer.add_to_balances``); any
    other batch, or one it refuses, is checked under ``SELECT ... FOR UPDATE`` locks first
    (``_changes``, which names the account it refuses) and written after the entry.
    Without an idempotency key no concurrent duplicate can make the entry insert nothing,
    so writing the balances before the entry is safe.
    """
    if one_statement and all(sign > 0 for sign in sign_of.values()):
        pairs = zip(batch.accounts, batch.amounts, strict=True)
        deltas = {ref.id: amount * sign_of[ref.control_gl_id] for ref, amount in pairs}
        unique = len(deltas) == len(batch.accounts)  # a repeated account: _changes refuses it
        added = writer.add_to_balances(deltas, allow_frozen=opts.allow_frozen) if unique else None
        if added is not None:
            changes = {}
            for acc_id, (number, new) in added.items():
                numbers[acc_id] = number
                changes[acc_id] = (new - deltas[acc_id], new)
            return changes, True
    return _changes(batch.accounts, batch.amounts, sign_of, opts, numbers), False


@dataclass(frozen=True)
class Batch:
    """What ``post_many`` posts: GL ``gl`` for the total against each account for its amount.

    ``credit_accounts`` credits the accounts (and debits ``gl``), else the reverse; every
    account line carries ``line_narration``, the GL line none.
    """

    gl: str
    accounts: Sequence[AccountRef]
    amounts: Sequence[int]
    credit_accounts: bool = True
    line_narration: str | None = None

    def total(self) -> int:
        return sum(self.amounts) if all(type(a) is int for a in self.amounts) else 0

    def fingerprint_lines(self) -> tuple[list, list[list]]:
        """The GL line and the account lines as ``request_fingerprint`` sees them (gl, account, dr, cr)."""
        total, pairs = self.total(), zip(self.accounts, self.amounts, strict=True)
        if self.credit_accounts:
            return [self.gl, None, total, 0], [["", ref.id, 0, a] for ref, a in pairs]
        return [self.gl, None, 0, total], [["", ref.id, a, 0] for ref, a in pairs]

    def fingerprint(self, kind: str, narration: str, extra: dict | None) -> str:
        """``fingerprint`` of these lines, its JSON written as text (no list per line; the same bytes)."""
        if not all(type(a) is int for a in self.amounts):
            return fingerprint(kind, narration, *self.fingerprint_lines(), extra)
        total = self.total()
        gl_line = json.dumps([self.gl, None, total, 0] if self.credit_accounts else [self.gl, None, 0, total])
        pattern = '["", {}, 0, {}]' if self.credit_accounts else '["", {}, {}, 0]'
        lines = ", ".join([gl_line, *map(pattern.format, [r.id for r in self.accounts], self.amounts)])
        return _sha(
            '{"extra": ' + json.dumps(extra or {}, sort_keys=True, default=str) + ', "kind": ' + json.dumps(kind)
            + ', "lines": [' + lines + '], "narration": ' + json.dumps(narration) + "}"
        )  # fmt: skip

    def rows(self, gl_id: int, total: int) -> list[list]:
        """The lines in order (the GL line first) as ``[gl id, account id, debit, credit, narration]``."""
        note, pairs = self.line_narration, zip(self.accounts, self.amounts, strict=True)
        if self.credit_accounts:
            return [[gl_id, None, total, 0, None]] + [[r.control_gl_id, r.id, 0, a, note] for r, a in pairs]
        return [[gl_id, None, 0, total, None]] + [[r.control_gl_id, r.id, a, 0, note] for r, a in pairs]

    def digest(self, entry_id: int, on: date, gl_id: int, total: int) -> str:
        """``digest`` of ``rows``, its JSON written as text (the same bytes)."""
        first = [gl_id, None, total, 0, None] if self.credit_accounts else [gl_id, None, 0, total, None]
        note = json.dumps(self.line_narration)
        pattern = "[{},{},0,{}," + note.replace("{", "{{").replace("}", "}}") + "]"
        if not self.credit_accounts:
            pattern = "[{},{},{},0," + note.replace("{", "{{").replace("}", "}}") + "]"
        gls, ids = [r.control_gl_id for r in self.accounts], [r.id for r in self.accounts]
        rows = ",".join([json.dumps(first, separators=(",", ":")), *map(pattern.format, gls, ids, self.amounts)])
        return _sha(f'[{entry_id},"{on.isoformat()}",[{rows}]]')


def post_many(
    batch: Batch,
    *,
    kind: str,
    narration: str,
    idempotency_key: str | None = None,
    options: PostOptions | None = None,
) -> JournalEntry:
    """Post ``batch`` as one entry and return it.

    The entry, its lines, balances, audit row and fingerprint are those ``posting.post``
    writes for ``[Line.dr(gl, total)] + [Line.cr(account, amount, line_narration), ...]``
    (or the mirror image). Raises the same errors as ``post`` (nothing written).
    """
    opts = options or PostOptions()
    if kind not in posting.KINDS:
        raise ValidationError(f"Unknown entry kind {kind!r}.")
    narration = (narration or "").strip()
    if not narration:
        raise ValidationError("A narration is required.", field="narration")
    if len(batch.amounts) != len(batch.accounts):
        raise ValidationError("Give one amount per account.")
    db.session.flush()
    request_hash = batch.fingerprint(kind, narration, opts.fingerprint_extra)
    opened = posting.open_posting(idempotency_key)
    if idempotency_key and opened.entry_id is not None:
        if opened.request_hash != request_hash:
            raise posting._conflict(idempotency_key, opened.entry_id)
        return db.session.get(JournalEntry, opened.entry_id)
    total = _check_amounts(batch.amounts)
    if opened.day is None:
        raise calendar.DayClosed("No business day is open. A manager must open the day before postings.")
    chart = glcache.chart(opened.chart)
    gl_info = _check_chart(batch.gl, batch.accounts, chart)
    value = posting.check_dates(opened.day, opts)
    side = 1 if batch.credit_accounts else -1  # +1: a credit to the account
    sign_of = {
        g: -side if chart.by_id[g].normal_side == "debit" else side for g in {r.control_gl_id for r in batch.accounts}
    }
    numbers: dict[int, str] = {}
    changes, written = _new_balances(batch, sign_of, opts, numbers, one_statement=idempotency_key is None)
    values = {
        "business_date": opened.day, "value_date": value, "posted_at": utcnow(), "kind": kind,
        "narration": narration[:255], "channel": opts.channel, "reference": None,
        "idempotency_key": idempotency_key, "request_hash": request_hash, "reverses_id": None,
        "posted_by_id": opts.posted_by_id, "approved_by_id": opts.approved_by_id, "branch_id": opts.branch_id,
        "total_paise": total,
    }  # fmt: skip
    entry_id = writer.insert_entry(values)
    if entry_id is None:
        return posting._lost_race(posting._Request(narration, request_hash), idempotency_key, opts)
    if not written and not writer.write_balances(changes):
        raise PostingError("A member account changed while it was locked; nothing was posted.")
    first = (gl_info.id, None, total, 0, None) if batch.credit_accounts else (gl_info.id, None, 0, total, None)
    gls, ids = [r.control_gl_id for r in batch.accounts], [r.id for r in batch.accounts]
    writer.insert_batch_lines(
        entry_id, opened.day, first, (gls, ids, batch.amounts, batch.credit_accounts, batch.line_narration)
    )
    audit.record_plain_now(
        "ledger.post",
        "journal_entry",
        entry_id,
        {
            "kind": kind,
            "total_paise": total,
            "narration": values["narration"],
            "reverses": None,
            "balances": {numbers[a]: {"before": b, "after": n} for a, (b, n) in changes.items()},
            "lines_digest": batch.digest(entry_id, opened.day, gl_info.id, total),
        },
    )
    posting._refresh_accounts([], changes)
    return posting._attach_entry(entry_id, values)
