"""Bulk set-up of N disbursed loans for the day-end benchmark (``bench.eod``), in a few SQL statements.

(``bench.loans_eod`` times the loan steps alone; this set-up also writes the loans' opening
entries, so the day-end's ``ledger verify`` holds.)

Each loan has a loan account under its product's control GL with the outstanding principal
as its balance (one opening entry per 100 loans: Dr the loan accounts, Cr vault cash, so
``ledger verify`` holds), and a stored schedule of ``MONTHS`` monthly instalments with the
first due one month before the bench's first day-end. Most loans have paid what fell due
and, ahead, what falls due in the bench's window (``PAID_AHEAD_DAYS``: the month of
day-ends and the quarter end; repayments taken during a day are counter and online work,
not the day-end's); every 10th has paid nothing, with its oldest unpaid instalment
``i % 150`` days old, so the loan
steps of an ordinary day-end (days past due, penal charges, asset classification with
slippage to NPA, provisioning) have real work; every 100th overdue loan has a standing
instruction on its own savings account (``collect_standing_instructions`` repays them one
by one). The loans are spread round-robin over the seeded loan products.
"""

from __future__ import annotations

from datetime import date, timedelta

MONTHS = 6
PRINCIPAL = 1_00_000_00  # ₹1,00,000
RATE_BP = 1200
PAID_AHEAD_DAYS = 120  # performing loans have paid what falls due before start + this


def setup_loans(n: int, start: date) -> None:
    """``n`` loans disbursed 45 days before ``start`` (bench database, the business day ``start`` open)."""
    from sqlalchemy import text

    from app.extensions import db
    from app.services import loans
    from app.services.ledger import coa

    loans.seed_products()
    db.session.commit()
    params = {
        "n": n,
        "start": start,
        "paid_until": start + timedelta(days=PAID_AHEAD_DAYS),
        "disbursed": start - timedelta(days=45),
        "principal": PRINCIPAL,
        "rate": RATE_BP,
        "months": MONTHS,
        "cash": coa.VAULT_CASH,
    }
    for sql in _STATEMENTS:
        db.session.execute(text(sql), params)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


