"""The chart of accounts as a posting needs it, cached per process and checked on every posting.

A posting resolves GL codes and control GLs from this cache instead of querying
``gl_accounts``. The cache is exact, not merely recent: on PostgreSQL the posting's first
statement (the day lock, ``posting.open_posting``) also returns a fingerprint of the chart
(an md5 over each GL's id, code, name, side and flags, ~60 rows), and a fingerprint that
differs from the cached one reloads the chart before the lines are checked. So a GL
deactivated or renamed by another process is seen by the very next posting. On SQLite (no
fingerprint) the chart is reloaded for every posting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import GLAccount


@dataclass(frozen=True)
class GLInfo:
    """What posting rules read of a GL account (a plain copy, safe to share between sessions)."""

    id: int
    code: str
    name: str
    normal_side: str
    is_control: bool
    is_group: bool
    active: bool


# The fingerprint SQL (PostgreSQL): any change to a column posting reads changes it.
FINGERPRINT_SQL = (
    "(SELECT md5(string_agg(g.id::text || '|' || g.code || '|' || g.name || '|' || g.normal_side || '|' "
    "|| g.is_control::int::text || g.is_group::int::text || g.active::int::text, ',' ORDER BY g.id)) "
    "FROM gl_accounts AS g)"
)


@dataclass
class Chart:
    fingerprint: str | None
    by_code: dict[str, GLInfo]
    by_id: dict[int, GLInfo]


_lock = threading.Lock()
_cache: dict[str, Chart] = {}  # per database URL


def _key() -> str:
    return str(db.engine.url)


def _load(fingerprint: str | None) -> Chart:
    rows = db.session.execute(
        select(
            GLAccount.id,
            GLAccount.code,
            GLAccount.name,
            GLAccount.normal_side,
            GLAccount.is_control,
            GLAccount.is_group,
            GLAccount.active,
        )
    ).all()
    infos = [
        GLInfo(r.id, r.code, r.name, r.normal_side, bool(r.is_control), bool(r.is_group), bool(r.active)) for r in rows
    ]
    return Chart(fingerprint, {g.code: g for g in infos}, {g.id: g for g in infos})


def chart(fingerprint: str | None) -> Chart:
    """The chart matching ``fingerprint`` (reloaded when it differs, or always when None)."""
    key = _key()
    current = _cache.get(key)
    if fingerprint is not None and current is not None and current.fingerprint == fingerprint:
        return current
    loaded = _load(fingerprint)
    if fingerprint is not None:
        with _lock:
            _cache[key] = loaded
    return loaded


def invalidate() -> None:
    """Forget the cached chart of this process (tests; the fingerprint makes it unnecessary otherwise)."""
    with _lock:
        _cache.clear()
