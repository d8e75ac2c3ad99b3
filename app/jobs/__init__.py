"""RQ jobs: thin entry points that call services. ``enqueue`` runs them on RQ or inline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

QUEUES = ("default", "notifications", "eod")


def redis_connection():
    from redis import Redis

    return Redis.from_url(current_app.config["REDIS_URL"])


def enqueue(func: Callable[..., Any], *args: Any, queue: str = "default", **kwargs: Any) -> Any:
    """Queue ``func`` on RQ when REDIS_URL is set; otherwise run it now and return its result.

    Returns the RQ job (queued) or the function's return value (inline).
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if current_app.config.get("REDIS_URL"):
        from rq import Queue

        return Queue(queue, connection=redis_connection()).enqueue(func, *args, **kwargs)
    return func(*args, **kwargs)
