"""Document storage: content checks, private local folder, and S3 (moto) with presigned URLs."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from moto import mock_aws

from app.services import members
from app.services.common import NotFound, ValidationError, storage, uow
from app.services.members import kyc
from tests.conftest import PASSWORD, login_as
from tests.helpers.members import JPEG, PDF, PNG, member_data

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 512
ZIP = b"PK\x03\x04" + b"\x00" * 100
HTML = b"<html><script>alert(1)</script></html>"
BUCKET = "sahakari-kyc-test"


@pytest.mark.parametrize(("data", "kind"), [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")])
def test_content_type_comes_from_the_bytes(app, data, kind):
    assert storage.detect_content_type(data) == kind
    assert storage.check_upload(data) == kind


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (EXE, "Windows program"),
        (ZIP, "ZIP archive"),
        (HTML, "HTML"),
        (b"GIF89a" + b"\x00" * 20, "GIF"),
        (b"just some text", "Only PDF, JPEG or PNG"),
        (b"", "empty"),
    ],
)
def test_disguised_or_empty_files_are_refused(app, data, message):
    with pytest.raises(ValidationError, match=message) as info:
        storage.save(data, prefix="kyc/M000001")
    assert info.value.field == "file"


def test_size_limit(app):
    limit = app.config["DOCUMENT_MAX_BYTES"]
    assert limit == 5 * 1024 * 1024
    ok = b"%PDF-" + b"0" * (limit - 5)
    assert storage.save(ok, prefix="kyc/x").size_bytes == limit
    with pytest.raises(ValidationError, match=r"larger than the 5\.0 MB limit"):
        storage.save(ok + b"0", prefix="kyc/x")


def test_local_storage_is_private_and_outside_static(app, tmp_path):
    stored = storage.save(PDF, prefix="kyc/M000001/../../etc")
    assert stored.content_type == "application/pdf" and stored.size_bytes == len(PDF)
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.key.startswith("kyc/M000001/etc/") and stored.key.endswith(".pdf")  # no path escape
    path = storage.local_file(stored.key)
    assert path.is_relative_to(tmp_path / "docs")
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert storage.read(stored.key) == PDF
    assert not path.is_relative_to(app.static_folder)
    with pytest.raises(NotFound):
        storage.read("../../config.py")
    storage.delete(stored.key)
    with pytest.raises(NotFound):
        storage.read(stored.key)


def test_storage_inside_static_is_refused(app):
    app.config["DOCUMENT_STORAGE_DIR"] = os.path.join(app.static_folder, "uploads")
    with pytest.raises(RuntimeError, match="static"):
        storage.save(PDF, prefix="kyc/x")


def test_documents_are_not_publicly_served(app, client, books, make_user):
    clerk = make_user("clerk")
    member = members.register(member_data(1), by=clerk)
    doc = kyc.upload_document(member, "pan", PDF, filename="pan.pdf", by=clerk)
    uow.commit()
    assert client.get(f"/static/{doc.storage_key}").status_code == 404
    assert client.get(f"/staff/members/{member.member_no}/documents/{doc.id}").status_code == 302  # to sign-in


# ---------------------------------------------------------------- S3 (moto)


@pytest.fixture
def s3(app, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "ap-south-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="ap-south-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
        app.config.update(S3_BUCKET=BUCKET, S3_REGION="ap-south-1", S3_PREFIX="documents/", S3_PRESIGN_SECONDS=60)
        yield client


def test_s3_upload_checks_and_private_objects(app, s3, tmp_path):
    stored = storage.save(JPEG, prefix="kyc/M000009")
    obj = s3.get_object(Bucket=BUCKET, Key=f"documents/{stored.key}")
    assert obj["Body"].read() == JPEG
    assert obj["ContentType"] == "image/jpeg"
    assert obj["ServerSideEncryption"] == "AES256"
    assert obj["Metadata"]["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert storage.read(stored.key) == JPEG
    assert not (tmp_path / "docs").exists()  # nothing written locally
    # The bucket has no public grants.
    grants = s3.get_object_acl(Bucket=BUCKET, Key=f"documents/{stored.key}")["Grants"]
    assert all("AllUsers" not in str(g.get("Grantee")) for g in grants)
    for bad in (EXE, b"%PDF-" + b"0" * (5 * 1024 * 1024)):
        with pytest.raises(ValidationError):
            storage.save(bad, prefix="kyc/M000009")
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1
    storage.delete(stored.key)
    with pytest.raises(NotFound):
        storage.read(stored.key)


def test_s3_presigned_urls_are_short_lived(app, s3):
    stored = storage.save(PDF, prefix="kyc/M000009")
    url = storage.presigned_url(stored.key, content_type=stored.content_type, filename="M000009-pan.pdf")
    parts = urlparse(url)
    query = parse_qs(parts.query)
    assert BUCKET in parts.netloc + parts.path and parts.path.endswith(stored.key)
    assert query["X-Amz-Expires"] == ["60"]
    assert query["response-content-type"] == ["application/pdf"]
    assert "X-Amz-Signature" in query
    import requests

    fetched = requests.get(url, timeout=5)
    assert fetched.status_code == 200 and fetched.content == PDF


def test_s3_document_route_redirects_permitted_staff_to_a_presigned_url(app, client, s3, books, make_user):
    clerk = make_user("clerk")
    make_user("cashier")
    member = members.register(member_data(1), by=clerk)
    doc = kyc.upload_document(member, "pan", PDF, filename="pan.pdf", by=clerk)
    uow.commit()
    url = f"/staff/members/{member.member_no}/documents/{doc.id}"
    login_as(client, "cashier_user", PASSWORD)
    assert client.get(url).status_code == 403  # cashiers do not hold kyc.documents.view
    client.post("/auth/logout")
    login_as(client, "clerk_user", PASSWORD)
    response = client.get(url)
    assert response.status_code == 302
    assert "X-Amz-Signature" in response.headers["Location"] and "X-Amz-Expires=60" in response.headers["Location"]
