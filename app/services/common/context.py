"""Who is acting: set by the web layer or a job, read by services (no ``request`` in services)."""

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
