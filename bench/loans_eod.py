"""Loan day-end on PostgreSQL: DPD, penal charges, classification, provisions, accrual for many loans.

    python -m bench.loans_eod [--loans 100000]

Builds the scratch database ``sahakari_bench`` (see bench/common.py) with N active personal
loans of ₹1,00,000 for 12 months disbursed on 01-04-2026, each with its stored schedule
(bulk SQL, 12 rows a loan), opens 31-05-2026 (the first instalment a month overdue, a
month end) and times each loan step of the day-end once, then a re-run of the same date.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from bench.common import bench_url, migrated_app

START = date(2026, 4, 1)
ON = date(2026, 5, 31)


def setup(n: int) -> None:
    from sqlalchemy import insert, select, text

    from app.extensions import db
    from app.models.base import utcnow
    from app.models.ledger import Account
    from app.models.loans import Loan, LoanProduct, LoanScheduleRow
    from app.models.members import Member
    from app.services import loans
    from app.services.common import uow
    from app.services.ledger import calendar, coa

    coa.seed_chart()
    calendar.open_business_day(ON)
    loans.seed_products()
    member = Member(member_no="B000001", name="Bench Member", date_of_birth=date(1980, 1, 1), gender="female",
                    mobile="9800000000", address_line="Bench", village_town="Nashik", district="Nashik",
                    state="Maharashtra", pin="422001", status="active", kyc_status="approved")  # fmt: skip
    db.session.add(member)
    uow.commit()
    product = db.session.scalar(select(LoanProduct).where(LoanProduct.code == "PL"))
    sched = loans.schedule.build(1_00_000_00, 1200, 12, START)
    now = utcnow()
    for block in range(0, n, 5_000):
        size = min(5_000, n - block)
        acc_ids = db.session.scalars(
            insert(Account.__table__).returning(Account.id, sort_by_parameter_order=True),
            [{"account_no": f"PL{block + i:09d}", "kind": "loan", "title": "Bench loan", "member_id": member.id,
              "control_gl_id": product.control_gl_id, "balance_paise": 1_00_000_00, "min_balance_paise": 0,
              "enforce_limit": True, "status": "active", "opened_on": START, "created_at": now} for i in range(size)],
        ).all()  # fmt: skip
        loan_ids = db.session.scalars(
            insert(Loan.__table__).returning(Loan.id, sort_by_parameter_order=True),
            [{"loan_no": f"PL{block + i:09d}", "member_id": member.id, "product_id": product.id, "account_id": a,
              "principal_paise": 1_00_000_00, "rate_bp": 1200, "months": 12, "interest_type": "reducing",
              "frequency": "monthly", "status": "active", "secured": False, "emi_paise": sched.emi_paise,
              "processing_fee_paise": 0, "applied_on": START, "disbursed_on": START, "dpd": 0,
              "asset_class": "standard", "loss_marked": False, "provision_paise": 0, "schedule_version": 1,
              "created_at": now} for i, a in enumerate(acc_ids)],
        ).all()  # fmt: skip
        db.session.execute(
            insert(LoanScheduleRow.__table__),
            [{"loan_id": lid, "version": 1, "installment": r.installment, "due_date": r.due_date,
              "opening_principal_paise": r.balance_paise + r.principal_paise, "principal_paise": r.principal_paise,
              "interest_paise": r.interest_paise, "emi_paise": r.emi_paise, "closing_principal_paise": r.balance_paise,
              "principal_paid_paise": 0, "interest_paid_paise": 0, "status": "due"}
             for lid in loan_ids for r in sched.rows],
        )  # fmt: skip
        db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def run_steps() -> list[tuple[str, int, float]]:
    from app.services import loans
    from app.services.common import uow

    out = []
    for name in ("update_dpd", "charge_penal", "accrue_interest", "classify_assets", "post_provisions"):
        t0 = time.perf_counter()
        n = getattr(loans, name)(ON)
        uow.commit()
        out.append((name, n, time.perf_counter() - t0))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    args = parser.parse_args(argv)
    app = migrated_app(bench_url())
    with app.app_context():
        t0 = time.perf_counter()
        setup(args.loans)
        print(f"set-up: {args.loans:,} loans with 12-row schedules in {time.perf_counter() - t0:.1f} s", flush=True)
        for label in ("first run", "re-run (idempotent)"):
            for name, n, seconds in run_steps():
                print(f"{label:<20} {name:<16} {n:>8,} rows in {seconds:6.2f} s", flush=True)


if __name__ == "__main__":
    main()
