"""``flask eod ...``: run the day-end and see where it stands.

``flask eod run`` runs (or resumes) the day-end of the open business date; ``--to D`` goes
on day after day, each day-end opening the next business day, until the open date is past
D. With REDIS_URL set, the chunks of the big steps also go on the ``eod`` queue for the
workers to share. ``flask eod status`` prints the business date, its state and the last run.
System cron may call ``flask eod run`` instead of the RQ scheduler (``python worker.py cron``).
"""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from app.services import eod
from app.services.common import SYSTEM, DomainError, acting_as

eod_cli = AppGroup("eod", help="Day-end: run it, resume it, see its state.")


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD") from exc


def _echo_run(run) -> None:
    seconds = f"{run.seconds:.1f}s" if run.seconds is not None else "-"
    click.echo(f"day-end {run.business_date:%Y-%m-%d}: {run.status} in {seconds}")


@eod_cli.command("run")
@click.option("--date", "on", default=None, help="The open business date, YYYY-MM-DD (default: the open day).")
@click.option("--to", "to", default=None, help="Keep going, day after day, through this date (YYYY-MM-DD).")
def run(on: str | None, to: str | None) -> None:
    """Run or resume the day-end; each completed day-end opens the next business day."""
    from app.jobs.eod import dispatcher

    start, until = _date(on), _date(to)
    with acting_as(SYSTEM):
        try:
            eod.check_can_run(start)
            if until is not None:
                if until < eod.check_can_run(start):
                    raise click.ClickException(f"--to {until:%Y-%m-%d} is before the open business date.")
                runs = eod.run_until(until, dispatch=dispatcher())
                for r in runs:
                    _echo_run(r)
                if not runs:
                    click.echo("nothing to run")
            else:
                _echo_run(eod.run_day(start, dispatch=dispatcher()))
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    on_now, state = eod.day_state()
    click.echo(f"business date {on_now:%Y-%m-%d} {state}" if on_now else "no business day open")


@eod_cli.command("status")
def status() -> None:
    """Print the business date (YYYY-MM-DD), its state and the last run."""
    on, state = eod.day_state()
    click.echo(f"business date: {on:%Y-%m-%d}" if on else "business date: none")
    click.echo(f"state: {state}")
    last = eod.last_run()
    if last is None:
        click.echo("last run: none")
        return
    seconds = f"{last.seconds:.1f}s" if last.seconds is not None else "-"
    line = f"last run: {last.business_date:%Y-%m-%d} {last.status} ({last.trigger}, {seconds})"
    if last.error:
        line += f" — {last.error}"
    click.echo(line)
    for step in eod.progress(last.business_date).steps:
        chunks = f" {step.chunks_done}/{step.chunks_total} chunks" if step.chunks_total else ""
        click.echo(
            f"  {step.status:8} {step.name}{chunks} rows={step.rows}" + (f" error: {step.error}" if step.error else "")
        )


def register(app) -> None:
    """Add the ``eod`` command group to the app."""
    app.cli.add_command(eod_cli)
