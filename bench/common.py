"""Shared set-up for benchmarks: a fresh, migrated PostgreSQL database."""

from __future__ import annotations

import os
import statistics

from sqlalchemy import create_engine, text

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sahakari_bench"


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database named in ``url``."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def make_bench_app(url: str):
    from app import create_app
    from config import DevelopmentConfig

    return create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)


def migrated_app(url: str):
    """Recreate the database, run the migrations and return an app bound to it."""
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
