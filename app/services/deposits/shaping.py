"""The PDF statement's fonts: Lohit shaped with HarfBuzz, and Courier with a non-breaking glue.

xhtml2pdf lays paragraphs out with its own copy of ReportLab's ``Paragraph``, which never calls
ReportLab's shaping (``ParagraphStyle.shaping`` and ``TTFont.shapable`` are ignored there), so
without this Hindi prints letter by letter: the i-matra after its consonant, no conjuncts, no
half forms, marks in their default places. ``statement_font`` registers the font the statement
template names (``FONT_FAMILY``) before xhtml2pdf embeds its @font-face, and xhtml2pdf keeps a
font already registered under the name it would give its own.

The transaction lines print in Courier as paragraphs of full-width lines (``statements.COLUMNS``):
inside a line every space is ``GLUE``, a character xhtml2pdf and ReportLab do not break or split
at (they split a paragraph's text at every no-break space, one fragment each), which the
``MONO_FONT`` Courier draws, measures and extracts as a plain space.
"""

from __future__ import annotations

import codecs
import itertools
import re
import threading
from pathlib import Path

import uharfbuzz
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, TTFont
from xhtml2pdf import default as xhtml2pdf_default

FONT = Path(__file__).resolve().parents[2] / "static" / "fonts" / "Lohit-Devanagari.ttf"
# The CSS family the statement uses for Lohit: xhtml2pdf names the font it embeds for a
# @font-face "<family>_00" (lower case, normal weight and style).
FONT_FAMILY = "sahakarideva"
MONO_FAMILY = "sahakarimono"  # the CSS family of the transaction lines
MONO_FONT = "SahakariCourier"
GLUE = "\u00a6"  # "¦": a space inside a transaction line, drawn by MONO_FONT as a space
_GLUE_CODEC = "sahakari_winansi"
DEVANAGARI = re.compile("[\u0900-\u097f\ua8e0-\ua8ff\u1cd0-\u1cff\u200c\u200d]+")


