"""access: public face."""

from . import member_auth, scoping, staff_auth, tokens  # noqa: F401
from .scoping import (  # noqa: F401
    EntryScope,
    member_id_of,
    own_member,
    visible_account,
    visible_accounts,
    visible_entries,
    visible_loan,
    visible_member,
)
