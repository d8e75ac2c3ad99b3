"""Shared fixtures: an app on SQLite per test, PostgreSQL and Redis when configured.

PostgreSQL tests use TEST_DATABASE_URL (a server URL; each xdist worker gets its own
database, built by the migrations). Redis tests use TEST_REDIS_URL. When either is not set
at all, the suite looks for PostgreSQL (user postgres) at 127.0.0.1:5432 and Redis at
127.0.0.1:6379 (database 15) with a short timeout, uses what answers and says so in one
line; set the variable to an empty value to opt out. With REQUIRE_SERVICES=1 (CI) a
missing service fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app import create_app
from app.extensions import db
from app.services.common import SYSTEM, acting_as
from config import TestingConfig
from tests.helpers.deposits import deposit_products  # noqa: F401  (the one deposit-products fixture)

PASSWORD = "Correct-Horse-9"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


# ---------------------------------------------------------------- local services, found by themselves

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/15"
_DETECTED: list[str] = []


def _port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _postgres_answers(url: str) -> bool:
    if not _port_open("127.0.0.1", 5432):
        return False
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2}, poolclass=NullPool)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001  (any failure means: not usable, fall back to skipping)
        return False


def _redis_answers(url: str) -> bool:
    if not _port_open("127.0.0.1", 6379):
        return False
    try:
        from redis import Redis

        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def detect_local_services(environ: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """Point TEST_DATABASE_URL / TEST_REDIS_URL at local servers that answer (only when unset)."""
    found = []
    if "TEST_DATABASE_URL" not in environ and _postgres_answers(LOCAL_POSTGRES):
        environ["TEST_DATABASE_URL"] = LOCAL_POSTGRES
        found.append("PostgreSQL at 127.0.0.1:5432")
    if "TEST_REDIS_URL" not in environ and _redis_answers(LOCAL_REDIS):
        environ["TEST_REDIS_URL"] = LOCAL_REDIS
        found.append("Redis at 127.0.0.1:6379/15")
    return found


def pytest_configure(config: pytest.Config) -> None:
    # On the controller only: xdist workers inherit the environment it sets.
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        _DETECTED[:] = detect_local_services()


def pytest_sessionstart(session: pytest.Session) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if _DETECTED and reporter is not None:
        reporter.write_line(
            f"services: using local {' and '.join(_DETECTED)} (set TEST_DATABASE_URL / TEST_REDIS_URL to override)"
        )


def _service_missing(name: str) -> None:
    message = f"{name} is not configured"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, and REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(message)


def make_app(uri: str = "sqlite://", **overrides) -> Flask:
    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=uri, **overrides)


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    """A fresh app on a new SQLite database (schema from the models)."""
    application = make_app(f"sqlite:///{tmp_path / 'test.db'}", DOCUMENT_STORAGE_DIR=str(tmp_path / "docs"))
    with application.app_context():
        db.create_all()
        with acting_as(SYSTEM):
            yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner of the test app: ``runner.invoke(args=["ledger", "verify"])``."""
    return app.test_cli_runner()


@pytest.fixture
def otp_limited_client(tmp_path) -> Iterator[FlaskClient]:
    """A client of an app with rate limits on (OTP: 2 a minute) and a TOTP-enrolled manager "mohan"."""
    import pyotp

    from app.services.access import staff_auth
    from app.services.common import uow

    application = make_app(
        f"sqlite:///{tmp_path / 'rl.db'}",
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="50 per minute",
        RATELIMIT_OTP="2 per minute",
    )
    with application.app_context():
        db.create_all()
        staff_auth.create_user(username="mohan", password=PASSWORD, role="manager", totp_secret=pyotp.random_base32())
        uow.commit()
        yield application.test_client()
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- PostgreSQL


def _worker_db_url(base: str, name: str) -> str:
    return re.sub(r"/[^/]*$", f"/{name}", base)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        _service_missing("PostgreSQL (TEST_DATABASE_URL)")
    # One database per test process (pid), so parallel workers and concurrent runs never collide.
    name = f"sahakari_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    url = _worker_db_url(base, name)
    admin = create_engine(_worker_db_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    application = make_app(url)
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_all() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    keep = set(PRESERVED_TABLES)
    victims = ", ".join(f'"{t}"' for t in tables if t not in keep)
    # The ledger and audit tables refuse TRUNCATE (migration 0007): replica mode skips
    # ordinary triggers for this transaction only (the test role is a superuser).
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(f"TRUNCATE {victims} RESTART IDENTITY CASCADE"))
    db.session.commit()


