"""Statement jobs (queue "default"): make a long PDF statement in the background."""

from __future__ import annotations

from app.jobs.context import job
from app.services.common import uow
from app.services.deposits import statements


@job
def make_statement(file_id: int) -> str:
    """Render a queued ``StatementFile``; returns its status (``ready`` or ``failed``)."""
    row = statements.build_file(file_id)
    uow.commit()
    return row.status
