"""On PostgreSQL: a worker killed mid-step and the run resumed; two real RQ workers sharing a step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.eod import EodChunk, EodRun, EodStepRun
from app.models.ledger import Account, JournalEntry, JournalLine
from app.services import eod, ledger
from app.services.common import uow
from app.services.deposits import savings
from app.services.ledger import calendar
from tests.conftest import open_books
from tests.deposit_helpers import _close_test_drawer, member, open_sb, product

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[3]
QUARTER_END = date(2026, 6, 30)


def _sb_accounts(n: int, paise: int = 1_00_000_00) -> list[Account]:
    from app.services import deposits

    deposits.seed_products()
    uow.commit()
    product("SBQ", "savings", [{"rate": "4.00"}], min_opening_paise=100_00)
    accounts = [open_sb(member(name=f"Member {i}"), paise, code="SBQ") for i in range(n)]
    _close_test_drawer()
    return accounts


KILLED_RUN = textwrap.dedent(
    """
    import sys, time, pathlib
    from app import create_app
    from config import TestingConfig

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1], EOD_CHUNK_SIZE=int(sys.argv[3]))
    marker = pathlib.Path(sys.argv[2])
    from app.extensions import db
    from app.services.deposits import savings

    real, calls = savings.credit_interest, []

    def credit_then_hang(period_end, **kw):
        result = real(period_end, **kw)
        calls.append(kw.get("lo"))
        if len(calls) == 3:  # the third chunk has posted its interest but not committed
            db.session.flush()
            marker.write_text(str(result.accounts))
            time.sleep(300)
        return result

    savings.credit_interest = credit_then_hang
    with app.app_context():
        from app.services import eod
        from app.services.common import SYSTEM, acting_as

        with acting_as(SYSTEM):
            eod.run_day()
    """
)


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_mid_step_resumes_at_the_first_unfinished_chunk_and_posts_once(pg_url, pg_app, tmp_path):
    open_books(QUARTER_END)
    accounts = _sb_accounts(12)  # ₹1,00,000 each on 30-06: one day's product, ₹1,00,000 × 4 % / 365 = 10.96 → ₹11
    ids = sorted(a.id for a in accounts)
    chunk = max(1, (ids[-1] - ids[0] + 1) // 6)  # about six chunks
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN)
    marker = tmp_path / "third-chunk"
    proc = subprocess.Popen(
        [sys.executable, str(script), pg_url, str(marker), str(chunk)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_for(lambda: marker.exists() or proc.poll() is not None, 120, "the third chunk")
        assert proc.poll() is None, "the day-end process ended before it was killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()

    db.session.expire_all()
    sr = db.session.scalar(
        select(EodStepRun).where(EodStepRun.business_date == QUARTER_END, EodStepRun.step == "sb_interest")
    )
    assert sr.status == "running"
    done = db.session.scalars(select(EodChunk).where(EodChunk.step_run_id == sr.id, EodChunk.status == "done")).all()
    assert len(done) == 2 and sr.chunks_total > 3  # the third chunk died with its transaction
    interest_lines = (
        select(func.count()).select_from(JournalLine).join(JournalEntry).where(JournalEntry.kind == "interest")
    )
    credited_before = db.session.scalar(interest_lines.where(JournalLine.account_id.is_not(None)))
    assert 0 < credited_before < len(accounts)
    assert eod.day_state() == (QUARTER_END, "day-end interrupted")

    run = eod.run_day()  # the resume, in this process
    assert run.status == "done"
    db.session.expire_all()
    assert calendar.current_business_date() == date(2026, 7, 1)
    per_account = dict(
        db.session.execute(
            select(JournalLine.account_id, func.count())
            .join(JournalEntry)
            .where(JournalEntry.kind == "interest", JournalLine.account_id.is_not(None))
            .group_by(JournalLine.account_id)
        ).all()
    )
    assert per_account == dict.fromkeys(ids, 1)  # every account credited exactly once
    assert {db.session.get(Account, i).balance_paise for i in ids} == {1_00_011_00}
    assert (
        db.session.scalar(select(func.count()).select_from(EodChunk).where(EodChunk.step_run_id == sr.id))
        == sr.chunks_total
    )
    runs = db.session.scalars(select(EodRun).order_by(EodRun.id)).all()
    assert [r.status for r in runs] == ["failed", "done"] and "Interrupted" in runs[0].error
    assert savings.daily_product(accounts[0]).product_paise == 0
    report = ledger.verify()
    assert report.ok, report.problems


@pytest.mark.redis
def test_two_rq_workers_share_a_step_on_real_redis(pg_url, pg_app, redis_url):
    open_books()
    accounts = _sb_accounts(16, paise=5_000_00)
    pg_app.config["REDIS_URL"] = redis_url
    pg_app.config["EOD_CHUNK_SIZE"] = 1  # one account a chunk: many chunks to share
    env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": redis_url, "PYTHONPATH": str(ROOT)}
    env.pop("FLASK_APP", None)
    workers = [
        subprocess.Popen(
            [sys.executable, "worker.py", "eod"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        from rq import Worker

        from app.jobs import redis_connection
        from app.jobs.eod import dispatcher

        _wait_for(lambda: len(Worker.all(connection=redis_connection())) == 2, 60, "two workers")
        run = eod.run_day(dispatch=dispatcher())  # this process coordinates; the workers take the chunks
        assert run.status == "done"
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
        pg_app.config["REDIS_URL"] = None
    db.session.expire_all()
    sr = db.session.scalar(
        select(EodStepRun).where(EodStepRun.business_date == date(2026, 4, 1), EodStepRun.step == "sb_daily_product")
    )
    chunks = db.session.scalars(select(EodChunk).where(EodChunk.step_run_id == sr.id)).all()
    assert sr.status == "done" and len(chunks) == sr.chunks_total >= 16
    assert {c.status for c in chunks} == {"done"}
    me = f":{os.getpid()}"
    by_worker = {c.worker for c in chunks if not c.worker.endswith(me)}
    assert len(by_worker) >= 2, [c.worker for c in chunks]  # both RQ workers did some of the step
    assert sr.rows == len(accounts)
    assert {savings.daily_product(a).product_paise for a in accounts} == {5_000_00}
    assert calendar.current_business_date() == date(2026, 4, 2)
    assert ledger.verify().ok
