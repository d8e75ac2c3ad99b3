"""Core statements that write a posting: lock, balances, entry, lines (used only by ``posting.post``).

Every posting, two lines or two thousand, is written the same way: the member accounts are
locked with one ``SELECT ... ORDER BY id FOR UPDATE`` of plain rows, the entry with one
``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` (a concurrent duplicate idempotency key
or second reversal inserts nothing, so nothing else has been written yet), the cached
balances with one ``UPDATE ... FROM unnest(...)`` whose WHERE clause re-checks each old
balance and the account's status, and the lines with one ``INSERT ... SELECT FROM unnest``.
On PostgreSQL the arrays travel as single text parameters, so each statement's text is
fixed and the driver prepares it once per connection. A batch that only raises balances
(``add_to_balances``) is locked and written by one ``UPDATE ... RETURNING`` instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Container, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Text, any_, bindparam, cast, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db
from app.models.ledger import Account, JournalEntry, JournalLine

ACC = Account.__table__
JE = JournalEntry.__table__
JL = JournalLine.__table__


def is_pg() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def id_in(column: Any, ids: Sequence[int]) -> Any:
    """``column IN (ids)`` for many ids: one array parameter on PostgreSQL (``= ANY``), else a plain IN.

    An expanded IN of hundreds of parameters is compiled, rendered and parsed again for
    every distinct length; one array parameter keeps the statement fixed and cached.
    """
    if is_pg():  # the array as one text literal: the driver's list adapter costs ~2 µs an element
        return column == any_(cast(bindparam(None, pg_int_array(ids), type_=Text), ARRAY(BigInteger)))
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


def pg_int_array(values: Iterable[int | None]) -> str:
    """A PostgreSQL array literal of integers (``{1,NULL,3}``), bound as one text parameter and cast."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def pg_text_array(values: Iterable[str | None]) -> str:
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


_LOCK_COLUMNS = (
    ACC.c.id,
    ACC.c.account_no,
    ACC.c.status,
    ACC.c.status_reason,
    ACC.c.balance_paise,
    ACC.c.min_balance_paise,
    ACC.c.enforce_limit,
)


def lock_rows(ids: set[int]) -> dict[int, Any]:
    """Lock member accounts in ascending id order (no deadlocks); plain rows with what the rules read."""
    if not ids:
        return {}
    stmt = select(*_LOCK_COLUMNS).where(id_in(ACC.c.id, sorted(ids))).order_by(ACC.c.id).with_for_update()
    return {row.id: row for row in db.session.execute(stmt).all()}


def insert_entry(values: dict[str, Any]) -> int | None:
    """Insert the entry row; its id, or None when a unique key (idempotency key, reversal) already exists."""
    ins = (postgresql.insert(JE) if is_pg() else sqlite.insert(JE)).values(**values)
    return db.session.execute(ins.on_conflict_do_nothing().returning(JE.c.id)).scalar()


_UPDATE_PG = text(
    "UPDATE accounts SET balance_paise = v.new FROM unnest(CAST(:ids AS bigint[]), "
    "CAST(:olds AS bigint[]), CAST(:news AS bigint[])) AS v(id, old, new) "
    "WHERE accounts.id = v.id AND accounts.balance_paise = v.old AND accounts.status <> 'closed' "
    "AND accounts.id BETWEEN :lo AND :hi"
)


def write_balances(changes: dict[int, tuple[int, int]]) -> bool:
    """Write the new cached balances of locked accounts in one statement; False if any old one differed.

    The WHERE clause re-checks each old balance and that the account is not closed: the
    rows are locked, so a difference means a writer skipped the lock. The id range lets the
    planner read only the range by the primary key: planned with the array's real length
    (the first executions on a connection), the join would otherwise hash every account —
    a whole-table scan per batch chunk, quadratic over a day-end.
    """
    if not changes:
        return True
    ids = sorted(changes)
    olds = [changes[i][0] for i in ids]
    news = [changes[i][1] for i in ids]
    if is_pg():
        params = {"ids": pg_int_array(ids), "olds": pg_int_array(olds), "news": pg_int_array(news)}
        params.update(lo=ids[0], hi=ids[-1])
        written = db.session.execute(_UPDATE_PG, params).rowcount
    else:
        stmt = (
            update(ACC)
            .where(ACC.c.id == bindparam("b_id"), ACC.c.balance_paise == bindparam("b_old"), ACC.c.status != "closed")
            .values(balance_paise=bindparam("b_new"))
        )
        result = db.session.execute(
            stmt, [{"b_id": i, "b_old": o, "b_new": n} for i, o, n in zip(ids, olds, news, strict=True)]
        )
        written = result.rowcount if result.dialect.supports_sane_multi_rowcount else len(ids)
    return written == len(ids)


_ADD_PG = text(
    "UPDATE accounts SET balance_paise = accounts.balance_paise + v.delta FROM unnest(CAST(:ids AS bigint[]), "
    "CAST(:deltas AS bigint[])) AS v(id, delta) WHERE accounts.id = v.id AND accounts.status <> 'closed' "
    "AND (accounts.status <> 'frozen' OR :allow_frozen) AND accounts.id BETWEEN :lo AND :hi "
    "RETURNING accounts.id, accounts.account_no, accounts.balance_paise"
)


