import pytest

from app import create_app
from config import DEV_FIELD_KEY, DEV_HASH_KEY, DEV_SECRET, DevelopmentConfig, ProductionConfig

GOOD = {
    "SECRET_KEY": "x" * 40,
    "DATABASE_URL": "postgresql+psycopg://bank@db/bank",
    "REDIS_URL": "redis://cache:6379/0",
    "FIELD_ENCRYPTION_KEY": "cHJvZC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZ3h4eHg=",
    "LOOKUP_HASH_KEY": "prod-lookup-key-0123456789",
}


@pytest.fixture
def prod_env(monkeypatch):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize("missing", sorted(GOOD))
def test_production_refuses_to_start_without_each_required_setting(prod_env, missing):
    prod_env.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        ProductionConfig.validate()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", DEV_SECRET, "SECRET_KEY"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("FIELD_ENCRYPTION_KEY", DEV_FIELD_KEY, "FIELD_ENCRYPTION_KEY"),
        ("LOOKUP_HASH_KEY", DEV_HASH_KEY, "LOOKUP_HASH_KEY"),
        ("DATABASE_URL", "sqlite:///bank.db", "PostgreSQL"),
    ],
)
def test_production_refuses_default_or_unsafe_values(prod_env, name, value, message):
    prod_env.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        create_app(ProductionConfig)


def test_production_accepts_complete_configuration(prod_env):
    ProductionConfig.validate()  # does not raise
    assert ProductionConfig.STAFF_TOTP_REQUIRED is True
    assert ProductionConfig.SESSION_COOKIE_SECURE is True


def test_development_defaults_to_sqlite_and_inline_jobs(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    import importlib

    import config

    importlib.reload(config)
    assert config.DevelopmentConfig.SQLALCHEMY_DATABASE_URI.endswith("instance/bank.db")
    assert config.DevelopmentConfig.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert config.DevelopmentConfig.REDIS_URL is None
    assert DevelopmentConfig.WTF_CSRF_TIME_LIMIT is None


def test_database_url_switches_to_postgresql(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/x")
    import importlib

    import config

    importlib.reload(config)
    try:
        assert config.DevelopmentConfig.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://postgres@127.0.0.1/x"
    finally:
        monkeypatch.delenv("DATABASE_URL")
        importlib.reload(config)
