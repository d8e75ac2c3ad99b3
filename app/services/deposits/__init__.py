"""deposits: public face.

The nouns: a ``DepositProduct`` (savings, FD or RD, with settings and dated rate cards), a
deposit ``Account`` in the ledger with its ``DepositAccount`` details, and the kinds that
give each its rules (``kinds``: terms, opening, closing, day-end steps — savings, fixed and
recurring register themselves). The invariant: a deposit's balance is what the ledger says
(every rupee through ``ledger.post``), and interest is computed by the pure rules in
``interest`` and posted, never stored as a float.

Modules: ``products`` (settings, rate cards, product changes), ``accounts`` (numbers,
lookups, status, payouts, closure, day-end), ``opening``, the kinds ``savings``, ``fixed``,
``recurring``, and ``interest``, ``tds`` (and ``tds_year_end``: the short TDS recovered on 31 March), ``passbook``.
"""

from . import (  # noqa: F401
    accounts,
    calculators,
    catalogue,
    fixed,
    interest,
    kinds,
    opening,
    passbook,
    recurring,
    savings,
    statements,
    tds,
    tds_year_end,
)
from .accounts import (  # noqa: F401
    CUSTOMER_KINDS,
    Payout,
    StepReport,
    accrue_month_end,
    check_not_after_business_date,
    close_account,
    deposit_of,
    get_account,
    get_member,
    held_by,
    holders,
    isolated,
    joint_accounts,
    mark_closed,
    mark_dormant,
    member_accounts,
    new_account_no,
    pay_out,
    payout_line,
    payout_target,
    pending_status_changes,
    reactivate,
    run_maturities,
    savings_floor,
    settlement_lines,
    submit_status_change,
    valid_account_no,
)
from .catalogue import (  # noqa: F401
    DEFAULT_PRODUCTS,
    MAX_RATE_BP,
    apply_product_change,
    describe_bands,
    fd_band,
    get_product,
    is_senior,
    normalize_rates,
    normalize_settings,
    parse_rate_bp,
    parse_rate_card_text,
    pending_product_changes,
    product_for,
    products,
    rate_card,
    rate_card_text,
    rate_history,
    rd_band,
    rounding,
    savings_rate_bp,
    savings_rate_changes,
    seed_products,
    submit_product_change,
)
from .interest import (  # noqa: F401
    PRECISION,
    FdPayout,
    add_months,
    carry_forward,
    completed_months,
    daily_products,
    fd_maturity,
    fd_payout_schedule,
    fd_periodic_interest,
    fd_premature,
    financial_year,
    financial_year_bounds,
    premature_rate,
    rd_maturity,
    rd_maturity_actual,
    savings_interest,
    savings_interest_bp,
    tds_on_credit,
    tds_threshold,
)
from .kinds import CONTROL_GL, KIND_LABELS  # noqa: F401
from .opening import FUNDING_MODES, OpenRequest, funding_lines, open_account, opened_under_key, preview  # noqa: F401
from .savings import INTEREST_FREQUENCIES  # noqa: F401
from .views import AccountView, account_view  # noqa: F401  (the read model of an account)
