"""Every tunable setting of the bank in one place: its name, type, default and one line of help.

Read a setting through :func:`setting` (the app's config value, converted to the declared
type, or the declared default). ``config.py`` builds its values from :func:`from_env`, so an
environment variable of the same name overrides the default. Infrastructure settings (secret
keys, database and Redis URLs, cookies) live in ``config.py``; the rules of the bank live here.

No other module keeps its own default for a setting declared here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_app_context

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str = ""
    env: bool = True  # may an environment variable of the same name override the default?

    def convert(self, raw: Any) -> Any:
        """``raw`` (an env string or a config value) as the declared type; ValueError if it is not one."""
        if raw is None:
            return None
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(f"{self.name} must be true or false, not {raw!r}")
        if self.type is int:
            if isinstance(raw, bool):
                raise ValueError(f"{self.name} must be a whole number, not {raw!r}")
            if isinstance(raw, int):
                return raw
            try:
                return int(str(raw).strip().replace("_", ""))
            except ValueError as exc:
                raise ValueError(f"{self.name} must be a whole number, not {raw!r}") from exc
        if self.type is Decimal:
            if isinstance(raw, float):
                raise ValueError(f"{self.name} must be a decimal string, not a float")
            try:
                return Decimal(str(raw).strip())
            except InvalidOperation as exc:
                raise ValueError(f"{self.name} must be a decimal number, not {raw!r}") from exc
        if self.type is str:
            return str(raw)
        return self.type(raw)


_DECLARED: tuple[Setting, ...] = (
    # ---------------------------------------------------------------- sign-in and sessions
    Setting("STAFF_IDLE_TIMEOUT_MINUTES", int, 15, "staff idle sign-out, minutes"),
    Setting("STAFF_TOTP_REQUIRED", bool, False, "force TOTP for all staff (on in production)"),
    Setting("LOGIN_MAX_FAILURES", int, 5, "failed sign-ins before the account locks"),
    Setting("LOGIN_LOCKOUT_MINUTES", int, 15, "how long the first lock of a staff or member account lasts"),
    Setting(
        "LOGIN_LOCKOUT_MAX_MINUTES",
        int,
        24 * 60,
        "longest lock: each failure past LOGIN_MAX_FAILURES (also while locked) doubles the next one up to this",
    ),
    Setting("PASSWORD_MIN_LENGTH", int, 10, "shortest staff password", env=False),
    Setting("RATELIMIT_LOGIN", str, "20 per minute;200 per hour", "rate limit of the password step, per IP address"),
    Setting("RATELIMIT_OTP", str, "10 per minute", "rate limit of second-factor codes (web TOTP, API /auth/otp)"),
    Setting("RATELIMIT_REGISTER", str, "10 per hour", "rate limit of member self-registration"),
    Setting("JWT_ACCESS_TTL_SECONDS", int, 15 * 60, "API access-token lifetime"),
    Setting("JSON_MAX_BYTES", int, 1024 * 1024, "largest JSON request body (413 above)"),
    Setting("JSON_MAX_DEPTH", int, 32, "deepest nesting of arrays and objects in a JSON request body"),
    Setting("JWT_REFRESH_TTL_SECONDS", int, 30 * 24 * 3600, "API refresh-token lifetime"),
    Setting("JWT_OTP_TTL_SECONDS", int, 5 * 60, "lifetime of the API's pending-second-factor token", env=False),
    Setting(
        "IDEMPOTENCY_RETENTION_HOURS",
        int,
        7 * 24,
        "stored responses of idempotent API requests are kept this long (the ledger's entry keys still stop a second posting)",
    ),
    # ---------------------------------------------------------------- member sign-in (portal / app)
    Setting("MEMBER_OTP_TTL_SECONDS", int, 300, "lifetime of a member's one-time sign-in code"),
    Setting("MEMBER_OTP_MAX_ATTEMPTS", int, 5, "wrong codes before a member's code is spent"),
    Setting("MEMBER_OTP_MAX_PER_HOUR", int, 6, "codes sent to one member per hour"),
    Setting("MEMBER_PASSWORD_MIN_LENGTH", int, 8, "shortest member password"),
    Setting("MEMBER_OTP_RESEND_SECONDS", int, 30, "resend cool-down of a member's one-time code"),
    Setting(
        "RATELIMIT_PORTAL", str, "30 per minute", "rate limit of each member portal sign-in, activation and code step"
    ),
    Setting("PORTAL_TRANSFER_OTP_PAISE", int, 25_000_00, "member transfers above this need a one-time code"),
    Setting("PORTAL_LANGUAGES", str, "en,hi", "member portal languages (each needs a catalogue in app/translations)"),
    Setting("STATEMENT_MAX_DAYS", int, 366, "longest period of one PDF statement, days"),
    Setting("STATEMENT_INLINE_MAX_LINES", int, 1000, "PDF statements with more lines are made by a background job"),
    # ---------------------------------------------------------------- UI
    Setting("SOCIETY_NAME", str, "Sahakari Co-operative Credit Society", "shown in the UI"),
    Setting("PAGE_SIZE", int, 50, "rows per page of staff lists", env=False),
    Setting(
        "HTMX_URL",
        str,
        "https://cdn.jsdelivr.net/npm/htmx.org@2.0.4/dist/htmx.min.js",
        "the pinned htmx script (point at an intranet copy if needed)",
    ),
    Setting(
        "HTMX_SRI",
        str,
        "sha384-HGfztofotfshcF7+8n44JQL2oJmowVChPTg48S+jvZoztPfvwD79OC/LTtG6dMp+",
        "SRI hash of the htmx script",
    ),
    Setting(
        "SWAGGER_UI_URL", str, "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14", "Swagger UI assets", env=False
    ),
    # ---------------------------------------------------------------- money and interest
    Setting("INTEREST_ROUNDING", str, "rupee", "interest credited and charged rounded to the 'rupee' or the 'paise'"),
    Setting("SENIOR_CITIZEN_AGE", int, 60, "age from which a member is a senior citizen (FD rate, TDS threshold)"),
    # ---------------------------------------------------------------- deposits, TDS u/s 194A
    Setting(
        "TDS_THRESHOLD_PAISE",
        int,
        50_000_00,
        "FD/RD interest per member per financial year above which TDS is deducted",
    ),
    Setting("TDS_THRESHOLD_SENIOR_PAISE", int, 1_00_000_00, "the same threshold for senior citizens"),
    Setting("TDS_RATE_PAN", Decimal, Decimal("10"), "TDS rate, per cent, when the member has a PAN"),
    Setting("TDS_RATE_NO_PAN", Decimal, Decimal("20"), "TDS rate, per cent, without a PAN (section 206AA)"),
    Setting("SB_INTEREST_TDS", bool, False, "deduct TDS on savings interest too (outside 194A by default)"),
    Setting(
        "DORMANT_AFTER_MONTHS", int, 24, "months without a customer-induced transaction before an account is dormant"
    ),
    Setting("FD_MIN_DAYS", int, 7, "shortest fixed-deposit tenure a product may offer, days"),
    Setting("FD_MAX_DAYS", int, 3650, "longest fixed-deposit tenure a product (and the calculator) may offer, days"),
    Setting("RD_MIN_MONTHS", int, 6, "shortest recurring-deposit tenure a product may offer, months"),
    Setting(
        "RD_MAX_MONTHS", int, 120, "longest recurring-deposit tenure a product (and the calculator) may offer, months"
    ),
    # ---------------------------------------------------------------- day-end
    Setting("EOD_TIME", str, "20:30", "when the scheduler (python worker.py cron) runs the day-end, HH:MM server time"),
    Setting("EOD_CHUNK_SIZE", int, 50_000, "account ids per chunk of a big day-end step (a unit of work, an RQ job)"),
    Setting("EOD_WEEKLY_OFF", str, "", "weekly closed days skipped when the next day opens, e.g. 'sun' or 'sat,sun'"),
    # ---------------------------------------------------------------- counter: teller cash and the CTR
    Setting("LARGE_WITHDRAWAL_PAISE", int, 2_00_000_00, "cash withdrawals above this go to maker-checker"),
    Setting("LARGE_CASH_DEPOSIT_PAISE", int, 10_00_000_00, "a single cash deposit above this goes to maker-checker"),
    Setting("LARGE_TRANSFER_PAISE", int, 5_00_000_00, "staff transfers above this go to maker-checker"),
    Setting("CASH_PAN_THRESHOLD_PAISE", int, 50_000_00, "cash per member per day from which PAN or Form 60 is needed"),
    Setting(
        "CTR_THRESHOLD_PAISE",
        int,
        10_00_000_00,
        "monthly cash above this puts the member on the Cash Transaction Report",
    ),
    Setting("CTR_BASIS", str, "combined", "CTR counts cash 'combined' (in + out) or 'separate' (in or out)"),
    Setting("CASH_SMALLEST_PAISE", int, 50, "cash amounts are multiples of the smallest coin"),
    # ---------------------------------------------------------------- documents (KYC uploads)
    Setting("DOCUMENT_MAX_BYTES", int, 5 * 1024 * 1024, "largest KYC document accepted"),
    Setting("S3_REGION", str, "ap-south-1", "S3 region of the document bucket"),
    Setting("S3_PREFIX", str, "documents/", "key prefix of documents in the bucket"),
    Setting("S3_PRESIGN_SECONDS", int, 60, "lifetime of a presigned document link"),
    # ---------------------------------------------------------------- members, KYC and share capital
    Setting("MEMBER_NO_PREFIX", str, "M", "member-number prefix when the member has no branch"),
    Setting("MEMBER_MIN_AGE", int, 18, "younger members are minors and need a guardian"),
    Setting("REKYC_YEARS_LOW", int, 10, "periodic re-KYC of low-risk members, years"),
    Setting("REKYC_YEARS_MEDIUM", int, 8, "periodic re-KYC of medium-risk members, years"),
    Setting("REKYC_YEARS_HIGH", int, 2, "periodic re-KYC of high-risk members, years"),
    Setting("KYC_DUE_WINDOW_DAYS", int, 90, "how early the re-KYC due list shows a member"),
    Setting("SHARE_FACE_VALUE_PAISE", int, 100_00, "face value of one share"),
    Setting("MIN_SHARES", int, 10, "minimum holding for membership"),
    Setting("MEMBERSHIP_FEE_PAISE", int, 100_00, "admission fee"),
    # Year-end appropriation and dividend
    Setting(
        "STATUTORY_RESERVE_MIN_PCT", Decimal, Decimal("25"), "least share of net profit to the statutory reserve, %"
    ),
    Setting("DIVIDEND_MAX_RATE_PCT", Decimal, Decimal("15"), "highest dividend on paid-up share capital, % a year"),
    Setting(
        "YEAR_END_FUNDS", str, "3200:25,3303:1", "proposed appropriation: GL code:% of net profit, comma-separated"
    ),
    Setting("DIVIDEND_PRO_RATA", bool, True, "dividend pro-rated by the whole months each share was held"),
    Setting("DIVIDEND_MODE", str, "sb", "dividend credited to the member's 'sb' account, or held 'payable'"),
    # ---------------------------------------------------------------- loans: provisions, security, exposure
    Setting("PROVISION_STANDARD_BP", int, 40, "provision on standard loans, basis points of the outstanding"),
    Setting("PROVISION_SUBSTANDARD_BP", int, 1000, "provision on sub-standard loans, basis points"),
    Setting("PROVISION_D1_BP", int, 2000, "provision on doubtful D1 (secured), basis points"),
    Setting("PROVISION_D2_BP", int, 3000, "provision on doubtful D2 (secured), basis points"),
    Setting("PROVISION_D3_BP", int, 10000, "provision on doubtful D3 (secured), basis points"),
    Setting("PROVISION_DOUBTFUL_UNSECURED_BP", int, 10000, "provision on doubtful unsecured loans, basis points"),
    Setting("PROVISION_LOSS_BP", int, 10000, "provision on loss assets, basis points"),
    Setting(
        "GOLD_LTV_BANDS", str, "25000000:8500,50000000:8000,:7500", "gold LTV: borrower's total up to paise:bp, ..."
    ),
    Setting("DEPOSIT_LIEN_MAX_BP", int, 9000, "loan against a deposit: at most this share of its balance, bp"),
    Setting("LOAN_SHARE_MULTIPLE", int, 20, "personal loans at most this multiple of the member's share capital"),
    Setting("GUARANTOR_MAX_GUARANTEES", int, 3, "live loans one member may guarantee at a time"),
    Setting("LOAN_MAX_AGE_AT_MATURITY", int, 70, "oldest age of a borrower at the loan's last instalment"),
    # ---------------------------------------------------------------- online payments (Razorpay)
    Setting("RAZORPAY_KEY_ID", str, "", "Razorpay key id (empty: the offline sandbox gateway)"),
    Setting("RAZORPAY_KEY_SECRET", str, "", "Razorpay key secret"),
    Setting("RAZORPAY_WEBHOOK_SECRET", str, "sandbox-webhook-secret", "secret of the Razorpay webhook signatures"),
    Setting("RAZORPAYX_ACCOUNT_NUMBER", str, "", "RazorpayX account number payouts are sent from"),
    Setting("RAZORPAY_BASE_URL", str, "https://api.razorpay.com", "Razorpay API base URL"),
    Setting("PAYOUT_DAILY_LIMIT_PAISE", int, 2_00_000_00, "payouts per member per day at most this much"),
    Setting("PAYOUT_APPROVAL_PAISE", int, 1_00_000_00, "staff payouts above this go to maker-checker"),
    Setting("PAYOUT_OTP_PAISE", int, 0, "member API payouts above this need an SMS code (0: every one, as the portal)"),
    Setting("BENEFICIARY_COOLING_HOURS", int, 24, "hours after a new beneficiary before a large first payout"),
    Setting(
        "BENEFICIARY_COOLING_PAISE", int, 10_000_00, "a payout above this to a beneficiary still cooling is refused"
    ),
    Setting("PAYMENT_STUCK_MINUTES", int, 30, "reconciliation settles orders and payouts older than this"),
)

SETTINGS: dict[str, Setting] = {s.name: s for s in _DECLARED}


def setting(name: str) -> Any:
    """The current value of a declared setting: the app's config value (converted), else the default.

    Raises KeyError for a name not declared in SETTINGS. Outside an app context, the default.
    """
    declared = SETTINGS[name]
    if has_app_context():
        raw = current_app.config.get(name)
        if raw is not None:
            return declared.convert(raw)
    return declared.default


def from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Every declared setting's value: the environment variable of that name (converted) or the default."""
    out: dict[str, Any] = {}
    for declared in _DECLARED:
        raw = environ.get(declared.name) if declared.env else None
        out[declared.name] = declared.default if raw is None else declared.convert(raw)
    return out
