"""Operator commands: ``flask create-user``, ``flask demo-seed``, ``flask audit verify`` ..."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from app.services.common import SYSTEM, acting_as, uow

audit_cli = AppGroup("audit", help="Audit log: seal and verify the hash chain.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Verify the audit hash chain; exit 1 and name the first broken row."""
    from app.services.common import audit

    result = audit.verify()
    click.echo(result.message)
    if not result.ok:
        sys.exit(1)


@audit_cli.command("seal")
def audit_seal() -> None:
    """Seal audit rows that are committed but not yet chained."""
    from app.services.common import audit

    total = 0
    while (n := audit.seal_pending(wait=True)) > 0:
        total += n
    click.echo(f"sealed {total} rows")


@click.command("purge-api-records")
def purge_api_records() -> None:
    """Delete idempotency records past IDEMPOTENCY_RETENTION_HOURS and fully expired refresh tokens."""
    from app.jobs.maintenance import purge_api_records as purge

    counts = purge()
    click.echo(", ".join(f"{n} {what.replace('_', ' ')} deleted" for what, n in counts.items()))


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True)
@click.option("--full-name", default=None)
@click.option("--totp-secret", default=None, help="Base32 secret to enrol TOTP up front.")
def create_user(username: str, password: str, role: str, full_name: str | None, totp_secret: str | None) -> None:
    """Create a staff user non-interactively."""
    from app.services.access import staff_auth
    from app.services.common import DomainError

    with acting_as(SYSTEM):
        try:
            user = staff_auth.create_user(
                username=username, password=password, role=role, full_name=full_name, totp_secret=totp_secret
            )
            uow.commit()
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"created {user.username} ({user.role})")


@click.command("demo-seed")
def demo_seed() -> None:
    """Create the demo society (idempotent). DEMO CREDENTIALS ONLY — never use in production."""
    from app.demo import seed

    with acting_as(SYSTEM):
        lines = seed()
    for line in lines:
        click.echo(line)


def register_cli(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(create_user)
    app.cli.add_command(purge_api_records)
    app.cli.add_command(demo_seed)
    from app.cli.ledger import ledger_cli

    app.cli.add_command(ledger_cli)
    from app.cli.deposits import register as register_deposits_cli

    register_deposits_cli(app)
    for extra in _EXTRA:
        app.cli.add_command(extra)


_EXTRA: list = []


def add_command(cmd) -> None:
    """Register another command group (ledger, eod ...) from its own module."""
    _EXTRA.append(cmd)
