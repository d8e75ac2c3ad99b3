"""RQ worker for Sahakari's queues, inside an application context.

REDIS_URL=redis://127.0.0.1:6379/0 python worker.py [queue ...]
"""

from __future__ import annotations

import sys

from rq import Queue, Worker

from app import create_app
from app.jobs import QUEUES, redis_connection


def main(argv: list[str]) -> None:
    app = create_app()
    if not app.config.get("REDIS_URL"):
        raise SystemExit("REDIS_URL is not set: jobs run inline, no worker is needed.")
    with app.app_context():
        connection = redis_connection()
        names = argv or list(QUEUES)
        queues = [Queue(name, connection=connection) for name in names]
        Worker(queues, connection=connection).work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
