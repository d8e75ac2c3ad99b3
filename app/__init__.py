"""Sahakari: core banking for co-operative societies. ``create_app`` builds the Flask app."""

from __future__ import annotations

import logging

from flask import Flask

import config as _config  # a module import: config.py itself imports app.settings


def create_app(config: type[_config.Config] | None = None, **overrides) -> Flask:
    """Application factory: config, extensions, blueprints, error handlers and CLI."""
    config = config or _config.config_from_env()
    config.validate()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config)
    app.config.update(overrides)
    logging.basicConfig(level=logging.INFO if not app.config["TESTING"] else logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from app import models  # noqa: F401  (register every table)
    from app.extensions import csrf, db, limiter, login_manager, migrate
    from app.services import counter, deposits, ledger, members  # noqa: F401  (approval kinds and deposit counter rules register at import)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "warning"

    from app.auth_loader import load_user

    login_manager.user_loader(load_user)

    _sqlite_pragmas(app)

    from app.errors import init_errors
    from app.hygiene import init_hygiene
    from app.security import init_security
    from app.templating import init_templating

    init_hygiene(app)  # first before_request: hostile input is refused before any database call
    init_security(app)
    init_errors(app)
    init_templating(app)

    from app.blueprints import register_blueprints

    register_blueprints(app)

    from app.web import install_view_retries

    install_view_retries(app)  # unsafe requests re-run on 40001/40P01 (idempotent API routes retry themselves)

    from app.cli import register_cli

    register_cli(app)
    return app


def _sqlite_pragmas(app: Flask) -> None:
    """Foreign keys on, WAL and a busy timeout for the embedded SQLite database."""
    from sqlalchemy import event

    from app.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            if (
                ":memory:" not in app.config["SQLALCHEMY_DATABASE_URI"]
                and app.config["SQLALCHEMY_DATABASE_URI"] != "sqlite://"
            ):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
