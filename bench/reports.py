"""Report timings on PostgreSQL: balance sheet, P&L and loans outstanding at 100k and 1M journal lines.

    python -m bench.reports [--lines-per-day 10000] [--loans 100000] [--repeat 5]

Builds two ledgers set-based (SQL ``generate_series``, triggers off while loading): 10 and
100 business days of ``--lines-per-day`` lines each (100k and 1M lines at the default), with
a day-end GL snapshot for every closed day and the last day open. The second also gets
``--loans`` disbursed loans (members, loan accounts, three schedule rows each, a classification
row for each loan not standard). Prints the median of ``--repeat`` runs of: the balance sheet
as of the last day, the P&L of the last day alone (one-day period), the P&L of the year to
date, the loans-outstanding rows (one per loan, as the JSON API gives them), the
loans-outstanding report (grouped by product and purpose) and the dashboard's NPA trend
(12 month ends, by amount). Targets: each under 1 s; the one-day figures no slower at 1M
lines than at 100k.

BENCH_DATABASE_URL names the server only; the run drops and recreates the scratch database
``sahakari_bench_reports`` there, never the database in the URL.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta

from sqlalchemy import text

from bench.common import HELP_EPILOG, REPORTS_DB, bench_url, migrated_app

START = date(2025, 4, 1)


def _load_ledger(db, days: int, per_day: int) -> None:
    """``days`` business days of ``per_day`` lines (half as many two-line entries), snapshots for closed days."""
    from app.services.common import uow
    from app.services.ledger import coa

    coa.seed_chart()
    uow.commit()
    conn = db.session.connection()
    conn.execute(text("SET session_replication_role = replica"))  # bulk load: skip the ledger's triggers
    conn.execute(
        text(
            "INSERT INTO business_days (business_date, status, opened_at) "
            "SELECT :start + g, CASE WHEN g = :last THEN 'open' ELSE 'closed' END, now() "
            "FROM generate_series(0, :last) AS g"
        ),
        {"start": START, "last": days - 1},
    )
    # Postable, non-control accounts of every type, so each statement has something in it.
    gl_ids = [
        r[0]
        for r in conn.execute(
            text("SELECT id FROM gl_accounts WHERE NOT is_group AND NOT is_control ORDER BY code")
        ).all()
    ]
    conn.execute(text("CREATE TEMP TABLE bench_gl (n int, id int) ON COMMIT DROP"))
    conn.execute(
        text(
            "INSERT INTO bench_gl SELECT ordinality - 1, id FROM unnest(CAST(:ids AS int[])) WITH ORDINALITY AS t(id)"
        ),
        {"ids": gl_ids},
    )
    entries = days * per_day // 2
    conn.execute(
        text(
            "INSERT INTO journal_entries (id, business_date, value_date, posted_at, kind, narration, channel, total_paise) "
            "SELECT g, :start + (g - 1) / :epd, :start + (g - 1) / :epd, now(), 'journal', 'bench', "
            "CASE WHEN g % 3 = 0 THEN 'api' ELSE 'branch' END, 100 + (g::bigint * 7919) % 500000 "
            "FROM generate_series(1, :n) AS g"
        ),
        {"start": START, "epd": per_day // 2, "n": entries},
    )
    k = len(gl_ids)
    conn.execute(
        text(
            "INSERT INTO journal_lines (entry_id, gl_account_id, business_date, debit_paise, credit_paise) "
            "SELECT e.id, d.id, e.business_date, e.total_paise, 0 FROM journal_entries e "
            "JOIN bench_gl d ON d.n = e.id % :k "
            "UNION ALL "
            "SELECT e.id, c.id, e.business_date, 0, e.total_paise FROM journal_entries e "
            "JOIN bench_gl c ON c.n = (e.id * 31 + 7) % :k"
        ),
        {"k": k},
    )
    conn.execute(
        text("SELECT setval(pg_get_serial_sequence('journal_entries', 'id'), (SELECT max(id) FROM journal_entries))")
    )
    # Day-end snapshots: cumulative totals of every GL account at the end of every closed day.
    conn.execute(
        text(
            "INSERT INTO gl_daily_balances (gl_account_id, business_date, debit_total_paise, credit_total_paise) "
            "SELECT g.id, d.day, "
            "  sum(coalesce(s.dr, 0)) OVER (PARTITION BY g.id ORDER BY d.day), "
            "  sum(coalesce(s.cr, 0)) OVER (PARTITION BY g.id ORDER BY d.day) "
            "FROM gl_accounts g CROSS JOIN (SELECT :start + x AS day FROM generate_series(0, :closed) x) d "
            "LEFT JOIN (SELECT gl_account_id, business_date, sum(debit_paise) dr, sum(credit_paise) cr "
            "           FROM journal_lines GROUP BY 1, 2) s ON s.gl_account_id = g.id AND s.business_date = d.day"
        ),
        {"start": START, "closed": days - 2},
    )
    conn.execute(text("SET session_replication_role = origin"))
    uow.commit()
    conn = db.session.connection()
    conn.execute(text("ANALYZE"))
    uow.commit()


def _load_loans(db, count: int, on: date) -> None:
    """``count`` disbursed loans with members, loan accounts and three schedule rows each."""
    from app.services import loans
    from app.services.common import uow

    loans.seed_products()
    uow.commit()
    conn = db.session.connection()
    conn.execute(text("SET session_replication_role = replica"))
    product_id, gl_id = conn.execute(text("SELECT id, control_gl_id FROM loan_products ORDER BY id LIMIT 1")).one()
    conn.execute(
        text(
            "INSERT INTO members (member_no, name, date_of_birth, gender, mobile, address_line, village_town, district,"
            " state, pin, member_type, status, kyc_status, kyc_risk, created_at, self_registered, form60_on_file) "
            "SELECT 'B' || lpad(g::text, 8, '0'), 'Borrower ' || g, DATE '1980-01-01', 'female', "
            "'9' || lpad(g::text, 9, '0'), 'Road', 'Town', 'District', 'State', '400001', 'regular', 'active', "
            "'approved', 'low', now(), false, false FROM generate_series(1, :n) g"
        ),
        {"n": count},
    )
    conn.execute(
        text(
            "INSERT INTO accounts (account_no, kind, title, member_id, control_gl_id, balance_paise, min_balance_paise,"
            " enforce_limit, status, opened_on, created_at) "
            "SELECT 'BL' || lpad(m.id::text, 10, '0'), 'loan', 'Loan', m.id, :gl, 10000000 + (m.id * 7919) % 900000, "
            "-1000000000000, false, 'active', :on, now() FROM members m WHERE m.member_no LIKE 'B%'"
        ),
        {"gl": gl_id, "on": on},
    )
    conn.execute(
        text(
            "INSERT INTO loans (loan_no, member_id, product_id, account_id, principal_paise, rate_bp, months, "
            " interest_type, frequency, purpose, status, secured, emi_paise, processing_fee_paise, applied_on, "
            " sanctioned_on, disbursed_on, dpd, asset_class, loss_marked, provision_paise, schedule_version, created_at) "
            "SELECT 'LN' || lpad(a.member_id::text, 10, '0'), a.member_id, :p, a.id, a.balance_paise, 1200, 12, "
            " 'reducing', 'monthly', CASE WHEN a.id % 2 = 0 THEN 'Business' ELSE 'Education' END, 'active', false, "
            " 900000, 0, :on, :on, :on, CASE WHEN a.id % 10 = 0 THEN a.id % 120 ELSE 0 END, "
            " CASE WHEN a.id % 10 <> 0 THEN 'standard' WHEN a.id % 120 > 90 THEN 'substandard' "
            "      WHEN a.id % 120 > 60 THEN 'sma2' ELSE 'standard' END, "
            " false, a.balance_paise / 10, 1, now() FROM accounts a WHERE a.kind = 'loan' AND a.account_no LIKE 'BL%'"
        ),
        {"p": product_id, "on": on - timedelta(days=90)},
    )
    conn.execute(
        text(
            "INSERT INTO loan_schedule_rows (loan_id, version, installment, due_date, opening_principal_paise, "
            " principal_paise, interest_paise, emi_paise, closing_principal_paise, principal_paid_paise, "
            " interest_paid_paise, status) "
            "SELECT l.id, 1, i, :first + (i * 30), l.principal_paise - (i - 1) * 800000, 800000, 100000, 900000, l.principal_paise - i * 800000, "
            " CASE WHEN l.dpd = 0 AND i < 3 THEN 800000 ELSE 0 END, CASE WHEN l.dpd = 0 AND i < 3 THEN 100000 ELSE 0 END, "
            " CASE WHEN l.dpd = 0 AND i < 3 THEN 'paid' ELSE 'due' END FROM loans l CROSS JOIN generate_series(1, 3) i"
        ),
        {"first": on - timedelta(days=90)},
    )
    conn.execute(
        text(
            "INSERT INTO loan_classifications (loan_id, on_date, from_class, to_class, dpd, created_at) "
            "SELECT id, :on, 'standard', asset_class, dpd, now() FROM loans WHERE asset_class <> 'standard'"
        ),
        {"on": on - timedelta(days=1)},
    )
    conn.execute(text("SET session_replication_role = origin"))
    uow.commit()
    db.session.connection().execute(text("ANALYZE"))
    uow.commit()


def _time(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def _measure(days: int, per_day: int, loans_count: int, repeat: int) -> dict[str, float]:
    app = migrated_app(bench_url(REPORTS_DB))
    with app.app_context():
        from app.extensions import db
        from app.services import reports

        t0 = time.perf_counter()
        _load_ledger(db, days, per_day)
        last = START + timedelta(days=days - 1)
        if loans_count:
            _load_loans(db, loans_count, last)
        lines = db.session.execute(text("SELECT count(*) FROM journal_lines")).scalar()
        print(f"  loaded {lines:,} journal lines over {days} days"
              + (f" and {loans_count:,} loans" if loans_count else "") + f" in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        bs = reports.balance_sheet(last)
        assert bs.balanced, bs.difference
        out = {
            "balance sheet (last day)": _time(lambda: reports.balance_sheet(last), repeat),
            "P&L one day (last day)": _time(lambda: reports.profit_and_loss(last, last), repeat),
            "P&L year to date": _time(lambda: reports.profit_and_loss(START, last), repeat),
        }
        if loans_count:
            rows = reports.loans.outstanding(last)
            assert len(rows) == loans_count
            out["loans outstanding"] = _time(lambda: reports.loans.outstanding(last), repeat)
            args = {"date": last.isoformat()}
            table = reports.tables.build("loans-outstanding", args)
            assert table.totals["loans"] == loans_count
            assert table.totals["outstanding"] == sum(r["outstanding_principal"] for r in rows)
            assert table.totals["overdue"] == sum(r["overdue"] for r in rows)
            out["loans outstanding report"] = _time(lambda: reports.tables.build("loans-outstanding", args), repeat)
            out["NPA trend (12 month ends)"] = _time(lambda: reports.dashboards.npa_trend(last), repeat)
        db.session.remove()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=HELP_EPILOG)
    parser.add_argument("--lines-per-day", type=int, default=10_000)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    small_days, big_days = 10, 100
    print(f"-- {small_days * args.lines_per_day:,} lines")
    small = _measure(small_days, args.lines_per_day, 0, args.repeat)
    print(f"-- {big_days * args.lines_per_day:,} lines")
    big = _measure(big_days, args.lines_per_day, args.loans, args.repeat)
    print(f"{'report':<28}{'100k lines':>14}{'1M lines':>14}{'ratio':>8}  target < 1 s")
    for name, seconds in big.items():
        base = small.get(name)
        ratio = f"{seconds / base:.2f}" if base else "-"
        base_text = f"{base * 1000:.1f} ms" if base else "-"
        print(f"{name:<28}{base_text:>14}{seconds * 1000:>11.1f} ms{ratio:>8}  {'ok' if seconds < 1 else 'SLOW'}")


if __name__ == "__main__":
    main()
