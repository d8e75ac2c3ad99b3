"""Maker-checker workflows on the ledger: manual vouchers, reversals, chart-of-accounts changes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import GL_TYPES, NORMAL_SIDE, Account, GLAccount, GLDailyBalance, JournalLine
from app.models.users import StaffUser
from app.money import format_inr
from app.permissions import has_permission
from app.services.common import Conflict, NotFound, ValidationError, approvals, audit

from . import calendar, coa
from . import posting as ledger

# ---------------------------------------------------------------- manual journal vouchers


def _voucher_lines(rows: list[dict]) -> list[ledger.Line]:
    """Turn ``[{"gl": code, "debit": paise, "credit": paise, "narration": ...}]`` into lines."""
    lines = []
    for i, row in enumerate(rows, start=1):
        code = (row.get("gl") or "").strip()
        if not code:
            raise ValidationError(f"Line {i}: choose a GL account.", field="lines")
        gl = db.session.scalar(select(GLAccount).where(GLAccount.code == code))
        if gl is None:
            raise ValidationError(f"Line {i}: unknown GL account {code}.", field="lines")
        if not gl.allow_manual:
            raise ValidationError(
                f"Line {i}: GL {gl.code} {gl.name} cannot be used in a manual voucher.", field="lines"
            )
        lines.append(
            ledger.Line(
                debit=int(row.get("debit") or 0),
                credit=int(row.get("credit") or 0),
                gl=code,
                narration=row.get("narration") or None,
            )
        )
    return lines


def _check_value_date(value_date: date | None, maker: StaffUser) -> date | None:
    """The back value date to store (None: the business date at posting); refuses what ``maker`` may not do."""
    if value_date is None:
        return None
    today = calendar.current_business_date()
    if value_date > today:
        raise ValidationError(
            f"The value date cannot be after the business date ({today:%d-%m-%Y}).", field="value_date"
        )
    if value_date == today:
        return None
    if not has_permission(maker, "ledger.backdate"):
        raise ledger.BackdateNotAllowed(
            f"Only users with the back-dating permission may use a value date before the business date "
            f"({today:%d-%m-%Y}).",
            field="value_date",
        )
    return value_date


def submit_voucher(
    rows: list[dict], *, narration: str, maker: StaffUser, value_date: date | None = None
) -> ApprovalRequest:
    """Check a manual voucher fully (balanced, valid accounts) and queue it for approval.

    ``value_date`` before the business date needs the maker to hold ``ledger.backdate``.
    """
    lines = _voucher_lines(rows)
    ledger.validate_lines(lines)  # same rules as posting: refuse now, not at approval
    if not (narration or "").strip():
        raise ValidationError("A narration is required.", field="narration")
    back_value = _check_value_date(value_date, maker)
    total = sum(ln.debit for ln in lines)
    payload: dict = {"narration": narration.strip(), "lines": rows}
    summary = f"Journal voucher {format_inr(total)}: {narration.strip()[:120]}"
    if back_value is not None:
        payload["value_date"] = back_value.isoformat()
        summary = f"Journal voucher {format_inr(total)} value {back_value:%d-%m-%Y}: {narration.strip()[:100]}"
    return approvals.submit(
        "ledger.voucher",
        payload,
        maker=maker,
        summary=summary,
        entity=("journal_voucher", None),
        amount_paise=total,
    )


def _execute_voucher(req: ApprovalRequest, checker: StaffUser) -> dict:
    raw_value = req.payload.get("value_date")
    entry = ledger.post(
        _voucher_lines(req.payload["lines"]),
        kind="journal",
        narration=req.payload["narration"],
        idempotency_key=f"approval:{req.id}",
        options=ledger.PostOptions(
            value_date=date.fromisoformat(raw_value) if raw_value else None,
            allow_backdate=bool(raw_value) and has_permission(req.maker, "ledger.backdate"),
            posted_by_id=req.maker_id,
            approved_by_id=checker.id,
        ),
    )
    return {"entry_id": entry.id, "entry_no": entry.number}


# ---------------------------------------------------------------- reversals


def submit_reversal(entry_id: int, *, reason: str, maker: StaffUser) -> ApprovalRequest:
    entry = ledger.get_entry(entry_id)
    if not (reason or "").strip():
        raise ValidationError("A reason is required for a reversal.", field="reason")
    if entry.kind == "reversal":
        raise ValidationError(f"Entry {entry.number} is itself a reversal.")
    if ledger.reversal_of(entry) is not None:
        raise ledger.AlreadyReversed(f"Entry {entry.number} has already been reversed.")
    open_request = db.session.scalar(
        select(ApprovalRequest).where(
            ApprovalRequest.kind == "ledger.reversal",
            ApprovalRequest.status == "pending",
            ApprovalRequest.entity_id == str(entry.id),
        )
    )
    if open_request is not None:
        raise Conflict(f"A reversal of {entry.number} is already awaiting approval (request #{open_request.id}).")
    return approvals.submit(
        "ledger.reversal",
        {"entry_id": entry.id, "reason": reason.strip()},
        maker=maker,
        summary=f"Reverse {entry.number} ({format_inr(entry.total_paise)}): {reason.strip()[:120]}",
        entity=("journal_entry", entry.id),
        amount_paise=entry.total_paise,
    )


def _execute_reversal(req: ApprovalRequest, checker: StaffUser) -> dict:
    entry = ledger.get_entry(int(req.payload["entry_id"]))
    rev = ledger.reverse(entry, reason=req.payload["reason"], posted_by_id=req.maker_id, approved_by_id=checker.id)
    return {"entry_id": rev.id, "entry_no": rev.number}


# ---------------------------------------------------------------- chart of accounts


def gl_has_postings(gl: GLAccount) -> bool:
    return bool(
        db.session.scalar(select(func.count()).select_from(JournalLine).where(JournalLine.gl_account_id == gl.id))
    )


def deletion_blockers(gl: GLAccount) -> list[str]:
    """Why ``gl`` cannot be deleted (empty when it can): system codes and anything pointing at it."""

    def count(model, column) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(column == gl.id)) or 0

    reasons = []
    if gl.code in coa.SYSTEM_CODES:
        reasons.append("it is a system account the services post to")
    if n := count(GLAccount, GLAccount.parent_id):
        reasons.append(f"it has {n} account(s) under it")
    if n := count(Account, Account.control_gl_id):
        reasons.append(f"{n} member account(s) sit under it")
    if n := count(JournalLine, JournalLine.gl_account_id):
        reasons.append(f"it has postings ({n})")
    if n := count(GLDailyBalance, GLDailyBalance.gl_account_id):
        reasons.append(f"it appears in {n} day-end snapshot row(s)")
    return reasons


def _check_deletable(gl: GLAccount) -> None:
    reasons = deletion_blockers(gl)
    if reasons:
        raise ValidationError(
            f"GL {gl.code} {gl.name} cannot be deleted: {'; '.join(reasons)}. It can be deactivated, not deleted."
        )


def submit_gl_change(action: str, data: dict, *, maker: StaffUser) -> ApprovalRequest:
    """Queue a chart change: ``create``, ``rename``, ``deactivate``, ``activate`` or ``delete``."""
    if action == "create":
        _check_new_gl(data)
        summary = f"New GL {data['code']} {data['name']}"
    else:
        gl = db.session.get(GLAccount, int(data.get("gl_id") or 0))
        if gl is None:
            raise NotFound("No such GL account.")
        if action == "rename" and not (data.get("name") or "").strip():
            raise ValidationError("A name is required.", field="name")
        if action == "delete":
            _check_deletable(gl)
        if action == "deactivate" and gl.is_control:
            open_accounts = db.session.scalar(
                select(func.count())
                .select_from(Account)
                .where(Account.control_gl_id == gl.id, Account.status != "closed")
            )
            if open_accounts:
                raise ValidationError(f"GL {gl.code} still has {open_accounts} open member account(s).")
        if action not in {"rename", "deactivate", "activate", "delete"}:
            raise ValidationError(f"Unknown change {action!r}.")
        summary = f"{action.title()} GL {gl.code} {gl.name}" + (f" → {data['name']}" if action == "rename" else "")
    return approvals.submit(
        "ledger.coa",
        {"action": action, **data},
        maker=maker,
        summary=summary,
        entity=("gl_account", data.get("gl_id") or data.get("code")),
    )


def _check_new_gl(data: dict) -> None:
    code = (data.get("code") or "").strip()
    if not code.isdigit() or not 3 <= len(code) <= 8:
        raise ValidationError("Code must be 3 to 8 digits.", field="code")
    if db.session.scalar(select(GLAccount).where(GLAccount.code == code)):
        raise Conflict(f"GL code {code} already exists.", field="code")
    if not (data.get("name") or "").strip():
        raise ValidationError("A name is required.", field="name")
    if data.get("type") not in GL_TYPES:
        raise ValidationError("Choose a type.", field="type")
    parent_code = (data.get("parent") or "").strip()
    if parent_code:
        parent = db.session.scalar(select(GLAccount).where(GLAccount.code == parent_code))
        if parent is None or not parent.is_group:
            raise ValidationError("The parent must be an existing heading (group) account.", field="parent")
        if parent.type != data["type"]:
            raise ValidationError(f"A {data['type']} account cannot sit under a {parent.type} heading.", field="parent")


def _execute_gl_change(req: ApprovalRequest, checker: StaffUser) -> dict:
    data = dict(req.payload)
    action = data.pop("action")
    if action == "create":
        _check_new_gl(data)
        parent = (
            db.session.scalar(select(GLAccount).where(GLAccount.code == data.get("parent")))
            if data.get("parent")
            else None
        )
        gl = GLAccount(
            code=data["code"].strip(),
            name=data["name"].strip(),
            type=data["type"],
            normal_side=NORMAL_SIDE[data["type"]],
            parent=parent,
            is_group=bool(data.get("is_group")),
            is_control=False,
            is_cash=bool(data.get("is_cash")),
            allow_manual=not data.get("is_group"),
            active=True,
        )
        db.session.add(gl)
        db.session.flush()
        audit.record(
            "gl.create", "gl_account", gl.code, after={"name": gl.name, "type": gl.type, "parent": data.get("parent")}
        )
        return {"gl": gl.code}
    gl = db.session.get(GLAccount, int(data["gl_id"]))
    if gl is None:
        raise NotFound("No such GL account.")
    before = {"name": gl.name, "active": gl.active}
    if action == "rename":
        gl.name = data["name"].strip()
    elif action in {"deactivate", "activate"}:
        gl.active = action == "activate"
    elif action == "delete":
        _check_deletable(gl)  # again: things may have changed since the request was made
        db.session.delete(gl)
    audit.record(
        f"gl.{action}",
        "gl_account",
        gl.code,
        before=before,
        after={"name": gl.name, "active": gl.active} if action != "delete" else None,
    )
    return {"gl": gl.code}


approvals.register("ledger.voucher", label="Journal voucher", permission="ledger.approve", execute=_execute_voucher)
approvals.register("ledger.reversal", label="Reversal", permission="ledger.approve", execute=_execute_reversal)
approvals.register(
    "ledger.coa", label="Chart of accounts change", permission="ledger.approve", execute=_execute_gl_change
)
