"""``flask audit ...``: seal and verify the hash-chained audit log."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from app.services.common import audit

audit_cli = AppGroup("audit", help="Audit log: seal and verify the hash chain.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Verify the audit hash chain; exit 1 and name the first broken row."""
    result = audit.verify()
    click.echo(result.message)
    if not result.ok:
        sys.exit(1)


@audit_cli.command("seal")
def audit_seal() -> None:
    """Seal audit rows that are committed but not yet chained."""
    total = 0
    while (n := audit.seal_pending(wait=True)) > 0:
        total += n
    anchored = audit.anchor_tail()  # a checkpoint lost to a crash or a storage outage
    click.echo(f"sealed {total} rows" + ("; wrote the missing checkpoint of the chain's tail" if anchored else ""))


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
