"""counter: public face.

The nouns: a cashier's ``TellerDrawer`` (a ledger account of kind ``drawer``, opened with a
float from the vault, closed with a denomination count), ``CashTransaction`` rows (the cash
register the CTR reads), and transfers between member accounts. The invariant: cash moves
only through an open drawer of the acting cashier, under the counter's rules (countable
amounts, PAN / Form 60 per transaction from ₹50,000 a day, maker-checker above the large
cash thresholds), and every movement is one ``ledger.post``.
"""

from . import teller, transfers  # noqa: F401
from .teller import (  # noqa: F401
    AccountRefused,
    CashResult,
    DrawerNotOpen,
    DrawerShort,
    IdentityProofRequired,
    cash_deposit,
    cash_withdrawal,
    cashier_drawer,
    check_amount,
    current_drawer,
    find_account,
    pay_cash,
    receive_cash,
)
