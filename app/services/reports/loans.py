"""Loan portfolio reports over the loans module's tables, set-based (one query per report).

Outstanding principal is the loan account's balance (the loan sub-ledger); for a date before
today it is that balance less the account's lines after the date. Overdue is the unpaid part
of the current schedule's instalments due before the date. DPD, asset class and provision are
as the last day-end left them (``loans.classify_assets`` / ``post_provisions``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select, text

from app.extensions import db
from app.models.ledger import Account, JournalLine
from app.models.loans import (
    ASSET_CLASS_LABELS,
    NPA_CLASSES,
    Loan,
    LoanClassification,
    LoanGuarantor,
    LoanProduct,
    LoanScheduleRow,
)
from app.models.members import Member
from app.models.users import StaffUser

from . import statements
from .tables import Column, Table, pct, register

LIVE = ("active", "disbursed")
SECTORS = {"agri": "Agriculture", "business": "MSME", "housing": "Housing"}
DPD_BUCKETS = (("Current", 0, 0), ("1–30 (SMA-0)", 1, 30), ("31–60 (SMA-1)", 31, 60), ("61–90 (SMA-2)", 61, 90),
               ("Over 90 (NPA)", 91, None))  # fmt: skip


def available() -> bool:
    """Whether any loan has been disbursed."""
    return db.session.scalar(select(Loan.id).where(Loan.account_id.is_not(None)).limit(1)) is not None


def applications_waiting() -> dict[str, int]:
    """Loan applications by the step they wait for: appraisal (applied), sanction (appraised), disbursement."""
    rows = dict(
        db.session.execute(
            select(Loan.status, func.count())
            .where(Loan.status.in_(("applied", "appraised", "sanctioned")))
            .group_by(Loan.status)
        ).all()
    )
    return {status: int(rows.get(status, 0)) for status in ("applied", "appraised", "sanctioned")}


def _check(on: date) -> date:
    return statements.check_date(on)


def _later_movements(on: date) -> dict[int, int]:
    """Loan account id → debits minus credits after ``on`` (to take today's balance back to ``on``)."""
    if on >= statements.default_date():
        return {}
    rows = db.session.execute(
        select(JournalLine.account_id, func.sum(JournalLine.debit_paise - JournalLine.credit_paise))
        .join(Loan, Loan.account_id == JournalLine.account_id)
        .where(JournalLine.business_date > on)
        .group_by(JournalLine.account_id)
    ).all()
    return {acc: int(net or 0) for acc, net in rows}


def _overdue_subquery(on: date):
    """Loan id → unpaid part of the current schedule's instalments due before ``on`` (a grouped subquery).

    As of the business date only loans the day-end found past due (``dpd > 0``) can have
    arrears, so only their schedules are read; for an earlier date every live loan's are.
    """
    unpaid = LoanScheduleRow.emi_paise - LoanScheduleRow.principal_paid_paise - LoanScheduleRow.interest_paid_paise
    stmt = (
        select(LoanScheduleRow.loan_id.label("loan_id"), func.sum(unpaid).label("overdue"))
        .join(Loan, and_(Loan.id == LoanScheduleRow.loan_id, Loan.schedule_version == LoanScheduleRow.version))
        .where(Loan.status.in_(LIVE), LoanScheduleRow.status != "paid", LoanScheduleRow.due_date < on)
        .group_by(LoanScheduleRow.loan_id)
    )
    if on >= statements.default_date():
        stmt = stmt.where(Loan.dpd > 0)
    return stmt.subquery()


def outstanding(on: date, *, npa_only: bool = False) -> list[dict[str, Any]]:
    """One row per live loan: the §9 fields plus product kind and purpose (paise, not strings).

    One query: loans with their accounts, members and products, left-joined to the grouped
    overdue of their schedules.
    """
    _check(on)
    overdue = _overdue_subquery(on)
    stmt = (
        select(
            Loan.loan_no,
            Member.member_no,
            LoanProduct.code,
            LoanProduct.kind,
            Loan.purpose,
            Account.id,
            Account.balance_paise,
            func.coalesce(overdue.c.overdue, 0),
            Loan.dpd,
            Loan.asset_class,
            Loan.provision_paise,
        )
        .join(Account, Account.id == Loan.account_id)
        .join(Member, Member.id == Loan.member_id)
        .join(LoanProduct, LoanProduct.id == Loan.product_id)
        .outerjoin(overdue, overdue.c.loan_id == Loan.id)
        .where(Loan.status.in_(LIVE), Loan.disbursed_on <= on)
    )  # fmt: skip  (sorted in Python: cheaper than a sort after the joins)
    if npa_only:
        stmt = stmt.where(Loan.asset_class.in_(NPA_CLASSES))
    later = _later_movements(on)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))  # the grouped schedule fits in memory
    rows = [
        {
            "loan_no": loan_no,
            "member_no": member_no,
            "product_code": code,
            "product_kind": kind,
            "purpose": purpose or "",
            "outstanding_principal": int(balance) - later.get(acc_id, 0),
            "overdue": int(over),
            "dpd": dpd,
            "asset_class": asset_class,
            "provision": int(provision or 0),
        }
        for loan_no, member_no, code, kind, purpose, acc_id, balance, over, dpd, asset_class, provision in db.session.execute(
            stmt
        )
    ]
    rows.sort(key=lambda r: r["loan_no"])
    return rows  # fmt: skip


