import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import enqueue
from app.jobs.maintenance import seal_audit
from app.models.audit import AuditLog
from app.services.common import audit


def _unsealed_row():
    audit.record("job.test", "thing", 1)
    db.session.commit()


def test_enqueue_runs_inline_without_redis(app):
    _unsealed_row()
    assert enqueue(seal_audit) == 1
    assert db.session.scalar(select(AuditLog)).hash is not None


def test_enqueue_refuses_unknown_queue(app):
    with pytest.raises(ValueError, match="unknown queue"):
        enqueue(seal_audit, queue="nope")


@pytest.mark.redis
def test_job_runs_on_real_redis_with_a_burst_worker(app, redis_url):
    from rq import Queue, SimpleWorker

    from app.jobs import redis_connection

    app.config["REDIS_URL"] = redis_url
    _unsealed_row()
    job = enqueue(seal_audit)
    assert job.get_status() == "queued"
    assert db.session.scalar(select(AuditLog)).hash is None  # not run yet
    connection = redis_connection()
    SimpleWorker([Queue("default", connection=connection)], connection=connection).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished", job.latest_result()
    assert job.return_value() == 1
    db.session.expire_all()
    assert db.session.scalar(select(AuditLog)).hash is not None
    assert audit.verify().ok
