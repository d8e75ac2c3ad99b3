"""``flask payments reconcile``: settle stuck orders and payouts, then print the day's figures."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from app.jobs import payments as payment_jobs
from app.money import format_inr
from app.services import payments
from app.services.ledger import calendar

payments_cli = AppGroup("payments", help="Online payments: reconciliation with the gateway.")


@payments_cli.command("reconcile")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Day to report (YYYY-MM-DD, the Indian calendar day).",
)
def payments_reconcile(on) -> None:
    """Ask the gateway about open orders and payouts, then print the day's totals; exit 1 on a difference."""
    result = payment_jobs.reconcile()
    click.echo(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.items()))
    day: date = on.date() if on else calendar.business_date_or_today()
    report = payments.reconcile.daily(day)
    for label, paise in (
        ("collected", report.collected_paise),
        ("refunded", report.refunded_paise),
        ("paid out", report.paid_out_paise),
        ("gateway clearing GL", report.clearing_paise),
        ("payouts in transit GL", report.in_transit_paise),
        ("open payouts", report.open_payouts_paise),
        ("RazorpayX balance GL", report.razorpayx_paise),
    ):
        click.echo(f"{day:%d-%m-%Y} {label}: {format_inr(paise)}")
    for line in report.differences:
        click.echo(f"difference: {line.text}")
    if report.differences:
        sys.exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(payments_cli)
