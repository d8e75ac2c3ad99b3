"""Property tests: any sequence of valid postings and reversals keeps every invariant."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.services import ledger
from app.services.common import DomainError, uow
from app.services.ledger import Line, coa
from tests.conftest import new_account, open_books

ops = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), st.integers(0, 3), st.integers(1, 10_000_00)),
        st.tuples(st.just("withdraw"), st.integers(0, 3), st.integers(1, 10_000_00)),
        st.tuples(st.just("transfer"), st.tuples(st.integers(0, 3), st.integers(0, 3)), st.integers(1, 10_000_00)),
        st.tuples(st.just("reverse"), st.integers(0, 50), st.just(0)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops)
def test_random_postings_keep_every_invariant(app, operations):
    db.drop_all()
    db.create_all()
    open_books()
    accounts = [new_account("savings") for _ in range(4)]
    expected = {a.id: 0 for a in accounts}
    posted = []
    for op, target, amount in operations:
        before = dict(expected)
        try:
            if op == "deposit":
                acc = accounts[target]
                posted.append(
                    ledger.post([Line.dr(coa.VAULT_CASH, amount), Line.cr(acc, amount)], kind="deposit", narration="d")
                )
                expected[acc.id] += amount
            elif op == "withdraw":
                acc = accounts[target]
                posted.append(
                    ledger.post(
                        [Line.dr(acc, amount), Line.cr(coa.VAULT_CASH, amount)], kind="withdrawal", narration="w"
                    )
                )
                expected[acc.id] -= amount
            elif op == "transfer":
                src, dst = accounts[target[0]], accounts[target[1]]
                posted.append(ledger.post([Line.dr(src, amount), Line.cr(dst, amount)], kind="transfer", narration="t"))
                expected[src.id] -= amount
                expected[dst.id] += amount
            elif posted:
                original = posted[target % len(posted)]
                ledger.reverse(original, reason="property test")
                for line in original.lines:
                    if line.account_id is not None:
                        expected[line.account_id] -= line.credit_paise - line.debit_paise
            uow.commit()
        except DomainError:
            db.session.rollback()
            expected = before
        for acc in accounts:
            db.session.refresh(acc)
            assert acc.balance_paise == expected[acc.id]
            assert acc.balance_paise >= 0
    report = ledger.verify()
    assert report.ok, report.problems
    assert ledger.gl_balance(coa.SB_DEPOSITS) == sum(expected.values())
    assert ledger.gl_balance(coa.VAULT_CASH) == sum(expected.values())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 5_00_000_00), min_size=1, max_size=8))
def test_reversing_everything_restores_zero(app, amounts):
    db.drop_all()
    db.create_all()
    open_books()
    sb = new_account("savings")
    entries = [
        ledger.post([Line.dr(coa.VAULT_CASH, a), Line.cr(sb, a)], kind="deposit", narration="d") for a in amounts
    ]
    uow.commit()
    assert sb.balance_paise == sum(amounts)
    for entry in reversed(entries):
        ledger.reverse(entry, reason="undo")
    uow.commit()
    assert sb.balance_paise == 0
    assert ledger.gl_balance(coa.VAULT_CASH) == 0
    assert ledger.verify().ok
