"""ledger: public face."""

from . import calendar, coa, kinds, posting, reports, workflows  # noqa: F401
from .calendar import business_date_or_none  # noqa: F401
from .posting import (  # noqa: F401
    KINDS,
    AccountNotOperable,
    AccountRef,
    AlreadyReversed,
    BackdateNotAllowed,
    GLBalance,
    IdempotencyConflict,
    InsufficientFunds,
    Line,
    NotAControlAccount,
    PostingError,
    UnbalancedEntry,
    VerifyReport,
    close_day,
    get_entry,
    gl_balance,
    gl_balances,
    gl_totals,
    id_in,
    loaded_objects,
    post,
    request_fingerprint,
    reversal_of,
    reverse,
    snapshot_day,
    verify,
)
