"""loans: public face."""

from . import emi  # noqa: F401
from .emi import ScheduleRow, due_dates, emi_amount, emi_schedule, flat_schedule  # noqa: F401
