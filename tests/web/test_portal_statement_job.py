"""A long statement made by a real RQ worker on the real Redis, then downloaded from the portal."""

from __future__ import annotations

import io
import signal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models.portal import StatementFile
from app.services import ledger
from app.services.common import uow
from app.services.ledger import coa
from tests.conftest import BUSINESS_DATE
from tests.integration.portal.helpers import (
    account_of,
    member_with_login,
    sign_in,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)


@pytest.mark.redis
def test_long_statement_runs_on_a_real_worker_and_downloads(books, client, sms, app, redis_url):
    from rq import Queue, SimpleWorker

    from app.jobs import redis_connection

    member, _login = member_with_login(mobile="9812345670")
    sb = account_of(member, opening_paise=1_25_000_00)
    for paise in (2_500_50, 99_99):
        ledger.post(
            [ledger.Line.dr(coa.VAULT_CASH, paise), ledger.Line.cr(sb, paise)], kind="deposit", narration="Cash deposit"
        )
    uow.commit()
    sign_in(client, "9812345670")
    app.config["STATEMENT_INLINE_MAX_LINES"] = 1
    app.config["REDIS_URL"] = redis_url
    try:
        day = BUSINESS_DATE.isoformat()
        response = client.post("/portal/statements", data={"account": sb.account_no, "start": day, "end": day})
        assert response.status_code == 302 and "/portal/statements/" in response.headers["Location"]
        row = db.session.scalar(select(StatementFile))
        assert row.status == "queued" and row.pdf is None  # on the queue, not made inline
        token = row.token
        polling = client.get(response.headers["Location"], headers={"HX-Request": "true"}).get_data(as_text=True)
        assert 'hx-trigger="load delay:1s"' in polling
        early = client.get(f"/portal/statements/{token}/download")
        assert early.status_code == 302  # not ready yet: back to the polling page

        connection = redis_connection()
        queue = Queue("default", connection=connection)
        assert queue.count == 1
        saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            SimpleWorker([queue], connection=connection).work(burst=True)
        finally:  # the worker installs its own signal handlers; give the test runner its own back
            for sig, handler in saved.items():
                signal.signal(sig, handler)
        assert queue.count == 0
        finished = queue.finished_job_registry.get_job_ids()
        assert len(finished) == 1 and queue.fetch_job(finished[0]).return_value() == "ready"

        db.session.expire_all()
        row = db.session.scalar(select(StatementFile).where(StatementFile.token == token))
        assert row.status == "ready" and row.lines == 3 and row.pages == 1
        ready = client.get(f"/portal/statements/{token}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "Download PDF" in ready and "hx-trigger" not in ready
        pdf = client.get(f"/portal/statements/{token}/download")
        assert pdf.status_code == 200
        assert pdf.headers["Content-Type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        assert "Closing balance" in text and "₹1,27,600.49" in text  # ₹1,25,000 + 2,500.50 + 99.99
    finally:
        app.config["REDIS_URL"] = None