# The member and an SB account (the first savings account, if any) come from the savings set-up.
_STATEMENTS = (
    """
    CREATE TEMP TABLE bench_loans ON COMMIT DROP AS
    SELECT g AS i, p.id AS product_id, p.prefix, p.control_gl_id
    FROM generate_series(0, :n - 1) AS g
    JOIN (SELECT id, prefix, control_gl_id, row_number() OVER (ORDER BY id) - 1 AS k,
                 count(*) OVER () AS m FROM loan_products) AS p
      ON p.k = g % p.m
    """,
    """
    INSERT INTO accounts (account_no, kind, title, member_id, control_gl_id, balance_paise, min_balance_paise,
                          enforce_limit, status, opened_on, created_at)
    SELECT b.prefix || lpad(b.i::text, 9, '0'), 'loan', 'Bench loan ' || b.i,
           (SELECT min(id) FROM members), b.control_gl_id, :principal, 0, true, 'active', :disbursed, now()
    FROM bench_loans b ORDER BY b.i
    """,
    """
    INSERT INTO loans (loan_no, member_id, product_id, account_id, si_account_id, principal_paise, rate_bp, months,
                       interest_type, frequency, status, secured, emi_paise, processing_fee_paise, applied_on,
                       sanctioned_on, disbursed_on, dpd, asset_class, loss_marked, provision_paise,
                       schedule_version, created_at)
    SELECT a.account_no, a.member_id, b.product_id, a.id,
           CASE WHEN b.i % 1000 = 0 THEN (SELECT min(id) FROM accounts WHERE kind = 'savings') + b.i / 1000 END,
           :principal, :rate, :months, 'reducing', 'monthly', 'disbursed', false, :principal / :months + 100000,
           0, :disbursed, :disbursed, :disbursed, 0, 'standard', false, 0, 1, now()
    FROM bench_loans b JOIN accounts a ON a.account_no = b.prefix || lpad(b.i::text, 9, '0')
    ORDER BY b.i
    """,
    # Instalment k (1..MONTHS) of loan i is due (start - 30 days) + (k - 1) months, shifted back by
    # i % 150 days for the overdue loans (every 10th), which have paid nothing; the others have
    # paid every instalment due before start + PAID_AHEAD_DAYS (those after start paid ahead, the day before).
    """
    INSERT INTO loan_schedule_rows (loan_id, version, installment, due_date, opening_principal_paise,
                                    principal_paise, interest_paise, emi_paise, closing_principal_paise,
                                    principal_paid_paise, interest_paid_paise, status, paid_on)
    SELECT l.id, 1, k,
           d.due,
           :principal - (k - 1) * (:principal / :months), :principal / :months, 100000,
           :principal / :months + 100000, :principal - k * (:principal / :months),
           CASE WHEN paid THEN :principal / :months ELSE 0 END, CASE WHEN paid THEN 100000 ELSE 0 END,
           CASE WHEN paid THEN 'paid' ELSE 'due' END, CASE WHEN paid THEN LEAST(d.due, CAST(:start AS date) - 1) END
    FROM loans l
    JOIN bench_loans b ON l.loan_no = b.prefix || lpad(b.i::text, 9, '0')
    CROSS JOIN generate_series(1, :months) AS k
    CROSS JOIN LATERAL (
        SELECT (CAST(:start AS date) - 30 - CASE WHEN b.i % 10 = 0 THEN b.i % 150 ELSE 0 END
                + make_interval(months => k - 1))::date AS due
    ) AS d
    CROSS JOIN LATERAL (SELECT b.i % 10 <> 0 AND d.due < CAST(:paid_until AS date) AS paid) AS s
    """,
    # The loan accounts hold the outstanding principal less what was repaid.
    """
    UPDATE accounts a SET balance_paise = :principal - r.repaid
    FROM (SELECT l.account_id, sum(s.principal_paid_paise) AS repaid FROM loans l
          JOIN loan_schedule_rows s ON s.loan_id = l.id GROUP BY l.account_id) AS r
    WHERE a.id = r.account_id
    """,
    # One opening entry per 100 loans: Dr each loan account its balance, Cr vault cash.
    """
    CREATE TEMP TABLE bench_loan_blocks ON COMMIT DROP AS
    SELECT a.id AS account_id, a.control_gl_id, a.balance_paise, (row_number() OVER (ORDER BY a.id) - 1) / 100 AS blk
    FROM accounts a WHERE a.kind = 'loan'
    """,
    """
    CREATE TEMP TABLE bench_loan_entries ON COMMIT DROP AS
    WITH ins AS (
        INSERT INTO journal_entries (business_date, value_date, posted_at, kind, narration, channel, total_paise)
        SELECT :start, :start, now(), 'opening', 'Bench loans ' || blk, 'system', sum(balance_paise)
        FROM bench_loan_blocks GROUP BY blk ORDER BY blk
        RETURNING id, narration
    )
    SELECT id, substr(narration, 13)::int AS blk FROM ins
    """,
    """
    INSERT INTO journal_lines (entry_id, gl_account_id, account_id, business_date, debit_paise, credit_paise)
    SELECT entry_id, gl, acc, :start, dr, cr FROM (
        SELECT e.id AS entry_id, b.control_gl_id AS gl, b.account_id AS acc, b.balance_paise AS dr, 0 AS cr,
               b.account_id AS ord
        FROM bench_loan_blocks b JOIN bench_loan_entries e ON e.blk = b.blk
        UNION ALL
        SELECT e.id, (SELECT id FROM gl_accounts WHERE code = :cash), NULL, 0, sum(b.balance_paise), 2147483647
        FROM bench_loan_blocks b JOIN bench_loan_entries e ON e.blk = b.blk GROUP BY e.id
    ) AS x ORDER BY entry_id, ord
    """,
)
