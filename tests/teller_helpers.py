"""Helpers for the counter tests: vault cash, member accounts, staff and drawer counts."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.services import ledger
from app.services.common import uow
from app.services.ledger import coa
from tests import helpers
from tests.conftest import new_account
from tests.factories import make_member

_pan_seq = iter(range(1000, 9999))


def fund_vault(paise: int) -> None:
    """Cash drawn from the DCCB into the vault (Dr vault / Cr bank)."""
    ledger.post(
        [ledger.Line.dr(coa.VAULT_CASH, paise), ledger.Line.cr(coa.BANK_DCCB, paise)],
        kind="teller",
        narration="Cash drawn from DCCB",
    )
    uow.commit()


def member_account(
    *, opening_paise: int = 0, pan: bool = True, form60: bool = False, min_balance_paise: int = 0, kind: str = "savings"
):
    """A savings account (by default) of an active member with a PAN on file."""
    member = make_member(pan=f"ABCPE{next(_pan_seq)}F" if pan else None, form60=form60)
    account = new_account(kind, opening_paise=opening_paise)
    account.min_balance_paise = min_balance_paise  # after funding: the row must satisfy its limit
    account.member_id = member.id
    account.title = member.name
    uow.commit()
    return account


def entry_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0


def lines_of(entry: JournalEntry) -> list[tuple[str, int | None, int, int]]:
    """(GL code, account id, debit, credit) of each line, in posting order."""
    return helpers.lines_of(entry, account="id")  # type: ignore[return-value]


def notes(**pieces: int) -> dict[str, str]:
    """A denomination count as a form would send it: notes(n500=24, c10=2)."""
    return {key: str(n) for key, n in pieces.items()}
