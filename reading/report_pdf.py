"""The one-page PDF report of a double read: the radiologist's reading, the AI, the concordance.

One A4 page, always: the text blocks are laid out first and the key images take the
height that is left; a reading with very many marks lists the first ones and says how
many more there are, and a final shrink-to-fit guard keeps everything on the page.
The AI part is headed by the research-use warning in bold, and key images carrying AI
content have it burned in (:mod:`reading.key_images`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from PIL import Image as PilImage
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepInFrame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from inference.results import AnalysisResult, CaseScore
from reading.key_images import KeyImage
from reading.model import Reading
from reading.report_text import date, date_time, label_name, percent, person_name, text
from reading.scales import scale_1_10

if TYPE_CHECKING:
    from reading.concordance import Concordance

MARGIN = 12 * mm
FRAME_W = A4[0] - 2 * MARGIN
FRAME_H = A4[1] - 2 * MARGIN
MIN_IMAGE_H = 45 * mm  # below this the key images are useless: list fewer marks instead
MAX_KEY_IMAGES = 4
ACCENT = colors.HexColor("#1f4e79")
GRID = colors.HexColor("#b0b7c0")
MISS = "#b0007a"  # magenta: AI-only "possible miss" and disagreements, as on screen
_OP_BAND = {None: "likely_normal", "high_sensitivity": "doubt", "high_specificity": "positive"}

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"))


def _register_fonts() -> tuple[str, str]:
    """DejaVu Sans (any Latin, Greek or Cyrillic patient name) else reportlab's own Vera."""
    if "TandemSans" in pdfmetrics.getRegisteredFontNames():
        return "TandemSans", "TandemSans-Bold"
    regular = bold = None
    for folder in _FONT_DIRS:
        if (folder / "DejaVuSans.ttf").is_file() and (folder / "DejaVuSans-Bold.ttf").is_file():
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            break
    if regular is None or bold is None:
        import reportlab

        fonts = Path(reportlab.__file__).parent / "fonts"
        regular, bold = fonts / "Vera.ttf", fonts / "VeraBd.ttf"
    pdfmetrics.registerFont(TTFont("TandemSans", str(regular)))
    pdfmetrics.registerFont(TTFont("TandemSans-Bold", str(bold)))
    pdfmetrics.registerFontFamily("TandemSans", normal="TandemSans", bold="TandemSans-Bold",
                                  italic="TandemSans", boldItalic="TandemSans-Bold")
    return "TandemSans", "TandemSans-Bold"


class _Styles:
    def __init__(self) -> None:
        regular, bold = _register_fonts()
        self.regular, self.bold = regular, bold
        self.title = ParagraphStyle("title", fontName=bold, fontSize=14, leading=17,
                                    textColor=ACCENT)
        self.section = ParagraphStyle("section", fontName=bold, fontSize=10.5, leading=13,
                                      textColor=ACCENT, spaceBefore=5, spaceAfter=2)
        self.body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=10.5)
        self.small = ParagraphStyle("small", fontName=regular, fontSize=7.5, leading=9)
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=9.5)
        self.cell_bold = ParagraphStyle("cell_bold", fontName=bold, fontSize=8, leading=9.5)
        self.warning = ParagraphStyle("warning", fontName=bold, fontSize=8.5, leading=10.5,
                                      textColor=colors.HexColor("#a05a00"))
        self.caption = ParagraphStyle("caption", fontName=regular, fontSize=7.5, leading=9,
                                      alignment=1)


def _p(words: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(words), style)


def _table(rows: list[list[Any]], widths: Sequence[float], st: _Styles,
           header: bool = True) -> Table:
    """A grid whose text cells wrap inside their column (first row bold when ``header``)."""
    cells = [[_p(c, st.cell_bold if header and i == 0 else st.cell) if isinstance(c, str) else c
              for c in row] for i, row in enumerate(rows)]
    table = Table(cells, colWidths=list(widths), hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, GRID)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")))
    table.setStyle(TableStyle(commands))
    return table


