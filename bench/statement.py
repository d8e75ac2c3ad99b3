"""PDF statement speed and memory: a 1,000- and a 10,000-transaction statement.

    python -m bench.statement [--sizes 1000,10000] [--language en] [--hindi-narrations]

Each size is built and measured in two child processes on a scratch SQLite database in a
temporary folder: the first writes one savings account's lines straight into the journal
tables (bench data, balanced pairs against vault cash) and exits; the second, a fresh process
(so its peak memory is the app's and that statement's alone, not the bench data's), has
``deposits.statements.render_pdf`` make the PDF. Prints seconds, pages, PDF size and the
second child's peak resident memory. Targets (DESIGN §13 / issue 11): 1,000 lines < 2 s; peak
memory ≤ ~200 MB for 10,000 lines.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue as queue_module
import resource
import tempfile
import time
from datetime import date, timedelta


def _app(db_path: str):
    from app import create_app
    from config import TestingConfig

    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}")


def _narration(i: int, credit: bool, hindi: bool) -> str:
    """English narrations; with ``--hindi-narrations`` two lines in three are in Hindi."""
    if hindi and i % 3:
        return ("नकद जमा — शाखा काउंटर" if credit else "नकद निकासी स्वयं द्वारा") + f" #{i + 1}"
    return ("Cash deposit" if credit else "Cash withdrawal") + f" #{i + 1}"


def _build(size: int, db_path: str, hindi: bool = False) -> None:
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
    from app.models.members import Member
    from app.models.users import Branch
    from app.services.common import SYSTEM, acting_as, uow
    from app.services.ledger import calendar, coa

    app = _app(db_path)
    with app.app_context(), acting_as(SYSTEM), app.test_request_context("/portal/"):
        db.create_all()
        coa.seed_chart()
        start = date(2025, 4, 1)
        calendar.open_business_day(start)
        branch = Branch(code="B01", name="Nashik Road")
        db.session.add(branch)
        member = Member(
            member_no="M000001",
            name="Sunita Patil",
            date_of_birth=date(1985, 6, 15),
            gender="female",
            mobile="9800000001",
            address_line="12 Station Road",
            village_town="Nashik",
            district="Nashik",
            state="Maharashtra",
            pin="422001",
            status="active",
            kyc_status="approved",
        )
        db.session.add(member)
        db.session.flush()
        sb = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.SB_DEPOSITS))
        vault = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.VAULT_CASH))
        account = Account(
            account_no="SB000000123",
            kind="savings",
            title="Sunita Patil",
            member_id=member.id,
            control_gl_id=sb.id,
            branch_id=branch.id,
            balance_paise=0,
        )
        db.session.add(account)
        db.session.flush()
        entries, lines, balance = [], [], 0
        for i in range(size):
            day = start + timedelta(days=i * 360 // size)
            amount = 10_000 + (i * 7919) % 500_000
            credit = i % 3 != 2 or balance < amount
            balance += amount if credit else -amount
            eid = i + 1
            entries.append(
                {
                    "id": eid,
                    "business_date": day,
                    "value_date": day,
                    "kind": "deposit" if credit else "withdrawal",
                    "narration": _narration(i, credit, hindi),
                    "channel": "branch",
                    "total_paise": amount,
                }
            )
            lines.append(
                {
                    "entry_id": eid,
                    "gl_account_id": sb.id,
                    "account_id": account.id,
                    "business_date": day,
                    "debit_paise": 0 if credit else amount,
                    "credit_paise": amount if credit else 0,
                }
            )
            lines.append(
                {
                    "entry_id": eid,
                    "gl_account_id": vault.id,
                    "account_id": None,
                    "business_date": day,
                    "debit_paise": amount if credit else 0,
                    "credit_paise": 0 if credit else amount,
                }
            )
        db.session.execute(insert(JournalEntry), entries)
        db.session.execute(insert(JournalLine), lines)
        account.balance_paise = balance
        uow.commit()


def _run(size: int, language: str, db_path: str, queue) -> None:
    from sqlalchemy import select

    from app.extensions import db
    from app.models.ledger import Account
    from app.services.common import SYSTEM, acting_as
    from app.services.deposits import statements

    app = _app(db_path)
    with app.app_context(), acting_as(SYSTEM), app.test_request_context("/portal/"):
        account = db.session.scalar(select(Account).where(Account.account_no == "SB000000123"))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = date(2025, 4, 1)
        end = start + timedelta(days=365)
        t0 = time.perf_counter()
        statements.read_lines(account, start, end)
        query_seconds = time.perf_counter() - t0
        runs = []
        for _ in range(3 if size <= 1000 else 1):
            t0 = time.perf_counter()
            rendered = statements.render_pdf(account, start, end, language=language)
            runs.append(time.perf_counter() - t0)
        seconds = min(runs)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        queue.put(
            {
                "size": size,
                "seconds": seconds,
                "runs": runs,
                "query_seconds": query_seconds,
                "pages": rendered.pages,
                "bytes": len(rendered.pdf),
                "peak_mb": peak / 1024,
                "before_mb": before / 1024,
            }
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--language", default="en")
    parser.add_argument("--hindi-narrations", action="store_true", help="two narrations in three in Hindi")
    args = parser.parse_args(argv)
    ctx = mp.get_context("spawn")
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        with tempfile.TemporaryDirectory() as tmp:
            result = _measure(ctx, size, args.language, f"{tmp}/bench.db", args.hindi_narrations)
        print(
            f"statement {result['size']:>6} lines ({args.language}{', Hindi narrations' if args.hindi_narrations else ''}): {result['seconds']:.2f} s best of "
            f"{len(result['runs'])} ({', '.join(f'{r:.2f}' for r in result['runs'])}; reading the lines "
            f"{result['query_seconds']:.2f} s), "
            f"{result['pages']} pages, {result['bytes'] / 1024:.0f} KiB, peak RSS {result['peak_mb']:.0f} MB "
            f"(before render {result['before_mb']:.0f} MB)",
            flush=True,
        )


def _measure(ctx, size: int, language: str, db_path: str, hindi: bool) -> dict:
    """Build the bench data in one child, then render in a fresh one; the second child's figures."""
    builder = ctx.Process(target=_build, args=(size, db_path, hindi))
    builder.start()
    builder.join()
    if builder.exitcode:
        raise SystemExit(f"statement bench data for {size} lines failed (exit code {builder.exitcode})")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(size, language, db_path, queue))
    proc.start()
    result = None
    while result is None and (proc.is_alive() or not queue.empty()):
        try:
            result = queue.get(timeout=1)
        except queue_module.Empty:  # keep waiting while the child runs
            continue
    proc.join()
    if result is None:
        raise SystemExit(f"statement bench for {size} lines failed (exit code {proc.exitcode})")
    return result


if __name__ == "__main__":
    main()
