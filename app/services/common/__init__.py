"""common: public face."""

from . import approvals, audit, context, errors, idempotency, notifications, numbering, storage, uow, validators  # noqa: F401
from .context import SYSTEM, Actor, acting_as, current_actor, set_actor  # noqa: F401
from .errors import AuthError, Conflict, DomainError, NotFound, PermissionDenied, ValidationError  # noqa: F401
from .numbering import luhn_valid  # noqa: F401
from .uow import is_retryable  # noqa: F401
from .validators import verhoeff_check_digit  # noqa: F401