def write_report(out: Path, *, reading: Reading, concordance: Concordance | None,
                 results: Sequence[AnalysisResult], key_images: Sequence[KeyImage],
                 patient: Mapping[str, str], lang: str = "fr",
                 model_names: Mapping[str, str] | None = None) -> Path:
    """Write the one-page report to ``out`` and return it.

    ``patient`` keys (all optional): ``name`` (DICOM person name), ``id``, ``birth_date``,
    ``sex``, ``study_date``, ``description``, ``accession``. ``model_names`` maps model ids
    to their display names. At most :data:`MAX_KEY_IMAGES` key images are shown.
    """
    st = _Styles()
    keys = list(key_images)[:MAX_KEY_IMAGES]
    names = _image_names(keys, reading, results)
    head = _header(reading, patient, st, lang)
    ai = _ai_section(results, model_names or {}, names, st, lang)
    agreement = _concordance_section(concordance, reading, names, model_names or {}, st, lang)
    mark_limit: int | None = None
    while True:
        mine = _reading_section(reading, names, st, lang, mark_limit)
        text_part = [*head, *mine, *ai, *agreement]
        used = sum(_height(f) for f in text_part) + 14 * mm  # key-image title + captions
        room = FRAME_H - used
        if room >= MIN_IMAGE_H or not reading.marks or mark_limit == 0:
            break
        mark_limit = max(0, (len(reading.marks) if mark_limit is None else mark_limit) - 5)
    story = [*text_part, *_key_image_section(keys, max(room, 20 * mm), st, lang)]
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = BaseDocTemplate(str(out), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                          topMargin=MARGIN, bottomMargin=MARGIN,
                          title=text("title", lang), author=reading.reader,
                          subject=reading.study_instance_uid, creator="Tandem")
    frame = Frame(MARGIN, MARGIN, FRAME_W, FRAME_H, leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=_footer_painter(reading, st, lang),
                                       onPageEnd=_watermark_painter(reading, st, lang))])
    doc.build([KeepInFrame(FRAME_W, FRAME_H - 2, story, mode="shrink")])
    return out


def _height(flowable: Flowable) -> float:
    _, height = flowable.wrap(FRAME_W, FRAME_H)
    return float(height) + flowable.getSpaceBefore() + flowable.getSpaceAfter()


# --------------------------------------------------------------------------- sections


def _header(reading: Reading, patient: Mapping[str, str], st: _Styles,
            lang: str) -> list[Flowable]:
    purpose = reading.purpose
    if purpose == "first" and reading.blinded:
        purpose_key = "purpose.first_blinded"
    else:
        purpose_key = f"purpose.{purpose}"
    signed = (date_time(reading.signed_at, lang) if reading.signed
              else text("not_signed", lang))
    born = date(patient.get("birth_date", ""), lang)
    sex = patient.get("sex", "").strip()
    cell = st.body

    def pair(key: str, value: str) -> Paragraph:
        return Paragraph(f"<b>{escape(text(key, lang))}</b>&nbsp;: {escape(value)}"
                         if lang == "fr" else
                         f"<b>{escape(text(key, lang))}</b>: {escape(value)}", cell)

    rows = [
        [pair("patient", person_name(patient.get("name", "")) + (f" ({sex})" if sex else "")),
         pair("study_date", date(patient.get("study_date", ""), lang))],
        [pair("patient_id", patient.get("id", "")),
         pair("description", patient.get("description", ""))],
        [pair("birth_date", born), pair("reader", reading.reader)],
        [pair("version", f"{reading.version} — {text(purpose_key, lang)}"),
         pair("signed_at", signed)],
    ]
    table = Table(rows, colWidths=[FRAME_W / 2, FRAME_W / 2], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("BOX", (0, 0), (-1, -1), 0, colors.white),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, ACCENT)]))
    return [_p(text("title", lang), st.title), Spacer(1, 2 * mm), table]


def _assessment_lines(reading: Reading, names: Mapping[str, str], lang: str) -> list[str]:
    a = reading.assessment
    if reading.kind == "cxr":
        return [text(f"cxr.{a.cxr}", lang)] if a.cxr else []
    if reading.kind == "bone":
        return [f"{names.get(uid, _short_uid(uid))} : "
                f"{text('fracture.present' if present else 'fracture.absent', lang)}"
                for uid, present in a.fracture_by_image.items()]
    lines = []
    for side in ("R", "L"):
        breast = a.breasts.get(side)
        if breast is None or (breast.birads is None and breast.density is None):
            continue
        parts = []
        if breast.birads is not None:
            parts.append(f"BI-RADS {breast.birads}")
        if breast.density is not None:
            parts.append(f"{text('density', lang)} {breast.density}")
        lines.append(f"{text(f'breast.{side}', lang)} : {', '.join(parts)}")
    return lines


