"""Deposit day-end on PostgreSQL: the savings daily product for many accounts.

    python -m bench.deposits_eod [--accounts 100000] [--days 3] [--credit]

Builds a fresh migrated scratch database ``sahakari_bench`` on the server that
BENCH_DATABASE_URL names (default postgresql+psycopg://postgres@127.0.0.1:5432/) with N savings accounts and
their opening balances (bulk SQL), then times ``savings.accumulate_day`` for a few
consecutive days (the first day also starts every rate segment) and, with ``--credit``,
``savings.credit_interest`` at the quarter end. Prints seconds and accounts per second.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

from bench.common import bench_url, migrated_app

START = date(2026, 4, 1)


def _setup(n: int) -> None:
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models.base import utcnow
    from app.models.deposits import DepositAccount, SbDailyProduct
    from app.models.ledger import Account, GLAccount, JournalEntry
    from app.models.members import Member
    from app.services import deposits
    from app.services.common import uow
    from app.services.ledger import calendar, coa, writer

    coa.seed_chart()
    calendar.open_business_day(START)
    deposits.seed_products()
    member = Member(
        member_no="B000001",
        name="Bench Member",
        date_of_birth=date(1980, 1, 1),
        gender="female",
        mobile="9800000000",
        address_line="Bench",
        village_town="Nashik",
        district="Nashik",
        state="Maharashtra",
        pin="422001",
        status="active",
        kyc_status="approved",
    )
    db.session.add(member)
    uow.commit()
    product = deposits.get_product("SB")
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.SB_DEPOSITS))
    cash = db.session.scalar(select(GLAccount.id).where(GLAccount.code == coa.VAULT_CASH))
    now = utcnow()

    def balance(i: int) -> int:
        return (i % 997 + 1) * 100_00 + i

    per_entry = 1000  # opening entries of 1000 lines
    for block in range(0, n, 10_000):
        size = min(10_000, n - block)
        db.session.execute(
            insert(Account.__table__),
            [
                {
                    "account_no": f"SB{block + i:09d}",
                    "kind": "savings",
                    "title": f"Bench {block + i}",
                    "member_id": member.id,
                    "control_gl_id": gl.id,
                    "balance_paise": balance(block + i),
                    "min_balance_paise": 0,
                    "enforce_limit": True,
                    "status": "active",
                    "opened_on": START,
                    "created_at": now,
                }
                for i in range(size)
            ],
        )
        ids = db.session.scalars(
            select(Account.id).where(Account.account_no >= f"SB{block:09d}").order_by(Account.id).limit(size)
        ).all()
        db.session.execute(
            insert(DepositAccount.__table__),
            [
                {
                    "account_id": acc_id,
                    "kind": "savings",
                    "product_id": product.id,
                    "member_id": member.id,
                    "start_date": START,
                    "created_at": now,
                }
                for acc_id in ids
            ],
        )
        db.session.execute(
            insert(SbDailyProduct.__table__),
            [
                {
                    "account_id": acc_id,
                    "product_id": product.id,
                    "rate_bp": 350,
                    "product_paise": 0,
                    "period_start": START,
                    "last_product_date": START - timedelta(days=1),
                }
                for acc_id in ids
            ],
        )
        chunks = [list(enumerate(ids, start=block))[k : k + per_entry] for k in range(0, size, per_entry)]
        entry_ids = db.session.scalars(
            insert(JournalEntry.__table__).returning(JournalEntry.id, sort_by_parameter_order=True),
            [
                {
                    "business_date": START,
                    "value_date": START,
                    "posted_at": now,
                    "kind": "opening",
                    "narration": "Bench opening",
                    "channel": "system",
                    "total_paise": sum(balance(i) for i, _ in chunk),
                }
                for chunk in chunks
            ],
        ).all()
        for entry_id, chunk in zip(entry_ids, chunks, strict=True):  # each entry's lines in one statement
            opening = (cash, None, sum(balance(i) for i, _ in chunk), 0, None)
            writer.insert_lines(
                entry_id, START, [opening] + [(gl.id, acc_id, 0, balance(i), None) for i, acc_id in chunk]
            )
        db.session.commit()
    db.session.execute(__import__("sqlalchemy").text("ANALYZE"))
    db.session.commit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--credit", action="store_true", help="also time crediting interest at the quarter end")
    args = parser.parse_args(argv)

    url = bench_url()
    app = migrated_app(url)
    with app.app_context():
        from app.extensions import db
        from app.services.common import uow
        from app.services.deposits import savings

        started = time.perf_counter()
        _setup(args.accounts)
        print(f"set-up: {args.accounts:,} savings accounts in {time.perf_counter() - started:.1f} s", flush=True)
        for k in range(args.days):
            day = START + timedelta(days=k)
            t0 = time.perf_counter()
            updated = savings.accumulate_day(day)
            uow.commit()
            seconds = time.perf_counter() - t0
            print(
                f"accumulate_day {day}: {updated:,} accounts in {seconds:.2f} s = {updated / seconds:,.0f} accounts/s",
                flush=True,
            )
        t0 = time.perf_counter()
        again = savings.accumulate_day(START)
        uow.commit()
        print(f"re-run of {START} (idempotent): {again} accounts in {time.perf_counter() - t0:.2f} s")
        if args.credit:
            from app.services.ledger import calendar

            quarter_end = date(2026, 6, 30)
            calendar.close_business_day(START)
            calendar.open_business_day(quarter_end)
            uow.commit()
            t0 = time.perf_counter()
            savings.accumulate_until(quarter_end, commit_each_day=True)
            uow.commit()
            seconds = time.perf_counter() - t0
            print(
                f"accumulate_until {quarter_end} (catch-up, {(quarter_end - START).days - args.days + 1} days): {seconds:.1f} s"
            )
            t0 = time.perf_counter()
            result = savings.credit_interest(quarter_end, commit_chunks=True)
            uow.commit()
            seconds = time.perf_counter() - t0
            print(
                f"credit_interest {quarter_end}: {result.accounts:,} accounts, {len(result.entries)} entries in "
                f"{seconds:.1f} s = {result.accounts / seconds:,.0f} accounts/s"
            )
        db.engine.dispose()


if __name__ == "__main__":
    main()
