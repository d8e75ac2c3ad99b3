"""Members: registration, identity storage, duplicates, minors, nominees, status history,
member numbers (also concurrently on PostgreSQL), re-KYC dates and eligibility helpers.

The helpers at the top (``aadhaar``, ``member_data``, ``ready_member`` ...) are shared by the
other member test modules.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text

from app import crypto
from app.extensions import db
from app.models.audit import AuditLog
from app.models.members import Member, MemberStatusChange
from app.models.users import Branch
from app.services import members
from app.services.common import SYSTEM, ValidationError, acting_as, uow
from tests.helpers.members import aadhaar, member_data, pan, ready_member


@pytest.fixture
def staff(app, make_user):
    return {role: make_user(role) for role in ("clerk", "manager", "cashier", "admin")}


def admit_in_cash(member, staff):
    """Admit with the fee and 10 shares paid in cash at the cashier's drawer."""
    from app.services.counter import teller
    from app.services.members import shares

    if teller.current_drawer(staff["cashier"]) is None:
        teller.open_drawer(staff["cashier"], 0)
    return shares.admit(member, shares=10, mode="cash", by=staff["cashier"])


# ---------------------------------------------------------------- registration


def test_register_creates_an_applicant_with_pending_kyc_and_history(books, staff):
    member = members.register(member_data(1), by=staff["clerk"])
    uow.commit()
    assert member.member_no == "M000001"
    assert (member.status, member.kyc_status, member.mobile) == ("applicant", "pending", "9800000001")
    assert member.created_by_id == staff["clerk"].id
    assert member.aadhaar_last4 == aadhaar(1)[-4:]
    assert member.aadhaar_masked == f"XXXX XXXX {aadhaar(1)[-4:]}"
    assert member.pan_masked == pan(1)[:2] + "XXXXX" + pan(1)[7:]
    assert [(n.name, n.share_bp) for n in member.nominees] == [("Ramesh Patil", 10000)]
    (change,) = member.status_history
    assert (change.from_status, change.to_status, change.effective_on) == (None, "applicant", date(2026, 4, 1))
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "member.register"))
    assert row.entity_id == member.member_no and row.after["aadhaar_last4"] == aadhaar(1)[-4:]
    assert row.actor_type == "system" or row.actor_id is not None


def test_member_numbers_use_the_branch_prefix_and_a_counter(app, staff):
    ho = Branch(code="HO", name="Head Office")
    kr = Branch(code="KRD", name="Karad")
    db.session.add_all([ho, kr])
    db.session.flush()
    a = members.register(member_data(1), by=staff["clerk"], branch_id=ho.id)
    b = members.register(member_data(2), by=staff["clerk"], branch_id=kr.id)
    c = members.register(member_data(3), by=staff["clerk"], branch_id=ho.id)
    assert [a.member_no, b.member_no, c.member_no] == ["HO000001", "KRD000001", "HO000002"]


