"""Day-end on PostgreSQL at 100k and 1,000,000 savings accounts, against a plain SQL UPDATE.

    python -m bench.eod [--sizes 100000,1000000] [--loans 100000] [--month-days 30] [--workers 0]

For each size: builds a fresh scratch database ``sahakari_bench_eod`` (its own, dropped and
recreated on the BENCH_DATABASE_URL server — see bench/common.py) with N savings accounts and
their opening balances (bulk SQL, bench.deposits_eod) and ``--loans`` disbursed loans with
their schedules and opening entries (bench.eod_loans: every 10th overdue, so the loan steps
have days past due, penal charges, slippage and provisions to work out; every 1000th with a
standing instruction). Then it times, in the same run: a plain SQL ``UPDATE`` of the same
rows (the reference); after a warm-up day-end (the first after loading, printed: it writes
every loaded loan's DPD, class and provision from zero), the savings daily-product step and
a whole ordinary day-end (``eod.run_day``: every step, the GL snapshot, the close and the
next day opened) with its loan steps; at the first size a month of ordinary day-ends
(``--month-days``); and a quarter-end day-end with its interest credit. Each time is printed
with its ratio to the UPDATE. ``--workers K`` starts K RQ workers on the ``eod`` queue
(needs BENCH_REDIS_URL) that share the chunks with the run. This machine's PostgreSQL runs
without autovacuum, so the bench vacuums the tables it rewrites between the phases.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date, timedelta

from bench.common import make_bench_app, scratch_url, server_url
from bench.deposits_eod import START, _setup
from bench.eod_loans import setup_loans

QUARTER_END = date(2026, 6, 30)
SCRATCH = "sahakari_bench_eod"  # its own scratch database: other benchmarks recreate sahakari_bench


def _migrated_app():
    """Drop and recreate the scratch database SCRATCH (only that name) and migrate it."""
    from sqlalchemy import create_engine, text

    url = scratch_url(server_url(), SCRATCH)
    admin = create_engine(scratch_url(url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{SCRATCH}"'))
    admin.dispose()
    app = make_bench_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app, url


def _plain_update() -> float:
    from sqlalchemy import text

    from app.extensions import db

    t0 = time.perf_counter()
    db.session.execute(
        text(
            "UPDATE sb_daily_products sp SET product_paise = sp.product_paise + GREATEST(a.balance_paise, 0) * 0, "
            "last_product_date = sp.last_product_date FROM accounts a WHERE a.id = sp.account_id AND a.status <> 'closed'"
        )
    )
    db.session.commit()
    return time.perf_counter() - t0


def _vacuum() -> None:
    from app.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("sb_daily_products", "accounts", "loans", "loan_schedule_rows", "loan_charges"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


def _step_seconds(on: date, step: str) -> float:
    from sqlalchemy import select

    from app.extensions import db
    from app.models.eod import EodStepRun

    sr = db.session.scalar(select(EodStepRun).where(EodStepRun.business_date == on, EodStepRun.step == step))
    return sr.seconds or 0.0


def _has_step(name: str) -> bool:
    from app.services.eod import registry

    return any(s.name == name for s in registry.steps())


def _workers(k: int, url: str) -> list[subprocess.Popen]:
    redis = os.environ.get("BENCH_REDIS_URL")
    if not k:
        return []
    if not redis:
        raise SystemExit("--workers needs BENCH_REDIS_URL")
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis}
    return [subprocess.Popen([sys.executable, "worker.py", "eod"], env=env) for _ in range(k)]


LOAN_STEPS = (
    "loans_collect_standing_instructions", "loans_update_dpd", "loans_charge_penal", "loans_accrue_interest",
    "loans_classify_assets", "loans_post_provisions",
)  # fmt: skip


def _loan_steps(on: date) -> str:
    from sqlalchemy import select

    from app.extensions import db
    from app.models.eod import EodStepRun

    runs = db.session.scalars(select(EodStepRun).where(EodStepRun.business_date == on, EodStepRun.step.in_(LOAN_STEPS)))
    times = {sr.step: sr.seconds or 0.0 for sr in runs}
    total = sum(times.values())
    return f"{total:.2f} s (" + ", ".join(f"{k.removeprefix('loans_')} {v:.2f}" for k, v in sorted(times.items())) + ")"


def _one_size(n: int, month_days: int, workers: int, n_loans: int = 0, fillfactor: int = 0) -> None:
    from sqlalchemy import text

    app, url = _migrated_app()
    if fillfactor:  # an experiment: the accounts table's fillfactor (migration 0018 sets 50)
        with app.app_context():
            from app.extensions import db

            db.session.execute(text(f"ALTER TABLE accounts SET (fillfactor = {int(fillfactor)})"))
            db.session.commit()
    if workers:
        app.config["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    with app.app_context():
        from app.extensions import db
        from app.jobs.eod import dispatcher
        from app.services import eod
        from app.services.common import SYSTEM, acting_as, uow
        from app.services.ledger import calendar

        t0 = time.perf_counter()
        _setup(n)
        if n_loans:
            with acting_as(SYSTEM):
                setup_loans(n_loans, START)
        print(f"[{n:,}] set-up ({n_loans:,} loans) in {time.perf_counter() - t0:.1f} s", flush=True)
        procs = _workers(workers, url)
        try:
            with acting_as(SYSTEM):
                _vacuum()
                ref = _plain_update()
                _vacuum()
                print(f"[{n:,}] plain UPDATE of {n:,} rows: {ref:.2f} s (reference)", flush=True)

                # Warm-up (printed, not the measure): the loaded loans carry no DPD, class or
                # provision yet, so the first day-end after loading writes every one of them
                # from zero. A bank's day-end starts from yesterday's; the next day is measured.
                t0 = time.perf_counter()
                eod.run_day(START, trigger="bench", dispatch=dispatcher())
                print(f"[{n:,}] warm-up day-end (first after loading): {time.perf_counter() - t0:.2f} s", flush=True)
                _vacuum()
                day = calendar.current_business_date()
                t0 = time.perf_counter()
                eod.run_day(day, trigger="bench", dispatch=dispatcher())
                whole = time.perf_counter() - t0
                daily = _step_seconds(day, "sb_daily_product")
                print(f"[{n:,}] daily-product step: {daily:.2f} s = {daily / ref:.2f}x UPDATE", flush=True)
                print(
                    f"[{n:,}] whole ordinary day-end: {whole:.2f} s = {whole / ref:.2f}x UPDATE (target <= 3x)",
                    flush=True,
                )
                if n_loans:
                    print(f"[{n:,}] loan steps ({n_loans:,} loans): {_loan_steps(day)}", flush=True)

                if month_days:
                    _vacuum()
                    to = calendar.current_business_date() + timedelta(days=month_days - 1)
                    t0 = time.perf_counter()
                    runs = eod.run_until(to, trigger="bench", dispatch=dispatcher())
                    month = time.perf_counter() - t0
                    print(
                        f"[{n:,}] {len(runs)} ordinary day-ends: {month:.1f} s "
                        f"({month / max(len(runs), 1):.2f} s each = {month / max(len(runs), 1) / ref:.2f}x UPDATE)",
                        flush=True,
                    )

                # Jump to the quarter end: the products are brought up to the day before by SQL
                # (a bench shortcut, not timed), then the quarter-end day-end runs.
                on = calendar.current_business_date()
                calendar.close_business_day(on)
                calendar.open_business_day(QUARTER_END)
                db.session.execute(
                    text("UPDATE sb_daily_products SET last_product_date = :d, product_paise = product_paise * 91"),
                    {"d": QUARTER_END - timedelta(days=1)},
                )
                uow.commit()
                _vacuum()
                t0 = time.perf_counter()
                eod.run_day(QUARTER_END, trigger="bench", dispatch=dispatcher())
                quarter = time.perf_counter() - t0
                # The products brought to the period end (a step of their own since the crediting
                # stopped doing it in its chunks) count as part of the credit.
                to_end = _step_seconds(QUARTER_END, "sb_period_product") if _has_step("sb_period_product") else 0.0
                credit = _step_seconds(QUARTER_END, "sb_interest") + to_end
                print(
                    f"[{n:,}] quarter-end interest credit: {credit:.1f} s = {credit / ref:.2f}x UPDATE, "
                    f"{n / credit:,.0f} accounts/s (target 1M < 45 s; products to the period end {to_end:.1f} s)",
                    flush=True,
                )
                if n_loans:
                    print(f"[{n:,}] loan steps at the quarter end: {_loan_steps(QUARTER_END)}", flush=True)
                print(f"[{n:,}] whole quarter-end day-end: {quarter:.1f} s = {quarter / ref:.2f}x UPDATE", flush=True)
                report = __import__("app.services.ledger", fromlist=["verify"]).verify()
                print(f"[{n:,}] ledger verify: {'ok' if report.ok else report.problems[:3]}", flush=True)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
        db.session.remove()
        db.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--loans", type=int, default=100_000, help="disbursed loans built with each size")
    parser.add_argument("--month-days", type=int, default=30, help="ordinary day-ends timed at the first size")
    parser.add_argument("--fillfactor", type=int, default=0, help="experiment: set the accounts table's fillfactor")
    parser.add_argument("--workers", type=int, default=0, help="RQ workers sharing the chunks (BENCH_REDIS_URL)")
    args = parser.parse_args(argv)
    for i, size in enumerate(int(s) for s in args.sizes.split(",")):
        _one_size(size, args.month_days if i == 0 else 0, args.workers, args.loans, args.fillfactor)


if __name__ == "__main__":
    main()
