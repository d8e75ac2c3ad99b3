"""Operator commands, one module per domain; this package only registers them.

``audit`` (flask audit verify / seal), ``users`` (flask create-user), ``demo`` (flask
demo-seed), ``api`` (flask purge-api-records), ``ledger`` (flask ledger ...), ``deposits``
(flask deposits ...), ``eod`` (flask eod ...), ``payments`` (flask payments reconcile). A new domain adds ``app/cli/<domain>.py`` with a
``register(app)`` function and one line in ``MODULES``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.cli import api, audit, demo, deposits, eod, ledger, loans, payments, users

MODULES = (audit, users, demo, api, ledger, deposits, loans, payments)
GROUPS = (eod.eod_cli,)
_EXTRA: list[Any] = []


def register_cli(app: Flask) -> None:
    """Add every module's commands to ``app.cli`` (called once by ``create_app``)."""
    for module in MODULES:
        module.register(app)
    for group in GROUPS:
        app.cli.add_command(group)
    for extra in _EXTRA:
        app.cli.add_command(extra)


def add_command(cmd: Any) -> None:
    """Register another command group from its own module (before ``create_app`` runs)."""
    _EXTRA.append(cmd)
