"""PDF account statements (xhtml2pdf), for the member portal, the member API and staff alike.

A statement covers one member account over a period of at most ``STATEMENT_MAX_DAYS``:
the society's name and logo, the branch, the member and the masked account number, the
period, the opening balance, every transaction (date, narration, debit, credit, running
balance — read from ``passbook``, so the figures are the ledger's), the totals and the
closing balance; every page carries "Page n of m" and the computer-generated footer. Labels
are in the language asked for (Flask-Babel catalogues); amounts keep the Indian format. Hindi
(labels and narrations) is shaped by HarfBuzz through the statement's fonts (``shaping``).

Statements up to ``STATEMENT_INLINE_MAX_LINES`` lines are made while the caller waits;
longer ones are a ``StatementFile`` row made by the ``app.jobs.statements`` job, which the
page polls until it is ``ready``. Callers scope the account first (``access.scoping``): this
module trusts the account it is given, and ``find_file`` scopes a stored file to its member.
"""

from __future__ import annotations

import io
import re
import secrets
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, select
from xhtml2pdf import pisa

from app.extensions import db
from app.models.base import utcnow
from app.models.deposits import DepositAccount, RdInstallment, TdsDeduction
from app.models.ledger import Account, JournalEntry, JournalLine
from app.models.members import Member
from app.models.portal import StatementFile
from app.models.users import Branch
from app.services.common import NotFound, ValidationError, audit
from app.settings import setting

from . import passbook
from .shaping import FONT, FONT_FAMILY, GLUE, MONO_FAMILY, ShapedTTFont, mono_font, statement_font

ROWS_PER_BLOCK = 60
# Transactions print as fixed-width text blocks, not as an HTML table: xhtml2pdf lays out a
# 1,000-row table in ~9 s. Each block is one plain paragraph of full-width lines, the spaces
# inside a line made ``GLUE`` (drawn as spaces, never broken at) and lines joined by ordinary
# spaces: a line is one "word" wider than half the frame, so the paragraph breaks after every
# line, and a block of English lines is a single text fragment (ReportLab's fast path). A <pre>
# made two fragments a line (text and line break): ~40 MB and ~2 s more for 10,000 lines.
# Column widths in characters:
COLUMNS = (("date", 10), ("narration", 44), ("debit", 15), ("credit", 15), ("balance", 17))
PRE_PT = 7.5  # the transaction lines' font size (statement_pdf.html, ``.t``)
CHAR_PT = 4.5  # Courier at 7.5 pt: 0.6 em a character
# Marks the rest of a padded narration: one GLUE space at the font size that fills it.
PAD = ("\x01", "\x02")
PAD_RE = re.compile("\x01([0-9.]+)\x02")
# Marks the stretch of a narration Courier cannot draw; printed as <span class="d"> (Lohit, shaped).
RUN = ("\x03", "\x04")
STATIC = Path(__file__).resolve().parents[2] / "static"
LOGO = STATIC / "portal" / "logo.png"


def mask_account(account_no: str) -> str:
    """``SB000001234`` → ``XXXXXXX1234``: the last four characters stay."""
    number = account_no or ""
    return "X" * max(0, len(number) - 4) + number[-4:]


def check_period(start: date | None, end: date | None, *, today: date | None = None) -> tuple[date, date]:
    """The period of a statement; ValidationError (in the caller's language) when it is not allowed."""
    if start is None or end is None:
        raise ValidationError(_("Choose the first and the last day of the statement."), field="start")
    if end < start:
        raise ValidationError(_("The last day is before the first day."), field="end")
    limit = int(setting("STATEMENT_MAX_DAYS"))
    if (end - start).days + 1 > limit:
        raise ValidationError(_("A statement can cover at most %(days)s days.", days=limit), field="end")
    if today is not None and start > today:
        raise ValidationError(_("The first day is in the future."), field="start")
    return start, end