class ShapedTTFont(TTFont):
    """A TrueType font whose Devanagari runs are shaped by HarfBuzz before ReportLab sees them.

    xhtml2pdf lays paragraphs out with its own copy of ReportLab's ``Paragraph``, which never
    calls ReportLab's shaping (``ParagraphStyle.shaping`` is ignored there), so without this
    Hindi prints letter by letter: the i-matra after its consonant, no conjuncts or half forms.
    Here the font shapes instead: each Devanagari run becomes the glyphs HarfBuzz chose (the
    font's GSUB), a glyph without a code point of its own getting a private-use one. Both the
    layout (``stringWidth``) and the drawing (``splitString``) see that glyph string, so they
    agree. HarfBuzz's advances and horizontal mark offsets (GPOS) are folded into the widths
    of those glyphs; vertical mark offsets (a few font units) are not drawn. The ToUnicode map
    gives a cluster's first glyph the cluster's text and its other glyphs none, so extracted
    or copied text is the logical Unicode text again.
    """

    _CACHE_MAX = 20_000
    # Private-use code points for glyphs: the BMP area, then planes 15 and 16.
    _PRIVATE = (range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename, shapable=False)  # ReportLab's own shaping stays off
        self._hb = uharfbuzz
        self._hb_font = uharfbuzz.Font(uharfbuzz.Face(uharfbuzz.Blob(self.face._ttf_data)))
        self._scale = 1000.0 / self._hb_font.face.upem
        self._glyph_of = dict(self.face.charToGlyph)  # the font's own cmap, before GLUE and glyph codes
        self._virtual: dict[tuple[int, str, float], int] = {}
        self._text_of: dict[int, str] = {}
        self._cache: dict[str, str] = {}
        self._free = (code for block in self._PRIVATE for code in block if code not in self._glyph_of)
        self._lock = threading.Lock()
        # GLUE (a space inside a transaction line) is a space here too, and extracts as one
        space = ord(" ")
        self.face.charToGlyph[ord(GLUE)] = self.face.charToGlyph[space]
        self.face.charWidths[ord(GLUE)] = self.face.charWidths[space]
        self._text_of[ord(GLUE)] = " "

    # -- shaping

    def glyph_text(self, text: str) -> str:
        """``text`` with every Devanagari run replaced by its shaped glyphs (one character each)."""
        if not DEVANAGARI.search(text):
            return text
        shaped = self._cache.get(text)
        if shaped is None:
            shaped = DEVANAGARI.sub(lambda m: self._shape_run(m.group()), text)
            with self._lock:
                if len(self._cache) >= self._CACHE_MAX:
                    self._cache.clear()
                self._cache[text] = shaped
        return shaped

    def _shape_run(self, run: str) -> str:
        hb = self._hb
        buf = hb.Buffer()
        buf.add_str(run)
        buf.direction, buf.script, buf.language = "ltr", "Deva", "hi"
        hb.shape(self._hb_font, buf, {})
        infos, positions = buf.glyph_infos, buf.glyph_positions
        starts = [*sorted({info.cluster for info in infos}), len(run)]
        cluster_end = dict(itertools.pairwise(starts))
        # x position each glyph is drawn at (pen + offset; the run's first glyph stays at its pen)
        pen, drawn = 0, []
        for i, pos in enumerate(positions):
            drawn.append(pen + (pos.x_offset if i else 0))
            pen += pos.x_advance
        drawn.append(pen)
        out, i = [], 0
        while i < len(infos):
            cluster = infos[i].cluster
            j = i
            while j < len(infos) and infos[j].cluster == cluster:
                j += 1
            texts = self._glyph_texts(run[cluster : cluster_end[cluster]], [info.codepoint for info in infos[i:j]])
            for k in range(i, j):
                text, gid = texts[k - i], infos[k].codepoint
                width = round((drawn[k + 1] - drawn[k]) * self._scale, 2)
                if (
                    len(text) == 1
                    and self._glyph_of.get(ord(text)) == gid
                    and (abs(self.face.charWidths.get(ord(text), -1) - width) < 0.01)
                ):
                    out.append(text)  # the character's own glyph at its own width
                else:
                    out.append(self._virtual_char(gid, text, width))
            i = j
        return "".join(out)

    def _glyph_texts(self, text: str, gids: list[int]) -> list[str]:
        """The text each glyph of a cluster stands for, in order; when the glyphs are reordered
        (the i-matra before its consonant) the first glyph stands for the whole cluster."""
        nominal = self._glyph_of
        out, pos = [], 0
        for k, gid in enumerate(gids):
            if pos < len(text) and nominal.get(ord(text[pos])) == gid:
                out.append(text[pos])
                pos += 1
                continue
            if k == len(gids) - 1:
                end = len(text)
            else:
                end = next((e for e in range(pos + 1, len(text)) if nominal.get(ord(text[e])) == gids[k + 1]), None)
            if end is None or end <= pos:
                return [text] + [""] * (len(gids) - 1)
            out.append(text[pos:end])
            pos = end
        if pos < len(text):
            out[-1] += text[pos:]  # letters without a glyph of their own (ZWJ, ZWNJ)
        return out

    def _virtual_char(self, gid: int, text: str, width: float) -> str:
        key = (gid, text, width)
        code = self._virtual.get(key)
        if code is None:
            with self._lock:
                code = self._virtual.get(key)
                if code is None:
                    code = next(self._free, None)
                    if code is None:  # private use exhausted: this cluster prints unshaped
                        return text
                    face = self.face
                    face.charToGlyph[code] = gid
                    face.charWidths[code] = width
                    self._text_of[code] = text
                    self._virtual[key] = code
        return chr(code)

    # -- ReportLab's font interface

    def stringWidth(self, text, size, encoding="utf8"):
        if isinstance(text, bytes):
            text = text.decode(encoding)
        return super().stringWidth(self.glyph_text(text), size, encoding)

    def splitString(self, text, doc, encoding="utf-8"):
        if isinstance(text, bytes):
            text = text.decode(encoding)
        return super().splitString(self.glyph_text(text), doc, encoding)

    def _to_unicode(self, fontname: str, subset: list[int]) -> str:
        def target(code: int) -> str:
            text = self._text_of.get(code)
            return f"{code:04X}" if text is None else text.encode("utf-16-be").hex().upper()

        return "\n".join(
            [
                "/CIDInit /ProcSet findresource begin",
                "12 dict begin",
                "begincmap",
                "/CIDSystemInfo",
                f"<< /Registry ({fontname})",
                f"/Ordering ({fontname})",
                "/Supplement 0",
                ">> def",
                f"/CMapName /{fontname} def",
                "/CMapType 2 def",
                "1 begincodespacerange",
                f"<00> <{len(subset) - 1:02X}>",
                "endcodespacerange",
                f"{len(subset)} beginbfchar",
                *(f"<{i:02X}> <{target(code)}>" for i, code in enumerate(subset)),
                "endbfchar",
                "endcmap",
                "CMapName currentdict /CMap defineresource pop",
                "end",
                "end",
            ]
        )

    def addObjects(self, doc):  # ReportLab's TTFont.addObjects with the ToUnicode map above
        try:
            state = self.state[doc]
        except KeyError:
            state = self.state[doc] = TTFont.State(self._asciiReadable)
        state.frozen = 1
        for n, subset in enumerate(state.subsets):
            internal = self.getSubsetInternalName(n, doc)[1:]
            base = (b"".join((SUBSETN(n), b"+", self.face.name, self.face.subfontNameX))).decode("pdfdoc")
            font = pdfdoc.PDFTrueTypeFont()
            font.__Comment__ = f"Font {self.fontName} subset {n}"
            font.Name = internal
            font.BaseFont = base
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = pdfdoc.PDFArray(list(map(self.face.getCharWidth, subset)))
            cmap = pdfdoc.PDFStream()
            cmap.content = self._to_unicode(base, subset)
            if doc.compression:
                cmap.filters = [pdfdoc.PDFZCompress]
            font.ToUnicode = doc.Reference(cmap, "toUnicodeCMap:" + base)
            font.FontDescriptor = self.face.addSubsetObjects(doc, base, subset)
            doc.Reference(font, internal)
            doc.idToObject["BasicFonts"].dict[internal] = font
        del self.state[doc]


