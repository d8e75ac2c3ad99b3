"""Per-kind rules for money coming into and going out of member accounts.

The counter (cash deposit/withdrawal) and internal transfers ask this registry what an
account of a given ``kind`` accepts; other domains fill it at import time:

- ``register_credit_check(kind, fn(account, amount_paise) -> None)``: raise a DomainError to
  refuse a credit (e.g. an FD takes no top-ups, an RD instalment must be a multiple of R).
  Kinds with no check registered accept credits only when they are savings/current.
- ``register_withdrawal_floor(kind, fn(account) -> int)``: the lowest balance a withdrawal or
  outgoing transfer may leave (paise). Default for savings/current: ``min_balance_paise``;
  any other kind with no floor registered refuses withdrawals.
- ``register_after_credit(kind, fn(account, amount_paise, entry) -> None)``: runs in the same
  unit of work right after a credit is posted (e.g. mark RD instalments paid).
- ``register_credit_lines(kind, fn(account, amount_paise) -> list[Line])``: how a credit of
  ``amount_paise`` is booked (default one credit line to the account). The hook for loans:
  a repayment splits into penal charges, interest income and principal.

Registering again for a kind replaces the earlier function (safe across app factories);
``override()`` swaps rules temporarily (tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from app.services.common import ValidationError

from .posting import Line

if TYPE_CHECKING:
    from app.models.ledger import Account, JournalEntry

CreditCheck = Callable[["Account", int], None]
WithdrawalFloor = Callable[["Account"], int]
AfterCredit = Callable[["Account", int, "JournalEntry"], None]
CreditLines = Callable[["Account", int], "list[Line]"]

# Kinds that take credits and withdrawals by default (floor = the account's minimum balance).
OPERATIVE_KINDS = frozenset({"savings", "current"})

KIND_LABELS = {
    "savings": "savings",
    "current": "current",
    "fd": "fixed deposit",
    "rd": "recurring deposit",
    "share": "share capital",
    "loan": "loan",
    "drawer": "teller drawer",
}

_credit_checks: dict[str, CreditCheck] = {}
_floors: dict[str, WithdrawalFloor] = {}
_after_credit: dict[str, AfterCredit] = {}
_credit_lines: dict[str, CreditLines] = {}
_liens: list[Callable[[Account], int]] = []  # amounts held under lien (any kind)
_closure_checks: list[Callable[[Account], None]] = []


def register_lien(fn: Callable[[Account], int]) -> None:
    """Declare amounts held on accounts under lien: withdrawals never go below ``fn(account)``."""
    if fn not in _liens:
        _liens.append(fn)


def register_closure_check(fn: Callable[[Account], None]) -> None:
    """Add a check run before an account is closed (raise a DomainError to refuse, e.g. a lien)."""
    if fn not in _closure_checks:
        _closure_checks.append(fn)


def lien_paise(account: Account) -> int:
    """The amount held under lien on ``account`` (0 when none)."""
    return max((int(fn(account)) for fn in _liens), default=0)


def check_closure(account: Account) -> None:
    """Raise a DomainError when ``account`` may not be closed now (e.g. it is under lien)."""
    for fn in _closure_checks:
        fn(account)


class NotAllowedForKind(ValidationError):
    type = "not-allowed-for-account-type"
    title = "Not allowed for this type of account"


def kind_label(kind: str) -> str:
    """A human name for an account kind ("fixed deposit" for "fd")."""
    return KIND_LABELS.get(kind, kind)


def register_credit_check(kind: str, fn: CreditCheck) -> None:
    """Declare that ``kind`` accepts credits, subject to ``fn`` (raise to refuse)."""
    _credit_checks[kind] = fn


def register_withdrawal_floor(kind: str, fn: WithdrawalFloor) -> None:
    """Declare that ``kind`` allows withdrawals down to the floor ``fn(account)`` returns (paise)."""
    _floors[kind] = fn


def register_after_credit(kind: str, fn: AfterCredit) -> None:
    """Run ``fn(account, amount_paise, entry)`` after each credit posted to an account of ``kind``."""
    _after_credit[kind] = fn


def register_credit_lines(kind: str, fn: CreditLines) -> None:
    """Book credits to ``kind`` with the lines ``fn(account, amount_paise)`` returns (must total the amount)."""
    _credit_lines[kind] = fn


def accepts_credit(kind: str) -> bool:
    """True when accounts of ``kind`` take deposits/transfers in at all."""
    return kind in _credit_checks or kind in OPERATIVE_KINDS


def allows_withdrawal(kind: str) -> bool:
    """True when accounts of ``kind`` allow withdrawals/outgoing transfers at all."""
    return kind in _floors or kind in OPERATIVE_KINDS


def check_credit(account: Account, amount_paise: int) -> None:
    """Raise a DomainError when ``account`` may not take a credit of ``amount_paise``."""
    fn = _credit_checks.get(account.kind)
    if fn is None:
        if account.kind in OPERATIVE_KINDS:
            return
        raise NotAllowedForKind(
            f"Account {account.account_no} is a {kind_label(account.kind)} account and does not take "
            "deposits or transfers in.",
            field="account",
        )
    fn(account, amount_paise)


def withdrawal_floor(account: Account) -> int:
    """The lowest balance (paise) a withdrawal may leave on ``account``; raises when none is allowed."""
    fn = _floors.get(account.kind)
    if fn is not None:
        return max(int(fn(account)), lien_paise(account))
    if account.kind in OPERATIVE_KINDS:
        return max(int(account.min_balance_paise or 0), lien_paise(account))
    raise NotAllowedForKind(
        f"Withdrawals are not allowed from {kind_label(account.kind)} account {account.account_no}; "
        "close or mature it through its own screen instead.",
        field="account",
    )


def credit_lines(account: Account, amount_paise: int) -> list[Line]:
    """The ledger credit lines for crediting ``amount_paise`` to ``account``."""
    fn = _credit_lines.get(account.kind)
    if fn is None:
        return [Line.cr(account, amount_paise)]
    lines = list(fn(account, amount_paise))
    total = sum(ln.credit - ln.debit for ln in lines)
    if total != amount_paise:
        raise ValidationError(
            f"Credit rules for {kind_label(account.kind)} accounts booked {total} of {amount_paise} paise."
        )
    return lines


def after_credit(account: Account, amount_paise: int, entry: JournalEntry) -> None:
    """Run the after-credit hook for ``account``'s kind, if any."""
    fn = _after_credit.get(account.kind)
    if fn is not None:
        fn(account, amount_paise, entry)


@contextmanager
def override(
    kind: str,
    *,
    credit_check: CreditCheck | None = None,
    floor: WithdrawalFloor | None = None,
    after: AfterCredit | None = None,
    lines: CreditLines | None = None,
) -> Iterator[None]:
    """Temporarily register rules for ``kind`` (restores whatever was there before)."""
    tables: list[tuple[dict, object]] = [
        (_credit_checks, credit_check),
        (_floors, floor),
        (_after_credit, after),
        (_credit_lines, lines),
    ]
    saved = [(table, table.get(kind, _MISSING)) for table, fn in tables if fn is not None]
    for table, fn in tables:
        if fn is not None:
            table[kind] = fn
    try:
        yield
    finally:
        for table, old in saved:
            if old is _MISSING:
                table.pop(kind, None)
            else:
                table[kind] = old


_MISSING = object()
