"""Allocate the next value of a named counter atomically (safe under concurrency)."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.numbering import Counter


def next_value(name: str) -> int:
    """Increment and return counter ``name`` (created at 1 on first use).

    One UPDATE ... RETURNING: concurrent callers queue on the counter's row lock for the
    length of their transaction, and each gets a distinct value.
    """
    stmt = update(Counter).where(Counter.name == name).values(value=Counter.value + 1).returning(Counter.value)
    value = db.session.execute(stmt).scalar()
    if value is not None:
        return int(value)
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Counter).values(name=name, value=1))
        return 1
    except IntegrityError:
        # Another transaction created it first; increment that row instead.
        return int(db.session.execute(stmt).scalar_one())


def luhn_check_digit(digits: str) -> str:
    """The Luhn (mod 10) check digit for a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]
