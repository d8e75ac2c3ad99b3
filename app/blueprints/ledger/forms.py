"""Forms of the ledger screens: chart changes, reversal requests and the multi-line voucher."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from app.models.ledger import GL_TYPES
from app.money import MoneyError, format_inr, parse_amount
from app.web import select_choices


class NewGLForm(FlaskForm):
    """Propose a new GL account (parent choices are filled in by the view)."""

    code = StringField("Code", validators=[DataRequired(), Length(max=8)], render_kw={"inputmode": "numeric"})
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    type = SelectField("Type", choices=select_choices([("", "Choose…")] + [(t, t.title()) for t in GL_TYPES]))
    parent = SelectField("Under heading", choices=select_choices([("", "— top level —")]), validate_choice=False)
    is_group = BooleanField("Heading (groups other accounts, takes no postings)")
    is_cash = BooleanField("Cash account (counts in the day book's cash)")


class GLChangeForm(FlaskForm):
    """Propose renaming, deactivating, activating or deleting a GL account."""

    action = HiddenField(validators=[AnyOf(["rename", "deactivate", "activate", "delete"])])
    name = StringField("New name", validators=[Optional(), Length(max=120)])


class ReversalForm(FlaskForm):
    """Ask for an entry to be reversed, with the reason."""

    reason = TextAreaField("Reason for reversal", validators=[DataRequired(), Length(max=200)])


# ---------------------------------------------------------------- journal voucher (dynamic rows)

MIN_VOUCHER_LINES = 2
MAX_VOUCHER_LINES = 40


@dataclass
class VoucherLine:
    """One row of the voucher form as typed, with its parsed amounts and errors."""

    gl: str = ""
    debit: str = ""
    credit: str = ""
    note: str = ""
    debit_paise: int = 0
    credit_paise: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        """Nothing typed in this row."""
        return not (self.gl or self.debit or self.credit or self.note)


@dataclass
class VoucherDraft:
    """The whole voucher form: narration, rows, totals and errors."""

    narration: str = ""
    lines: list[VoucherLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    narration_errors: list[str] = field(default_factory=list)
    value_date_raw: str = ""  # blank: the business date
    value_date: date | None = None
    value_date_errors: list[str] = field(default_factory=list)
    checked: bool = False  # submitted once and refused: the live preview re-runs the field checks

    @property
    def total_debit(self) -> int:
        """Sum of the debits typed so far (paise)."""
        return sum(ln.debit_paise for ln in self.lines)

    @property
    def total_credit(self) -> int:
        """Sum of the credits typed so far (paise)."""
        return sum(ln.credit_paise for ln in self.lines)

    @property
    def difference(self) -> int:
        """Debits minus credits (zero when balanced)."""
        return self.total_debit - self.total_credit

    @property
    def has_errors(self) -> bool:
        """Whether any row or the form carries an error."""
        return bool(
            self.errors or self.narration_errors or self.value_date_errors or any(ln.errors for ln in self.lines)
        )

    def rows(self) -> list[dict[str, Any]]:
        """The filled rows in the shape ``ledger_workflows.submit_voucher`` takes (paise)."""
        return [
            {"gl": ln.gl, "debit": ln.debit_paise, "credit": ln.credit_paise, "narration": ln.note or None}
            for ln in self.lines
            if not ln.blank
        ]

    def add_line(self) -> None:
        """Append an empty row (up to the maximum)."""
        if len(self.lines) < MAX_VOUCHER_LINES:
            self.lines.append(VoucherLine())

    def remove_line(self, index: int) -> None:
        """Drop row ``index`` (keeping at least the minimum number of rows)."""
        if 0 <= index < len(self.lines):
            del self.lines[index]
        while len(self.lines) < MIN_VOUCHER_LINES:
            self.lines.append(VoucherLine())


def _amount(raw: str, line: VoucherLine, label: str) -> int:
    if not raw:
        return 0
    try:
        return parse_amount(raw, allow_zero=True, field=label)
    except MoneyError as exc:
        line.errors.append(str(exc))
        return 0


def read_voucher(form: Any) -> VoucherDraft:
    """Read the voucher rows (repeated ``gl``, ``debit``, ``credit``, ``note`` fields) and parse amounts."""
    getlist = form.getlist if hasattr(form, "getlist") else (lambda name: [form[name]] if name in form else [])
    gls, debits, credits, notes = (getlist(name) for name in ("gl", "debit", "credit", "note"))
    count = min(max(len(gls), len(debits), len(credits), len(notes), MIN_VOUCHER_LINES), MAX_VOUCHER_LINES)

    def at(values: list[str], i: int) -> str:
        return (values[i] if i < len(values) else "").strip()

    draft = VoucherDraft(
        narration=(form.get("narration") or "").strip()[:255],
        value_date_raw=(form.get("value_date") or "").strip()[:10],
        checked=form.get("checked") == "1",
    )
    if draft.value_date_raw:
        try:
            draft.value_date = date.fromisoformat(draft.value_date_raw)
        except ValueError:
            draft.value_date_errors.append("Enter the value date as a date (YYYY-MM-DD).")
    for i in range(count):
        line = VoucherLine(gl=at(gls, i), debit=at(debits, i), credit=at(credits, i), note=at(notes, i)[:255])
        line.debit_paise = _amount(line.debit, line, "debit")
        line.credit_paise = _amount(line.credit, line, "credit")
        draft.lines.append(line)
    return draft


def check_voucher(draft: VoucherDraft, *, business_date: date | None = None, can_backdate: bool = False) -> bool:
    """Field checks before the service sees the voucher; errors land on the rows. True when clean.

    A value date may differ from the business date only for users who may back-date
    (``ledger.backdate``), and never lies after it.
    """
    if not draft.narration:
        draft.narration_errors.append("A narration is required.")
    if draft.value_date is not None and business_date is not None and draft.value_date != business_date:
        if draft.value_date > business_date:
            draft.value_date_errors.append(
                f"The value date cannot be after the business date ({business_date:%d-%m-%Y})."
            )
        elif not can_backdate:
            draft.value_date_errors.append(
                f"Only users with the back-dating permission may use a value date before the business date "
                f"({business_date:%d-%m-%Y})."
            )
    filled = [ln for ln in draft.lines if not ln.blank]
    for line in filled:
        if not line.gl:
            line.errors.append("Choose a GL account.")
        if not line.errors and (line.debit_paise > 0) == (line.credit_paise > 0):
            line.errors.append("Enter either a debit or a credit.")
    if len(filled) < 2:
        draft.errors.append("A voucher needs at least two lines.")
    elif not draft.has_errors and draft.difference:
        draft.errors.append(
            f"Debits {format_inr(draft.total_debit)} and credits {format_inr(draft.total_credit)} "
            f"differ by {format_inr(abs(draft.difference))}; the voucher must balance."
        )
    return not draft.has_errors


def blank_voucher() -> VoucherDraft:
    """An empty voucher with the minimum number of rows."""
    return VoucherDraft(lines=[VoucherLine() for _ in range(MIN_VOUCHER_LINES)])


def query_int(args: Mapping[str, str], name: str, default: int = 1) -> int:
    """A positive integer query argument, falling back to ``default``."""
    try:
        return max(1, int(args.get(name, default)))
    except (TypeError, ValueError):
        return default
