"""Field encryption (Fernet) and keyed lookup hashes (HMAC-SHA256), keys from config."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    return Fernet(current_app.config["FIELD_ENCRYPTION_KEY"].encode())


def encrypt(plain: str) -> str:
    """Encrypt a sensitive field for storage."""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a stored field; raises ValueError when the key is wrong or the data damaged."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt field: wrong key or damaged data") from exc


def lookup_hash(value: str) -> str:
    """A keyed hash to find a record by a secret value without storing the value."""
    key = current_app.config["LOOKUP_HASH_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def token_hash(value: str) -> str:
    """Plain SHA-256 for high-entropy random tokens (refresh tokens, recovery codes)."""
    return hashlib.sha256(value.encode()).hexdigest()
