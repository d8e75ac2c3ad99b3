"""members: public face.

The nouns: a ``Member`` (applicant → active → resigned/expelled/deceased), their KYC file
(documents, maker-checker review, periodic re-KYC by risk), nominees, and share capital
(a share account plus numbered certificates). The invariant: only an active member whose
KYC is approved and current may open accounts or borrow (``eligibility_problem``), and the
certificates always add up to the share-capital ledger (``register_totals().agrees``).

Modules: ``registry`` (lookups, registration, edits, status), ``cleaning`` (form input),
``rules`` (eligibility, minor / senior citizen, re-KYC dates), ``kyc``, ``shares``
(admission, purchases), ``share_requests`` (refunds, transfers), ``share_register``.
"""

from . import kyc, registry, share_register, share_requests, shares  # noqa: F401
from .cleaning import GENDER_ALIASES, MAX_NOMINEES, clean_member_data, clean_nominees  # noqa: F401
from .kyc import KycDue, kyc_due  # noqa: F401
from .profile import MemberProfile, profile_view  # noqa: F401
from .registry import (  # noqa: F401
    ADDRESS_FIELDS,
    DOCS_RECHECKED_BY,
    DOCS_SUPERSEDED_BY,
    KYC_FIELDS,
    MASKED_PAN,
    PAN_TAIL,
    TERMINAL_STATUSES,
    TRANSITIONS,
    branches,
    change_status,
    find,
    find_by_aadhaar,
    get,
    member_accounts,
    next_member_no,
    record_status,
    register,
    search,
    set_nominees,
    set_risk,
    snapshot,
    update,
)
from .rules import (  # noqa: F401
    age,
    eligibility_problem,
    ensure_eligible,
    ensure_eligible_for_accounts,
    has_pan,
    has_pan_or_form60,
    is_eligible_for_accounts,
    is_minor,
    is_senior_citizen,
    kyc_current,
    rekyc_due_date,
    rekyc_years,
    today,
)
