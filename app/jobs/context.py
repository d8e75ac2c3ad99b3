"""Give a job an application context and the system actor, wherever the worker runs it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import has_app_context

from app.services.common import SYSTEM, acting_as

F = TypeVar("F", bound=Callable[..., Any])
_app = None


def job(func: F) -> F:
    """Decorator for job functions: ensures an app context and runs as the system actor."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            with acting_as(SYSTEM):
                return func(*args, **kwargs)
        global _app
        if _app is None:
            from app import create_app

            _app = create_app()
        with _app.app_context(), acting_as(SYSTEM):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
