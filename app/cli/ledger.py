"""``flask ledger ...``: chart of accounts, business days and verification."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from app.services import ledger
from app.services.common import SYSTEM, DomainError, acting_as, uow
from app.services.ledger import calendar, coa

ledger_cli = AppGroup("ledger", help="General ledger: chart of accounts, business days, verification.")


@ledger_cli.command("seed-coa")
def seed_coa() -> None:
    """Create the default chart of accounts where missing."""
    with acting_as(SYSTEM):
        added = uow.run(coa.seed_chart)
    click.echo(f"chart of accounts: {added} account(s) added")


@ledger_cli.command("verify")
def verify() -> None:
    """Check every invariant of the ledger (and the day-end snapshots); exit 1 and name the first discrepancy."""
    report = ledger.verify()
    if report.ok:
        click.echo(
            f"ledger OK: {report.entries} entries, {report.accounts} member accounts"
            + (f" ({report.undigested} entries from before line digests)" if report.undigested else "")
        )
        return
    click.echo(f"ledger BROKEN: {report.problems[0]}")
    for problem in report.problems[1:]:
        click.echo(f"  also: {problem}")
    sys.exit(1)


@ledger_cli.command("open-day")
@click.option("--date", "on", required=True, help="Business date, YYYY-MM-DD.")
def open_day(on: str) -> None:
    """Open a business day for posting."""
    with acting_as(SYSTEM):
        try:
            day = date.fromisoformat(on)
            uow.run(lambda: calendar.open_business_day(day))
        except (DomainError, ValueError) as exc:
            raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    click.echo(f"business day {on} open")


@ledger_cli.command("close-day")
@click.option("--date", "on", required=True, help="Business date, YYYY-MM-DD.")
def close_day(on: str) -> None:
    """Close a business day and write its GL snapshot (the day-end calls the same services).

    Locks the day first, so postings in flight finish before the snapshot and later ones
    are refused; retried on serialisation failures and deadlocks.
    """
    with acting_as(SYSTEM):
        try:
            day = date.fromisoformat(on)
            uow.run(lambda: ledger.close_day(day))
        except (DomainError, ValueError) as exc:
            raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    click.echo(f"business day {on} closed")


def register(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
