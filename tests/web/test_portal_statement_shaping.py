"""Hindi in the PDF statement is shaped (HarfBuzz): conjuncts, reordered i-matra, placed marks;
the text still extracts as the Unicode that went in, and Hindi narrations keep the columns."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from app.services.deposits import passbook, statements
from app.services.deposits.shaping import ShapedTTFont, statement_font
from tests.conftest import BUSINESS_DATE
from tests.integration.portal.helpers import sms_fixture  # noqa: F401  (the "sms" fixture)
from tests.web.test_portal_pages import _cash_in, sunita  # noqa: F401  (the "sunita" fixture)

HINDI_NARRATION = "प्रधानमंत्री किसान निधि किस्त"


@pytest.fixture(scope="module")
def font() -> ShapedTTFont:
    return statement_font()


def _glyph_ids(font: ShapedTTFont, text: str) -> list[int]:
    return [font.face.charToGlyph[ord(ch)] for ch in font.glyph_text(text)]


def _nominal_ids(font: ShapedTTFont, text: str) -> list[int]:
    return [font.face.charToGlyph[ord(ch)] for ch in text]


def test_conjuncts_and_the_i_matra_are_shaped(font):
    # "कि": the i-matra glyph is drawn before its consonant
    assert _glyph_ids(font, "कि") == _nominal_ids(font, "िक")
    # "प्र" (pa + virama + ra) is one conjunct glyph, not pa, a visible virama and ra
    assert len(_glyph_ids(font, "प्र")) == 1 and _glyph_ids(font, "प्र") != _nominal_ids(font, "प्र")[:1]
    # "क्ष" is one glyph too, and "स्" a half form (not sa + virama)
    assert len(_glyph_ids(font, "क्ष")) == 1
    assert len(_glyph_ids(font, "स्त")) == 2
    # Latin is left alone
    assert font.glyph_text("Cash deposit #1") == "Cash deposit #1"


def test_layout_width_is_the_shaped_width(font):
    # the conjunct is narrower than its letters side by side; stringWidth measures what is drawn
    unshaped = sum(font.face.charWidths[ord(ch)] for ch in "प्रधानमंत्री") * 10 / 1000
    assert font.stringWidth("प्रधानमंत्री", 10) < unshaped
    assert font.stringWidth("प्रधानमंत्री", 10) == pytest.approx(
        sum(font.face.charWidths[ord(ch)] for ch in font.glyph_text("प्रधानमंत्री")) * 10 / 1000
    )


def _line(narration: str) -> passbook.StatementLine:
    return passbook.StatementLine(
        line_id=1, account_no="SB1", business_date=date(2026, 4, 1), value_date=date(2026, 4, 1), entry_no="JE1",
        kind="deposit", channel="branch", mode="", narration=narration, debit_paise=0, credit_paise=2_500_50,
        balance_paise=1_27_500_50,
    )  # fmt: skip


def test_hindi_narration_is_padded_to_the_column_by_measured_width(font):
    english, hindi = statements.text_lines([_line("Cash deposit by self"), _line(HINDI_NARRATION)])
    narration_pt = dict(statements.COLUMNS)["narration"] * statements.CHAR_PT
    # the English line is fixed-width; the Hindi one is padded so its amounts start at the same point
    amounts = english[12 + dict(statements.COLUMNS)["narration"] :]
    assert hindi.endswith(amounts)
    padded = hindi[12 : -len(amounts)]
    size = float(re.search(r"\x01([0-9.]+)\x02", padded).group(1))
    marked = re.sub(r"\x01[0-9.]+\x02", "", padded)
    assert statements._measure(marked, font) + size * 0.6 == pytest.approx(narration_pt, abs=0.02)
    assert "\x03" + HINDI_NARRATION + "\x04" in padded  # the Devanagari prints in Lohit, as one fragment
    mixed = statements.text_lines([_line("Transfer to SB000000999 स्वयं")])[0]
    assert "Transfer to SB000000999 \x03स्वयं\x04" in mixed  # Latin stays in Courier


def _to_unicode_targets(reader: PdfReader) -> set[str]:
    """Every Unicode text the ToUnicode maps of the embedded Lohit subsets give a glyph code."""
    targets: set[str] = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if "Lohit" not in str(font.get("/BaseFont")) or "/ToUnicode" not in font:
                continue
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            chars = cmap[cmap.index("beginbfchar") : cmap.index("endbfchar")]
            for hexed in re.findall(r"<[0-9A-F]{2}> <([0-9A-F]*)>", chars):
                targets.add(bytes.fromhex(hexed).decode("utf-16-be"))
    return targets


def test_hindi_statement_pdf_is_shaped_and_its_text_round_trips(client, sunita):  # noqa: F811
    _member, sb = sunita
    _cash_in(sb, 2_500_50, narration=HINDI_NARRATION)
    client.post("/portal/language/hi", data={"next": "/portal/statements"})
    day = BUSINESS_DATE.isoformat()
    response = client.post("/portal/statements", data={"account": sb.account_no, "start": day, "end": day})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    # extraction gives back the logical text (labels and narration), though the glyphs are reordered
    assert "प्रारंभिक शेष" in text and "अंतिम शेष" in text and HINDI_NARRATION in text
    assert "2,500.50" in text and "₹1,27,500.50" in text
    targets = _to_unicode_targets(reader)
    # glyphs that stand for more than one code point exist only when the text was shaped:
    # the pra conjunct, and the reordered "भि" of प्रारंभिक (its i-matra drawn first)
    assert "प्र" in targets and "भि" in targets
    assert "" in targets  # the consonant glyph after a reordered i-matra adds no text of its own


@pytest.mark.parametrize(
    "paise",
    [0, 1, -1, 99, 100, 1_000_00, 99_999_99, 1_00_000_00, -1_00_000_00, 12_34_567_89, 98_76_54_321_01, 10**15 + 7],
)
def test_statement_amounts_are_formatted_like_the_rest_of_the_bank(paise):
    from app.money import format_plain

    assert statements._indian(paise) == format_plain(paise)