def test_aadhaar_is_stored_only_encrypted_and_found_by_keyed_hash(app, staff):
    number = aadhaar(7)
    member = members.register(member_data(7), by=staff["clerk"])
    uow.commit()
    assert member.aadhaar_enc != number and number not in member.aadhaar_enc
    assert crypto.decrypt(member.aadhaar_enc) == number  # round trip
    assert member.aadhaar_hash == crypto.lookup_hash(number) != number
    assert members.find_by_aadhaar(number[:4] + " " + number[4:8] + " " + number[8:]).id == member.id

    # Scan every stored row of the members table, the audit log and the outbox as text.
    for table in ("members", "audit_log", "notifications", "member_status_changes"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            flat = " ".join(str(value) for value in row)
            assert number not in flat, f"plain Aadhaar found in {table}"
            assert f"{number[:4]} {number[4:8]}" not in flat


def test_a_different_key_cannot_read_the_aadhaar(app, staff):
    member = members.register(member_data(8), by=staff["clerk"])
    app.config["FIELD_ENCRYPTION_KEY"] = "X" * 43 + "="
    with pytest.raises(ValueError, match="cannot decrypt"):
        crypto.decrypt(member.aadhaar_enc)


def test_every_field_error_is_reported_at_once_and_nothing_is_saved(app, staff):
    bad = member_data(
        1,
        name="",
        aadhaar="234123412347",  # wrong check digit
        mobile="5876543210",
        pin="022001",
        pan="ABCXE1234F",
        gender="",
        state="",
    )
    with pytest.raises(ValidationError) as info:
        members.register(bad, by=staff["clerk"])
    errors = info.value.errors
    assert set(errors) == {"name", "aadhaar", "mobile", "pin", "pan", "gender", "state"}
    assert "check digit" in errors["aadhaar"][0]
    assert "starts with 6, 7, 8 or 9" in errors["mobile"][0]
    assert "cannot start with 0" in errors["pin"][0]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_duplicate_aadhaar_and_pan_are_field_errors(app, staff):
    first = members.register(member_data(1), by=staff["clerk"])
    uow.commit()
    with pytest.raises(ValidationError) as info:
        members.register(member_data(2, aadhaar=aadhaar(1), pan=pan(1).lower()), by=staff["clerk"])
    assert info.value.errors["aadhaar"] == [f"This Aadhaar number is already registered to member {first.member_no}."]
    assert info.value.errors["pan"] == [f"This PAN is already registered to member {first.member_no}."]
    db.session.rollback()
    # The public self-registration wording does not reveal the member number.
    with pytest.raises(ValidationError) as info:
        members.register(member_data(3, aadhaar=aadhaar(1)), by=None, self_registered=True)
    assert first.member_no not in info.value.errors["aadhaar"][0]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_a_minor_needs_a_guardian(books, staff):
    minor = member_data(1, date_of_birth="2010-04-02", pan="", nominees=[])  # 15 on 01-04-2026
    with pytest.raises(ValidationError) as info:
        members.register(minor, by=staff["clerk"])
    assert "needs a guardian" in info.value.errors["guardian_name"][0]
    assert "guardian_relation" in info.value.errors
    db.session.rollback()
    member = members.register({**minor, "guardian_name": "Ramesh Patil", "guardian_relation": "father"}, by=None)
    assert member.guardian_name == "Ramesh Patil"
    assert members.is_minor(member) and not members.is_senior_citizen(member)
    # On the 18th birthday the member is no longer a minor.
    assert not members.is_minor(member, on=date(2028, 4, 2))


def test_nominee_shares_must_total_100_and_minor_nominees_need_a_guardian(app, staff):
    rows = [
        {"name": "Ramesh Patil", "relationship": "husband", "share_percent": "60"},
        {"name": "Aarav Patil", "relationship": "son", "share_percent": "30", "date_of_birth": "2015-01-01"},
    ]
    with pytest.raises(ValidationError) as info:
        members.register(member_data(1, nominees=rows), by=staff["clerk"])
    problems = info.value.errors["nominees"]
    assert any("Nominee 2" in p and "minor" in p for p in problems)
    db.session.rollback()
    rows[1]["guardian_name"] = "Ramesh Patil"
    with pytest.raises(ValidationError, match=r"add up to 90\.00%"):
        members.register(member_data(1, nominees=rows), by=staff["clerk"])
    db.session.rollback()
    rows[1]["share_percent"] = "40"
    rows.append({"name": "", "relationship": "", "share_percent": ""})  # a blank form row is ignored
    member = members.register(member_data(1, nominees=rows), by=staff["clerk"])
    assert [(n.name, n.share_bp, n.guardian_name) for n in member.nominees] == [
        ("Ramesh Patil", 6000, None),
        ("Aarav Patil", 4000, "Ramesh Patil"),
    ]
    members.set_nominees(member, [{"name": "Asha Patil", "relationship": "daughter", "share_percent": "33.34"},
                                  {"name": "Usha Patil", "relationship": "daughter", "share_percent": "66.66"}], by=staff["clerk"])  # fmt: skip
    assert sorted(n.share_bp for n in member.nominees) == [3334, 6666]


def test_update_after_kyc_approval_sends_kyc_back_for_identity_changes(books, staff):
    member = ready_member(staff["clerk"], staff["manager"])
    members.update(member, {"occupation": "Milk collection centre", "email": "new@example.in"}, by=staff["clerk"])
    assert member.kyc_status == "approved"  # no identity change
    members.update(member, {"address_line": "22, Market Yard"}, by=staff["clerk"])
    assert member.kyc_status == "pending"
    row = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "member.update").order_by(AuditLog.id.desc())
    ).first()
    assert row.before["kyc_status"] == "approved" and row.after["kyc_status"] == "pending" and row.after["kyc_reset"]


