"""RQ worker for Sahakari's queues, inside an application context; or the periodic scheduler.

REDIS_URL=redis://127.0.0.1:6379/0 python worker.py [queue ...]   # a worker (default: every queue)
REDIS_URL=redis://127.0.0.1:6379/0 python worker.py cron          # the schedule: day-end at EOD_TIME ...

Run as many workers as you like, on as many machines: the day-end's chunks go on the
``eod`` queue and any worker takes them. Run one ``cron`` process (RQ's CronScheduler).
"""

from __future__ import annotations

import sys

from rq import Queue, Worker

from app import create_app
from app.extensions import db
from app.jobs import QUEUES, redis_connection


def main(argv: list[str]) -> None:
    app = create_app()
    if not app.config.get("REDIS_URL"):
        raise SystemExit("REDIS_URL is not set: jobs run inline, no worker is needed.")
    with app.app_context():
        connection = redis_connection()
        if argv[:1] == ["cron"]:
            from rq.cron import CronScheduler

            from app.jobs import eod as eod_jobs

            scheduler = CronScheduler(connection=connection, name=f"sahakari-{app.config.get('EOD_TIME', '20:30')}")
            eod_jobs.schedule(scheduler)
            scheduler.start()
            return
        names = argv or list(QUEUES)
        unknown = sorted(set(names) - set(QUEUES))
        if unknown:
            raise SystemExit(f"unknown queue(s) {', '.join(unknown)}; the queues are {', '.join(QUEUES)}")
        queues = [Queue(name, connection=connection) for name in names]
        db.engine.dispose()  # each job runs in a forked work horse: no pooled connection is shared with it
        Worker(queues, connection=connection).work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
