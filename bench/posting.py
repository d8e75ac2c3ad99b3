"""Posting throughput on PostgreSQL: pgbench's TPC-B, the posting service and the HTTP API, in one run.

    python -m bench.posting [--workers 8] [--seconds 15] [--accounts 1000] [--no-http] [--profile]

Prints, for the same client count: pgbench tpcb-like (three updated rows and a history
insert per transaction), the service-layer posting rate (separate processes doing random
transfers through ``ledger.post`` in ``uow.run``: two locked accounts, one entry, two lines,
an audit row, sealing off the request path), and the HTTP rate (gunicorn with one worker per
core, N client threads, ``POST /api/v1/transfers`` with a real JWT and an Idempotency-Key),
each with p50/p99 latency; then the round trips of one service posting (counted with
SQLAlchemy event listeners: statements, BEGIN, COMMIT, ROLLBACK), its Python CPU time, and
the ratios. ``--profile`` adds the top functions of a cProfile of 300 postings.

BENCH_DATABASE_URL names the server only: the run drops and recreates the scratch
databases ``sahakari_bench_posting`` and ``sahakari_pgbench`` there, never the database in the URL.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import multiprocessing as mp
import os
import pstats
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.common import (
    HELP_EPILOG,
    PGBENCH_DB,
    POSTING_DB,
    bench_url,
    make_bench_app,
    migrated_app,
    recreate_database,
    scratch_url,
    summarise_ms,
)

BENCH_PASSWORD = "Bench-Password-42"
STORAGE = Path(tempfile.gettempdir()) / "sahakari-bench-storage"


def _app(url: str):
    return make_bench_app(url, DOCUMENT_STORAGE_DIR=str(STORAGE), AUDIT_SEAL_INTERVAL_SECONDS=2.0)


def _setup(url: str, n_accounts: int) -> list[str]:
    """A fresh database: the chart, an open day, ``n_accounts`` current accounts funded in one entry."""
    from datetime import date

    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models.ledger import Account, GLAccount
    from app.services import ledger
    from app.services.access import staff_auth
    from app.services.common import uow
    from app.services.ledger import calendar, coa

    shutil.rmtree(STORAGE, ignore_errors=True)
    migrated_app(url)
    app = _app(url)
    with app.app_context():
        coa.seed_chart()
        calendar.open_business_day(date.today())
        staff_auth.create_user(username="bench", password=BENCH_PASSWORD, role="manager")
        uow.commit()
        gl = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.CURRENT_DEPOSITS))
        numbers = [f"B{i:08d}" for i in range(n_accounts)]
        db.session.execute(
            insert(Account),
            [
                {"account_no": n, "kind": "current", "title": f"Bench {n}", "control_gl_id": gl.id, "status": "active"}
                for n in numbers
            ],
        )
        refs = [
            ledger.AccountRef(r.id, r.account_no, r.control_gl_id)
            for r in db.session.execute(select(Account.id, Account.account_no, Account.control_gl_id))
        ]
        each = 10_00_000_00
        ledger.post(
            [ledger.Line.dr(coa.VAULT_CASH, each * len(refs)), *[ledger.Line.cr(r, each) for r in refs]],
            kind="opening",
            narration="Bench opening",
        )
        uow.commit()
        db.engine.dispose()
    return numbers


# ---------------------------------------------------------------- service layer


def _transfer(numbers: list[str], rng: random.Random):
    """One random transfer: lock both accounts by number (one statement), post Dr/Cr."""
    from app.services import ledger

    src, dst = rng.sample(numbers, 2)
    amount = rng.randint(1, 5_000_00)

    def work():
        found = ledger.lock_accounts([src, dst])
        a, b = found[src], found[dst]
        return ledger.post(
            [ledger.Line.dr(a, amount), ledger.Line.cr(b, amount)],
            kind="transfer",
            narration="bench transfer",
            idempotency_key=uuid.uuid4().hex,
        )

    return work


def _worker(args: tuple[str, list[str], float, int]) -> tuple[int, int, list[float]]:
    url, numbers, seconds, seed = args
    from app.extensions import db
    from app.services.common import DomainError, audit, uow

    app = _app(url)
    rng = random.Random(seed)
    done = refused = 0
    latencies: list[float] = []
    with app.app_context():
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            work = _transfer(numbers, rng)
            start = time.perf_counter()
            try:
                uow.run(work)
                done += 1
            except DomainError:
                refused += 1
            latencies.append(time.perf_counter() - start)
            db.session.expunge_all()
        audit.wait_for_sealer()
    return done, refused, latencies


def run_service(url: str, numbers: list[str], workers: int, seconds: float) -> dict:
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        results = pool.map(_worker, [(url, numbers, seconds, i) for i in range(workers)])
    done = sum(r[0] for r in results)
    return {
        "tps": done / seconds,
        "done": done,
        "refused": sum(r[1] for r in results),
        "latency": summarise_ms([x for r in results for x in r[2]]),
    }


def count_round_trips(url: str, numbers: list[str], n: int = 200, profile: bool = False) -> dict:
    """Round trips and Python CPU of ``n`` sequential service postings (one process)."""
    from sqlalchemy import event

    from app.extensions import db
    from app.services.common import uow

    app = _app(url)
    counts: Counter[str] = Counter()
    statements: Counter[str] = Counter()
    rng = random.Random(7)
    with app.app_context():
        engine = db.engine
        for _ in range(20):  # warm up: prepared statements, caches
            uow.run(_transfer(numbers, rng))

        def on_execute(conn, cursor, statement, parameters, context, executemany):
            counts["statements"] += 1
            statements[" ".join(statement.split())[:70]] += 1

        listeners = [
            ("before_cursor_execute", on_execute),
            ("begin", lambda conn: counts.update(["BEGIN"])),
            ("commit", lambda conn: counts.update(["COMMIT"])),
            ("rollback", lambda conn: counts.update(["ROLLBACK"])),
        ]
        for name, fn in listeners:
            event.listen(engine, name, fn)
        prof = cProfile.Profile() if profile else None
        cpu = time.process_time()
        if prof:
            prof.enable()
        for _ in range(n):
            uow.run(_transfer(numbers, rng))
            db.session.expunge_all()
        if prof:
            prof.disable()
        cpu = time.process_time() - cpu
        for name, fn in listeners:
            event.remove(engine, name, fn)
    total = sum(counts.values())
    out = {"per_posting": total / n, "breakdown": {k: v / n for k, v in counts.items()}, "cpu_ms": cpu * 1000 / n}
    out["statements"] = {k: v / n for k, v in statements.most_common()}
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
        out["profile"] = buf.getvalue()
    return out


# ---------------------------------------------------------------- HTTP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None, headers: dict) -> tuple:
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def run_http(url: str, numbers: list[str], clients: int, seconds: float) -> dict | None:
    """gunicorn (one worker per core) serving the app; ``clients`` threads POST /api/v1/transfers."""
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None and shutil.which("gunicorn") is None:
        return None
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    port = _free_port()
    workers = os.cpu_count() or 2
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SAHAKARI_ENV": "development",
        "RATELIMIT_ENABLED": "0",
        "DOCUMENT_STORAGE_DIR": str(STORAGE),
        "AUDIT_SEAL_INTERVAL_SECONDS": "2",
    }
    server = subprocess.Popen(
        [gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        env=env,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    try:
        conn = None
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, body = _request(
                    conn,
                    "POST",
                    "/api/v1/auth/login",
                    {"username": "bench", "password": BENCH_PASSWORD},
                    {"Content-Type": "application/json"},
                )
                break
            except OSError:
                time.sleep(0.2)
        else:
            return None
        if status != 200:
            raise RuntimeError(f"bench sign-in failed: {status} {body[:200]!r}")
        token = json.loads(body)["access_token"]
        results: list[tuple[int, int, list[float]]] = []
        deadline = time.perf_counter() + seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = other = 0
            lat: list[float] = []
            while time.perf_counter() < deadline:
                src, dst = rng.sample(numbers, 2)
                headers = {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": uuid.uuid4().hex,
                }
                body = {"from_account": src, "to_account": dst, "amount": f"{rng.randint(1, 5000)}.00"}
                start = time.perf_counter()
                status, _ = _request(c, "POST", "/api/v1/transfers", body, headers)
                lat.append(time.perf_counter() - start)
                if status == 201:
                    ok += 1
                else:
                    other += 1
            results.append((ok, other, lat))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done = sum(r[0] for r in results)
        return {
            "tps": done / seconds,
            "done": done,
            "failed": sum(r[1] for r in results),
            "latency": summarise_ms([x for r in results for x in r[2]]),
            "workers": workers,
        }
    finally:
        server.terminate()
        server.wait(timeout=20)


# ---------------------------------------------------------------- pgbench and the report


def run_pgbench(url: str, clients: int, seconds: float) -> dict | None:
    """pgbench's built-in tpcb-like transaction on a scratch database; TPS and latency."""
    if shutil.which("pgbench") is None:
        return None
    scratch = scratch_url(url, PGBENCH_DB)
    recreate_database(scratch)
    m = re.match(r"postgresql\+psycopg://(?P<user>[^@/]+)@(?P<host>[^:/]+):?(?P<port>\d+)?/(?P<db>.+)", scratch)
    if not m:
        return None
    conn = ["-h", m["host"], "-p", m["port"] or "5432", "-U", m["user"]]
    subprocess.run(["pgbench", "-i", "-q", "-s", str(max(clients, 8)), *conn, m["db"]], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [
                "pgbench",
                "-b",
                "tpcb-like",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(int(seconds)),
                "-l",
                *conn,
                m["db"],
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp,
        ).stdout
        lat = []
        for log in Path(tmp).glob("pgbench_log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) > 2:
                    lat.append(int(parts[2]) / 1e6)
    found = re.search(r"tps = ([0-9.]+)", out)
    if not found:
        return None
    return {"tps": float(found.group(1)), "latency": summarise_ms(lat) if lat else "latency n/a"}


def verify_all(url: str) -> tuple[bool, str]:
    from app.services import ledger
    from app.services.common import audit

    app = _app(url)
    with app.app_context():
        while audit.seal_pending(wait=True) > 0:
            pass
        rep = ledger.verify()
        chain = audit.verify()
    return rep.ok and chain.ok, f"ledger verify {'OK' if rep.ok else rep.problems[:3]}; audit verify: {chain.message}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=HELP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    url = bench_url(POSTING_DB)
    pg = run_pgbench(url, args.workers, args.seconds)
    numbers = _setup(url, args.accounts)
    trips = count_round_trips(url, numbers, profile=args.profile)
    service = run_service(url, numbers, args.workers, args.seconds)
    web = None if args.no_http else run_http(url, numbers, args.workers, args.seconds)
    ok, verified = verify_all(url)
    n = args.workers
    if pg:
        print(f"pgbench tpcb-like:  {pg['tps']:8.0f} tps with {n} clients ({pg['latency']})")
    else:
        print("pgbench not available: ratios not computed")
    print(
        f"posting service:    {service['tps']:8.0f} transfers/s with {n} processes "
        f"({service['done']} posted, {service['refused']} refused; {service['latency']})"
    )
    if web:
        print(
            f"HTTP transfers:     {web['tps']:8.0f} transfers/s, gunicorn {web['workers']} workers, {n} clients "
            f"({web['done']} posted, {web['failed']} not 201; {web['latency']})"
        )
    elif not args.no_http:
        print("HTTP: gunicorn not available")
    b = trips["breakdown"]
    print(
        f"round trips per service posting: {trips['per_posting']:.2f} "
        f"({', '.join(f'{k} {v:.2f}' for k, v in sorted(b.items()))}); Python CPU {trips['cpu_ms']:.2f} ms/posting"
    )
    for stmt, per in trips["statements"].items():
        print(f"    {per:4.2f} × {stmt}")
    if pg:
        print(f"ratio service/pgbench: {service['tps'] / pg['tps']:.3f} (target ≥ 0.25)")
        if web:
            print(f"ratio HTTP/pgbench:    {web['tps'] / pg['tps']:.3f} (target ≥ 0.10)")
    print(verified)
    if trips.get("profile"):
        print(trips["profile"])
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