def line_count(account: Account, start: date, end: date) -> int:
    """How many transactions the statement would list."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(JournalLine)
            .where(JournalLine.account_id == account.id, JournalLine.business_date.between(start, end))
        )
        or 0
    )


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    lines: int


def _indian(paise: int) -> str:
    """``money.format_plain`` (Indian grouping, ``12,34,567.89``) without Babel: ~20x faster,
    which is a fifth of a long statement's time; ``test_portal_statement_shaping`` keeps them equal."""
    rupees, rest = divmod(abs(paise), 100)
    digits = str(rupees)
    head, tail = digits[:-3], digits[-3:]
    groups = [head[max(0, i - 2) : i] for i in range(len(head), 0, -2)][::-1]
    return ("-" if paise < 0 else "") + ",".join([*groups, tail]) + f".{rest:02d}"


def _amount(paise: int) -> str:
    return _indian(paise) if paise else ""


def _courier(ch: str) -> bool:
    """Whether Courier (a standard font, WinAnsi) draws ``ch``; the rest falls back to Lohit."""
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _mark_runs(text: str) -> str:
    """``text`` with the stretch from its first to its last letter Courier lacks between the ``RUN``
    marks: that stretch prints in Lohit as one fragment (its spaces too, Lohit has Latin)."""
    lohit = [i for i, ch in enumerate(text) if not _courier(ch)]
    if not lohit:
        return text
    first, last = lohit[0], lohit[-1] + 1
    return text[:first] + RUN[0] + text[first:last] + RUN[1] + text[last:]


def _measure(marked: str, font: ShapedTTFont) -> float:
    """Width in points of a marked narration in the transaction lines: Courier, Lohit between the marks."""
    width, pos = 0.0, 0
    while (start := marked.find(RUN[0], pos)) >= 0:
        stop = marked.index(RUN[1], start)
        width += CHAR_PT * (start - pos) + font.stringWidth(marked[start + 1 : stop], PRE_PT)
        pos = stop + 1
    return width + CHAR_PT * (len(marked) - pos)


def _wrap_measured(text: str, room: float, font: ShapedTTFont) -> list[str]:
    """``text`` in marked lines no wider than ``room`` points (words kept whole unless one is wider)."""
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and _measure(_mark_runs(trial), font) > room:
            lines.append(_mark_runs(current))
            current = word
        else:
            current = trial
    return [*lines, _mark_runs(current)] if current else [""]


