"""``flask purge-api-records``: API housekeeping (run daily from cron)."""

from __future__ import annotations

import click
from flask import Flask

from app.jobs import maintenance


@click.command("purge-api-records")
def purge_api_records() -> None:
    """Delete idempotency records past IDEMPOTENCY_RETENTION_HOURS and fully expired refresh tokens."""
    counts = maintenance.purge_api_records()
    click.echo(", ".join(f"{n} {what.replace('_', ' ')} deleted" for what, n in counts.items()))


def register(app: Flask) -> None:
    app.cli.add_command(purge_api_records)