def _reading_section(reading: Reading, names: Mapping[str, str], st: _Styles, lang: str,
                     mark_limit: int | None) -> list[Flowable]:
    colon = " : " if lang == "fr" else ": "
    lines = _assessment_lines(reading, names, lang) or [text("assessment.none", lang)]
    if lang != "fr":
        lines = [line.replace(" : ", ": ") for line in lines]
    out: list[Flowable] = [
        _p(text("section.reading", lang), st.section),
        Paragraph(f"<b>{escape(text('assessment', lang))}</b>{colon}"
                  + escape(" ; ".join(lines) if lang == "fr" else "; ".join(lines)), st.body)]
    if reading.marks:
        shown = reading.marks if mark_limit is None else reading.marks[:mark_limit]
        rows: list[list[Any]] = [[text("mark.label", lang), text("image", lang),
                                  text("mark.confidence", lang)]]
        rows += [[label_name(m.label, lang), names.get(m.sop_instance_uid,
                                                        _short_uid(m.sop_instance_uid)),
                  label_name(m.confidence, lang) if m.confidence else "—"] for m in shown]
        if len(shown) < len(reading.marks):
            more = len(reading.marks) - len(shown)
            rows.append([f"… +{more}", "", ""])
        out += [Spacer(1, 1.5 * mm), _table(rows, [70 * mm, 80 * mm, 36 * mm], st)]
    else:
        out.append(_p(text("marks.none", lang), st.body))
    if reading.text.strip():
        out.append(Paragraph(f"<b>{escape(text('comments', lang))}</b>{colon}"
                             + escape(reading.text.strip()).replace("\n", "<br/>"), st.body))
    return out


def _band_and_scale(score: CaseScore, lang: str) -> tuple[str, str]:
    band_key = _OP_BAND.get(score.operating_point, "likely_normal")
    scale = ""
    if score.scale_cuts:
        try:
            scale = f"{scale_1_10(score.probability, score.scale_cuts)}/10"
        except ValueError:
            scale = ""
    return text(f"band.{band_key}", lang), scale or "—"


def _ai_section(results: Sequence[AnalysisResult], model_names: Mapping[str, str],
                names: Mapping[str, str], st: _Styles, lang: str) -> list[Flowable]:
    out: list[Flowable] = [_p(text("section.ai", lang), st.section),
                           _p(text("research_use", lang), st.warning)]
    ran = [r for r in results if r.applicable and not r.reason]
    if not ran:
        return [*out, _p(text("ai.none", lang), st.body)]
    rows: list[list[Any]] = [[text("ai.model", lang), text("image", lang),
                              text("ai.probability", lang), text("ai.band", lang),
                              text("ai.scale", lang), text("ai.findings", lang)]]
    for r in ran:
        model = (f"{model_names.get(r.model_id, r.model_id)} {r.model_version} "
                 f"({r.sha256[:12]})")
        image = names.get(r.sop_instance_uid, _short_uid(r.sop_instance_uid))
        found = [f for f in r.findings if f.operating_point is not None]
        findings = ", ".join(sorted({label_name(f.label, lang) for f in found})) or "—"
        for score in r.case_scores or (None,):
            if score is None:
                rows.append([model, image, "—", "—", "—", findings])
                continue
            band, scale = _band_and_scale(score, lang)
            rows.append([model, image,
                         percent(score.probability, lang), band, scale, findings])
    widths = [58 * mm, 44 * mm, 20 * mm, 26 * mm, 16 * mm, 22 * mm]
    return [*out, _table(rows, widths, st)]


def _concordance_section(concordance: Concordance | None, reading: Reading,
                         names: Mapping[str, str], model_names: Mapping[str, str],
                         st: _Styles, lang: str) -> list[Flowable]:
    out: list[Flowable] = [_p(text("section.concordance", lang), st.section)]
    if concordance is None:
        return [*out, _p(text("concordance.none", lang), st.body)]
    counts = concordance.counts()
    sep = "&nbsp;: " if lang == "fr" else ": "
    parts = []
    for k in ("agreed", "ai_only", "reader_only"):
        part = f"{escape(text(f'count.{k}', lang))}{sep}<b>{counts.get(k, 0)}</b>"
        parts.append(f'<font color="{MISS}">{part}</font>' if k == "ai_only" and counts.get(k)
                     else part)
    summary = " · ".join(parts)
    out.append(Paragraph(summary, st.body))
    if concordance.cases:
        rows: list[list[Any]] = [[text("ai.model", lang), text("image", lang),
                                  text("reader", lang), text("ai.probability", lang),
                                  text("ai.band", lang), text("concordance.case", lang)]]
        for case in concordance.cases:
            scope = names.get(case.scope, case.scope)
            if case.scope in ("R", "L"):
                scope = text(f"breast.{case.scope}", lang)
            elif case.scope == "study":
                scope = "—"
            scale = f" ({case.ai_scale}/10)" if case.ai_scale is not None else ""
            rows.append([model_names.get(case.model_id, case.model_id), scope,
                         _reader_value(case.reader, lang), percent(case.ai_probability, lang),
                         text(f"band.{case.ai_band}", lang) + scale,
                         _agreement_cell(case.agreement, st, lang)])
        out += [Spacer(1, 1 * mm),
                _table(rows, [50 * mm, 40 * mm, 24 * mm, 20 * mm, 30 * mm, 22 * mm], st)]
    ai_only = [p for p in concordance.pairs if p.status == "ai_only" and p.ai is not None]
    if ai_only:
        rows = [[text("concordance.ai_only_list", lang), text("image", lang),
                 text("score", lang).capitalize(), text("decision", lang)]]
        for pair in ai_only:
            assert pair.ai is not None
            decision = reading.decision_for(pair.ai.key)
            said = (text(f"decision.{pair.decision}", lang) if pair.decision
                    else text("decision.none", lang))
            if decision is not None and decision.reason:
                said += f" — {decision.reason}"
            rows.append([label_name(pair.ai.label, lang),
                         names.get(pair.ai.sop_instance_uid,
                                   _short_uid(pair.ai.sop_instance_uid)),
                         percent(pair.ai.score, lang, 0), said])
        out += [Spacer(1, 1 * mm), _table(rows, [50 * mm, 44 * mm, 18 * mm, 74 * mm], st)]
    return out