def _pad(marked: str, room: float, font: ShapedTTFont) -> str:
    """A marked narration padded to ``room`` points: Courier spaces, then one narrower space (``PAD``)."""
    left = room - _measure(marked, font)
    if left <= 0:
        return marked
    spaces = int(left // CHAR_PT)
    rest = left - spaces * CHAR_PT
    return marked + " " * spaces + (f"{PAD[0]}{rest / 0.6:.2f}{PAD[1]}" if rest > 0.05 else "")


def text_lines(lines: list[passbook.StatementLine]) -> list[str]:
    """Each transaction as fixed-width text (a long narration wraps onto the next lines).

    A narration with Devanagari (or anything else Courier lacks) prints those letters in Lohit,
    which is not fixed-width: it is wrapped and padded by measured width so the amounts after it
    stay in their columns.
    """
    widths = dict(COLUMNS)
    out: list[str] = []
    room = widths["narration"] * CHAR_PT
    indent, no_amounts = " " * (widths["date"] + 2), " " * (widths["debit"] + widths["credit"] + widths["balance"])
    font = None
    for ln in lines:
        text = (ln.narration or "").replace(GLUE, "|")  # GLUE prints as a space
        if text.isascii():
            cells = [t.ljust(widths["narration"]) for t in textwrap.wrap(text, widths["narration"]) or [""]]
        else:
            font = font or statement_font()
            cells = [_pad(t, room, font) for t in _wrap_measured(text, room, font)]
        out.append(
            ln.business_date.strftime("%d-%m-%Y")
            + "  "
            + cells[0]
            + _amount(ln.debit_paise).rjust(widths["debit"])
            + _amount(ln.credit_paise).rjust(widths["credit"])
            + _indian(ln.balance_paise).rjust(widths["balance"])
        )
        # continuation lines are as wide as a full line too: one line of text per line of print (``_blocks``)
        out.extend(indent + cell + no_amounts for cell in cells[1:])
    return out


@dataclass
class Totals:
    opening_paise: int
    closing_paise: int
    debits_paise: int
    credits_paise: int
    count: int


def read_lines(account: Account, start: date, end: date) -> tuple[Totals, list[passbook.StatementLine]]:
    """Every line of the period in one ordered, streamed read, with the running balance.

    The balance brought forward is ``passbook.balance_before`` (the passbook's own rule);
    the running balance moves on the account's normal side, as in the passbook. One query
    instead of the passbook's pages (whose window + offset cost grows with every page).
    """
    opening = passbook.balance_before([account.id], start)[account.id]
    sign = 1 if account.control_gl.normal_side == "credit" else -1
    rows = db.session.execute(
        select(
            JournalLine.id,
            JournalLine.business_date,
            JournalLine.debit_paise,
            JournalLine.credit_paise,
            JournalLine.narration,
            JournalEntry.narration.label("entry_narration"),
            JournalEntry.id.label("entry_id"),
            JournalEntry.value_date,
            JournalEntry.kind,
            JournalEntry.channel,
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account_id == account.id, JournalLine.business_date.between(start, end))
        .order_by(JournalLine.business_date, JournalLine.id)
        .execution_options(yield_per=2000)
    )
    running, debits, credits = opening, 0, 0
    lines: list[passbook.StatementLine] = []
    for r in rows:
        debit, credit = int(r.debit_paise), int(r.credit_paise)
        debits += debit
        credits += credit
        running += sign * (credit - debit)
        lines.append(
            passbook.StatementLine(
                line_id=r.id, account_no=account.account_no, business_date=r.business_date, value_date=r.value_date,
                entry_no=f"JE{r.entry_id:08d}", kind=r.kind, channel=r.channel, mode="",
                narration=r.narration or r.entry_narration, debit_paise=debit, credit_paise=credit,
                balance_paise=running,
            )
        )  # fmt: skip
    return Totals(opening, running, debits, credits, len(lines)), lines


def _line_markup(text: str) -> str:
    """One escaped text line: spaces made ``GLUE``, the marks of ``text_lines`` made spans."""
    html = str(escape(text)).replace(" ", GLUE)
    if PAD[0] in html or RUN[0] in html:
        html = PAD_RE.sub(lambda m: f'<span style="font-size:{m.group(1)}pt">{GLUE}</span>', html)
        html = html.replace(RUN[0], '<span class="d">').replace(RUN[1], "</span>")
    return html


def _blocks(lines: list[str], size: int = ROWS_PER_BLOCK) -> list[Markup]:
    """Blocks of escaped text lines, one paragraph each (see ``COLUMNS``)."""
    return [
        Markup(" ".join(_line_markup(t) for t in lines[i : i + size]))  # noqa: S704 - escaped above
        for i in range(0, len(lines), size)
    ]


def render_pdf(account: Account, start: date, end: date, *, language: str = "en") -> Rendered:
    """The statement of ``account`` for ``start``..``end`` as PDF bytes, labels in ``language``."""
    statement_font()  # before xhtml2pdf embeds the @font-face, so the shaping font is the one used
    mono_font()
    first, lines = read_lines(account, start, end)
    member = db.session.get(Member, account.member_id) if account.member_id else None
    branch = db.session.get(Branch, account.branch_id) if account.branch_id else None
    with force_locale(language):
        html = render_template(
            "portal/statement_pdf.html",
            account=account,
            masked=mask_account(account.account_no),
            member=member,
            branch=branch,
            start=start,
            end=end,
            stmt=first,
            blocks=_blocks(text_lines(lines)),
            char_pt=CHAR_PT,
            columns=COLUMNS,
            count=len(lines),
            font=FONT.as_posix(),
            font_family=FONT_FAMILY,
            mono_family=MONO_FAMILY,
            logo=LOGO.as_posix() if LOGO.exists() else None,
            society=current_app.config.get("SOCIETY_NAME") or setting("SOCIETY_NAME"),
            generated=utcnow(),
            language=language,
        )
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:
        raise RuntimeError(f"PDF statement failed: {result.err} error(s)")
    pdf = out.getvalue()
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    return Rendered(pdf=pdf, pages=max(1, pages), lines=len(lines))


def statement_pdf(
    account: Account,
    start: date,
    end: date,
    *,
    language: str = "en",
    member_id: int | None = None,
    staff_id: int | None = None,
) -> Rendered | StatementFile:
    """A statement now (``Rendered``) or, over the inline size, a queued ``StatementFile`` for the job."""
    check_period(start, end)
    count = line_count(account, start, end)
    if count <= int(setting("STATEMENT_INLINE_MAX_LINES")):
        rendered = render_pdf(account, start, end, language=language)
        audit.record(
            "statement.downloaded",
            "account",
            account.account_no,
            after={"from": start.isoformat(), "to": end.isoformat(), "lines": rendered.lines, "language": language},
        )
        return rendered
    row = StatementFile(
        token=secrets.token_hex(16),
        account_id=account.id,
        requested_by_member_id=member_id,
        requested_by_staff_id=staff_id,
        start_date=start,
        end_date=end,
        language=language,
        status="queued",
        lines=count,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "statement.requested",
        "account",
        account.account_no,
        after={"from": start.isoformat(), "to": end.isoformat(), "lines": count, "file": row.token},
    )
    return row


def build_file(file_id: int) -> StatementFile:
    """Make the PDF of a queued statement file (the job's body; the caller commits)."""
    row = db.session.get(StatementFile, file_id)
    if row is None:
        raise NotFound("No such statement file.")
    if row.status == "ready":
        return row
    row.status = "running"
    db.session.flush()
    try:
        rendered = render_pdf(row.account, row.start_date, row.end_date, language=row.language)
    except Exception as exc:  # noqa: BLE001 - recorded on the row for the polling page; the job log has the trace
        row.status = "failed"
        row.error = str(exc)[:255]
        row.finished_at = utcnow()
        return row
    row.pdf = rendered.pdf
    row.pages = rendered.pages
    row.lines = rendered.lines
    row.status = "ready"
    row.finished_at = utcnow()
    audit.record("statement.ready", "account", row.account.account_no, after={"file": row.token, "pages": row.pages})
    return row


def find_file(token: str, *, member_id: int | None) -> StatementFile:
    """A stored statement file; for a member only their own (NotFound otherwise, like a bad token)."""
    row = db.session.scalar(select(StatementFile).where(StatementFile.token == (token or "")[:32]))
    if row is None or (member_id is not None and row.requested_by_member_id != member_id):
        raise NotFound(_("No such statement."))
    return row


def filename(account: Account, start: date, end: date) -> str:
    return f"statement-{account.account_no}-{start.isoformat()}-{end.isoformat()}.pdf"


# ---------------------------------------------------------------- deposit details (FD / RD pages)


@dataclass
class DepositSummary:
    kind: str
    product: str
    principal_paise: int
    rate_bp: int | None
    start_date: date | None
    maturity_date: date | None
    maturity_paise: int | None
    interest_earned_paise: int
    tds_paise: int
    installment_paise: int | None
    installments: list[RdInstallment]
    status: str


def deposit_summary(account: Account) -> DepositSummary | None:
    """Principal, rate, maturity, interest earned, TDS and RD instalments of a deposit account."""
    da = db.session.scalar(select(DepositAccount).where(DepositAccount.account_id == account.id))
    if da is None:
        return None
    interest = db.session.scalar(
        select(func.coalesce(func.sum(JournalLine.credit_paise), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account_id == account.id, JournalEntry.kind == "interest")
    )
    payout_interest = int(da.interest_paid_paise or 0) if da.payout_account_id else 0
    tds = db.session.scalar(
        select(func.coalesce(func.sum(TdsDeduction.tds_paise), 0)).where(TdsDeduction.account_id == account.id)
    )
    installments = list(
        db.session.scalars(
            select(RdInstallment).where(RdInstallment.account_id == account.id).order_by(RdInstallment.seq)
        )
    )
    expected = da.expected_interest_paise
    maturity = (da.principal_paise + expected) if expected is not None and da.kind == "fd" else None
    if da.kind == "rd" and expected is not None and da.installment_paise:
        maturity = da.installment_paise * (da.months or 0) + expected
    return DepositSummary(
        kind=da.kind,
        product=da.product.name if da.product else da.kind.upper(),
        principal_paise=int(da.principal_paise or 0),
        rate_bp=da.rate_bp,
        start_date=da.start_date,
        maturity_date=da.maturity_date,
        maturity_paise=maturity,
        interest_earned_paise=max(int(interest or 0), payout_interest),
        tds_paise=int(tds or 0),
        installment_paise=da.installment_paise,
        installments=installments,
        status=account.status,
    )
