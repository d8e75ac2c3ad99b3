"""Staff screens: the business day (day-end, next day, holidays) and the failed-job registry.

The day page shows the open business date and its state, the pre-checks with their
results, "Run day-end" and "Open next day", a progress fragment that polls itself while a
run is going, the history of runs and the holiday calendar. Every staff page's header
shows the business date and its state (context processor below), and money screens show
a banner when no day is open (``staff/day/_no_day_banner.html``, included by the layout).
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, redirect, request, url_for
from flask_login import current_user

from app import navigation
from app.blueprints.staff import bp
from app.blueprints.staff.day_forms import HolidayForm, OpenDayForm, RunDayEndForm
from app.jobs import eod as eod_jobs
from app.navigation import NavItem
from app.permissions import permission_required
from app.services import eod
from app.services.common import DomainError, uow
from app.web import is_htmx, render, toast

navigation.add(NavItem("Business day", "staff.day", "day.manage"), before="ledger.index")
navigation.add(NavItem("Failed jobs", "staff.failed_jobs", "jobs.manage"))

# Screens that move money: they show a banner when no business day is open.
MONEY_PATHS = ("/teller", "/transfers", "/staff/deposits/open", "/ledger/voucher")


@bp.app_context_processor
def _day_globals() -> dict:
    def money_screen() -> bool:
        return request.path.startswith(MONEY_PATHS)

    return {"day_state": eod.day_state, "money_screen": money_screen}


def _poll(progress: eod.Progress, since: int | None) -> bool:
    """Whether the progress fragment keeps polling: a run is going, or the one queued has not started."""
    if progress.running:
        return True
    return since is not None and (progress.run is None or progress.run.id <= since)


def _page(
    status: int = 200,
    error: str | None = None,
    message: str | None = None,
    form: HolidayForm | None = None,
    since: int | None = None,
):
    on, state = eod.day_state()
    progress = eod.progress()
    ctx = {
        "on": on,
        "state": state,
        "checks": eod.prechecks(on) if on else [],
        "progress": progress,
        "poll": _poll(progress, since),
        "since": since,
        "runs": eod.history(15),
        "holidays": eod.holidays(on),
        "run_form": RunDayEndForm(business_date=on.isoformat() if on else ""),
        "open_form": OpenDayForm(),
        "holiday_form": form or HolidayForm(formdata=None),
        "error": error,
        "message": message,
        "next_day": eod.next_business_day(on) if on else None,
        "oob": is_htmx(),  # the header's date and state change with the page
    }
    return render("staff/day/index.html", "staff/day/_day.html", status=status, **ctx)


@bp.route("/day")
@permission_required("day.manage")
def day() -> Response:
    return _page()


@bp.route("/day/progress")
@permission_required("day.manage")
def day_progress() -> Response:
    since = request.args.get("since", type=int)
    progress = eod.progress()
    poll = _poll(progress, since)
    response = render("staff/day/_progress.html", progress=progress, poll=poll, since=since if poll else None)
    if is_htmx() and not poll:
        response.headers["HX-Refresh"] = "true"  # the run ended: the date, state and pre-checks changed too
    return response


def _done(message: str, since: int | None = None) -> Response:
    if is_htmx():
        return toast(_page(message=message, since=since), message)
    return redirect(url_for("staff.day"))


@bp.route("/day/run", methods=["POST"])
@permission_required("day.manage")
def day_run() -> Response:
    form = RunDayEndForm()
    if not form.validate_on_submit():
        return _page(400, error="The form expired; reload the page and try again.")
    try:
        on = date.fromisoformat(form.business_date.data)
    except ValueError:
        return _page(400, error="That is not a date.")
    last = eod.last_run()
    try:
        how = eod_jobs.start(on, by_id=current_user.id)
    except DomainError as exc:
        return _page(exc.status, error=exc.message)
    if how == "queued":
        return _done(f"Day-end of {on:%d-%m-%Y} queued for the workers.", since=last.id if last else 0)
    return _done(f"Day-end of {on:%d-%m-%Y} finished; the next business day is open.")


@bp.route("/day/open", methods=["POST"])
@permission_required("day.manage")
def day_open() -> Response:
    if not OpenDayForm().validate_on_submit():
        return _page(400, error="The form expired; reload the page and try again.")
    try:
        on = eod.open_next_day(by_id=current_user.id)
        uow.commit()
    except DomainError as exc:
        return _page(409, error=exc.message)
    return _done(f"Business day {on:%d-%m-%Y} is open.")


@bp.route("/day/holidays", methods=["POST"])
@permission_required("day.manage")
def day_holiday_add() -> Response:
    form = HolidayForm()
    if not form.validate_on_submit():
        return _page(400, form=form)
    try:
        eod.add_holiday(form.holiday_date.data, form.name.data)
        uow.commit()
    except DomainError as exc:
        form.name.errors = [*form.name.errors, exc.message]
        return _page(409, form=form)
    return _done(f"{form.holiday_date.data:%d-%m-%Y} added to the holidays.")


@bp.route("/day/holidays/<holiday_date>/delete", methods=["POST"])
@permission_required("day.manage")
def day_holiday_remove(holiday_date: str) -> Response:
    if not OpenDayForm().validate_on_submit():
        return _page(400, error="The form expired; reload the page and try again.")
    try:
        on = date.fromisoformat(holiday_date)
    except ValueError:
        abort(404)
    try:
        eod.remove_holiday(on)
        uow.commit()
    except DomainError as exc:
        return _page(404, error=exc.message)
    return _done(f"{on:%d-%m-%Y} is no longer a holiday.")


# ---------------------------------------------------------------- failed jobs


@bp.route("/jobs/failed")
@permission_required("jobs.manage")
def failed_jobs() -> Response:
    error = None
    try:
        jobs = eod_jobs.failed_jobs()
    except Exception as exc:  # noqa: BLE001 - Redis down: say so on the page
        jobs, error = [], f"The job queue (Redis) cannot be reached: {exc}"
    return render(
        "staff/day/failed_jobs.html",
        "staff/day/_failed_jobs.html",
        jobs=jobs,
        error=error,
        inline=not eod_jobs.uses_redis(),
    )


@bp.route("/jobs/failed/<job_id>/retry", methods=["POST"])
@permission_required("jobs.manage")
def failed_job_retry(job_id: str) -> Response:
    if not OpenDayForm().validate_on_submit():
        abort(400)
    if not eod_jobs.uses_redis():
        abort(404)
    try:
        eod_jobs.retry_failed(job_id)
    except DomainError as exc:
        response = render("staff/day/_failed_jobs.html", jobs=eod_jobs.failed_jobs(), error=exc.message, inline=False)
        return response
    if is_htmx():
        return toast(
            render("staff/day/_failed_jobs.html", jobs=eod_jobs.failed_jobs(), error=None, inline=False),
            "Job queued again.",
        )
    return redirect(url_for("staff.failed_jobs"))