def test_a_new_mobile_moves_the_portal_login_which_must_be_proven_again(books, staff):
    from app.models.members import MemberLogin, MemberOtp
    from app.services.access import member_auth

    member = ready_member(staff["clerk"], staff["manager"])
    login = member_auth.create_login(member, "Khet-2026-Sinnar")
    other = members.register(member_data(2), by=staff["clerk"])
    member_auth.create_login(other, "Khet-2026-Sinnar")
    old_otp = member_auth.issue_otp(login, "login")
    uow.commit()
    assert login.verified_at is not None

    # Another member's login already uses the number: a field error, nothing changes.
    with pytest.raises(ValidationError) as info:
        members.update(member, {"mobile": other.mobile, "occupation": "Tailor"}, by=staff["clerk"])
    assert info.value.errors == {"mobile": ["Another member's online login already uses this mobile number."]}
    db.session.rollback()
    assert (member.mobile, login.mobile, member.occupation) == ("9800000001", "9800000001", "Dairy farmer")

    members.update(member, {"mobile": "+91 91234 56789"}, by=staff["clerk"])
    uow.commit()
    assert member.mobile == login.mobile == "9123456789"
    assert login.verified_at is None  # the next sign-in code proves the new number
    assert old_otp.consumed_at is not None  # a code sent to the old number no longer works
    assert member_auth.find_login("9800000001") is None and member_auth.find_login("9123456789") == login
    assert member_auth.authenticate("9123456789", "Khet-2026-Sinnar") == login
    member_auth.issue_otp(login, "login")
    from app.models.members import Notification

    last = db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert last.recipient == "9123456789"
    moved = db.session.scalars(select(AuditLog).where(AuditLog.action == "member.login_mobile_changed")).one()
    assert moved.entity_id == member.member_no
    assert moved.before == {"mobile": "XXXXXX0001", "verified": True}
    assert moved.after == {"mobile": "XXXXXX6789", "verified": False, "login_id": login.id}
    assert db.session.scalar(select(func.count()).select_from(MemberLogin)) == 2
    assert db.session.scalar(select(func.count()).select_from(MemberOtp).where(MemberOtp.consumed_at.is_(None))) == 1


def test_a_self_registration_losing_the_mobile_race_gets_the_field_error(books, monkeypatch):
    """The unique index catches what the pre-check missed (the other registration committed in
    between): the loser gets the mobile field error, not a 500, and its savepoint is undone."""
    from app.models.members import MemberLogin
    from app.services.access import member_auth

    first = members.register(member_data(1, mobile="9811111111"), by=None, self_registered=True)
    uow.commit()
    original = members.register

    def register_while_the_other_wins(*args, **kwargs):
        member = original(*args, **kwargs)
        db.session.add(MemberLogin(member_id=first.id, mobile="9811111111", password_hash="x"))
        db.session.flush()  # the concurrent registration's login, after our pre-check passed
        return member

    monkeypatch.setattr(members, "register", register_while_the_other_wins)
    with pytest.raises(ValidationError) as info:
        member_auth.self_register(member_data(2, mobile="9811111111"), "Khet-2026-Sinnar")
    assert info.value.errors == {"mobile": [member_auth.MOBILE_TAKEN]}
    assert db.session.scalar(select(func.count()).select_from(MemberLogin)) == 1  # the session still works
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_status_changes_follow_the_rules_and_keep_a_dated_history(books, staff):

    member = ready_member(staff["clerk"], staff["manager"])
    with pytest.raises(ValidationError, match="only on admission"):
        members.change_status(member, "active", by=staff["clerk"], reason="x")
    admit_in_cash(member, staff)
    uow.commit()
    with pytest.raises(ValidationError, match="reason"):
        members.change_status(member, "inactive", by=staff["clerk"], reason=" ")
    with pytest.raises(ValidationError, match="future"):
        members.change_status(member, "inactive", by=staff["clerk"], reason="x", effective_on=date(2026, 4, 2))
    with pytest.raises(ValidationError, match="share refund"):
        members.change_status(member, "resigned", by=staff["clerk"], reason="Leaving")
    members.change_status(member, "inactive", by=staff["clerk"], reason="No transactions")
    with pytest.raises(ValidationError, match="before the member joined"):
        members.change_status(member, "deceased", by=staff["clerk"], reason="x", effective_on=date(2026, 3, 30))
    members.change_status(
        member, "deceased", by=staff["clerk"], reason="Death certificate", effective_on=date(2026, 4, 1)
    )
    with pytest.raises(ValidationError, match="record is closed"):
        members.change_status(member, "active", by=staff["clerk"], reason="x")
    uow.commit()
    history = [(c.from_status, c.to_status, c.effective_on) for c in db.session.scalars(
        select(MemberStatusChange).where(MemberStatusChange.member_id == member.id).order_by(MemberStatusChange.id))]  # fmt: skip
    assert history == [
        (None, "applicant", date(2026, 4, 1)),
        ("applicant", "active", date(2026, 4, 1)),
        ("active", "inactive", date(2026, 4, 1)),
        ("inactive", "deceased", date(2026, 4, 1)),
    ]
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action == "member.status")).all()
    assert len(actions) == 3


