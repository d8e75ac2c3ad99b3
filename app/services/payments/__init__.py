"""payments: public face — Razorpay collections, webhooks, payouts and reconciliation (DESIGN.md §9).

Nouns (app/models/payments.py): a ``Payment`` (one gateway order for an EMI, an RD instalment
or a deposit into SB), its append-only ``PaymentEvent`` history (every webhook event id once),
a ``Payout`` to an outside account or VPA, saved ``Beneficiary`` rows.

Invariants: a payment is credited at most once (row lock + ledger idempotency key
``payment:<payment_id>``), Dr Razorpay clearing / Cr the purpose; a payout's amount leaves
the SB at once into payouts in transit, moves out of transit to the RazorpayX balance once
when processed (key ``payout-processed:<payout_id>``) and comes back at most once (a ledger
reversal) — decision 0050; a loan disbursement or FD proceeds may go out by payout
(``external``); a status only moves forward; the gateway is the ``razorpay`` SDK with keys,
else a sandbox.
"""

from . import external, gateway, history, orders, payouts, reconcile, webhooks  # noqa: F401
from .external import beneficiaries, disburse_loan, pay_deposit_proceeds, ready_beneficiary  # noqa: F401
from .gateway import GatewayRefused, GatewayUnavailable, SandboxGateway, is_sandbox, sign, signature_ok  # noqa: F401
from .history import RESOLUTION_MAX, attention_events, resolve_event, resolved_events  # noqa: F401
from .orders import OrderRequest, create_order, credit, get_payment, refund_processed, verify_return  # noqa: F401
from .payouts import (  # noqa: F401
    PayoutRequest,
    check_request,
    clean_beneficiary,
    code_needed,
    create_payout,
    get_payout,
    paid_out,
    send,
    settle,
)
from .reconcile import Daily, Difference  # noqa: F401
from .webhooks import BadSignature, process, receive, signed_event  # noqa: F401