PRESERVED_TABLES: list[str] = []  # reference data seeded by migrations (e.g. chart of accounts)


@pytest.fixture
def pg_app(pg_url: str, tmp_path) -> Iterator[Flask]:
    """An app on the migrated PostgreSQL test database, emptied before each test."""
    application = make_app(pg_url, DOCUMENT_STORAGE_DIR=str(tmp_path / "docs"))
    with application.app_context():
        truncate_all()
        with acting_as(SYSTEM):
            yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        _service_missing("Redis (TEST_REDIS_URL)")
    from redis import Redis

    conn = Redis.from_url(url)
    conn.ping()
    conn.flushdb()
    yield url
    conn.flushdb()


# ---------------------------------------------------------------- users


@pytest.fixture
def make_user(app: Flask):
    """Create a staff user: make_user("clerk") or make_user("admin", username="boss")."""
    from app.services.access import staff_auth
    from app.services.common import uow

    def _make(role: str, username: str | None = None, password: str = PASSWORD, **kw):
        user = staff_auth.create_user(username=username or f"{role}_user", password=password, role=role, **kw)
        uow.commit()
        return user

    return _make


def login_as(client: FlaskClient, username: str, password: str = PASSWORD):
    return client.post("/auth/login", data={"username": username, "password": password})


@pytest.fixture
def login(client: FlaskClient, make_user):
    """Sign a staff user of ``role`` in on the test client and return the user."""

    def _login(role: str, username: str | None = None):
        user = make_user(role, username=username)
        response = login_as(client, user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return _login


# ---------------------------------------------------------------- ledger

BUSINESS_DATE = __import__("datetime").date(2026, 4, 1)


def open_books(on=BUSINESS_DATE):
    """Seed the chart of accounts and open a business day (works on SQLite and PostgreSQL)."""
    from app.services.common import uow
    from app.services.ledger import calendar, coa

    coa.seed_chart()
    if calendar.open_day() is None:
        calendar.open_business_day(on)
    uow.commit()
    return on


@pytest.fixture
def books(app):
    """The chart of accounts seeded and business day 01-04-2026 open."""
    return open_books()


@pytest.fixture
def pg_books(pg_app):
    return open_books()


_account_seq = iter(range(1, 10**9))


def new_account(
    kind: str = "savings",
    control: str | None = None,
    *,
    opening_paise: int = 0,
    min_balance_paise: int = 0,
    status: str = "active",
):
    """A member sub-ledger account, optionally funded from vault cash through the ledger."""
    from sqlalchemy import select

    from app.models.ledger import Account, GLAccount
    from app.services import ledger
    from app.services.common import uow
    from app.services.ledger import coa

    control = (
        control
        or {
            "savings": coa.SB_DEPOSITS,
            "fd": coa.FD_DEPOSITS,
            "rd": coa.RD_DEPOSITS,
            "share": coa.SHARE_CAPITAL,
            "loan": coa.LOANS_PERSONAL,
        }[kind]
    )
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == control))
    n = next(_account_seq)
    acc = Account(
        account_no=f"T{n:07d}",
        kind=kind,
        title=f"Test {kind} {n}",
        control_gl=gl,
        balance_paise=0,
        min_balance_paise=min_balance_paise,
        status="active",
        enforce_limit=True,
    )
    db.session.add(acc)
    db.session.flush()
    if opening_paise:
        if gl.normal_side == "credit":
            lines = [ledger.Line.dr(coa.VAULT_CASH, opening_paise), ledger.Line.cr(acc, opening_paise)]
        else:
            lines = [ledger.Line.dr(acc, opening_paise), ledger.Line.cr(coa.VAULT_CASH, opening_paise)]
        ledger.post(lines, kind="opening", narration=f"Opening balance {acc.account_no}")
    acc.status = status
    uow.commit()
    return acc
