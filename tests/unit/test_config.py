import pytest

from app import create_app
from config import DEV_ANCHOR_KEY, DEV_FIELD_KEY, DEV_HASH_KEY, DEV_SECRET, DevelopmentConfig, ProductionConfig

GOOD = {
    "SECRET_KEY": "x" * 40,
    "DATABASE_URL": "postgresql+psycopg://bank@db/bank",
    "REDIS_URL": "redis://cache:6379/0",
    "FIELD_ENCRYPTION_KEY": "cHJvZC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZ3h4eHg=",
    "LOOKUP_HASH_KEY": "prod-lookup-key-0123456789",
    "AUDIT_ANCHOR_KEY": "prod-audit-anchor-key-0123456789abcdef",
}


@pytest.fixture
def prod_env(monkeypatch):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("JWT_SECRET", raising=False)
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
        ("AUDIT_ANCHOR_KEY", DEV_ANCHOR_KEY, "AUDIT_ANCHOR_KEY"),
        ("AUDIT_ANCHOR_KEY", "short", "AUDIT_ANCHOR_KEY"),
        ("DATABASE_URL", "sqlite:///bank.db", "PostgreSQL"),
    ],
)
def test_production_refuses_default_or_unsafe_values(prod_env, name, value, message):
    prod_env.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        create_app(ProductionConfig)


@pytest.mark.parametrize(
    "key",
    [
        "not-a-fernet-key",  # not base64 of 32 bytes
        "c2hvcnQta2V5",  # valid base64, but 9 bytes
        "cHJvZC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZ3h4eHh4eHg=",  # 35 bytes
    ],
)
def test_production_refuses_an_invalid_fernet_key(prod_env, key):
    prod_env.setenv("FIELD_ENCRYPTION_KEY", key)
    with pytest.raises(RuntimeError, match="FIELD_ENCRYPTION_KEY is not a valid Fernet key"):
        ProductionConfig.validate()


@pytest.mark.parametrize("secret", ["short-jwt-secret", "y" * 31, DEV_SECRET])
def test_production_refuses_a_weak_explicit_jwt_secret(prod_env, secret):
    prod_env.setenv("JWT_SECRET", secret)
    with pytest.raises(RuntimeError, match="JWT_SECRET"):
        ProductionConfig.validate()


def test_production_accepts_a_long_jwt_secret_or_none(prod_env):
    prod_env.setenv("JWT_SECRET", "z" * 32)
    ProductionConfig.validate()  # does not raise
    prod_env.delenv("JWT_SECRET")
    ProductionConfig.validate()  # falls back to SECRET_KEY, itself checked


def test_otp_rate_limit_is_its_own_tighter_setting():
    from config import Config, TestingConfig

    assert Config.RATELIMIT_OTP == "10 per minute"
    assert Config.RATELIMIT_LOGIN == "20 per minute;200 per hour"
    assert TestingConfig.RATELIMIT_OTP == Config.RATELIMIT_OTP


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
