"""Messages the portal shows that come from shared services in English: marked here so the
catalogues translate them (``translate`` looks them up, and turns the counted ones into
their translated form)."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import money
from app.services.common import ValidationError

SERVICE_MESSAGES = (
    _l("Invalid mobile number or password. Repeated failures pause sign-in for a while."),
    _l("Online access is switched off for this membership. Contact your branch."),
    _l("This membership is closed. Contact your branch."),
    _l("Sign-in is paused after repeated failures. Try again later."),
    _l("The code has expired or was already used. Sign in again to get a new one."),
    _l("Wrong code. Sign in again to get a new code."),
    _l("Too many codes were sent to this mobile in the last hour. Try again later."),
    _l("Enter a valid 10-digit Indian mobile number."),
    _l("Password must not be only digits; add letters."),
    _l("Password must not contain your mobile number."),
    _l("Choose two different accounts: the money cannot go to the account it leaves."),
    _l("Password must be at least %(n)s characters."),
    _l("No account %(no)s."),
)


def N_(message: str) -> str:
    """gettext's name for "mark for the catalogue, translate later"."""
    return message


# Service messages with values in them (account numbers, amounts, dates): each is matched as a
# pattern made from its msgid, and the values go into the translation as they are.
TEMPLATED = (
    # transfers (counter rules, ledger)
    N_("The amount must be more than zero."),
    N_("The amount is larger than any single transaction this bank accepts."),
    N_("Account %(no)s is closed; it cannot take deposits."),
    N_("Account %(no)s is frozen%(reason)s; it cannot take deposits."),
    N_("Account %(no)s is closed."),
    N_("Account %(no)s is frozen%(reason)s; no withdrawals."),
    N_("Account %(no)s is frozen%(reason)s."),
    N_("Account %(no)s is dormant; it must be reactivated before any withdrawal."),
    N_(
        "Account %(no)s can pay out at most %(available)s without going below its minimum balance; "
        "%(amount)s was asked for."
    ),
    N_("Account %(no)s can pay out at most %(available)s; %(amount)s was asked for."),
    N_("Account %(no)s has %(available)s available; this needs %(needed)s."),
    N_("Account %(no)s is a %(kind)s account and does not take deposits or transfers in."),
    N_("No business day is open. A manager must open the day before postings."),
    N_("A member account changed while it was locked; nothing was posted."),
    # payouts and online payments
    N_("amount: more than zero."),
    N_("amount: %(mode)s takes at most %(limit)s."),
    N_("amount: RTGS starts at %(floor)s; use NEFT or IMPS."),
    N_("amount: above today's payout limit of %(limit)s (%(left)s left today)."),
    N_("amount: %(name)s is a new payee; until %(until)s payouts to them are limited to %(limit)s."),
    N_("amount: more than the available balance of %(available)s."),
    N_("amount: at most ₹10,00,000 in one online payment."),
    N_("beneficiary.name: the payee's name (2–100 characters)."),
    N_("beneficiary.account_number: 9 to 18 digits."),
    N_("beneficiary.ifsc: 11 characters, e.g. SBIN0001234 (fifth is 0)."),
    N_("beneficiary.vpa: a UPI id such as name@bank."),
    N_("The payment could not be verified; if money left your account it will be credited once the bank confirms it."),
    # loan applications
    N_("The loan amount must be more than zero."),
    N_("%(product)s lends %(low)s to %(high)s; %(amount)s is outside that."),
)
# the account kinds those messages name (ledger.kinds.KIND_LABELS)
KIND_LABELS = {
    "savings": _l("savings"),
    "current": _l("current"),
    "fixed deposit": _l("fixed deposit"),
    "recurring deposit": _l("recurring deposit"),
    "share capital": _l("share capital"),
    "loan": _l("loan"),
}
_PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)s")
_TEMPLATES = tuple(
    (re.compile("^" + _PLACEHOLDER.sub(r"(?P<\1>.*?)", re.escape(msgid)) + "$", re.DOTALL), msgid)
    for msgid in TEMPLATED
)
_COUNTED = (
    (re.compile(r"^Wrong code\. (\d+) attempt\(s\) left\.$"), "Wrong code. %(left)s attempt(s) left.", "left"),
    (re.compile(r"^Password must be at least (\d+) characters\.$"), "Password must be at least %(n)s characters.", "n"),
    (re.compile(r"^No account '?([A-Z0-9()a-z ]*)'?\.$"), "No account %(no)s.", "no"),
)


def translate(message: str) -> str:
    """A service's English message in the request's language (unchanged when no catalogue has it)."""
    for pattern, msgid, name in _COUNTED:
        found = pattern.match(message or "")
        if found:
            return _(msgid, **{name: found.group(1)})
    for pattern, msgid in _TEMPLATES:
        found = pattern.match(message or "")
        if found:
            values = found.groupdict()
            if "kind" in values and values["kind"] in KIND_LABELS:
                values["kind"] = str(KIND_LABELS[values["kind"]])
            return _(msgid, **values)
    return _(message) if message else message


def amount_paise(raw: str | None, *, field: str = "amount") -> int:
    """A typed amount ("1,500.50") in paise; ValidationError in the member's language otherwise."""
    try:
        return money.parse_amount(raw, field=field)
    except money.MoneyError:
        raise ValidationError(
            _("Enter an amount such as 1,500.50 (more than zero, at most two decimals)."), field=field
        ) from None