def add_to_balances(deltas: dict[int, int], *, allow_frozen: bool) -> dict[int, tuple[str, int]] | None:
    """Add positive ``deltas`` to the cached balances in one ``UPDATE ... RETURNING`` (PostgreSQL).

    For postings that only raise balances (no limit to check): the UPDATE locks the rows
    itself, in ascending id order, with no separate ``SELECT ... FOR UPDATE``. Returns
    {id: (account number, new balance)}; None when it cannot be used (not PostgreSQL) or
    an account is missing, closed, or frozen without ``allow_frozen`` — then what it added
    has been taken off again, under the locks it holds, and the caller goes the locking way,
    which names the account.
    """
    if not deltas or not is_pg():
        return None
    ids = sorted(deltas)
    params = {"ids": pg_int_array(ids), "deltas": pg_int_array(deltas[i] for i in ids)}
    params.update(lo=ids[0], hi=ids[-1], allow_frozen=allow_frozen)
    rows = db.session.execute(_ADD_PG, params).all()
    if len(rows) == len(ids):
        return {acc_id: (number, balance) for acc_id, number, balance in rows}
    undo = sorted(row[0] for row in rows)
    if undo:
        db.session.execute(
            _ADD_PG,
            {
                "ids": pg_int_array(undo),
                "deltas": pg_int_array(-deltas[i] for i in undo),
                "lo": undo[0],
                "hi": undo[-1],
                "allow_frozen": True,
            },
        )
    return None


_INSERT_LINES_PG = text(
    "INSERT INTO journal_lines (entry_id, gl_account_id, account_id, business_date, debit_paise, "
    "credit_paise, narration) SELECT :entry_id, v.gl, v.acc, :business_date, v.dr, v.cr, v.note "
    "FROM unnest(CAST(:gls AS integer[]), CAST(:accs AS integer[]), CAST(:drs AS bigint[]), "
    "CAST(:crs AS bigint[]), CAST(:notes AS varchar[])) WITH ORDINALITY AS v(gl, acc, dr, cr, note, n) "
    "ORDER BY v.n"
)

LineRow = tuple[int, int | None, int, int, str | None]  # gl id, account id, debit, credit, narration
BatchColumns = tuple[Sequence[int], Sequence[int], Sequence[int], bool, str | None]


def insert_lines(entry_id: int, business_date: date, rows: Sequence[LineRow]) -> None:
    """Insert an entry's lines in order with one statement (INSERT ... SELECT FROM unnest on PostgreSQL)."""
    if is_pg():
        gls, accs, drs, crs, notes = zip(*rows, strict=True)
        db.session.execute(
            _INSERT_LINES_PG,
            {
                "entry_id": entry_id,
                "business_date": business_date,
                "gls": pg_int_array(gls),
                "accs": pg_int_array(accs),
                "drs": pg_int_array(drs),
                "crs": pg_int_array(crs),
                "notes": pg_text_array(notes),
            },
        )
        return
    db.session.execute(
        insert(JL),
        [
            {
                "entry_id": entry_id,
                "gl_account_id": gl,
                "account_id": acc,
                "business_date": business_date,
                "debit_paise": dr,
                "credit_paise": cr,
                "narration": note,
            }
            for gl, acc, dr, cr, note in rows
        ],
    )


def insert_batch_lines(entry_id: int, business_date: date, first: LineRow, rest: BatchColumns) -> None:
    """Insert ``first`` then one line per account of ``rest`` (all on one side, one narration), in order.

    ``rest`` is (gl ids, account ids, amounts, is credit, narration): the arrays are built
    straight from the columns, without a row tuple per line (``insert_lines`` for a batch).
    """
    gls, accs, amounts, credit, note = rest
    n = len(accs)
    if not is_pg():
        side = (lambda a: (0, a)) if credit else (lambda a: (a, 0))
        rows = [first] + [(g, i, *side(a), note) for g, i, a in zip(gls, accs, amounts, strict=True)]
        insert_lines(entry_id, business_date, rows)
        return
    zeros = ",0" * n
    amount_list = "," + ",".join(map(str, amounts)) if n else ""
    drs, crs = (zeros, amount_list) if credit else (amount_list, zeros)
    one_note = pg_text_array([note])[1:-1]
    db.session.execute(
        _INSERT_LINES_PG,
        {
            "entry_id": entry_id,
            "business_date": business_date,
            "gls": "{" + ",".join(map(str, [first[0], *gls])) + "}",
            "accs": "{" + ",".join(["NULL" if first[1] is None else str(first[1]), *map(str, accs)]) + "}",
            "drs": "{" + str(first[2]) + drs + "}",
            "crs": "{" + str(first[3]) + crs + "}",
            "notes": "{" + pg_text_array([first[4]])[1:-1] + ("," + one_note) * n + "}",
        },
    )


def lines_digest(entry_id: int, business_date: date, rows: Iterable[LineRow]) -> str:
    """The SHA-256 of an entry's lines in order (GL, account, debit, credit, narration).

    Recorded in the posting's audit row, which the audit chain seals and anchors;
    ``ledger.verify`` recomputes it from the stored lines, so rewriting an entry's lines —
    even a balanced rewrite with the cached balances adjusted to match — is detected.
    """
    payload = [entry_id, business_date.isoformat(), [[gl, acc, dr, cr, note] for gl, acc, dr, cr, note in rows]]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()
