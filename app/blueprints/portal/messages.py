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
    return _(message) if message else message


def amount_paise(raw: str | None, *, field: str = "amount") -> int:
    """A typed amount ("1,500.50") in paise; ValidationError in the member's language otherwise."""
    try:
        return money.parse_amount(raw, field=field)
    except money.MoneyError:
        raise ValidationError(
            _("Enter an amount such as 1,500.50 (more than zero, at most two decimals)."), field=field
        ) from None
