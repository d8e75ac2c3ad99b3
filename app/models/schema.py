"""What the migrations' schema comparison (autogenerate, tests) leaves out, per database.

On PostgreSQL the journal lines' references to their entry, GL account and member account
are checked by a statement trigger (migration 0019, decision 0032), not by foreign keys;
the models keep the foreign keys for SQLite and for the ORM's relationships.
"""

from __future__ import annotations

from typing import Any

TRIGGER_CHECKED_TABLES = frozenset({"journal_lines"})


def include_object_for(dialect_name: str):
    """An alembic ``include_object`` hook for a database of ``dialect_name``."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if dialect_name == "postgresql" and type_ == "foreign_key_constraint":
            return obj.table.name not in TRIGGER_CHECKED_TABLES
        return True

    return include_object
