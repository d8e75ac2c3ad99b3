"""Loan portfolio reports over the loans module's tables, set-based (grouped SQL, no per-loan Python work).

The *book* at the end of a date is every loan disbursed by then and not closed before it.
Outstanding principal is the loan account's balance (the loan sub-ledger) as of the date
(``asof``: today's balance less the account's lines after it). Overdue is the unpaid part of
the current schedule's instalments due before the date (one aggregate over the schedule
rows). DPD, asset class and provision are as the last day-end left them
(``loans.classify_assets`` / ``post_provisions``): for an earlier date the reports say so.
Portfolio tables group the book in SQL (``grouped``); ``outstanding`` lists it loan by loan
for the JSON API and the NPA register.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.ledger import Account
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
from app.services import ledger

from . import asof, statements
from .tables import Column, Table, pct, register

LIVE = ("active", "disbursed")
ENDED = ("closed", "foreclosed", "written_off")
SECTORS = {"agri": "Agriculture", "business": "MSME", "housing": "Housing"}
DPD_BUCKETS = (("Current", 0, 0), ("1–30 (SMA-0)", 1, 30), ("31–60 (SMA-1)", 31, 60), ("61–90 (SMA-2)", 61, 90),
               ("Over 90 (NPA)", 91, None))  # fmt: skip
FIGURES = ("loans", "outstanding", "overdue", "provision", "npa")


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


def on_books(on: date):
    """Loans on the books at the end of ``on``: disbursed by then and live, or closed only after it."""
    return and_(
        Loan.account_id.is_not(None),
        Loan.disbursed_on <= on,
        or_(Loan.status.in_(LIVE), and_(Loan.status.in_(ENDED), Loan.closed_on > on)),
    )


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


def book(on: date, *, npa_only: bool = False):
    """The loan book at the end of ``on``, one row per loan, as a subquery.

    Columns: loan_id, loan_no, member_id, product_id, purpose, sanctioned_by_id,
    outstanding, overdue, dpd, asset_class, provision (paise as integers).
    """
    overdue = _overdue_subquery(on)
    later = asof.later_movements(on, kinds=("loan",))
    stmt = (
        select(
            Loan.id.label("loan_id"), Loan.loan_no, Loan.member_id, Loan.product_id,
            func.coalesce(Loan.purpose, "").label("purpose"), Loan.sanctioned_by_id,
            asof.balance_column(later).label("outstanding"), func.coalesce(overdue.c.overdue, 0).label("overdue"),
            Loan.dpd, Loan.asset_class, func.coalesce(Loan.provision_paise, 0).label("provision"),
        )
        .join(Account, Account.id == Loan.account_id)
        .outerjoin(overdue, overdue.c.loan_id == Loan.id)
        .where(on_books(on))
    )  # fmt: skip
    stmt = asof.join_later(stmt, later)
    if npa_only:
        stmt = stmt.where(Loan.asset_class.in_(NPA_CLASSES))
    return stmt.subquery()


def _work_mem() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))  # the grouped schedule fits in memory


def outstanding(on: date, *, npa_only: bool = False) -> list[dict[str, Any]]:
    """One row per loan on the books: the §9 fields plus product kind and purpose (paise, not strings)."""
    _check(on)
    b = book(on, npa_only=npa_only)
    stmt = (
        select(
            b.c.loan_no,
            Member.member_no,
            LoanProduct.code,
            LoanProduct.kind,
            b.c.purpose,
            b.c.outstanding,
            b.c.overdue,
            b.c.dpd,
            b.c.asset_class,
            b.c.provision,
        )
        .join(Member, Member.id == b.c.member_id)
        .join(LoanProduct, LoanProduct.id == b.c.product_id)
    )  # fmt: skip  (sorted in Python: cheaper than a sort after the joins)
    _work_mem()
    rows = [
        {"loan_no": loan_no, "member_no": member_no, "product_code": code, "product_kind": kind, "purpose": purpose,
         "outstanding_principal": int(balance), "overdue": int(over), "dpd": dpd, "asset_class": asset_class,
         "provision": int(provision)}
        for loan_no, member_no, code, kind, purpose, balance, over, dpd, asset_class, provision in db.session.execute(stmt)
    ]  # fmt: skip
    rows.sort(key=lambda r: r["loan_no"])
    return rows


Guarantor = aliased(Member, name="guarantor")


def _group_keys(b) -> dict[str, Any]:
    """The columns the book may be grouped by (``grouped``'s ``keys``)."""
    return {
        "product": LoanProduct.code, "kind": LoanProduct.kind, "purpose": b.c.purpose, "asset_class": b.c.asset_class,
        "dpd": b.c.dpd, "officer_id": StaffUser.id, "officer_username": StaffUser.username,
        "officer_name": StaffUser.full_name, "guarantor_no": Guarantor.member_no, "guarantor_name": Guarantor.name,
    }  # fmt: skip


def grouped(on: date, keys: tuple[str, ...] = (), *, npa_only: bool = False) -> list[dict[str, Any]]:
    """The book at the end of ``on`` summed by ``keys`` in one grouped query.

    Each row: the keys, then loans, outstanding, overdue, provision and npa (the outstanding
    of NPA loans). With no keys, one row for the whole book. Guarantor keys count a loan once
    per guarantor.
    """
    _check(on)
    b = book(on, npa_only=npa_only)
    columns = _group_keys(b)
    chosen = [columns[k].label(k) for k in keys]
    stmt = select(
        *chosen,
        func.count().label("loans"),
        func.coalesce(func.sum(b.c.outstanding), 0),
        func.coalesce(func.sum(b.c.overdue), 0),
        func.coalesce(func.sum(b.c.provision), 0),
        func.coalesce(func.sum(b.c.outstanding).filter(b.c.asset_class.in_(NPA_CLASSES)), 0),
    ).select_from(b)
    if {"product", "kind"} & set(keys):
        stmt = stmt.join(LoanProduct, LoanProduct.id == b.c.product_id)
    if any(k.startswith("officer_") for k in keys):
        stmt = stmt.outerjoin(StaffUser, StaffUser.id == b.c.sanctioned_by_id)
    if any(k.startswith("guarantor_") for k in keys):
        stmt = stmt.join(LoanGuarantor, LoanGuarantor.loan_id == b.c.loan_id)
        stmt = stmt.join(Guarantor, Guarantor.id == LoanGuarantor.member_id)
    if keys:
        stmt = stmt.group_by(*chosen)
    _work_mem()
    out = []
    for row in db.session.execute(stmt):
        values = dict(zip(keys, row[: len(keys)], strict=True))
        values.update(zip(FIGURES, (int(v) for v in row[len(keys) :]), strict=True))
        out.append(values)
    return out


def _state_note(on: date) -> list[str]:
    """What an earlier date does not change: DPD, class and provision are as the last day-end left them."""
    if on >= statements.default_date():
        return []
    return [
        "Outstanding is as of the date (the loan accounts' balances then); overdue counts instalments due "
        "before the date that are unpaid now; DPD, asset class and provision are as of now (the last day-end)."
    ]


def quality(on: date) -> dict[str, Any]:
    """Overdue amount and NPA share of the loan book (for the dashboards)."""
    (whole,) = grouped(on)
    total, npa, overdue = whole["outstanding"], whole["npa"], whole["overdue"]
    return {"outstanding": total, "npa": npa, "overdue": overdue, "npa_pct": pct(npa, total),
            "overdue_pct": pct(overdue, total)}  # fmt: skip


def npa_amounts(end: date) -> tuple[int, int]:
    """(NPA outstanding, gross advances) at the end of ``end``, in paise.

    A loan is NPA at ``end`` when its last classification on or before ``end`` is an NPA
    class (standard before any); its outstanding then is its account's balance less the
    account's lines after ``end``. Gross advances: the loan control GLs' balance at ``end``
    (``ledger.gl_totals``: the day-end snapshot plus later lines), which the ledger keeps
    equal to the sum of the loan accounts.
    """
    latest = (
        select(LoanClassification.loan_id.label("loan_id"), func.max(LoanClassification.id).label("id"))
        .where(LoanClassification.on_date <= end)
        .group_by(LoanClassification.loan_id)
        .subquery()
    )
    npa_accounts = (
        select(Loan.account_id)
        .join(latest, latest.c.loan_id == Loan.id)
        .join(LoanClassification, LoanClassification.id == latest.c.id)
        .where(LoanClassification.to_class.in_(NPA_CLASSES), Loan.account_id.is_not(None))
    )
    now = db.session.scalar(
        select(func.coalesce(func.sum(Account.balance_paise), 0)).where(Account.id.in_(npa_accounts))
    )
    npa = int(now or 0) - asof.later_total(end, npa_accounts)
    gl_ids = list(db.session.scalars(select(LoanProduct.control_gl_id).distinct()))
    gross = sum(dr - cr for dr, cr in ledger.gl_totals(end, gl_ids=gl_ids).values()) if gl_ids else 0
    return npa, gross


def basis_points(part: int, whole: int) -> int:
    """``part`` as a share of ``whole`` in basis points, rounded half-up (0 when whole is 0)."""
    if whole <= 0:
        return 0
    return int((Decimal(part) * 10_000 / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def npa_share_by_month(ends: list[date]) -> list[int] | None:
    """NPA outstanding as a share of gross advances (basis points) at each date, by amount."""
    first = statements.first_day()
    return [basis_points(*npa_amounts(end)) if first is not None and end >= first else 0 for end in ends]


def _on(args: Mapping[str, str]) -> date:
    return statements.check_date(statements.parse_date(args.get("date"), "date", statements.default_date()))


@register("loans-outstanding", "Loans outstanding by product and purpose", "loans")
def outstanding_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    rows = [{"product": g["product"], "purpose": g["purpose"] or "—", "loans": g["loans"],
             "outstanding": g["outstanding"], "overdue": g["overdue"], "provision": g["provision"]}
            for g in grouped(on, ("product", "purpose"))]  # fmt: skip
    rows.sort(key=lambda r: (r["product"], r["purpose"]))
    return Table(
        "loans-outstanding", f"Loans outstanding by product and purpose, {on:%d-%m-%Y}",
        [Column("product", "Product"), Column("purpose", "Purpose"), Column("loans", "Loans", "int"),
         Column("outstanding", "Outstanding (₹)", "money"), Column("overdue", "Overdue (₹)", "money"),
         Column("provision", "Provision (₹)", "money")],
        rows, {k: sum(r[k] for r in rows) for k in ("loans", "outstanding", "overdue", "provision")},
        _state_note(on), params={"date": on.isoformat()},
    )  # fmt: skip


@register("loans-officer", "Loans outstanding by sanctioning officer", "loans")
def officer_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for g in grouped(on, ("officer_id", "officer_username", "officer_name")):
        username = g["officer_username"]
        cell = groups[f"{g['officer_name']} ({username})" if username else "—"]
        cell[0] += g["loans"]
        cell[1] += g["outstanding"]
        cell[2] += g["overdue"]
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
        _state_note(on),
        params={"date": on.isoformat()},
    )


@register("loans-dpd", "Overdue loans by DPD bucket", "loans")
def dpd_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    by_dpd = grouped(on, ("dpd",))
    rows = []
    for label, low, high in DPD_BUCKETS:
        inside = [g for g in by_dpd if g["dpd"] >= low and (high is None or g["dpd"] <= high)]
        rows.append({"bucket": label, "loans": sum(g["loans"] for g in inside),
                     "outstanding": sum(g["outstanding"] for g in inside),
                     "overdue": sum(g["overdue"] for g in inside)})  # fmt: skip
    return Table(
        "loans-dpd", f"Loans by days past due, {on:%d-%m-%Y}",
        [Column("bucket", "DPD bucket"), Column("loans", "Loans", "int"), Column("outstanding", "Outstanding (₹)", "money"),
         Column("overdue", "Overdue (₹)", "money")],
        rows, {k: sum(r[k] for r in rows) for k in ("loans", "outstanding", "overdue")}, _state_note(on),
        params={"date": on.isoformat()},
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
        _state_note(on), params={"date": on.isoformat()},
    )  # fmt: skip


@register("npa-provisioning", "NPA and provisioning statement (return)", "returns")
def provisioning_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    order = list(ASSET_CLASS_LABELS)
    by_class = sorted(grouped(on, ("asset_class",)),
                      key=lambda g: order.index(g["asset_class"]) if g["asset_class"] in order else 99)  # fmt: skip
    rows = [{"class": ASSET_CLASS_LABELS.get(c, c), "loans": g["loans"], "outstanding": g["outstanding"],
             "provision": g["provision"], "cover": pct(g["provision"], g["outstanding"]),
             "npa": "yes" if c in NPA_CLASSES else ""}
            for g in by_class for c in (g["asset_class"],)]  # fmt: skip
    total = sum(r["outstanding"] for r in rows)
    gross_npa = sum(r["outstanding"] for r in rows if r["npa"])
    npa_prov = sum(r["provision"] for r in rows if r["npa"])
    return Table(
        "npa-provisioning", f"NPA and provisioning, {on:%d-%m-%Y}",
        [Column("class", "Asset class"), Column("loans", "Loans", "int"), Column("outstanding", "Outstanding (₹)", "money"),
         Column("provision", "Provision held (₹)", "money"), Column("cover", "Cover %", "pct"), Column("npa", "NPA")],
        rows, {"loans": sum(r["loans"] for r in rows), "outstanding": total, "provision": sum(r["provision"] for r in rows)},
        [f"Gross NPA {pct(gross_npa, total)}% of advances; net NPA "
         f"{pct(gross_npa - npa_prov, total - npa_prov) if total - npa_prov else Decimal(0)}% of net advances.",
         *_state_note(on)],
        {"date": on.isoformat()},
    )  # fmt: skip


@register("loans-sector", "Sector-wise advances (priority sector)", "loans")
def sector_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for g in grouped(on, ("kind",)):
        cell = groups[SECTORS.get(g["kind"], "Other")]
        cell[0] += g["loans"]
        cell[1] += g["outstanding"]
        cell[2] += g["npa"]
    total = sum(v[1] for v in groups.values())
    rows = [{"sector": s, "loans": groups[s][0], "outstanding": groups[s][1], "share": pct(groups[s][1], total),
             "npa": groups[s][2]} for s in ("Agriculture", "MSME", "Housing", "Other") if s in groups]  # fmt: skip
    return Table(
        "loans-sector", f"Advances by sector, {on:%d-%m-%Y}",
        [Column("sector", "Sector"), Column("loans", "Loans", "int"), Column("outstanding", "Outstanding (₹)", "money"),
         Column("share", "% of advances", "pct"), Column("npa", "Of which NPA (₹)", "money")],
        rows, {"loans": sum(r["loans"] for r in rows), "outstanding": total}, _state_note(on),
        params={"date": on.isoformat()},
    )  # fmt: skip


@register("guarantor-exposure", "Guarantor exposure", "loans")
def guarantor_table(args: Mapping[str, str]) -> Table:
    on = _on(args)
    rows = [{"member_no": g["guarantor_no"], "name": g["guarantor_name"], "loans": g["loans"],
             "outstanding": g["outstanding"], "overdue": g["overdue"]}
            for g in grouped(on, ("guarantor_no", "guarantor_name"))]  # fmt: skip
    rows.sort(key=lambda r: (-r["outstanding"], r["member_no"]))
    return Table(
        "guarantor-exposure", f"Guarantor exposure, {on:%d-%m-%Y}",
        [Column("member_no", "Guarantor"), Column("name", "Name"), Column("loans", "Loans guaranteed", "int"),
         Column("outstanding", "Outstanding guaranteed (₹)", "money"), Column("overdue", "Of which overdue (₹)", "money")],
        rows, {"outstanding": sum(r["outstanding"] for r in rows)}, _state_note(on), params={"date": on.isoformat()},
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
