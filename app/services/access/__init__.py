"""access: public face."""

from . import member_auth, staff_auth, tokens  # noqa: F401