_font_lock = threading.Lock()


def statement_font() -> ShapedTTFont:
    """The shaping Lohit font, registered once per process under the name xhtml2pdf looks for."""
    name = f"{FONT_FAMILY}_00"
    with _font_lock:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(ShapedTTFont(name, FONT.as_posix()))
    return pdfmetrics.getFont(name)


def _glue_codec(name: str) -> codecs.CodecInfo | None:
    """WinAnsi with ``GLUE`` written as a space: the encoding ``MONO_FONT`` measures and draws with."""
    if name != _GLUE_CODEC:
        return None

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return codecs.encode(text.replace(GLUE, " "), "WinAnsiEncoding", errors), len(text)

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return codecs.decode(data, "WinAnsiEncoding", errors), len(data)

    return codecs.CodecInfo(encode, decode, name=_GLUE_CODEC)


def mono_font() -> pdfmetrics.Font:
    """Courier (the PDF's standard font, nothing embedded) that draws ``GLUE`` as a space, known to
    xhtml2pdf as the ``MONO_FAMILY`` font-family."""
    with _font_lock:
        if MONO_FONT not in pdfmetrics.getRegisteredFontNames():
            codecs.register(_glue_codec)
            font = pdfmetrics.Font(MONO_FONT, "Courier", "WinAnsiEncoding")
            font.encName = _GLUE_CODEC  # widths and the PDF's /Encoding stay WinAnsi's
            pdfmetrics.registerFont(font)
            for bold in (0, 1):
                for italic in (0, 1):
                    addMapping(MONO_FONT, bold, italic, MONO_FONT)
            xhtml2pdf_default.DEFAULT_FONT[MONO_FAMILY] = MONO_FONT  # each document copies this table
    return pdfmetrics.getFont(MONO_FONT)
