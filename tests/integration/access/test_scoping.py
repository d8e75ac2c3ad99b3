"""access.scoping: staff see every member's data, a member only their own — and "not yours"
is refused exactly like "not there" (same error, same message)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.deposits import AccountHolder
from app.models.members import MemberLogin
from app.services import access, deposits
from app.services.access import tokens
from app.services.common import NotFound, ValidationError, uow
from tests.conftest import new_account
from tests.deposit_helpers import member, open_sb


@pytest.fixture
def dep(books):
    deposits.seed_products()
    uow.commit()
    return books


@pytest.fixture
def pair(dep, make_user):
    me, other = member(mobile="9811111111"), member(name="Someone Else", mobile="9822222222")
    mine, theirs = open_sb(me, 1_000_00), open_sb(other, 2_000_00)
    shared = open_sb(other, 500_00)
    db.session.add(AccountHolder(account_id=shared.id, member_id=me.id, position=2))  # me: joint holder
    uow.commit()
    clerk = make_user("clerk", username="scope_clerk")
    return {"me": me, "other": other, "mine": mine, "theirs": theirs, "shared": shared, "clerk": clerk}


def _refusal(call) -> str:
    with pytest.raises(NotFound) as caught:
        call()
    return caught.value.message


def test_member_subjects_in_every_shape_mean_the_same_member(pair):
    me = pair["me"]
    login = MemberLogin(member_id=me.id, mobile=me.mobile)
    token_subject = tokens.Subject(kind="member", id=me.id, role="member", name=me.member_no, entity=me)
    assert access.member_id_of(me) == access.member_id_of(login) == access.member_id_of(token_subject) == me.id
    staff_subject = tokens.Subject(kind="staff", id=pair["clerk"].id, role="clerk", name="c", entity=pair["clerk"])
    assert access.member_id_of(pair["clerk"]) is None and access.member_id_of(staff_subject) is None
    with pytest.raises(NotFound):
        access.member_id_of(object())  # neither staff nor member: sees nothing


def test_a_member_sees_their_own_and_joint_accounts_only(pair):
    me = pair["me"]
    assert access.visible_account(me, pair["mine"].account_no.lower()).id == pair["mine"].id
    assert access.visible_account(me, pair["shared"].account_no).id == pair["shared"].id
    assert [a.account_no for a in access.visible_accounts(me)] == [pair["mine"].account_no, pair["shared"].account_no]
    not_yours = _refusal(lambda: access.visible_account(me, pair["theirs"].account_no))
    assert not_yours == f"No account {pair['theirs'].account_no!r}."
    not_there = _refusal(lambda: access.visible_account(me, "SB99999999"))
    assert not_there == "No account 'SB99999999'."


def test_staff_see_every_members_accounts_but_must_name_the_member(pair):
    clerk, other = pair["clerk"], pair["other"]
    assert access.visible_account(clerk, pair["theirs"].account_no).id == pair["theirs"].id
    assert [a.id for a in access.visible_accounts(clerk, member=other)] == [pair["theirs"].id, pair["shared"].id]
    with pytest.raises(ValidationError):
        access.visible_accounts(clerk)


def test_members_and_profiles(pair):
    me, other, clerk = pair["me"], pair["other"], pair["clerk"]
    assert access.visible_member(me, me.member_no).id == me.id
    assert access.visible_member(clerk, other.member_no).id == other.id
    assert _refusal(lambda: access.visible_member(me, other.member_no)) == f"No member {other.member_no!r}."
    assert _refusal(lambda: access.visible_member(me, "M999999")) == "No member 'M999999'."
    assert access.own_member(me).id == me.id
    with pytest.raises(NotFound):
        access.own_member(clerk)


def test_entries_scope_follows_the_same_rules(pair):
    me, other, clerk = pair["me"], pair["other"], pair["clerk"]
    own = access.visible_entries(me)
    assert [a.id for a in own.accounts] == [pair["mine"].id, pair["shared"].id] and not own.single
    one = access.visible_entries(me, account_no=pair["mine"].account_no)
    assert one.single and one.accounts[0].id == pair["mine"].id
    assert _refusal(lambda: access.visible_entries(me, member_no=other.member_no))
    assert _refusal(lambda: access.visible_entries(me, account_no=pair["theirs"].account_no))
    staff_view = access.visible_entries(clerk, member_no=other.member_no)
    assert [a.id for a in staff_view.accounts] == [pair["theirs"].id, pair["shared"].id]
    with pytest.raises(ValidationError):
        access.visible_entries(clerk)


def test_loans_are_member_accounts_of_kind_loan(pair):
    me, other = pair["me"], pair["other"]
    loan = new_account("loan")
    loan.member_id = me.id
    theirs = new_account("loan")
    theirs.member_id = other.id
    uow.commit()
    assert access.visible_loan(me, loan.account_no).id == loan.id
    assert access.visible_loan(pair["clerk"], theirs.account_no).id == theirs.id
    assert _refusal(lambda: access.visible_loan(me, theirs.account_no)) == f"No account {theirs.account_no!r}."
    # a savings account is not a loan, even when it is the member's own
    assert _refusal(lambda: access.visible_loan(me, pair["mine"].account_no))