def quality(on: date) -> dict[str, Any]:
    """Overdue amount and NPA share of the live loan book (for the dashboards)."""
    rows = outstanding(on)
    total = sum(r["outstanding_principal"] for r in rows)
    npa = sum(r["outstanding_principal"] for r in rows if r["asset_class"] in NPA_CLASSES)
    overdue = sum(r["overdue"] for r in rows)
    return {"outstanding": total, "npa": npa, "overdue": overdue, "npa_pct": pct(npa, total),
            "overdue_pct": pct(overdue, total)}  # fmt: skip


def npa_share_by_month(ends: list[date]) -> list[int] | None:
    """NPA loans as a share of live loans (by number, basis points) at each date, from the classification history.

    A loan counts from its disbursement until it closes; its class at a date is the last
    classification on or before it (standard before any).
    """
    out = []
    for end in ends:
        latest = (
            select(func.max(LoanClassification.id).label("id"))
            .where(LoanClassification.on_date <= end)
            .group_by(LoanClassification.loan_id)
            .subquery()
        )
        npa = db.session.scalar(
            select(func.count())
            .select_from(LoanClassification)
            .join(latest, latest.c.id == LoanClassification.id)
            .where(LoanClassification.to_class.in_(NPA_CLASSES))
        )
        live = db.session.scalar(
            select(func.count())
            .select_from(Loan)
            .where(Loan.disbursed_on <= end, (Loan.closed_on.is_(None)) | (Loan.closed_on > end))
        )
        out.append(int(npa or 0) * 10_000 // live if live else 0)
    return out


def _on(args: Mapping[str, str]) -> date:
    return statements.check_date(statements.parse_date(args.get("date"), "date", statements.default_date()))


@register("loans-outstanding", "Loans outstanding by product and purpose", "loans")
def outstanding_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in outstanding(on):
        g = groups[(r["product_code"], r["purpose"] or "—")]
        g[0] += 1
        g[1] += r["outstanding_principal"]
        g[2] += r["overdue"]
        g[3] += r["provision"]
    rows = [{"product": p, "purpose": pu, "loans": n, "outstanding": o, "overdue": ov, "provision": pr}
            for (p, pu), (n, o, ov, pr) in sorted(groups.items())]  # fmt: skip
    return Table(
        "loans-outstanding", f"Loans outstanding by product and purpose, {on:%d-%m-%Y}",
        [Column("product", "Product"), Column("purpose", "Purpose"), Column("loans", "Loans", "int"),
         Column("outstanding", "Outstanding (₹)", "money"), Column("overdue", "Overdue (₹)", "money"),
         Column("provision", "Provision (₹)", "money")],
        rows, {k: sum(r[k] for r in rows) for k in ("loans", "outstanding", "overdue", "provision")},
        params={"date": on.isoformat()},
    )  # fmt: skip


@register("loans-officer", "Loans outstanding by sanctioning officer", "loans")
def officer_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    by_loan = {r["loan_no"]: r for r in outstanding(on)}
    officers = db.session.execute(
        select(Loan.loan_no, StaffUser.username, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == Loan.sanctioned_by_id)
        .where(Loan.status.in_(LIVE))
    ).all()
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for loan_no, username, full_name in officers:
        r = by_loan.get(loan_no)
        if r is None:
            continue
        g = groups[f"{full_name} ({username})" if username else "—"]
        g[0] += 1
        g[1] += r["outstanding_principal"]
        g[2] += r["overdue"]
    rows = [{"officer": k, "loans": n, "outstanding": o, "overdue": ov} for k, (n, o, ov) in sorted(groups.items())]
    return Table(
        "loans-officer",
        f"Loans outstanding by sanctioning officer, {on:%d-%m-%Y}",
        [
            Column("officer", "Officer"),
            Column("loans", "Loans", "int"),
            Column("outstanding", "Outstanding (₹)", "money"),
            Column("overdue", "Overdue (₹)", "money"),
        ],
        rows,
        {k: sum(r[k] for r in rows) for k in ("loans", "outstanding", "overdue")},
        params={"date": on.isoformat()},
    )


@register("loans-dpd", "Overdue loans by DPD bucket", "loans")
def dpd_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    loans = outstanding(on)
    rows = []
    for label, low, high in DPD_BUCKETS:
        inside = [r for r in loans if r["dpd"] >= low and (high is None or r["dpd"] <= high)]
        rows.append({"bucket": label, "loans": len(inside), "outstanding": sum(r["outstanding_principal"] for r in inside),
                     "overdue": sum(r["overdue"] for r in inside)})  # fmt: skip
    return Table(
        "loans-dpd", f"Loans by days past due, {on:%d-%m-%Y}",
        [Column("bucket", "DPD bucket"), Column("loans", "Loans", "int"), Column("outstanding", "Outstanding (₹)", "money"),
         Column("overdue", "Overdue (₹)", "money")],
        rows, {k: sum(r[k] for r in rows) for k in ("loans", "outstanding", "overdue")}, params={"date": on.isoformat()},
    )  # fmt: skip


@register("npa-register", "NPA register with provisions", "loans")
def npa_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    rows = [
        {**r, "class": ASSET_CLASS_LABELS.get(r["asset_class"], r["asset_class"])}
        for r in outstanding(on, npa_only=True)
    ]
    return Table(
        "npa-register", f"NPA register, {on:%d-%m-%Y}",
        [Column("loan_no", "Loan"), Column("member_no", "Member"), Column("product_code", "Product"),
         Column("outstanding_principal", "Outstanding (₹)", "money"), Column("overdue", "Overdue (₹)", "money"),
         Column("dpd", "DPD", "int"), Column("class", "Asset class"), Column("provision", "Provision (₹)", "money")],
        rows, {k: sum(r[k] for r in rows) for k in ("outstanding_principal", "overdue", "provision")},
        params={"date": on.isoformat()},
    )  # fmt: skip


@register("npa-provisioning", "NPA and provisioning statement (return)", "returns")
def provisioning_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in outstanding(on):
        g = groups[r["asset_class"]]
        g[0] += 1
        g[1] += r["outstanding_principal"]
        g[2] += r["provision"]
    order = list(ASSET_CLASS_LABELS)
    rows = [{"class": ASSET_CLASS_LABELS.get(c, c), "loans": n, "outstanding": o, "provision": p,
             "cover": pct(p, o), "npa": "yes" if c in NPA_CLASSES else ""}
            for c, (n, o, p) in sorted(groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)]  # fmt: skip
    total = sum(r["outstanding"] for r in rows)
    gross_npa = sum(r["outstanding"] for r in rows if r["npa"])
    npa_prov = sum(r["provision"] for r in rows if r["npa"])
    return Table(
        "npa-provisioning", f"NPA and provisioning, {on:%d-%m-%Y}",
        [Column("class", "Asset class"), Column("loans", "Loans", "int"), Column("outstanding", "Outstanding (₹)", "money"),
         Column("provision", "Provision held (₹)", "money"), Column("cover", "Cover %", "pct"), Column("npa", "NPA")],
        rows, {"loans": sum(r["loans"] for r in rows), "outstanding": total, "provision": sum(r["provision"] for r in rows)},
        [f"Gross NPA {pct(gross_npa, total)}% of advances; net NPA "
         f"{pct(gross_npa - npa_prov, total - npa_prov) if total - npa_prov else Decimal(0)}% of net advances."],
        {"date": on.isoformat()},
    )  # fmt: skip


@register("loans-sector", "Sector-wise advances (priority sector)", "loans")
def sector_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in outstanding(on):
        g = groups[SECTORS.get(r["product_kind"], "Other")]
        g[0] += 1
        g[1] += r["outstanding_principal"]
        g[2] += r["outstanding_principal"] if r["asset_class"] in NPA_CLASSES else 0
    total = sum(v[1] for v in groups.values())
    rows = [{"sector": s, "loans": groups[s][0], "outstanding": groups[s][1], "share": pct(groups[s][1], total),
             "npa": groups[s][2]} for s in ("Agriculture", "MSME", "Housing", "Other") if s in groups]  # fmt: skip
    return Table(
        "loans-sector", f"Advances by sector, {on:%d-%m-%Y}",
        [Column("sector", "Sector"), Column("loans", "Loans", "int"), Column("outstanding", "Outstanding (₹)", "money"),
         Column("share", "% of advances", "pct"), Column("npa", "Of which NPA (₹)", "money")],
        rows, {"loans": sum(r["loans"] for r in rows), "outstanding": total}, params={"date": on.isoformat()},
    )  # fmt: skip


@register("guarantor-exposure", "Guarantor exposure", "loans")
def guarantor_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    by_loan = {r["loan_no"]: r for r in outstanding(on)}
    rows_raw = db.session.execute(
        select(Member.member_no, Member.name, Loan.loan_no)
        .join(LoanGuarantor, LoanGuarantor.member_id == Member.id)
        .join(Loan, Loan.id == LoanGuarantor.loan_id)
        .where(Loan.status.in_(LIVE))
    ).all()
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for member_no, name, loan_no in rows_raw:
        r = by_loan.get(loan_no)
        if r is None:
            continue
        g = groups[(member_no, name)]
        g[0] += 1
        g[1] += r["outstanding_principal"]
        g[2] += r["overdue"]
    rows = [{"member_no": m, "name": n, "loans": c, "outstanding": o, "overdue": ov}
            for (m, n), (c, o, ov) in sorted(groups.items(), key=lambda kv: -kv[1][1])]  # fmt: skip
    return Table(
        "guarantor-exposure", f"Guarantor exposure, {on:%d-%m-%Y}",
        [Column("member_no", "Guarantor"), Column("name", "Name"), Column("loans", "Loans guaranteed", "int"),
         Column("outstanding", "Outstanding guaranteed (₹)", "money"), Column("overdue", "Of which overdue (₹)", "money")],
        rows, {"outstanding": sum(r["outstanding"] for r in rows)}, params={"date": on.isoformat()},
    )  # fmt: skip


@register("loans-dcb", "Demand, collection and balance (DCB) for a month", "loans", ("date",))
def dcb_table(args: Mapping[str, str]) -> Table:
    """For the month containing ``date``: arrears at its start, the month's demand, what was collected."""
    on = _on(args)
    start = on.replace(day=1)
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    unpaid = LoanScheduleRow.emi_paise - LoanScheduleRow.principal_paid_paise - LoanScheduleRow.interest_paid_paise
    paid = LoanScheduleRow.principal_paid_paise + LoanScheduleRow.interest_paid_paise
    current = and_(Loan.id == LoanScheduleRow.loan_id, Loan.schedule_version == LoanScheduleRow.version)
    base = (
        select(LoanProduct.code,
               func.sum(func.coalesce(unpaid, 0)).filter(LoanScheduleRow.due_date < start),
               func.sum(LoanScheduleRow.emi_paise).filter(LoanScheduleRow.due_date.between(start, end)),
               func.sum(paid).filter(LoanScheduleRow.paid_on.between(start, end)),
               func.sum(unpaid).filter(LoanScheduleRow.due_date <= end))
        .join(Loan, current).join(LoanProduct, LoanProduct.id == Loan.product_id)
        .where(Loan.status.in_(LIVE)).group_by(LoanProduct.code).order_by(LoanProduct.code)
    )  # fmt: skip
    rows = [{"product": code, "arrears": int(a or 0), "demand": int(d or 0), "collected": int(c or 0),
             "balance": int(b or 0)} for code, a, d, c, b in db.session.execute(base)]  # fmt: skip
    return Table(
        "loans-dcb", f"DCB for {start:%B %Y}",
        [Column("product", "Product"), Column("arrears", "Arrears at start (₹)", "money"),
         Column("demand", "Demand of the month (₹)", "money"), Column("collected", "Collected in the month (₹)", "money"),
         Column("balance", "Balance due (₹)", "money")],
        rows, {k: sum(r[k] for r in rows) for k in ("arrears", "demand", "collected", "balance")},
        ["Collected: instalment amounts settled in the month (partly paid instalments count when last paid)."],
        {"date": on.isoformat()},
    )  # fmt: skip