def test_rekyc_due_dates_by_risk_and_the_due_list(books, staff, app):
    low = ready_member(staff["clerk"], staff["manager"], 1)
    high = ready_member(staff["clerk"], staff["manager"], 2, kyc_risk="high")
    medium = ready_member(staff["clerk"], staff["manager"], 3, kyc_risk="medium")
    assert low.rekyc_due_on == date(2036, 4, 1)
    assert high.rekyc_due_on == date(2028, 4, 1)
    assert medium.rekyc_due_on == date(2034, 4, 1)
    app.config["REKYC_YEARS_HIGH"] = 1
    members.set_risk(medium, "high", by=staff["manager"])
    assert medium.rekyc_due_on == date(2027, 4, 1)
    assert members.kyc_due(date(2026, 4, 1)) == []
    due = members.kyc_due(date(2027, 3, 1), within_days=60)
    assert [(d.member.member_no, d.expired, d.days) for d in due] == [(medium.member_no, False, 31)]
    due = members.kyc_due(date(2028, 4, 2), within_days=0)
    assert [(d.member.member_no, d.expired) for d in due] == [(medium.member_no, True), (high.member_no, True)]
    assert not members.kyc_current(high, on=date(2028, 4, 2))
    assert members.kyc_current(high, on=date(2028, 4, 1))


def test_eligibility_helpers_for_other_domains(books, staff):

    member = ready_member(staff["clerk"], staff["manager"], date_of_birth="1960-01-01", pan="")
    assert not members.is_eligible_for_accounts(member)
    assert "applicant" in members.eligibility_problem(member)
    with pytest.raises(ValidationError, match="admit the member") as info:
        members.ensure_eligible_for_accounts(member)
    assert info.value.field == "member_no"
    admit_in_cash(member, staff)
    assert members.is_eligible_for_accounts(member)
    assert members.is_senior_citizen(member)
    assert not members.has_pan(member)
    assert members.has_pan_or_form60(member)  # Form 60 verified with the KYC
    member.rekyc_due_on = date(2026, 3, 31)
    assert "expired on 31-03-2026" in members.eligibility_problem(member)
    assert [a.kind for a in members.member_accounts(member)] == ["share"]
    assert members.get(member.member_no.lower()).id == member.id


def test_search_by_name_number_mobile_and_pan(app, staff):
    a = members.register(member_data(1, name="Sunita Patil"), by=staff["clerk"])
    b = members.register(member_data(2, name="Manjunath Gowda", mobile="9448012345"), by=staff["clerk"])
    uow.commit()

    def found(q, **kw):
        return [m.member_no for m in db.session.scalars(members.search(q, **kw))]

    assert found("patil") == [a.member_no]
    assert found("M000002") == [b.member_no]
    assert found("2") == [b.member_no]  # number without prefix and zeros
    assert found("94480") == [b.member_no]
    assert found(pan(1)) == [a.member_no]
    assert a.pan_masked == "BAXXXXX01Z"
    assert found(a.pan_masked) == [a.member_no]  # the masked form shown in lists
    assert found(a.pan_masked.lower()) == [a.member_no]
    assert found(pan(1)[-4:]) == [a.member_no] == found("001z")  # the last four characters
    assert found(b.pan_masked) == [b.member_no] and found("XXXXX01Z") == []
    assert found("100%") == []  # wildcards are literal
    assert found(None, status="applicant", kyc_status="pending") == [b.member_no, a.member_no]


# ---------------------------------------------------------------- PostgreSQL: concurrency


def at_once(pg_app, threads: int, work) -> list:
    """Run ``work(t)`` in ``threads`` threads released together, each in its own app context
    and session; return what each returned (or the exception it raised), in no order."""
    barrier = threading.Barrier(threads)
    results: list = []
    lock = threading.Lock()

    def run(t: int) -> None:
        with pg_app.app_context(), acting_as(SYSTEM):
            barrier.wait(timeout=10)
            try:
                result = work(t)
            except BaseException as exc:  # noqa: BLE001
                db.session.rollback()
                result = exc
            db.session.remove()
            with lock:
                results.append(result)

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=60)
    assert len(results) == threads, "a thread did not finish"
    return results


