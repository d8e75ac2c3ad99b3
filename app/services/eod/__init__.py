"""eod: public face — the day-end of a business date.

Nouns: a ``DayStep`` (registry.py) is one step of the day-end, contributed from the
domains' faces in ``steps.py`` (pre-checks, savings interest and daily product, deposit
maturities and accruals, loans, dormancy, the GL snapshot and the day close). An
``EodRun`` is one attempt at a date's day-end; an ``EodStepRun`` is a step's record for
that date (unique per date and step); an ``EodChunk`` an id range of a chunked step.
Invariant: a step done for a date is never run again for it, and a chunk's work commits
together with its ``done`` mark, so a rerun after any crash posts nothing twice.
"""

from . import days, registry, runner, steps  # noqa: F401
from .days import (  # noqa: F401
    Check,
    add_holiday,
    blocking_problems,
    holidays,
    is_holiday,
    next_business_day,
    prechecks,
    previous_business_day,
    remove_holiday,
)
from .registry import DayStep, register  # noqa: F401
from .runner import (  # noqa: F401
    DayEndFailed,
    DayEndRunning,
    Progress,
    StepProgress,
    check_can_run,
    day_state,
    history,
    is_running,
    last_run,
    open_next_day,
    progress,
    run_day,
    run_until,
    work_chunk,
)
