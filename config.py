"""Configuration classes read from the environment (DESIGN.md §11)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET = "dev-only-insecure-secret-change-me"
# Development-only keys. Production refuses to start with these (see ProductionConfig.validate).
DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc="
DEV_HASH_KEY = "dev-only-lookup-hash-key"


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'bank.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None

    # Field encryption (Aadhaar, TOTP secrets) and keyed lookup hashes.
    FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", DEV_FIELD_KEY)
    LOOKUP_HASH_KEY = os.environ.get("LOOKUP_HASH_KEY", DEV_HASH_KEY)
    JWT_SECRET = os.environ.get("JWT_SECRET") or SECRET_KEY
    JWT_ACCESS_TTL_SECONDS = _int("JWT_ACCESS_TTL_SECONDS", 15 * 60)
    JWT_REFRESH_TTL_SECONDS = _int("JWT_REFRESH_TTL_SECONDS", 30 * 24 * 3600)
    JWT_OTP_TTL_SECONDS = 5 * 60
    # Stored responses of idempotent API requests are kept this long (a retry after that is a
    # new request; the ledger's own entry keys still stop a second posting).
    IDEMPOTENCY_RETENTION_HOURS = _int("IDEMPOTENCY_RETENTION_HOURS", 7 * 24)

    # Sessions and CSRF.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None
    STAFF_IDLE_TIMEOUT_MINUTES = _int("STAFF_IDLE_TIMEOUT_MINUTES", 15)

    # Staff authentication.
    STAFF_TOTP_REQUIRED = _bool("STAFF_TOTP_REQUIRED", False)
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", 15)
    PASSWORD_MIN_LENGTH = 10
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "20 per minute")
    # Second-factor codes (web TOTP step, enrolment, API /auth/otp): tighter than the password step.
    RATELIMIT_OTP = os.environ.get("RATELIMIT_OTP", "10 per minute")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True

    # UI.
    HTMX_URL = os.environ.get("HTMX_URL", "https://cdn.jsdelivr.net/npm/htmx.org@2.0.4/dist/htmx.min.js")
    HTMX_SRI = os.environ.get(
        "HTMX_SRI",
        "sha384-HGfztofotfshcF7+8n44JQL2oJmowVChPTg48S+jvZoztPfvwD79OC/LTtG6dMp+",
    )
    SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14"
    SOCIETY_NAME = os.environ.get("SOCIETY_NAME", "Sahakari Co-operative Credit Society")
    PAGE_SIZE = 50

    # Money and rules (settings, DESIGN.md §4, §6).
    INTEREST_ROUNDING = os.environ.get("INTEREST_ROUNDING", "rupee")

    # Deposits (DESIGN.md §6): TDS u/s 194A on FD/RD interest per member per financial year.
    TDS_THRESHOLD_PAISE = _int("TDS_THRESHOLD_PAISE", 50_000_00)
    TDS_THRESHOLD_SENIOR_PAISE = _int("TDS_THRESHOLD_SENIOR_PAISE", 1_00_000_00)
    TDS_RATE_PAN = os.environ.get("TDS_RATE_PAN", "10")  # per cent, a Decimal string
    TDS_RATE_NO_PAN = os.environ.get("TDS_RATE_NO_PAN", "20")  # section 206AA
    SB_INTEREST_TDS = _bool("SB_INTEREST_TDS", False)  # savings interest is outside 194A by default
    SENIOR_CITIZEN_AGE = 60
    DORMANT_AFTER_MONTHS = _int("DORMANT_AFTER_MONTHS", 24)  # no customer-induced transaction

    # counter: teller cash, thresholds (paise) and the Cash Transaction Report (DESIGN.md §6).
    LARGE_WITHDRAWAL_PAISE = _int("LARGE_WITHDRAWAL_PAISE", 2_00_000_00)  # above: maker-checker
    LARGE_TRANSFER_PAISE = _int("LARGE_TRANSFER_PAISE", 5_00_000_00)  # staff transfers above: maker-checker
    CASH_PAN_THRESHOLD_PAISE = _int("CASH_PAN_THRESHOLD_PAISE", 50_000_00)  # cash at/above (per day): PAN/Form 60
    CTR_THRESHOLD_PAISE = _int("CTR_THRESHOLD_PAISE", 10_00_000_00)  # monthly cash above: on the CTR
    CTR_BASIS = os.environ.get("CTR_BASIS", "combined")  # combined (in + out) | separate (in or out)
    CASH_SMALLEST_PAISE = _int("CASH_SMALLEST_PAISE", 50)  # cash amounts in multiples of the smallest coin

    # Documents (KYC uploads): a private local folder, or S3 when S3_BUCKET is set.
    DOCUMENT_STORAGE_DIR = os.environ.get("DOCUMENT_STORAGE_DIR", str(BASE_DIR / "instance" / "documents"))
    S3_BUCKET = os.environ.get("S3_BUCKET") or None
    S3_REGION = os.environ.get("S3_REGION", "ap-south-1")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
    S3_PREFIX = os.environ.get("S3_PREFIX", "documents/")
    S3_PRESIGN_SECONDS = _int("S3_PRESIGN_SECONDS", 60)
    DOCUMENT_MAX_BYTES = _int("DOCUMENT_MAX_BYTES", 5 * 1024 * 1024)
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024

    # Members, KYC and share capital (DESIGN.md §6).
    MEMBER_NO_PREFIX = os.environ.get("MEMBER_NO_PREFIX", "M")  # used when the member has no branch
    MEMBER_MIN_AGE = _int("MEMBER_MIN_AGE", 18)  # younger members need a guardian
    REKYC_YEARS_LOW = _int("REKYC_YEARS_LOW", 10)
    REKYC_YEARS_MEDIUM = _int("REKYC_YEARS_MEDIUM", 8)
    REKYC_YEARS_HIGH = _int("REKYC_YEARS_HIGH", 2)
    KYC_DUE_WINDOW_DAYS = _int("KYC_DUE_WINDOW_DAYS", 90)
    SHARE_FACE_VALUE_PAISE = _int("SHARE_FACE_VALUE_PAISE", 10000)  # ₹100 a share
    MIN_SHARES = _int("MIN_SHARES", 10)  # minimum holding for membership (₹1,000 at ₹100)
    MEMBERSHIP_FEE_PAISE = _int("MEMBERSHIP_FEE_PAISE", 10000)  # ₹100 admission fee

    # Member sign-in (portal / app): password, then a one-time code by SMS.
    MEMBER_OTP_TTL_SECONDS = _int("MEMBER_OTP_TTL_SECONDS", 300)
    MEMBER_OTP_MAX_ATTEMPTS = _int("MEMBER_OTP_MAX_ATTEMPTS", 5)
    MEMBER_OTP_MAX_PER_HOUR = _int("MEMBER_OTP_MAX_PER_HOUR", 6)
    MEMBER_PASSWORD_MIN_LENGTH = _int("MEMBER_PASSWORD_MIN_LENGTH", 8)
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "10 per hour")

    # Payments (sandbox keys come from the environment; none live in the repo).
    RAZORPAY_KEY_ID = os.environ.get("RAZORPAY_KEY_ID", "")
    RAZORPAY_KEY_SECRET = os.environ.get("RAZORPAY_KEY_SECRET", "")
    RAZORPAY_WEBHOOK_SECRET = os.environ.get("RAZORPAY_WEBHOOK_SECRET", "")

    TESTING = False
    DEBUG = False

    @classmethod
    def validate(cls) -> None:
        """Raise RuntimeError when the configuration is unsafe for this environment."""


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
