"""ledger: public face."""

from . import balances, bulk, calendar, coa, glcache, kinds, posting, reports, workflows  # noqa: F401
from .balances import GLBalance, close_day, gl_balance, gl_balances, gl_totals, snapshot_day  # noqa: F401
from .bulk import Batch, post_many  # noqa: F401
from .calendar import business_date_or_none, business_date_or_today  # noqa: F401
from .posting import (  # noqa: F401
    KINDS,
    AccountNotOperable,
    AccountRef,
    AlreadyReversed,
    BackdateNotAllowed,
    IdempotencyConflict,
    InsufficientFunds,
    Line,
    NotAControlAccount,
    PostingError,
    PostOptions,
    UnbalancedEntry,
    entry_by_key,
    get_entry,
    id_in,
    loaded_objects,
    lock_accounts,
    post,
    request_fingerprint,
    reversal_of,
    reverse,
)
from .verify import VerifyReport, verify  # noqa: F401
