"""loans: public face — products, applications, sanction, disbursement, schedules, repayments, overdue.

Nouns (app/models/loans.py): a ``LoanProduct`` with a dated rate card; a ``Loan`` moving
applied → appraised → sanctioned / rejected → disbursed → active → closed / foreclosed /
written off; once disbursed it owns a ledger ``Account`` of kind ``loan`` under the
product's "loans to members" control GL, whose balance is the outstanding principal (so
``ledger verify`` proves the loan sub-ledger); its stored ``LoanScheduleRow`` versions;
``LoanEvent`` history; guarantors, collateral and liens; penal ``LoanCharge`` rows
(memorandum until paid); ``LoanClassification`` history.

Invariants: every money movement through ``ledger.post``; paid ≤ due on each instalment and
charge; allocation penal → overdue interest → overdue principal → current dues → prepayment;
the day-end steps (``update_dpd``, ``charge_penal``, ``classify_assets``,
``post_provisions``, ``collect_standing_instructions``, ``accrue_interest``) are idempotent
for a business date.
"""

from . import (  # noqa: F401
    applications,
    calculators,
    collateral,
    disbursement,
    documents,
    emi,
    events,
    overdue,
    products,
    reads,
    recoveries,
    repayments,
    reversals,
    schedule,
    workflow,
)
from .applications import Application, Check, eligibility, share_shortfall_paise  # noqa: F401
from .collateral import GoldItem, gold_rate, record_gold_rate  # noqa: F401
from .disbursement import allows_tranches, disburse, disbursed_paise, fee_paise, undisbursed_paise  # noqa: F401
from .emi import ScheduleRow, due_dates, emi_amount, emi_schedule, flat_schedule  # noqa: F401
from .events import get_loan, history  # noqa: F401
from .overdue import (
    accrue_interest,
    charge_penal,
    classify_assets,
    collect_standing_instructions,
    post_provisions,
    update_dpd,
)
from .products import (  # noqa: F401
    apply_product_change,
    current_rate_bp,
    get_product,
    pending_changes,
    seed_products,
    submit_product_change,
)
from .reads import Summary, demand, dpd_buckets, member_loans, npa_register, summary  # noqa: F401
from .recoveries import recover, recoverable_paise, recovered_paise, written_off_paise  # noqa: F401
from .repayments import Allocation, Quote, allocate, quote, repay  # noqa: F401
from .reversals import reverse_repayment  # noqa: F401
from .workflow import apply, appraise, mark_loss, reject, sanction, sanction_queue, write_off  # noqa: F401


def run_day(on):
    """Every loan step of the day-end for ``on``, in the day-end's order; returns counts per step."""
    return {
        "collect_standing_instructions": collect_standing_instructions(on),
        "update_dpd": update_dpd(on),
        "charge_penal": charge_penal(on),
        "accrue_interest": accrue_interest(on),
        "classify_assets": classify_assets(on),
        "post_provisions": post_provisions(on),
    }
