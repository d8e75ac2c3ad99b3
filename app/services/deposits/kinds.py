"""The registry of deposit kinds: what each kind (savings, FD, RD — later loans) brings.

A kind module (``savings``, ``fixed``, ``recurring``) registers one :class:`Kind` at import
time: its label and control GL, its product settings (defaults and how to check them), its
rate bands, how an account of the kind is opened (``prepare`` fills the deposit details and
names the first money; ``after_open`` runs once the account exists), how it is closed, and
its day-end steps. ``accounts`` and ``opening`` ask the registry and never branch on a kind,
never import a kind module. Counter rules of a kind (credit checks, withdrawal floors) live
in the ledger's per-kind rules registry (``ledger.kinds``), which kind modules fill too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from app.services.common import ValidationError

if TYPE_CHECKING:
    from app.models.deposits import DepositAccount, DepositProduct
    from app.models.ledger import Account, JournalEntry
    from app.models.members import Member


@dataclass(frozen=True)
class Bands:
    """How a kind's rate card is banded: by ``unit`` ("days" or "months") between ``low``..``high``."""

    unit: str
    limit: Callable[[], int]  # the longest tenure any band may reach

    @property
    def fields(self) -> tuple[str, str]:
        return f"min_{self.unit}", f"max_{self.unit}"


@dataclass
class NewDeposit:
    """An account being opened, as a kind's ``prepare`` sees it (``da`` is filled in place)."""

    req: Any  # opening.OpenRequest
    product: DepositProduct
    member: Member
    da: DepositAccount
    on: date


@dataclass(frozen=True)
class Quote:
    """What a new account would be, for the opening form's preview (nothing is saved)."""

    text: str
    maturity_paise: int | None = None
    interest_paise: int | None = None


@dataclass(frozen=True)
class Opening:
    """What a kind decided for a new account: the first money, its narration and the rate (bp)."""

    amount_paise: int
    narration: str
    rate_bp: int | None = None


Prepare = Callable[[NewDeposit], Opening]
QuoteTerms = Callable[[NewDeposit], Quote]
AfterOpen = Callable[[NewDeposit, "Account", Opening, "JournalEntry | None"], None]
Close = Callable[..., "list[JournalEntry]"]
MaturitySteps = Callable[[date, Any], dict[str, Any]]  # (day, StepReport) -> figures for the report
Accrue = Callable[[date], int]


@dataclass(frozen=True)
class Kind:
    """One deposit kind and its rules (see the module docstring)."""

    name: str
    label: str
    control_gl: str
    order: int
    default_settings: Callable[[], dict[str, Any]]
    normalize_settings: Callable[[dict[str, Any]], dict[str, Any]]
    prepare: Prepare
    quote: QuoteTerms
    close: Close
    bands: Bands | None = None  # None: one rate, no tenure bands (savings)
    after_open: AfterOpen | None = None
    maturity_steps: MaturitySteps | None = None
    accrue_month_end: Accrue | None = None


_KINDS: dict[str, Kind] = {}
KIND_LABELS: dict[str, str] = {}  # live view: kind -> label, in registry order
CONTROL_GL: dict[str, str] = {}  # live view: kind -> control GL code


def register(kind: Kind) -> Kind:
    """Add (or replace) a kind; keeps ``KIND_LABELS`` / ``CONTROL_GL`` in registry order."""
    _KINDS[kind.name] = kind
    ordered = sorted(_KINDS.values(), key=lambda k: k.order)
    KIND_LABELS.clear()
    KIND_LABELS.update({k.name: k.label for k in ordered})
    CONTROL_GL.clear()
    CONTROL_GL.update({k.name: k.control_gl for k in ordered})
    return kind


def get(name: str | None, field_name: str = "kind") -> Kind:
    """The registered kind ``name``; ValidationError for any other."""
    kind = _KINDS.get(name or "")
    if kind is None:
        raise ValidationError(f"Choose {' or '.join(KIND_LABELS) or 'a deposit kind'}.", field=field_name)
    return kind


def all_kinds() -> list[Kind]:
    """Every registered kind, in order (savings, FD, RD)."""
    return sorted(_KINDS.values(), key=lambda k: k.order)
