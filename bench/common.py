"""Shared set-up for benchmarks: a fresh, migrated PostgreSQL scratch database.

``BENCH_DATABASE_URL`` names only the *server* (user, host, port; any database part is
ignored). Benchmarks always drop and recreate their own scratch databases on it —
``sahakari_bench`` (and ``sahakari_pgbench`` for pgbench) — never the database named in
the URL, so pointing the variable at a real database cannot destroy it.
"""

from __future__ import annotations

import os
import statistics

from sqlalchemy import create_engine, text

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SCRATCH_DB = "sahakari_bench"
PGBENCH_DB = "sahakari_pgbench"
POSTING_DB = "sahakari_bench_posting"  # bench.posting (its own, so benchmarks may run side by side)
GROWTH_DB = "sahakari_bench_growth"  # bench.ledger_growth
REPORTS_DB = "sahakari_bench_reports"  # bench.reports
SCRATCH_NAMES = frozenset({SCRATCH_DB, PGBENCH_DB, POSTING_DB, GROWTH_DB, REPORTS_DB})
HELP_EPILOG = (
    "Database: BENCH_DATABASE_URL names the PostgreSQL server only (default "
    f"{DEFAULT_SERVER_URL}); the benchmark drops and recreates its own scratch databases "
    f"{SCRATCH_DB!r} and {PGBENCH_DB!r} there and never touches the database named in the URL."
)


def server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER_URL)


def scratch_url(server: str, name: str = SCRATCH_DB) -> str:
    """The URL of scratch database ``name`` on the server of ``server`` (its database part replaced)."""
    base, _, _db = server.rpartition("/")
    if not base or "://" not in server or base.endswith(":/"):
        raise ValueError(f"not a database URL: {server!r}")
    query = ""
    if "?" in _db:
        query = "?" + _db.split("?", 1)[1]
    return f"{base}/{name}{query}"


def bench_url(name: str = SCRATCH_DB) -> str:
    """A scratch benchmark database (``sahakari_bench`` unless a benchmark names its own) on the configured server."""
    return scratch_url(server_url(), name)


def recreate_database(url: str) -> None:
    """Drop and create a benchmark scratch database; refuses any other database name."""
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    if name not in SCRATCH_NAMES:
        raise ValueError(f"refusing to drop {name!r}: benchmarks only recreate {sorted(SCRATCH_NAMES)}")
    admin = create_engine(scratch_url(url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def make_bench_app(url: str, **overrides):
    from app import create_app
    from config import DevelopmentConfig

    return create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False, **overrides)


def migrated_app(url: str):
    """Recreate the scratch database, run the migrations and return an app bound to it."""
    recreate_database(url)
    app = make_bench_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise_ms(latencies_s: list[float]) -> str:
    ms = [x * 1000 for x in latencies_s]
    return f"p50 {statistics.median(ms):.2f} ms, p99 {percentile(ms, 99):.2f} ms"
