"""Serving a privately stored file (KYC and loan documents) to a permitted staff user."""

from __future__ import annotations

from flask import Response, redirect, send_file

from app.services.common import storage


def stored_file(key: str, content_type: str, filename: str) -> Response:
    """The file inline with no caching, or a short-lived presigned URL when it lives on S3."""
    if storage.using_s3():
        return redirect(storage.presigned_url(key, content_type=content_type, filename=filename))
    response = send_file(storage.local_file(key), mimetype=content_type, as_attachment=False, download_name=filename,
                         max_age=0)  # fmt: skip
    response.headers["Cache-Control"] = "private, no-store"
    return response
