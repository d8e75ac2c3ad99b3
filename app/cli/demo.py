"""``flask demo-seed``: the demo society (DEMO CREDENTIALS ONLY — never in production)."""

from __future__ import annotations

import click
from flask import Flask

from app.demo import seed
from app.services.common import SYSTEM, acting_as


@click.command("demo-seed")
def demo_seed() -> None:
    """Create the demo society (idempotent). DEMO CREDENTIALS ONLY — never use in production."""
    with acting_as(SYSTEM):
        lines = seed()
    for line in lines:
        click.echo(line)


def register(app: Flask) -> None:
    app.cli.add_command(demo_seed)
