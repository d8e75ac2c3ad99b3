"""Do the ledger's reports slow down as the journal grows? Day book, trial balance, GL statement, passbook.

    python -m bench.ledger_growth [--sizes 100000,1000000] [--lines-per-day 5000] [--repeat 5]

For each size a fresh scratch database gets that many journal lines, written set-based
(``generate_series``, triggers off as the superuser) in days of the same shape: each day
``lines-per-day`` lines of cash deposits (Dr vault cash / Cr one of 1,000 savings accounts),
every day but the last closed with its day-end GL snapshot, the last one open. Then the
reports of the LAST day are timed (best of ``--repeat``, warm cache): the day book (page 1),
the trial balance as of that day, the vault-cash GL statement for that day (page 1) and a
passbook page of one account for that day. The same one-day period at each size, so with
the indexes and snapshots the cost should not grow; the ratio largest/smallest is printed.

BENCH_DATABASE_URL names the server only; the run drops and recreates the scratch database
``sahakari_bench_growth`` there, never the database in the URL.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

from bench.common import GROWTH_DB, HELP_EPILOG, bench_url, make_bench_app, migrated_app

ACCOUNTS = 1000
START = date(2024, 4, 1)


def _build(url: str, total_lines: int, per_day: int) -> date:
    """A journal of ``total_lines`` lines over ``total_lines / per_day`` days; returns the last (open) day."""
    from sqlalchemy import insert, select, text

    from app.extensions import db
    from app.models.ledger import Account, GLAccount
    from app.services.ledger import coa

    migrated_app(url)
    app = make_bench_app(url)
    days = max(2, total_lines // per_day)
    last = START + timedelta(days=days - 1)
    with app.app_context():
        coa.seed_chart()
        db.session.commit()
        gl = {g.code: g.id for g in db.session.scalars(select(GLAccount))}
        db.session.execute(
            insert(Account),
            [
                {
                    "account_no": f"G{i:08d}",
                    "kind": "savings",
                    "title": f"Growth {i}",
                    "control_gl_id": gl[coa.SB_DEPOSITS],
                }
                for i in range(ACCOUNTS)
            ],
        )
        db.session.commit()
        first_acc = db.session.scalar(select(Account.id).order_by(Account.id).limit(1))
        params = {
            "days": days,
            "per": per_day // 2,
            "start": START,
            "vault": gl[coa.VAULT_CASH],
            "sb": gl[coa.SB_DEPOSITS],
            "acc0": first_acc,
            "n": ACCOUNTS,
            "total": days * (per_day // 2),
        }
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        db.session.execute(
            text(
                "INSERT INTO journal_entries (id, business_date, value_date, posted_at, kind, narration, channel, total_paise) "
                "SELECT e, CAST(:start AS date) + ((e - 1) / CAST(:per AS int))::int, CAST(:start AS date) + ((e - 1) / CAST(:per AS int))::int, now(), 'deposit', "
                "'Cash deposit', 'branch', 100 + (e % 997) * 100 FROM generate_series(1, CAST(:total AS bigint)) AS e"
            ),
            params,
        )
        db.session.execute(
            text(
                "INSERT INTO journal_lines (entry_id, gl_account_id, account_id, business_date, debit_paise, credit_paise) "
                "SELECT e.id, CASE WHEN s = 0 THEN CAST(:vault AS int) ELSE CAST(:sb AS int) END, "
                "CASE WHEN s = 0 THEN NULL ELSE CAST(:acc0 AS int) + (e.id % CAST(:n AS int))::int END, e.business_date, "
                "CASE WHEN s = 0 THEN e.total_paise ELSE 0 END, CASE WHEN s = 0 THEN 0 ELSE e.total_paise END "
                "FROM journal_entries e CROSS JOIN generate_series(0, 1) AS s ORDER BY e.id, s"
            ),
            params,
        )
        db.session.execute(text("SELECT setval('journal_entries_id_seq', (SELECT max(id) FROM journal_entries))"))
        db.session.execute(
            text(
                "UPDATE accounts a SET balance_paise = t.c FROM (SELECT account_id, sum(credit_paise) AS c "
                "FROM journal_lines WHERE account_id IS NOT NULL GROUP BY account_id) t WHERE a.id = t.account_id"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO business_days (business_date, status, opened_at, closed_at) "
                "SELECT d::date, CASE WHEN d::date = :last THEN 'open' ELSE 'closed' END, now(), "
                "CASE WHEN d::date = :last THEN NULL ELSE now() END "
                "FROM generate_series(CAST(:start AS date), CAST(:last AS date), interval '1 day') AS d"
            ),
            {"start": START, "last": last},
        )
        # The day-end snapshot of every closed day: cumulative totals per GL.
        db.session.execute(
            text(
                "INSERT INTO gl_daily_balances (gl_account_id, business_date, debit_total_paise, credit_total_paise) "
                "SELECT gl_account_id, business_date, sum(dr) OVER w, sum(cr) OVER w FROM ("
                "  SELECT gl_account_id, business_date, sum(debit_paise) AS dr, sum(credit_paise) AS cr "
                "  FROM journal_lines WHERE business_date < :last GROUP BY gl_account_id, business_date) d "
                "WINDOW w AS (PARTITION BY gl_account_id ORDER BY business_date)"
            ),
            {"last": last},
        )
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return last


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _time_reports(url: str, on: date, repeat: int) -> dict[str, float]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.ledger import Account, GLAccount, JournalLine
    from app.services import deposits, ledger
    from app.services.ledger import coa, reports

    app = make_bench_app(url)
    with app.app_context():
        lines = db.session.scalar(select(func.count()).select_from(JournalLine))
        vault = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.VAULT_CASH))
        account_id = db.session.scalar(select(Account.id).order_by(Account.id).offset(7).limit(1))

        def day_book():
            book = reports.day_book(on, page=1)
            assert book.summary.entries > 0
            db.session.expunge_all()

        def trial_balance():
            assert reports.trial_balance(on).balanced

        def gl_statement():
            reports.gl_statement(vault, on, on, page=1)
            db.session.expunge_all()

        def passbook():
            deposits.passbook.statement(db.session.get(Account, account_id), on, on, page=1)

        out = {
            "day book": _best(day_book, repeat),
            "trial balance": _best(trial_balance, repeat),
            "GL statement": _best(gl_statement, repeat),
            "passbook page": _best(passbook, repeat),
        }
        assert ledger.verify  # the face is importable; a full verify of 1M lines is not the point here
        out["lines"] = lines
        db.engine.dispose()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=HELP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--lines-per-day", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    url = bench_url(GROWTH_DB)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        started = time.perf_counter()
        last = _build(url, size, args.lines_per_day)
        built = time.perf_counter() - started
        results[size] = _time_reports(url, last, args.repeat)
        timings = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in results[size].items() if k != "lines")
        print(
            f"{results[size]['lines']:>9,} lines (built in {built:.0f}s), one day of {args.lines_per_day}: {timings}",
            flush=True,
        )
    small, large = results[sizes[0]], results[sizes[-1]]
    for name in ("day book", "trial balance", "GL statement", "passbook page"):
        print(
            f"ratio {name} at {sizes[-1]:,} / {sizes[0]:,} lines: {large[name] / small[name]:.2f} (target ≤ 1.5 for day book and trial balance)"
        )


if __name__ == "__main__":
    main()