def _agreement_cell(agreement: str, st: _Styles, lang: str) -> Any:
    words = escape(text(f"agreement.{agreement}", lang))
    if agreement == "disagree":
        return Paragraph(f'<font color="{MISS}"><b>{words}</b></font>', st.cell)
    return words


def _reader_value(value: str, lang: str) -> str:
    key = f"reader.{value}"
    try:
        return text(key, lang)
    except KeyError:
        return value  # "BI-RADS 4" needs no translation


def _key_image_section(keys: Sequence[KeyImage], room: float, st: _Styles,
                       lang: str) -> list[Flowable]:
    out: list[Flowable] = [_p(text("section.key_images", lang), st.section)]
    if not keys:
        return [*out, _p(text("key_images.none", lang), st.body)]
    gap = 3 * mm
    cell_w = (FRAME_W - gap * (len(keys) - 1)) / len(keys)
    cell_h = room - 6 * mm  # leave the caption line
    images: list[Any] = []
    captions: list[Any] = []
    for i, key in enumerate(keys):
        h, w = key.rgb.shape[:2]
        fit = min(cell_w / w, cell_h / h)
        buffer = io.BytesIO()
        PilImage.fromarray(key.rgb).save(buffer, format="PNG", optimize=True)
        buffer.seek(0)
        images.append(Image(buffer, width=w * fit, height=h * fit))
        captions.append(_p(f"{i + 1}. {key.caption}", st.caption))
    table = Table([images, captions], colWidths=[cell_w + (gap if i < len(keys) - 1 else 0)
                                                 for i in range(len(keys))])
    table.setStyle(TableStyle([
        ("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return [*out, table]


# --------------------------------------------------------------------------- helpers


def _image_names(keys: Sequence[KeyImage], reading: Reading,
                 results: Sequence[AnalysisResult]) -> dict[str, str]:
    """SOP UID -> how the report names the image: its key-image number and caption."""
    names: dict[str, str] = {}
    for i, k in enumerate(keys):
        names.setdefault(k.sop_instance_uid, f"{i + 1}. {k.caption}")
    for uid in [m.sop_instance_uid for m in reading.marks] + [r.sop_instance_uid
                                                               for r in results]:
        names.setdefault(uid, _short_uid(uid))
    return names


def _short_uid(uid: str) -> str:
    return f"…{uid[-10:]}" if len(uid) > 12 else uid


def _footer_painter(reading: Reading, st: _Styles, lang: str) -> Any:
    stamp = date_time(datetime.now().astimezone().isoformat(), lang)

    def paint(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.setFont(st.regular, 7)
        canvas.drawString(MARGIN, MARGIN / 2,
                          f"{text('generated', lang)} {stamp} — {reading.reading_id}")
        canvas.setFont(st.bold, 7)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN / 2, text("research_use", lang))
        canvas.restoreState()

    return paint


def _watermark_painter(reading: Reading, st: _Styles, lang: str) -> Any:
    """A translucent diagonal "DRAFT — not signed" over everything (images included)."""

    def paint(canvas: Canvas, _doc: Any) -> None:
        if reading.signed:
            return
        words = text("draft", lang)
        diagonal = (A4[0] ** 2 + A4[1] ** 2) ** 0.5
        size = 0.7 * diagonal / pdfmetrics.stringWidth(words, st.bold, 1)
        canvas.saveState()
        canvas.setFillColor(colors.Color(0.8, 0.05, 0.05, alpha=0.22))
        canvas.setFont(st.bold, size)
        canvas.translate(A4[0] / 2, A4[1] / 2)
        canvas.rotate(54.7)  # along the page diagonal
        canvas.drawCentredString(0, -size / 3, words)
        canvas.restoreState()

    return paint
