"""Configuration classes read from the environment (DESIGN.md §11)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from app.settings import from_env

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET = "dev-only-insecure-secret-change-me"
# Development-only keys. Production refuses to start with these (see ProductionConfig.validate).
DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc="
DEV_HASH_KEY = "dev-only-lookup-hash-key"
DEV_ANCHOR_KEY = "dev-only-audit-anchor-key"


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# The bank's rules (thresholds, limits, rates, lifetimes): declared with type, default and help
# in app/settings.py; an environment variable of the same name overrides the default.
_SETTINGS = from_env()


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'bank.db'}")
    # No pre-ping round trip before every checkout: connections are recycled instead (issue 14).
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_recycle": _int("DB_POOL_RECYCLE_SECONDS", 300)}
    REDIS_URL = os.environ.get("REDIS_URL") or None

    # Field encryption (Aadhaar, TOTP secrets) and keyed lookup hashes.
    FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", DEV_FIELD_KEY)
    LOOKUP_HASH_KEY = os.environ.get("LOOKUP_HASH_KEY", DEV_HASH_KEY)
    JWT_SECRET = os.environ.get("JWT_SECRET") or SECRET_KEY
    # Audit chain (ADR 0014): checkpoints keyed with a key the database does not hold, written to
    # the document storage (S3 object lock for AUDIT_ANCHOR_LOCK_DAYS when > 0); sealing runs off
    # the request path at most this many seconds after a commit (0: right after it).
    AUDIT_ANCHOR_KEY = os.environ.get("AUDIT_ANCHOR_KEY", DEV_ANCHOR_KEY)
    AUDIT_ANCHOR_LOCK_DAYS = _int("AUDIT_ANCHOR_LOCK_DAYS", 0)
    AUDIT_ANCHOR_GRACE_SECONDS = _int("AUDIT_ANCHOR_GRACE_SECONDS", 600)
    AUDIT_SEAL_INTERVAL_SECONDS = float(os.environ.get("AUDIT_SEAL_INTERVAL_SECONDS", "2"))
    JWT_REQUIRE_FAMILY = True  # access tokens must name their sign-in (refused once it is revoked)

    # Sessions and CSRF.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None

    # Rate limits (the limits themselves are settings: RATELIMIT_LOGIN, RATELIMIT_OTP, ...).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True

    # Documents (KYC uploads): a private local folder, or S3 when S3_BUCKET is set.
    DOCUMENT_STORAGE_DIR = os.environ.get("DOCUMENT_STORAGE_DIR", str(BASE_DIR / "instance" / "documents"))
    S3_BUCKET = os.environ.get("S3_BUCKET") or None
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024

    # Payments (sandbox keys come from the environment; none live in the repo).
    RAZORPAY_KEY_ID = os.environ.get("RAZORPAY_KEY_ID", "")
    RAZORPAY_KEY_SECRET = os.environ.get("RAZORPAY_KEY_SECRET", "")
    RAZORPAY_WEBHOOK_SECRET = os.environ.get("RAZORPAY_WEBHOOK_SECRET", "")

    TESTING = False
    DEBUG = False

    @classmethod
    def validate(cls) -> None:
        """Raise RuntimeError when the configuration is unsafe for this environment."""


for _name, _value in _SETTINGS.items():  # every setting of app/settings.py, as a class attribute
    setattr(Config, _name, _value)


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = _bool("FLASK_DEBUG", False)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL_SQLITE", "sqlite://")
    REDIS_URL = None
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    STAFF_TOTP_REQUIRED = False
    AUDIT_SEAL_INTERVAL_SECONDS = 0.0  # seal right after each commit (tests read the chain at once)
    JWT_REQUIRE_FAMILY = False  # tests may mint unbound tokens with tokens.access_token(subject)
    SERVER_NAME = None


class ProductionConfig(Config):
    ENV_NAME = "production"
    STAFF_TOTP_REQUIRED = _bool("STAFF_TOTP_REQUIRED", True)
    SESSION_COOKIE_SECURE = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", os.environ.get("REDIS_URL", "memory://"))

    @classmethod
    def validate(cls) -> None:
        required = ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEY", "LOOKUP_HASH_KEY"]
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"Production configuration is missing: {', '.join(missing)}")
        if os.environ["SECRET_KEY"] in {DEV_SECRET, ""} or len(os.environ["SECRET_KEY"]) < 32:
            raise RuntimeError("SECRET_KEY must be a random value of at least 32 characters")
        if os.environ["FIELD_ENCRYPTION_KEY"] == DEV_FIELD_KEY:
            raise RuntimeError("FIELD_ENCRYPTION_KEY must not be the development key")
        try:
            from cryptography.fernet import Fernet

            Fernet(os.environ["FIELD_ENCRYPTION_KEY"].encode())
        except (ValueError, TypeError) as exc:
            raise RuntimeError(
                "FIELD_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes; "
                "make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            ) from exc
        jwt_secret = os.environ.get("JWT_SECRET")
        if jwt_secret and (len(jwt_secret) < 32 or jwt_secret == DEV_SECRET):
            raise RuntimeError("JWT_SECRET, when set, must be a random value of at least 32 characters")
        if os.environ["LOOKUP_HASH_KEY"] == DEV_HASH_KEY:
            raise RuntimeError("LOOKUP_HASH_KEY must not be the development key")
        anchor_key = os.environ.get("AUDIT_ANCHOR_KEY", "")
        if anchor_key == DEV_ANCHOR_KEY or len(anchor_key) < 32:
            raise RuntimeError(
                "AUDIT_ANCHOR_KEY must be a random value of at least 32 characters, kept out of the database"
            )
        if not os.environ["DATABASE_URL"].startswith("postgresql"):
            raise RuntimeError("Production requires a PostgreSQL DATABASE_URL")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the configuration class named by SAHAKARI_ENV (default: development)."""
    return CONFIGS[os.environ.get("SAHAKARI_ENV", "development")]
