"""Private document storage: a local folder by default, S3 (boto3) when ``S3_BUCKET`` is set.

Uploads are accepted only when their *bytes* are a PDF, JPEG or PNG (the file name and the
browser's content type are ignored) and no larger than ``DOCUMENT_MAX_BYTES``. Keys are
generated here (never from the uploaded name). Nothing is publicly reachable: the local
folder lives outside ``static`` and is served only by authorised routes; on S3 the objects
are private and read through presigned GET URLs that expire after ``S3_PRESIGN_SECONDS``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app

from app.settings import setting

from .errors import NotFound, ValidationError

ALLOWED = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

# Signatures of things people try to pass off as documents, for a clearer refusal.
_KNOWN_BAD = (
    (b"MZ", "a Windows program (.exe)"),
    (b"\x7fELF", "a Linux program"),
    (b"PK\x03\x04", "a ZIP archive or Office file"),
    (b"#!", "a script"),
    (b"GIF8", "a GIF image"),
    (b"<", "an HTML or XML file"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
)


@dataclass(frozen=True)
class StoredFile:
    """What was stored: the private key, the detected type, the size and the SHA-256."""

    key: str
    content_type: str
    size_bytes: int
    sha256: str


def detect_content_type(data: bytes) -> str | None:
    """The content type from the file's leading bytes: PDF, JPEG or PNG, else None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def check_upload(data: bytes, *, field: str = "file") -> str:
    """Refuse empty, oversized or non-PDF/JPEG/PNG content; returns the detected type."""
    limit = setting("DOCUMENT_MAX_BYTES")
    if not data:
        raise ValidationError("Choose a file to upload; the file received was empty.", field=field)
    if len(data) > limit:
        raise ValidationError(
            f"The file ({_size(len(data))}) is larger than the {_size(limit)} limit. "
            "Scan at a lower resolution or compress it.",
            field=field,
        )
    content_type = detect_content_type(data)
    if content_type is None:
        looks_like = next((what for magic, what in _KNOWN_BAD if data.startswith(magic)), None)
        detail = f" Its content is {looks_like}, whatever its name says." if looks_like else ""
        raise ValidationError(f"Only PDF, JPEG or PNG files are accepted.{detail}", field=field)
    return content_type


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def using_s3() -> bool:
    """Whether documents go to S3 (``S3_BUCKET`` is set)."""
    return bool(current_app.config.get("S3_BUCKET"))


def save(data: bytes, *, prefix: str, field: str = "file") -> StoredFile:
    """Check and store a document under a fresh private key; returns what was stored."""
    content_type = check_upload(data, field=field)
    safe_prefix = "/".join(part for part in prefix.strip("/").split("/") if part not in {"", ".", ".."})
    key = f"{safe_prefix}/{uuid.uuid4().hex}{ALLOWED[content_type]}"
    digest = hashlib.sha256(data).hexdigest()
    if using_s3():
        _s3().put_object(
            Bucket=current_app.config["S3_BUCKET"],
            Key=_s3_key(key),
            Body=data,
            ContentType=content_type,
            ServerSideEncryption="AES256",
            Metadata={"sha256": digest},
        )
    else:
        path = _local_path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return StoredFile(key=key, content_type=content_type, size_bytes=len(data), sha256=digest)


def read(key: str) -> bytes:
    """The stored bytes of ``key`` (NotFound when missing)."""
    if using_s3():
        client = _s3()
        try:
            return client.get_object(Bucket=current_app.config["S3_BUCKET"], Key=_s3_key(key))["Body"].read()
        except client.exceptions.NoSuchKey as exc:
            raise NotFound("The stored document is missing.") from exc
    path = _local_path(key)
    if not path.is_file():
        raise NotFound("The stored document is missing.")
    return path.read_bytes()


def local_file(key: str) -> Path:
    """The private local path of ``key`` (local storage only; NotFound when missing)."""
    path = _local_path(key)
    if not path.is_file():
        raise NotFound("The stored document is missing.")
    return path


def presigned_url(key: str, *, content_type: str, filename: str) -> str:
    """A short-lived S3 GET URL for ``key`` (S3 storage only)."""
    if not using_s3():
        raise RuntimeError("presigned URLs exist only with S3 storage")
    disposition_name = "".join(ch for ch in filename if ch.isalnum() or ch in "._-") or "document"
    return _s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": current_app.config["S3_BUCKET"],
            "Key": _s3_key(key),
            "ResponseContentType": content_type,
            "ResponseContentDisposition": f'inline; filename="{disposition_name}"',
        },
        ExpiresIn=setting("S3_PRESIGN_SECONDS"),
    )


def delete(key: str) -> None:
    """Remove a stored document (used when the database work that referenced it failed)."""
    if using_s3():
        _s3().delete_object(Bucket=current_app.config["S3_BUCKET"], Key=_s3_key(key))
        return
    path = _local_path(key)
    if path.is_file():
        path.unlink()


def put_object(key: str, data: bytes, *, content_type: str, retain_for: timedelta | None = None) -> None:
    """Store bytes the application writes itself (not an upload) under ``key``, never overwriting.

    Used for the audit chain's checkpoints. On S3, ``retain_for`` asks for object lock in
    compliance mode until then (the bucket must have object lock enabled); locally the file
    is made read-only and an existing key is refused.
    """
    if using_s3():
        extra = {}
        if retain_for is not None:
            extra = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": datetime.now(UTC) + retain_for}
        _s3().put_object(
            Bucket=current_app.config["S3_BUCKET"],
            Key=_s3_key(key),
            Body=data,
            ContentType=content_type,
            ServerSideEncryption="AES256",
            **extra,
        )
        return
    path = _local_path(key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o400)
        os.link(tmp, path)  # fails if the key exists: objects are written once
    finally:
        os.unlink(tmp)


def list_keys(prefix: str) -> list[str]:
    """Every stored key under ``prefix`` (a folder-like prefix ending in ``/``), sorted."""
    if using_s3():
        pages = (
            _s3()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=current_app.config["S3_BUCKET"], Prefix=_s3_key(prefix))
        )
        strip = len(_s3_key(""))
        return sorted(obj["Key"][strip:] for page in pages for obj in page.get("Contents", []))
    folder = _local_path(prefix.rstrip("/") + "/x").parent
    if not folder.is_dir():
        return []
    return sorted(f"{prefix}{p.name}" for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


# ---------------------------------------------------------------- backends


def storage_root() -> Path:
    """The private local folder; refuses to live inside the public static folder."""
    root = Path(current_app.config["DOCUMENT_STORAGE_DIR"]).resolve()
    static = Path(current_app.static_folder or "").resolve()
    if current_app.static_folder and (root == static or static in root.parents):
        raise RuntimeError("DOCUMENT_STORAGE_DIR must not be inside the public static folder")
    return root


def _local_path(key: str) -> Path:
    root = storage_root()
    path = (root / key).resolve()
    if root not in path.parents:
        raise NotFound("No such document.")
    return path


def _s3_key(key: str) -> str:
    return f"{current_app.config.get('S3_PREFIX') or ''}{key}"


def _s3():
    import boto3

    return boto3.client(
        "s3",
        region_name=setting("S3_REGION"),
        endpoint_url=current_app.config.get("S3_ENDPOINT_URL"),
    )
