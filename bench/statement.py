"""PDF statement speed and memory: a 1,000- and a 10,000-transaction statement.

    python -m bench.statement [--sizes 1000,10000] [--language en]

Each size runs in its own child process (so peak memory is that statement's alone) on a
scratch SQLite database in a temporary folder: one savings account whose lines are written
straight into the journal tables (bench data, balanced pairs against vault cash), then
``deposits.statements.render_pdf`` makes the PDF. Prints seconds, pages, PDF size and the
child's peak resident memory. Targets (DESIGN §13 / issue 11): 1,000 lines < 2 s; peak
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


def _run(size: int, language: str, queue) -> None:
    from sqlalchemy import insert, select

    from app import create_app
    from app.extensions import db
    from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
    from app.models.members import Member
    from app.models.users import Branch
    from app.services.common import SYSTEM, acting_as, uow
    from app.services.deposits import statements
    from app.services.ledger import calendar, coa
    from config import TestingConfig

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.db")
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
                        "narration": ("Cash deposit" if credit else "Cash withdrawal") + f" #{i + 1}",
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
            db.session.expunge_all()
            account = db.session.scalar(select(Account).where(Account.account_no == "SB000000123"))
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
    args = parser.parse_args(argv)
    ctx = mp.get_context("spawn")
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(size, args.language, queue))
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
        print(
            f"statement {result['size']:>6} lines ({args.language}): {result['seconds']:.2f} s best of "
            f"{len(result['runs'])} ({', '.join(f'{r:.2f}' for r in result['runs'])}; reading the lines "
            f"{result['query_seconds']:.2f} s), "
            f"{result['pages']} pages, {result['bytes'] / 1024:.0f} KiB, peak RSS {result['peak_mb']:.0f} MB "
            f"(before render {result['before_mb']:.0f} MB)",
            flush=True,
        )


if __name__ == "__main__":
    main()
