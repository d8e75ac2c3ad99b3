"""Posting throughput through the ledger service on PostgreSQL, against pgbench's TPC-B.

    python -m bench.posting [--workers 8] [--seconds 15] [--accounts 1000]

Each worker is a separate process with its own app and connection pool doing random
transfers between member accounts (two locked account rows, one entry, two lines, an audit
row and the sealing step) — the same shape as pgbench's tpcb-like transaction (three
updated rows and a history insert), which runs on the same server in the same run.

BENCH_DATABASE_URL names the server only: the run drops and recreates the scratch
databases ``sahakari_bench`` and ``sahakari_pgbench`` there, never the database in the URL.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import shutil
import subprocess
import time

from bench.common import (
    HELP_EPILOG,
    PGBENCH_DB,
    bench_url,
    make_bench_app,
    migrated_app,
    recreate_database,
    scratch_url,
    summarise_ms,
)


def _setup(url: str, n_accounts: int) -> list[int]:
    from datetime import date

    from sqlalchemy import select

    from app.extensions import db
    from app.models.ledger import Account, GLAccount
    from app.services import ledger
    from app.services.common import uow
    from app.services.ledger import calendar, coa

    app = migrated_app(url)
    with app.app_context():
        coa.seed_chart()
        calendar.open_business_day(date.today())
        uow.commit()
        gl = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.SB_DEPOSITS))
        accounts = [
            Account(
                account_no=f"B{i:08d}",
                kind="savings",
                title=f"Bench {i}",
                control_gl=gl,
                balance_paise=0,
                min_balance_paise=0,
                status="active",
                enforce_limit=True,
            )
            for i in range(n_accounts)
        ]
        db.session.add_all(accounts)
        uow.commit()
        for acc in accounts:
            ledger.post(
                [ledger.Line.dr(coa.VAULT_CASH, 10_00_000_00), ledger.Line.cr(acc, 10_00_000_00)],
                kind="opening",
                narration="Bench opening",
            )
        uow.commit()
        ids = [a.id for a in accounts]
        db.engine.dispose()
    return ids


def _worker(args: tuple[str, list[int], float, int]) -> tuple[int, int, list[float]]:
    url, ids, seconds, seed = args
    from app.extensions import db
    from app.models.ledger import Account
    from app.services import ledger
    from app.services.common import DomainError, uow

    app = make_bench_app(url)
    rng = random.Random(seed)
    done = refused = 0
    latencies: list[float] = []
    with app.app_context():
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            src, dst = rng.sample(ids, 2)
            amount = rng.randint(1, 5_000_00)

            def work(src=src, dst=dst, amount=amount):
                a, b = db.session.get(Account, src), db.session.get(Account, dst)
                return ledger.post(
                    [ledger.Line.dr(a, amount), ledger.Line.cr(b, amount)], kind="transfer", narration="bench transfer"
                )

            start = time.perf_counter()
            try:
                uow.run(work)
                done += 1
            except DomainError:
                refused += 1
            latencies.append(time.perf_counter() - start)
            db.session.expunge_all()
    return done, refused, latencies


def run_service(url: str, workers: int, seconds: float, n_accounts: int) -> dict:
    ids = _setup(url, n_accounts)
    ctx = mp.get_context("spawn")
    started = time.perf_counter()
    with ctx.Pool(workers) as pool:
        results = pool.map(_worker, [(url, ids, seconds, i) for i in range(workers)])
    elapsed = time.perf_counter() - started
    done = sum(r[0] for r in results)
    latencies = [x for r in results for x in r[2]]
    app = make_bench_app(url)
    with app.app_context():
        from app.services import ledger

        report = ledger.verify()
    return {
        "tps": done / seconds,
        "done": done,
        "refused": sum(r[1] for r in results),
        "latency": summarise_ms(latencies),
        "wall": elapsed,
        "verify": report.ok,
    }


def run_pgbench(url: str, workers: int, seconds: float) -> float | None:
    """pgbench's built-in tpcb-like transaction on a scratch database; returns TPS."""
    if shutil.which("pgbench") is None:
        return None
    scratch = scratch_url(url, PGBENCH_DB)
    recreate_database(scratch)
    m = re.match(r"postgresql\+psycopg://(?P<user>[^@/]+)@(?P<host>[^:/]+):?(?P<port>\d+)?/(?P<db>.+)", scratch)
    if not m:
        return None
    conn = ["-h", m["host"], "-p", m["port"] or "5432", "-U", m["user"]]
    subprocess.run(["pgbench", "-i", "-q", "-s", str(max(workers, 8)), *conn, m["db"]], check=True, capture_output=True)
    out = subprocess.run(
        ["pgbench", "-b", "tpcb-like", "-c", str(workers), "-j", "2", "-T", str(int(seconds)), *conn, m["db"]],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"tps = ([0-9.]+)", out)
    return float(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=HELP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args(argv)
    url = bench_url()
    service = run_service(url, args.workers, args.seconds, args.accounts)
    pg = run_pgbench(url, args.workers, args.seconds)
    print(
        f"posting service: {service['tps']:.0f} transfers/s with {args.workers} workers over {args.seconds:.0f}s "
        f"({service['done']} posted, {service['refused']} refused for funds; {service['latency']}; ledger verify {'OK' if service['verify'] else 'FAILED'})"
    )
    if pg:
        print(f"pgbench tpcb-like: {pg:.0f} tps with {args.workers} clients")
        print(f"ratio posting/pgbench: {service['tps'] / pg:.2f}")
    else:
        print("pgbench not available: ratio not computed")


if __name__ == "__main__":
    main()
