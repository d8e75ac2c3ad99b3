"""``flask loans ...``: the loan steps of the day-end for one business date, and product seeding.

``flask loans run-day --date D`` runs, in the day-end's order, the standing instructions,
DPD, penal charges, month-end interest accrual, asset classification and provisioning for
``D`` (each idempotent for its date; a date after the open business date is refused).
"""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from app.services import loans
from app.services.common import SYSTEM, DomainError, acting_as, uow

loans_cli = AppGroup("loans", help="Loans: the day-end steps (DPD, penal, NPA, provisions, accrual).")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD") from exc


@loans_cli.command("run-day")
@click.option("--date", "on", required=True, help="Business date, YYYY-MM-DD.")
def run_day(on: str) -> None:
    """Run every loan day-end step for the date."""
    day = _date(on)
    with acting_as(SYSTEM):
        try:
            counts = loans.run_day(day)
            uow.commit()
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    for step, n in counts.items():
        click.echo(f"{step}: {n}")


@loans_cli.command("seed-products")
def seed_products() -> None:
    """Create the default loan products where missing."""
    with acting_as(SYSTEM):
        n = loans.seed_products()
        uow.commit()
    click.echo(f"loan products added: {n}")


def register(app: Flask) -> None:
    app.cli.add_command(loans_cli)
