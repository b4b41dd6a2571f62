"""The grower's PDF: a cover page, then one page per field (reportlab platypus).

Large type and few words; the IPAexGothic TrueType font is embedded as a subset so the PDF
prints the same everywhere.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from pipeline.common.atomic import atomic_path
from pipeline.common.fontfile import FONT_NAME, ipaex_gothic_path
from pipeline.outputs.analysis import FieldSummary, Finding
from pipeline.outputs.wording import ACTION, crop_name, format_date, look_for, unlisted_words

FOOTER = "四万十町 ドローン圃場調査"
CAUTION = "地図は、ドローンの写真から計算した目安です。病気かどうかは、畑で株を見て確かめてください。"
MAP_LEGEND = "地図の上が北です。白い線＝畑の境、ピンクの線＝病気の疑いがある所、丸い数字＝見に行く場所の番号。"
NOTHING_FOUND = "病気の疑いがある場所は見つかりませんでした。いつも通りの見回りで大丈夫です。"
TREND_NOTE = "青い点＝これまでの調査の畑の平均、破線＝これから数日の見込み、オレンジの帯＝見込みの幅（80%）。"
QR_HELP = "QRコードをスマートフォンのカメラで読み取ると、地図アプリでその場所が開きます。"


@dataclass(frozen=True)
class Change:
    """Change of a field since the previous flight (from ``--history``)."""

    previous_date: str
    index: str
    index_before: float | None
    concern_before_m2: float


def markup_text(text: object) -> str:
    """``text`` as literal characters inside reportlab Paragraph markup.

    Paragraph text is an XML-like mini-language (``<b>``, ``<font>``, ``<img src=...>`` — the last
    makes reportlab open a local file), so every user-supplied string (grower and field names,
    field IDs) is escaped with :func:`xml.sax.saxutils.escape` (``&``, ``<``, ``>``) plus both quote
    characters before it is placed in markup. Our own constant markup (``<b>``) stays outside.
    """
    return escape(str(text), {'"': "&quot;", "'": "&#39;"})


def _register_font() -> None:
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(ipaex_gothic_path())))


def _styles() -> dict[str, ParagraphStyle]:
    base = {"fontName": FONT_NAME, "wordWrap": "CJK"}
    return {
        "title": ParagraphStyle("title", fontSize=26, leading=32, spaceAfter=4, **base),
        "h1": ParagraphStyle("h1", fontSize=22, leading=28, spaceAfter=6, **base),
        "h2": ParagraphStyle("h2", fontSize=16, leading=22, spaceBefore=6, spaceAfter=4, **base),
        "body": ParagraphStyle("body", fontSize=13, leading=19, **base),
        "big": ParagraphStyle("big", fontSize=15, leading=21, **base),
        "small": ParagraphStyle("small", fontSize=10.5, leading=14, textColor=colors.HexColor("#333333"), **base),
        "cell": ParagraphStyle("cell", fontSize=12, leading=16, **base),
        "num": ParagraphStyle("num", fontSize=22, leading=26, alignment=1, **base),
    }


def _qr_image(url: str, size_cm: float) -> Image:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=2)
    qr.add_data(url)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    buf.seek(0)
    return Image(buf, width=size_cm * cm, height=size_cm * cm)


def _fmt_index(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _change_text(summary: FieldSummary, change: Change | None) -> str:
    if change is None:
        return "前回のデータはありません"
    parts = [f"前回（{change.previous_date}）から"]
    if change.index_before is not None and summary.index_mean is not None and change.index == summary.index:
        diff = summary.index_mean - change.index_before
        trend = "良くなりました" if diff > 0.02 else "下がりました" if diff < -0.02 else "ほぼ同じです"
        parts.append(f"{summary.index.upper()} {diff:+.2f}（{trend}）")
    grow = summary.concern_m2 - change.concern_before_m2
    parts.append(f"要注意の面積 {grow:+.0f} m²")
    return "、".join(parts)


def _figures_table(summary: FieldSummary, change: Change | None, st: Mapping[str, ParagraphStyle]) -> Table:
    rows = [
        ("面積", f"{summary.field.area_m2 / 10000:.2f} ha（{summary.field.area_m2:,.0f} m²）"),
        (f"{summary.index.upper()} 平均", _fmt_index(summary.index_mean)),
        ("要注意の面積", f"{summary.concern_m2:,.0f} m²（畑の {summary.concern_pct:.1f} %）"),
        ("前回との比較", _change_text(summary, change)),
    ]
    data = [[Paragraph(markup_text(k), st["cell"]), Paragraph(markup_text(v), st["cell"])] for k, v in rows]
    table = Table(data, colWidths=[4.2 * cm, 12.8 * cm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT_NAME),
                ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#888888")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _finding_row(f: Finding, st: Mapping[str, ParagraphStyle], qr_cm: float = 2.2, head: str = "big") -> list[object]:
    text = [
        Paragraph(f"<b>{markup_text(f.sentence)}</b>　確かさ：{f.confidence}", st[head]),
        Paragraph(ACTION + look_for(f.hotspot.cls), st["cell"]),
        Paragraph(f"緯度 {f.lat:.6f}　経度 {f.lon:.6f}"
                  + (f"　地点ID {markup_text(f.point_id)}" if f.point_id else ""), st["small"]),
    ]
    return [Paragraph(str(f.number), st["num"]), text, _qr_image(f.maps_url, qr_cm)]


def _field_page(
    summary: FieldSummary, map_png: Path, change: Change | None, st: Mapping[str, ParagraphStyle],
    trend_png: Path | None = None, note: str | None = None,
) -> list[object]:
    field = summary.field
    crowded = len(summary.findings) > 2  # keep a page with up to four points on one sheet
    map_w = 7.6 if crowded else 10.8
    story: list[object] = [
        Paragraph(markup_text(f"圃場 {field.field_id}　{crop_name(field.crop)}"), st["h1"]),
        Image(str(map_png), width=map_w * cm, height=map_w * 5 / 6 * cm),
        Paragraph(MAP_LEGEND, st["small"]),
        Spacer(1, 0.2 * cm),
        _figures_table(summary, change, st),
        Spacer(1, 0.3 * cm),
    ]
    if trend_png is not None:
        story += [Image(str(trend_png), width=14.0 * cm, height=7.0 * cm), Paragraph(TREND_NOTE, st["small"]),
                  Spacer(1, 0.3 * cm)]
    if not summary.findings:
        story.append(Paragraph(NOTHING_FOUND, st["big"]))
        return story
    story.append(Paragraph("見に行ってほしい場所（地図の番号）", st["h2"]))
    rows = [_finding_row(f, st, 1.9, "cell") if crowded else _finding_row(f, st) for f in summary.findings]
    table = Table(rows, colWidths=[1.4 * cm, 12.4 * cm, 3.2 * cm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT_NAME),
                ("LINEBELOW", (0, 0), (-1, -1), 0.6, colors.HexColor("#888888")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story.append(table)
    if summary.unlisted:
        story.append(Paragraph(unlisted_words(summary.unlisted), st["cell" if crowded else "body"]))
    if not crowded:  # the cover explains the QR codes too
        story.append(Paragraph(QR_HELP, st["small"]))
    if note:
        story.append(Paragraph(markup_text(note), st["small"]))
    return story


def _cover(
    grower: str, date: str, summaries: Sequence[FieldSummary], st: Mapping[str, ParagraphStyle], overview: Path | None,
    note: str | None = None,
) -> list[object]:
    flagged = [s for s in summaries if s.findings]
    story: list[object] = [
        Paragraph("ドローン調査の結果", st["title"]),
        Paragraph(f"{markup_text(grower)} 様", st["h1"]),
        Paragraph(f"飛行日：{date}", st["big"]),
        Spacer(1, 0.4 * cm),
        Paragraph(
            f"{len(summaries)}枚の畑を調べました。"
            + (f"そのうち<b>{len(flagged)}枚</b>で、病気の疑いがある場所が見つかりました。" if flagged
               else "病気の疑いがある場所は見つかりませんでした。"),
            st["big"],
        ),
        Spacer(1, 0.3 * cm),
    ]
    if note:
        story += [_boxed(Paragraph(markup_text(note), st["body"])), Spacer(1, 0.3 * cm)]
    header = [Paragraph(h, st["cell"]) for h in ("圃場", "作物", "面積", "要注意の場所")]
    rows = [header] + [
        [
            Paragraph(markup_text(s.field.field_id), st["cell"]),
            Paragraph(markup_text(crop_name(s.field.crop)), st["cell"]),
            Paragraph(f"{s.field.area_m2 / 10000:.2f} ha", st["cell"]),
            Paragraph(f"{len(s.findings)} か所" if s.findings else "なし", st["cell"]),
        ]
        for s in summaries
    ]
    table = Table(rows, colWidths=[4.5 * cm, 3.5 * cm, 3.5 * cm, 5.5 * cm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT_NAME),
                ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#888888")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ]
        )
    )
    story += [table, Spacer(1, 0.3 * cm)]
    if overview is not None:
        story += [Image(str(overview), width=11.2 * cm, height=8.4 * cm),
                  Paragraph("ピンクの線の畑に、見に行ってほしい場所があります。", st["small"])]
    story += [Paragraph("やること", st["h2"])]
    if not flagged:
        story.append(Paragraph("いつも通りの見回りで大丈夫です。", st["big"]))
    for s in flagged:
        spots = "、".join(f"{f.number}番（{f.place}）" for f in s.findings)
        story.append(Paragraph(markup_text(f"■ 圃場 {s.field.field_id}：{spots} へ行って、株を見てください。"),
                               st["big"]))
        story.append(Spacer(1, 0.15 * cm))
    story += [Spacer(1, 0.5 * cm), Paragraph(CAUTION, st["body"]), Paragraph(QR_HELP, st["body"])]
    return story


def _boxed(flowable: object) -> Table:
    """A flowable in a framed, lightly shaded box (notes the grower must not miss)."""
    box = Table([[flowable]], colWidths=[17 * cm])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor("#c04000")),
                             ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff4e6")),
                             ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return box


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(FONT_NAME, 10)
    canvas.drawString(1.5 * cm, 1.0 * cm, FOOTER)
    canvas.drawRightString(A4[0] - 1.5 * cm, 1.0 * cm, f"{doc.page} ページ")
    canvas.restoreState()


def write_report_pdf(
    path: Path,
    grower: str,
    flight_date: object,
    summaries: Sequence[FieldSummary],
    map_pngs: Mapping[str, Path],
    changes: Mapping[str, Change],
    overview: Path | None = None,
    trend_pngs: Mapping[str, Path] | None = None,
    note: str | None = None,
    page_note: str | None = None,
) -> Path:
    """Write one grower's report, atomically.

    Args:
        path: Destination PDF.
        grower: The grower's name as printed.
        flight_date: Date of the flight.
        summaries: The grower's fields.
        map_pngs: field_id → rendered field map PNG.
        changes: field_id → change since the previous flight (fields without history omitted).
        overview: PNG of all the grower's fields for the cover page.
        trend_pngs: field_id → chart of the index over earlier flights with its forecast (``--history``).
        note: What to know about the model (:func:`wording.model_note`), boxed on the cover.
        page_note: Its one-line reminder on every field page (:func:`wording.page_note`).
    """
    _register_font()
    st = _styles()
    story = _cover(grower, format_date(flight_date), summaries, st, overview, note)
    for s in summaries:
        story.append(PageBreak())
        page = _field_page(s, map_pngs[s.field.field_id], changes.get(s.field.field_id), st,
                           (trend_pngs or {}).get(s.field.field_id), page_note)
        story.extend([page[0], KeepTogether(page[1:4]), *page[4:]])
    with atomic_path(path) as tmp:
        doc = SimpleDocTemplate(
            str(tmp), pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=1.5 * cm, bottomMargin=1.8 * cm,
            initialFontName=FONT_NAME,  # else the canvas declares an unembedded Helvetica
            title="ドローン調査の結果", author="四万十町", subject=f"{format_date(flight_date)} 飛行",
        )
        doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return path
