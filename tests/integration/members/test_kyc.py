"""The KYC workflow end to end: documents, submission, review and approval by a different officer."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditLog
from app.services import members
from app.services.common import Conflict, PermissionDenied, ValidationError, uow
from app.services.members import kyc
from tests.helpers.members import JPEG, PDF, PNG, aadhaar, member_data, pan, ready_member, upload_all


@pytest.fixture
def staff(books, make_user):
    return {
        "clerk": make_user("clerk"),
        "clerk2": make_user("clerk", username="clerk_two"),
        "manager": make_user("manager"),
        "manager2": make_user("manager", username="manager_two"),
        "admin": make_user("admin"),
    }


def audit_actions(member_no: str) -> list[str]:
    return list(
        db.session.scalars(select(AuditLog.action).where(AuditLog.entity_id == member_no).order_by(AuditLog.id))
    )


def test_the_whole_kyc_workflow_with_maker_checker(staff):
    clerk, manager = staff["clerk"], staff["manager"]
    member = members.register(member_data(1), by=clerk)
    uow.commit()

    # Nothing to submit yet: the missing documents are listed.
    with pytest.raises(ValidationError, match="Photograph; Specimen signature; PAN card; Proof of identity"):
        kyc.submit(member, by=clerk)
    upload_all(member, clerk, kinds=("photo", "signature", "pan"))
    with pytest.raises(ValidationError, match="Proof of identity and address"):
        kyc.submit(member, by=clerk)
    kyc.upload_document(member, "address_proof", JPEG, filename="voter-id.jpg", by=clerk)
    kyc.submit(member, by=clerk)
    uow.commit()
    assert member.kyc_status == "submitted" and member.kyc_submitted_by_id == clerk.id
    assert kyc.review_queue() == [member]
    with pytest.raises(Conflict, match="already waiting"):
        kyc.submit(member, by=clerk)

    # The maker can neither verify documents nor decide the KYC, even with the right role.
    photo = next(d for d in kyc.current_documents(member) if d.doc_type == "photo")
    with pytest.raises(PermissionDenied, match="Your role cannot review"):
        kyc.verify_document(photo, by=clerk)
    with pytest.raises(PermissionDenied, match="Your role cannot review"):
        kyc.approve(member, checker=staff["admin"])

    # A manager who registered the member may not check it either.
    managed = members.register(member_data(2), by=manager)
    upload_all(managed, staff["clerk2"], kinds=("photo", "signature", "pan", "aadhaar"))
    kyc.submit(managed, by=staff["clerk2"])
    uow.commit()
    with pytest.raises(PermissionDenied, match="different officer"):
        kyc.approve(managed, checker=manager)
    with pytest.raises(PermissionDenied, match="different officer"):
        kyc.verify_document(kyc.current_documents(managed)[0], by=manager)
    db.session.rollback()

    # A different officer reviews: documents first, then the KYC.
    with pytest.raises(ValidationError, match="still pending: "):
        kyc.approve(member, checker=manager)
    for doc in kyc.current_documents(member):
        kyc.verify_document(doc, by=manager)
    kyc.approve(member, checker=manager, note="Originals seen")
    uow.commit()
    assert member.kyc_status == "approved"
    assert member.kyc_approved_by_id == manager.id and member.kyc_approved_at is not None
    assert member.rekyc_due_on == date(2036, 4, 1)  # low risk: 10 years from the business date
    assert {d.status for d in kyc.current_documents(member)} == {"verified"}
    assert all(d.reviewed_by_id == manager.id for d in kyc.current_documents(member))
    with pytest.raises(Conflict, match="already approved"):
        kyc.approve(member, checker=staff["manager2"])
    actions = audit_actions(member.member_no)
    assert actions[0] == "member.register"
    assert actions.count("kyc.upload") == 4 and actions.count("kyc.document_verify") == 4
    assert actions[-2:] == ["kyc.document_verify", "kyc.approve"] and "kyc.submit" in actions
    approval = db.session.scalar(select(AuditLog).where(AuditLog.action == "kyc.approve"))
    assert approval.before["kyc_status"] == "submitted" and approval.after["kyc_status"] == "approved"
    assert approval.actor_type in {"system", "staff"} and approval.after["note"] == "Originals seen"


def test_rejecting_documents_and_the_kyc_then_resubmitting(staff):
    clerk, manager = staff["clerk"], staff["manager"]
    member = members.register(member_data(1, pan=""), by=clerk)
    upload_all(member, clerk, kinds=("photo", "signature", "form60", "aadhaar"))
    kyc.submit(member, by=clerk)
    uow.commit()
    aadhaar_doc = next(d for d in kyc.current_documents(member) if d.doc_type == "aadhaar")
    with pytest.raises(ValidationError, match="reason"):
        kyc.reject_document(aadhaar_doc, by=manager, reason=" ")
    kyc.reject_document(aadhaar_doc, by=manager, reason="Blurred copy")
    for doc in kyc.current_documents(member):
        if doc.status == "pending":
            kyc.verify_document(doc, by=manager)
    assert member.form60_on_file  # the verified Form 60 is on file
    with pytest.raises(ValidationError, match="no verified document: Proof of identity"):
        kyc.approve(member, checker=manager)
    kyc.reject(member, checker=manager, reason="Aadhaar copy unreadable")
    uow.commit()
    assert (member.kyc_status, member.kyc_rejection_reason) == ("rejected", "Aadhaar copy unreadable")
    with pytest.raises(ValidationError, match="upload corrected documents"):
        kyc.approve(member, checker=manager)

    # The clerk uploads a clear copy (the rejected one is superseded) and resubmits.
    fresh = kyc.upload_document(member, "aadhaar", PDF, filename="aadhaar-clear.pdf", by=clerk)
    assert member.kyc_status == "pending"
    assert aadhaar_doc.status == "superseded" and aadhaar_doc not in kyc.current_documents(member)
    kyc.submit(member, by=clerk)
    kyc.verify_document(fresh, by=manager)
    kyc.approve(member, checker=manager)
    uow.commit()
    assert member.kyc_status == "approved" and member.kyc_rejection_reason is None


def test_api_style_approval_verifies_pending_documents_in_one_step(staff):
    clerk, manager = staff["clerk"], staff["manager"]
    member = members.register(member_data(1), by=clerk)
    upload_all(member, clerk)
    uow.commit()
    with pytest.raises(ValidationError, match="not been submitted"):
        kyc.approve(member, checker=manager)
    kyc.approve(member, checker=manager, verify_pending=True)
    assert member.kyc_status == "approved"
    assert all(d.status == "verified" for d in kyc.current_documents(member))


def test_incomplete_kyc_cannot_be_approved_in_one_step(staff):
    member = members.register(member_data(1), by=staff["clerk"])
    upload_all(member, staff["clerk"], kinds=("photo",))
    with pytest.raises(ValidationError, match="missing: Specimen signature"):
        kyc.approve(member, checker=staff["manager"], verify_pending=True)


def test_the_uploader_cannot_verify_their_own_document(staff):
    member = members.register(member_data(1), by=None, self_registered=True)
    (doc,) = upload_all(member, staff["manager"], kinds=("photo",))
    with pytest.raises(PermissionDenied, match="You uploaded this document"):
        kyc.verify_document(doc, by=staff["manager"])
    kyc.verify_document(doc, by=staff["manager2"])
    assert doc.status == "verified"
    with pytest.raises(Conflict, match="already verified"):
        kyc.reject_document(doc, by=staff["manager2"], reason="x")


def test_a_newer_verified_document_supersedes_the_older_one(staff):
    member = members.register(member_data(1), by=staff["clerk"])
    (old,) = upload_all(member, staff["clerk"], kinds=("photo",))
    kyc.verify_document(old, by=staff["manager"])
    new = kyc.upload_document(member, "photo", PNG, filename="new.png", by=staff["clerk"])
    assert old.status == "verified"  # stays until the new one is verified
    kyc.verify_document(new, by=staff["manager"])
    assert old.status == "superseded" and kyc.current_documents(member) == [new]


def test_bad_uploads_are_refused_and_nothing_is_stored(staff, app, tmp_path):
    member = members.register(member_data(1), by=staff["clerk"])
    uow.commit()
    with pytest.raises(ValidationError, match="Windows program") as info:
        kyc.upload_document(member, "pan", b"MZ\x90\x00" + b"\x00" * 200, filename="pan.pdf", by=staff["clerk"])
    assert info.value.field == "file"
    with pytest.raises(ValidationError, match=r"larger than the 5\.0 MB limit"):
        kyc.upload_document(member, "pan", b"%PDF-" + b"0" * (5 * 1024 * 1024), filename="big.pdf", by=staff["clerk"])
    with pytest.raises(ValidationError, match="Choose the document type") as info:
        kyc.upload_document(member, "passport", PDF, filename="x.pdf", by=staff["clerk"])
    assert info.value.field == "doc_type"
    db.session.rollback()
    assert member.documents == []
    docs = tmp_path / "docs"
    # The audit chain's keyed checkpoints share the storage (audit-anchors/); no KYC document may be there.
    stored = [p for p in docs.rglob("*") if p.is_file() and "audit-anchors" not in p.parts] if docs.exists() else []
    assert stored == []


def test_closed_memberships_take_no_documents(staff):
    member = members.register(member_data(1), by=staff["clerk"])
    members.change_status(member, "resigned", by=staff["clerk"], reason="Application withdrawn")
    with pytest.raises(ValidationError, match="resigned"):
        kyc.upload_document(member, "photo", PNG, filename="p.png", by=staff["clerk"])


# ---------------------------------------------------------------- editing identity details (maker-checker)


def test_whoever_changes_identity_details_cannot_check_the_kyc(staff):
    clerk, manager, manager2 = staff["clerk"], staff["manager"], staff["manager2"]
    member = members.register(member_data(1), by=clerk)
    upload_all(member, clerk)
    uow.commit()
    assert manager.id not in kyc.makers(member)

    # The manager corrects the name and Aadhaar of the pending applicant; the clerk submits.
    members.update(member, {"name": "Sunita Ramesh Pawar", "aadhaar": aadhaar(41)}, by=manager)
    kyc.submit(member, by=clerk)
    uow.commit()
    edit = db.session.scalars(select(AuditLog).where(AuditLog.action == "member.update")).one()
    assert edit.after["edited_by_id"] == manager.id
    assert edit.after["kyc_fields_changed"] == ["name", "aadhaar"]
    assert manager.id in kyc.makers(member)
    with pytest.raises(PermissionDenied, match="changed its identity details"):
        kyc.approve(member, checker=manager, verify_pending=True)
    with pytest.raises(PermissionDenied, match="different officer"):
        kyc.verify_document(kyc.current_documents(member)[0], by=manager)
    db.session.rollback()
    assert member.kyc_status == "submitted"
    assert {d.status for d in kyc.current_documents(member)} == {"pending"}

    # Changing details that are not part of the KYC does not make a maker.
    members.update(member, {"occupation": "Tailor", "email": "s@example.in"}, by=manager2)
    assert manager2.id not in kyc.makers(member) and member.kyc_status == "submitted"
    kyc.approve(member, checker=manager2, verify_pending=True)
    uow.commit()
    assert member.kyc_status == "approved" and member.kyc_approved_by_id == manager2.id

    # The decision closes the window; a new identity change after it makes a new maker.
    assert manager.id not in kyc.makers(member)
    members.update(member, {"address_line": "22, Market Yard"}, by=manager2)
    kyc.upload_document(member, "address_proof", JPEG, filename="bill.jpg", by=clerk)
    kyc.submit(member, by=clerk)
    uow.commit()
    assert manager2.id in kyc.makers(member) and manager.id not in kyc.makers(member)
    with pytest.raises(PermissionDenied, match="changed its identity details"):
        kyc.approve(member, checker=manager2, verify_pending=True)
    db.session.rollback()
    kyc.approve(member, checker=manager, verify_pending=True)
    uow.commit()
    assert member.kyc_status == "approved" and member.kyc_approved_by_id == manager.id


def test_an_identity_edit_recorded_by_a_staff_actor_counts_without_the_explicit_fields(staff, app):
    """Older member.update audit rows (before the editor was recorded) still name their staff actor."""
    from app.services.common import Actor, acting_as, audit

    clerk, manager = staff["clerk"], staff["manager"]
    member = members.register(member_data(1), by=clerk)
    before = members.snapshot(member)
    with acting_as(Actor(type="staff", id=manager.id, name=manager.username, role="manager")):
        audit.record("member.update", "member", member.member_no, before=before, after={**before, "name": "X Y"})
    assert manager.id in kyc.makers(member)


def test_identity_changes_send_verified_documents_back_for_review(staff):
    clerk, manager, manager2 = staff["clerk"], staff["manager"], staff["manager2"]
    member = ready_member(clerk, manager)
    assert {d.doc_type: d.status for d in kyc.current_documents(member)} == dict.fromkeys(
        ("photo", "signature", "pan", "aadhaar"), "verified"
    )

    # A new address: the Aadhaar copy shows the old one, so it goes back to pending review.
    members.update(member, {"address_line": "22, Market Yard"}, by=clerk)
    uow.commit()
    docs = {d.doc_type: d for d in kyc.current_documents(member)}
    assert {t: d.status for t, d in docs.items()} == {
        "photo": "verified", "signature": "verified", "pan": "verified", "aadhaar": "pending"
    }  # fmt: skip
    assert docs["aadhaar"].reviewed_by_id is None and member.kyc_status == "pending"
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "member.update")).one()
    assert row.after["documents_reset"] == [
        {"document_id": docs["aadhaar"].id, "doc_type": "aadhaar", "status": "pending"}
    ]

    # A new PAN: the old PAN card is superseded; a fresh copy is needed before approval.
    old_pan = docs["pan"]
    members.update(member, {"pan": pan(41)}, by=clerk)
    assert old_pan.status == "superseded" and old_pan not in kyc.current_documents(member)
    assert kyc.missing(member) == ["PAN card"]
    with pytest.raises(ValidationError, match="missing: PAN card"):
        kyc.approve(member, checker=manager2, verify_pending=True)
    db.session.rollback()

    # A new name: every verified document that shows the name goes back to review.
    member = members.get(member.member_no)
    members.update(member, {"name": "Sunita Ramesh Pawar"}, by=clerk)
    assert {d.doc_type: d.status for d in kyc.current_documents(member)} == {
        "photo": "verified", "signature": "verified", "pan": "pending", "aadhaar": "pending"
    }  # fmt: skip
    kyc.submit(member, by=clerk)
    with pytest.raises(ValidationError, match="still pending: "):
        kyc.approve(member, checker=manager2)
    for doc in kyc.current_documents(member):
        if doc.status == "pending":
            kyc.verify_document(doc, by=manager2)
    kyc.approve(member, checker=manager2)
    uow.commit()
    assert member.kyc_status == "approved"


def test_the_form60_box_is_a_declaration_and_only_a_verified_form60_counts(staff):
    clerk, manager = staff["clerk"], staff["manager"]
    member = members.register(member_data(1, pan="", form60=True), by=clerk)
    uow.commit()
    assert member.form60_on_file is False and not members.has_pan_or_form60(member)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "member.register")).one()
    assert row.after["form60_declared"] is True and row.after["form60_on_file"] is False
    members.update(member, {"form60": True, "occupation": "Tailor"}, by=clerk)
    assert member.form60_on_file is False

    (form60,) = upload_all(member, clerk, kinds=("form60",))
    kyc.verify_document(form60, by=manager)
    assert member.form60_on_file is True and members.has_pan_or_form60(member)
    # Unticking the box on a later edit never undoes a verified Form 60.
    members.update(member, {"form60": False, "occupation": "Farmer"}, by=clerk)
    uow.commit()
    assert member.form60_on_file is True
