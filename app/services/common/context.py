"""Who is acting, and whether the commit is deferred: set by the web layer or a job, read by
services (no ``request`` or ``flask.g`` in services)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    type: str  # staff, member, system, api
    id: int | None = None
    name: str | None = None
    role: str | None = None
    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor(type="system", name="system")
_current: ContextVar[Actor] = ContextVar("sahakari_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


def set_actor(actor: Actor) -> None:
    _current.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run a block as ``actor`` (jobs, CLI commands, tests)."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


# ---------------------------------------------------------------- deferred commit
# Inside an idempotent API request the stored response must commit with the work, so the
# idempotency layer defers the commit: ``uow.commit()`` then only flushes.
_commit_deferred: ContextVar[bool] = ContextVar("sahakari_commit_deferred", default=False)


def commit_deferred() -> bool:
    """Whether ``uow.commit()`` should only flush (the caller commits once, later)."""
    return _commit_deferred.get()


@contextmanager
def deferring_commit() -> Iterator[None]:
    """Run a block whose ``uow.commit()`` calls only flush; the caller commits afterwards."""
    token = _commit_deferred.set(True)
    try:
        yield
    finally:
        _commit_deferred.reset(token)
