"""``flask deposits ...``: the deposit day-end steps, runnable by hand until the day-end batch lands.

The day-end calls the same service functions: ``savings.accumulate_until``,
``savings.credit_interest``, ``deposits.run_maturities``, ``deposits.accrue_month_end`` and
``deposits.mark_dormant``. Each is idempotent for its date and refuses a date after the open
business date (nothing is done). ``mature`` lists accounts held (no savings account able to
take the money) or failed (rolled back, audited; the rest went on).
"""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from app.money import format_inr
from app.services import deposits
from app.services.common import SYSTEM, DomainError, acting_as, uow
from app.services.deposits import savings

deposits_cli = AppGroup("deposits", help="Deposits: daily product, interest, maturities, accruals.")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD") from exc


def _run(work):
    with acting_as(SYSTEM):
        try:
            result = work()
            uow.commit()
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    return result


@deposits_cli.command("accumulate")
@click.option("--date", "on", required=True, help="Calendar date, YYYY-MM-DD (every missing day up to it is added).")
def accumulate(on: str) -> None:
    """Add each savings account's end-of-day balance to its daily product."""
    n = _run(lambda: savings.accumulate_until(_date(on), commit_each_day=True))
    click.echo(f"daily product: {n} account-day(s) added up to {on}")


@deposits_cli.command("credit-interest")
@click.option("--period-end", required=True, help="Last day of the crediting period, YYYY-MM-DD.")
def credit_interest(period_end: str) -> None:
    """Credit savings interest for the period ending on that date (quarter / half-year ends only)."""
    with acting_as(SYSTEM):
        try:
            result = savings.credit_interest(_date(period_end), commit_chunks=True)
            uow.commit()
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(
        f"savings interest to {period_end}: {result.accounts} account(s), interest {format_inr(result.interest_paise)}, "
        f"charges {format_inr(result.charges_paise)}, {len(result.entries)} entr(ies)"
    )


@deposits_cli.command("mature")
@click.option("--date", "on", required=True, help="Business date, YYYY-MM-DD.")
def mature(on: str) -> None:
    """FD payouts and maturities, RD standing instructions, overdue instalments and RD maturities."""
    result = _run(lambda: deposits.run_maturities(_date(on)))
    click.echo(", ".join(f"{k}: {v}" for k, v in result.items()))


@deposits_cli.command("accrue")
@click.option("--month-end", required=True, help="Last day of the month, YYYY-MM-DD.")
def accrue(month_end: str) -> None:
    """Accrue FD and RD interest payable to the month end (GL only)."""
    result = _run(lambda: deposits.accrue_month_end(_date(month_end)))
    click.echo(f"accrued to {month_end}: FD {format_inr(result['fd'])}, RD {format_inr(result['rd'])}")


@deposits_cli.command("mark-dormant")
@click.option("--date", "on", required=True, help="Business date, YYYY-MM-DD.")
def mark_dormant(on: str) -> None:
    """Mark savings accounts without customer transactions for DORMANT_AFTER_MONTHS as dormant."""
    marked = _run(lambda: deposits.mark_dormant(_date(on)))
    click.echo(f"{len(marked)} account(s) marked dormant")


@deposits_cli.command("seed-products")
def seed_products() -> None:
    """Create the default SB, FD and RD products where missing."""
    made = _run(deposits.seed_products)
    click.echo(f"{len(made)} product(s) created")


def register(app: Flask) -> None:
    """Add the ``deposits`` command group to the app."""
    app.cli.add_command(deposits_cli)