@pytest.mark.postgres
def test_concurrent_registrations_get_unique_consecutive_numbers(pg_app):
    threads, per_thread = 8, 4

    def work(t: int) -> list[str]:
        numbers = []
        for i in range(per_thread):
            numbers.append(members.register(member_data(100 + t * per_thread + i), by=None).member_no)
            uow.commit()
        return numbers

    results = at_once(pg_app, threads, work)
    assert not [r for r in results if isinstance(r, BaseException)], results
    numbers = [n for r in results for n in r]
    assert len(numbers) == threads * per_thread == len(set(numbers))
    assert sorted(numbers) == [f"M{i:06d}" for i in range(1, threads * per_thread + 1)]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Member)) == threads * per_thread


@pytest.mark.postgres
def test_concurrent_duplicate_aadhaar_registers_once(pg_app):
    threads = 6

    def work(t: int) -> str:
        members.register(member_data(200 + t, aadhaar=aadhaar(999), pan=""), by=None)
        uow.commit()
        return "ok"

    outcomes = [
        r
        if isinstance(r, str)
        else ("aadhaar" if isinstance(r, ValidationError) and "aadhaar" in r.errors else repr(r))
        for r in at_once(pg_app, threads, work)
    ]
    assert sorted(outcomes) == ["aadhaar"] * (threads - 1) + ["ok"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_today_falls_back_to_the_calendar_date(app):
    assert members.today() == date.today()


# ---------------------------------------------------------------- the notification outbox


def test_outbox_inline_delivery_marks_messages_sent(app):
    import logging

    from app.models.members import Notification
    from app.services.common import notifications

    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("app.services.common.notifications")
    handler, old_level, old_disabled = Collect(level=logging.INFO), logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.disabled = False  # alembic's fileConfig (migration tests) disables existing loggers
    try:
        notifications.sms("9876543210", "otp_login", "123456 is your code")
        uow.commit()
        assert db.session.scalar(select(Notification)).status == "queued"
        notifications.dispatch()  # no REDIS_URL: runs now
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.disabled = old_disabled
    row = db.session.scalar(select(Notification))
    assert row.status == "sent" and row.sent_at is not None
    text = " | ".join(records)
    assert "queued" in text and "sent by sms to XXXXXX3210: 123456 is your code" in text
    assert "9876543210" not in text
    with pytest.raises(ValueError, match="channel"):
        notifications.queue("fax", "x", "t", "b")


def test_a_code_is_delivered_but_not_kept_in_the_outbox_once_sent(app, monkeypatch):
    from app.models.members import Notification
    from app.services.common import notifications

    delivered: list[str] = []
    monkeypatch.setattr(notifications, "deliver", lambda row, text: delivered.append(text))
    notifications.sms("9876543210", "otp_login", f"{notifications.secret('482913')} is your code. Never share it.")
    uow.commit()
    notifications.dispatch()
    assert delivered == ["482913 is your code. Never share it."]
    db.session.expire_all()
    row = db.session.scalar(select(Notification))
    assert row.status == "sent" and row.body == "[code removed] is your code. Never share it."
    flat = " ".join(str(v) for v in db.session.execute(text("SELECT * FROM notifications")).one())
    assert "482913" not in flat


@pytest.mark.postgres
def test_concurrent_self_registrations_with_one_mobile_create_one_login(pg_app):
    from app.services.access import member_auth

    threads = 5

    def work(t: int) -> str:
        member_auth.self_register(member_data(400 + t, mobile="9822222222"), "Khet-2026-Sinnar")
        uow.commit()
        return "ok"

    outcomes = [
        r
        if isinstance(r, str)
        else ("mobile" if isinstance(r, ValidationError) and set(r.errors) == {"mobile"} else repr(r))
        for r in at_once(pg_app, threads, work)
    ]
    assert sorted(outcomes) == ["mobile"] * (threads - 1) + ["ok"], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


@pytest.mark.redis
def test_outbox_job_runs_on_the_notifications_queue(app, redis_url):
    from rq import Queue, SimpleWorker

    from app.jobs import redis_connection
    from app.models.members import Notification
    from app.services.common import notifications

    app.config["REDIS_URL"] = redis_url
    notifications.sms("9876543210", "otp_login", "123456 is your code")
    uow.commit()
    notifications.dispatch()
    connection = redis_connection()
    queue = Queue("notifications", connection=connection)
    assert queue.count == 1
    assert db.session.scalar(select(Notification)).status == "queued"
    import signal

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        SimpleWorker([queue], connection=connection).work(burst=True)
    finally:  # the worker installs its own signal handlers; give the test runner its own back
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    db.session.expire_all()
    assert db.session.scalar(select(Notification)).status == "sent"
