"""The counter's account card: each holder's verified photo and specimen signature (through the
authorised document route), the nominee and the mode of operation."""

from __future__ import annotations

from app.extensions import db
from app.models.deposits import AccountHolder
from app.services.common import uow
from tests.conftest import PASSWORD, login_as, new_account
from tests.helpers.members import ready_member

HX = {"HX-Request": "true"}


def test_card_shows_verified_photo_and_signature_of_each_holder(app, client, make_user, books):
    clerk, manager = make_user("clerk"), make_user("manager")
    make_user("cashier")
    first = ready_member(clerk, manager, 1)
    second = ready_member(clerk, manager, 2)
    account = new_account()
    account.member_id = first.id
    db.session.add(AccountHolder(account_id=account.id, member_id=second.id, position=2))
    uow.commit()
    login_as(client, "cashier_user", PASSWORD)
    html = client.get(f"/teller/account-card?account_no={account.account_no}", headers=HX).get_data(as_text=True)
    assert "Joint (2 holders)" in html
    for member in (first, second):
        photo = next(d for d in member.documents if d.doc_type == "photo")
        sign = next(d for d in member.documents if d.doc_type == "signature")
        assert f'src="/staff/members/{member.member_no}/specimens/{photo.id}"' in html
        assert f'src="/staff/members/{member.member_no}/specimens/{sign.id}"' in html
        assert f"Specimen signature of {member.name}" in html
        image = client.get(f"/staff/members/{member.member_no}/specimens/{photo.id}")
        assert image.status_code == 200 and image.mimetype == "image/png"
        other = next(d for d in member.documents if d.doc_type == "pan")
        assert client.get(f"/staff/members/{member.member_no}/specimens/{other.id}").status_code == 404
        assert client.get(f"/staff/members/{member.member_no}/documents/{photo.id}").status_code == 403
