"""The API fuzzer: schemathesis against the app on PostgreSQL, every operation, staff and member.

For each operation of /api/v1/openapi.json it sends generated requests, valid ones and ones
that break the schema, with a staff token and with a member token, and fails on any 5xx, any
status code the document does not list, a wrong content type or a body that does not match
the declared schema. The society is the demo seed (staff per role, members in every state,
deposits, an open day). Bounded and derandomized (``FUZZ_EXAMPLES`` per operation, mode and
token; default 8) so it runs in CI in a few minutes and fails the same way every time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import traceback
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.models.members import Member
from app.services.access import member_auth, staff_auth, tokens
from app.services.common import uow

pytestmark = pytest.mark.postgres

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
STAFF_ROLE = "manager"
SENT: dict[int, int] = {}  # responses by status class, printed at the end (pytest -s)


class _Tracebacks(logging.Handler):
    """Keeps the traceback the error handler logs for a 500, to name the failing line."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.last = "".join(traceback.format_exception(*record.exc_info)[-3:])


TRACEBACKS = _Tracebacks()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations that end the session the tokens belong to are fuzzed without a token of ours
# (random refresh tokens: nothing of ours to revoke), so they need no exclusion.


def _society() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The demo society, a staff and a member token, and path parameters that exist.

    The member is the holder of the first savings account, so the real-path runs read the
    member's own account (and a staff user's view of the same rows).
    """
    from app.demo import seed

    seed(date(2026, 4, 1))
    account = db.session.scalar(
        select(Account).where(Account.member_id.is_not(None), Account.kind == "savings").order_by(Account.id).limit(1)
    )
    member = db.session.get(Member, account.member_id)
    login = member_auth.login_for_member(member) or member_auth.create_login(member, "Member-Pass-123")
    staff_pair = tokens.issue_pair(tokens.staff_subject(staff_auth.find_by_username(STAFF_ROLE)))
    member_pair = tokens.issue_pair(member_auth.subject_for(login))
    uow.commit()
    headers = {
        "staff": {"Authorization": f"Bearer {staff_pair.access_token}"},
        "member": {"Authorization": f"Bearer {member_pair.access_token}"},
    }
    real = {"account_no": account.account_no, "member_no": member.member_no}
    entry_id = db.session.scalar(select(JournalEntry.id).order_by(JournalEntry.id).limit(1))
    if entry_id is not None:
        real["entry_no"] = f"JE{entry_id:08d}"
    return headers, real


def _fuzz(operation, headers: dict[str, str], mode: GenerationMode, path: dict[str, str] | None = None) -> list[str]:
    problems: list[str] = []
    strategy = (
        operation.as_strategy(generation_mode=mode, path_parameters=path)
        if path
        else operation.as_strategy(generation_mode=mode)
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        response = case.call(headers=headers)
        SENT[response.status_code // 100] = SENT.get(response.status_code // 100, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # a Failure, or a FailureGroup of several
            first = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
            where = f"\n    {TRACEBACKS.last.strip()[-600:]}" if response.status_code >= 500 else ""
            problems.append(
                f"{operation.label} [{mode.value}] {response.status_code}: {' / '.join(first[:4]) or type(exc).__name__}"
                f"\n    {case.as_curl_command()[:300]}{where}"
            )
        finally:
            db.session.rollback()  # a view that failed must not leave the session unusable

    with contextlib.suppress(Unsatisfiable):  # nothing to break in an operation without inputs (negative mode)
        run()
    return problems


def test_every_operation_answers_within_its_schema(pg_app):
    pg_app.config["PROPAGATE_TEST_ERRORS"] = False  # a 500 is an answer to check, not a crash of the test
    logging.getLogger("app.errors").addHandler(TRACEBACKS)
    try:
        _fuzz_everything(pg_app)
    finally:
        logging.getLogger("app.errors").removeHandler(TRACEBACKS)


def _fuzz_everything(pg_app) -> None:
    headers, real = _society()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", pg_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    problems: list[str] = []
    for operation in operations:
        names = {param.name for param in operation.path_parameters}
        for who in ("staff", "member"):
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                problems += _fuzz(operation, headers[who], mode)
            if names and names <= real.keys():  # and once on rows that exist, for real answers
                problems += _fuzz(operation, headers[who], GenerationMode.POSITIVE, {n: real[n] for n in names})
    # Still signed in at the end: nothing the fuzzer sent revoked our sessions.
    client = pg_app.test_client()
    assert client.get("/api/v1/me", headers=headers["staff"]).status_code == 200
    print(f"schemathesis: {len(operations)} operations, responses by status class {dict(sorted(SENT.items()))}")
    unique = sorted(set(problems))
    assert not unique, f"{len(unique)} schema violations or server errors:\n" + "\n".join(unique)
