"""``flask create-user``: staff users from the command line."""

from __future__ import annotations

import click
from flask import Flask

from app.services.access import staff_auth
from app.services.common import SYSTEM, DomainError, acting_as, uow


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True)
@click.option("--full-name", default=None)
@click.option("--totp-secret", default=None, help="Base32 secret to enrol TOTP up front.")
def create_user(username: str, password: str, role: str, full_name: str | None, totp_secret: str | None) -> None:
    """Create a staff user non-interactively."""
    with acting_as(SYSTEM):
        try:
            user = staff_auth.create_user(
                username=username, password=password, role=role, full_name=full_name, totp_secret=totp_secret
            )
            uow.commit()
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"created {user.username} ({user.role})")


def register(app: Flask) -> None:
    app.cli.add_command(create_user)
