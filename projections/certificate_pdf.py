"""The filing certificate (备案凭证, RULES.md Art. 7-10) as a one-page A4 PDF.

Materials complete, the window issues a certificate with a number; the applicant downloads it
from tracking, staff from the case page. Paper can be forged and a certificate can later be
revoked, so every copy carries a QR code that opens the public portal's verification page
(``/verify/{certificate_number}``): the page, not the paper, says whether it is still valid.
A revoked certificate is still rendered (it is part of the record), marked 已撤销 in words and
across the page.

Neutral like ``projections.store``: it imports nothing of the project, so both the staff API
(from the internal read model) and the public API (from the public certificate register) draw
the same document from the same facts.

CJK text. The first TrueType font found in :data:`CJK_FONTS` is embedded (only the glyphs
used): the PDF then looks the same in every reader and on every printer, and text can be
copied and searched. Without one, the built-in CID font STSong-Light is used: it is not
embedded, so the reader must supply a Simplified Chinese font (Acrobat's Asian font pack,
pdf.js, poppler and browsers do; a bare printer driver may show blanks). Text stays
extractable either way. Install Debian's ``fonts-wqy-microhei`` on servers that render.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

SHANGHAI = ZoneInfo("Asia/Shanghai")
Kind = Literal["design", "completion"]
TITLES: dict[str, str] = {
    "design": "建设工程消防设计备案凭证",
    "completion": "建设工程竣工验收消防备案凭证",
}
KIND_NAMES: dict[str, str] = {"design": "消防设计备案", "completion": "竣工验收消防备案"}
# (file, subfont index in a .ttc). Noto CJK ships CFF outlines, which reportlab cannot embed:
# it is tried, refused, and the next candidate is taken.
CJK_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # 2: Simplified Chinese
    ("/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf", 0),
)
BUILTIN_FONT = "STSong-Light"
RED = colors.HexColor("#b0171f")
MARGIN = 25 * mm
QR_SIZE = 34 * mm
# reportlab keeps per-document state in shared font objects (the subset of glyphs each PDF
# embeds); the APIs render in a thread pool, so one document is drawn at a time.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class CertificateFacts:
    """What the certificate states: the public facts of the certificate register."""

    certificate_number: str
    kind: Kind
    organisation_name: str
    credit_code: str  # 统一社会信用代码
    project_name: str
    district: str
    agency_name: str
    issued_on: date  # Asia/Shanghai
    revoked_on: date | None = None  # 已撤销 from this day

    def __post_init__(self) -> None:
        if self.kind not in TITLES:
            raise ValueError(f"unknown filing kind {self.kind!r}")

    @property
    def title(self) -> str:
        return TITLES[self.kind]


def chinese_date(day: date) -> str:
    """GB/T 9704-2012 7.3.5.3: Arabic numerals, the year in full, no leading zeros."""
    return f"{day.year}年{day.month}月{day.day}日"


def shanghai_date(iso: str) -> date:
    """The calendar day in Asia/Shanghai of an ISO timestamp (read models store ISO text)."""
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo is None else moment.astimezone(SHANGHAI)).date()


def verify_url(public_base_url: str, certificate_number: str) -> str:
    """The portal's verification page of one certificate; the number percent-encoded (UTF-8),
    so the QR code holds plain ASCII that every scanner passes to a browser unchanged."""
    return f"{public_base_url.rstrip('/')}/verify/{quote(certificate_number, safe='')}"


def content_disposition(certificate_number: str) -> str:
    """``attachment`` with an ASCII file name for old clients and the real one (RFC 6266)."""
    ascii_part = "-".join(re.findall(r"[A-Za-z0-9]+", certificate_number)) or "certificate"
    name = quote(f"备案凭证-{certificate_number}.pdf", safe="")
    return f"attachment; filename=\"certificate-{ascii_part}.pdf\"; filename*=UTF-8''{name}"


@cache
def cjk_font(candidates: tuple[tuple[str, int], ...] = CJK_FONTS) -> str:
    """The registered name of the first embeddable candidate, else the built-in CID font."""
    for path, subfont in candidates:
        if not Path(path).is_file():
            continue
        name = f"FiregovCJK-{Path(path).stem}-{subfont}"
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=subfont))
        except (TTFError, OSError):  # CFF outlines, a damaged file: try the next
            continue
        return name
    pdfmetrics.registerFont(UnicodeCIDFont(BUILTIN_FONT))
    return BUILTIN_FONT


def render_certificate(
    facts: CertificateFacts,
    verify_url: str,
    *,
    fonts: tuple[tuple[str, int], ...] = CJK_FONTS,
    qr_hook: Callable[[QrCodeWidget], object] | None = None,
) -> bytes:
    """The certificate as PDF bytes. The same facts give the same bytes: the creation date is
    the issue date and reportlab's invariant mode fixes the document id. ``fonts`` replaces
    the candidate fonts (an empty tuple forces STSong-Light); ``qr_hook`` is called with the
    QR widget before it is drawn (tests look at its value)."""
    buffer = BytesIO()
    with _DRAWING:
        font = cjk_font(fonts)
        canvas = Canvas(buffer, pagesize=A4, invariant=1, lang="zh-CN", initialFontName=font)
        stamp = facts.issued_on.strftime("D:%Y%m%d000000+08'00'")
        canvas.setDateFormatter(lambda *_: stamp)
        canvas.setTitle(f"{facts.title} {facts.certificate_number}")
        canvas.setAuthor(facts.agency_name)
        canvas.setSubject(f"{facts.title}：{facts.project_name}")
        canvas.setCreator("firegov")
        canvas.setProducer("firegov")
        _Page(canvas, font, facts, verify_url, qr_hook).draw()
        canvas.showPage()
        canvas.save()
    return buffer.getvalue()


class _Page:
    """One certificate: heading at the top, QR at the foot, and between them the addressee,
    the facts and the signature, in the largest type (12 pt down to 8 pt) that fits: names
    can be 200 characters long, and the certificate stays one page."""

    SIZES = (12.0, 11.0, 10.0, 9.0, 8.0)

    def __init__(
        self,
        canvas: Canvas,
        font: str,
        facts: CertificateFacts,
        url: str,
        qr_hook: Callable[[QrCodeWidget], object] | None,
    ) -> None:
        self.canvas, self.font, self.facts = canvas, font, facts
        self.url, self.qr_hook = url, qr_hook
        self.width, self.height = A4
        self.text_width = self.width - 2 * MARGIN

    def style(self, size: float, **extra: Any) -> ParagraphStyle:
        # Leading 1.6: line spacing well above the 1.3 the portals promise older readers.
        return ParagraphStyle(
            "cert", fontName=self.font, fontSize=size, leading=size * 1.6, wordWrap="CJK", **extra
        )

    def draw(self) -> None:
        top = self.heading()
        bottom = self.footer() + 6 * mm
        for size in self.SIZES:
            blocks = self.body(size)
            needed = sum(gap + block.wrap(self.text_width, self.height)[1] for gap, block in blocks)
            if needed <= top - bottom:
                break
        y = top
        for gap, block in blocks:
            _, height = block.wrap(self.text_width, self.height)
            y -= gap + height
            block.drawOn(self.canvas, MARGIN, y)
        if self.facts.revoked_on is not None:
            self.watermark()

    def heading(self) -> float:
        """Title, the red double rule, the number and, if revoked, the notice; the y below."""
        facts, canvas = self.facts, self.canvas
        top = self.height - 30 * mm
        canvas.saveState()  # the render mode would otherwise stay on for all later text
        canvas.setFillColor(RED)
        canvas.setStrokeColor(RED)
        canvas.setLineWidth(0.5)
        title = canvas.beginText()
        title.setTextRenderMode(2)  # fill and stroke: a heavier title from a one-weight font
        title.setFont(self.font, 22)
        title.setTextOrigin((self.width - canvas.stringWidth(facts.title, self.font, 22)) / 2, top)
        title.textOut(facts.title)
        canvas.drawText(title)
        rule = top - 9 * mm
        canvas.setLineWidth(2)
        canvas.line(MARGIN, rule, self.width - MARGIN, rule)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN, rule - 1.6 * mm, self.width - MARGIN, rule - 1.6 * mm)
        canvas.restoreState()
        canvas.setFont(self.font, 12)
        canvas.drawCentredString(self.width / 2, rule - 9 * mm, f"编号：{facts.certificate_number}")
        y = rule - 13 * mm
        return y if facts.revoked_on is None else self.revoked_notice(y, facts.revoked_on)

    def revoked_notice(self, top: float, revoked_on: date) -> float:
        """In words as well as in red: colour is never the only signal."""
        text = f"已撤销：本凭证已于{chinese_date(revoked_on)}撤销，不再作为备案证明。"
        height = 11 * mm
        canvas = self.canvas
        canvas.saveState()
        canvas.setStrokeColor(RED)
        canvas.setFillColor(RED)
        canvas.setLineWidth(1.5)
        canvas.rect(MARGIN, top - height, self.text_width, height)
        canvas.setFont(self.font, 13)
        canvas.drawCentredString(self.width / 2, top - height + 3.8 * mm, text)
        canvas.restoreState()
        return float(top - height - 3 * mm)

    def body(self, size: float) -> list[tuple[float, Flowable]]:
        """The flowables between heading and footer, each with the space above it."""
        facts = self.facts
        kind = KIND_NAMES[facts.kind]
        return [
            (0, Paragraph(f"{escape(facts.organisation_name)}：", self.style(size))),
            (
                0,
                Paragraph(
                    f"你单位报送的建设工程{kind}材料收悉。经审查，备案材料齐全，符合法定形式，"
                    "予以备案。备案事项如下：",
                    self.style(size, firstLineIndent=2 * size),
                ),
            ),
            (3 * mm, self.table(size)),
            (
                8 * mm,
                Paragraph(
                    f"{escape(facts.agency_name)}<br/>{chinese_date(facts.issued_on)}",
                    self.style(size, alignment=TA_RIGHT),
                ),
            ),
        ]

    def table(self, size: float) -> Table:
        facts = self.facts
        rows = [
            ("备案类型", KIND_NAMES[facts.kind]),
            ("凭证编号", facts.certificate_number),
            ("建设单位", facts.organisation_name),
            ("统一社会信用代码", facts.credit_code),
            ("工程名称", facts.project_name),
            ("工程所在区县", facts.district),
            ("备案机构", facts.agency_name),
            ("出具日期", chinese_date(facts.issued_on)),
        ]
        if facts.revoked_on is not None:
            rows.append(("状态", f"已撤销（{chinese_date(facts.revoked_on)}撤销）"))
        cell = self.style(size - 1)
        label_width = 38 * mm
        table = Table(
            [[Paragraph(k, cell), Paragraph(escape(v), cell)] for k, v in rows],
            colWidths=[label_width, self.text_width - label_width],
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#555555")),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ]
            )
        )
        return table

    def footer(self) -> float:
        """The QR code at the bottom left with its caption, the address beside it; its top."""
        widget = QrCodeWidget(self.url, barLevel="M", barBorder=0)
        if self.qr_hook is not None:
            self.qr_hook(widget)
        left, bottom, right, top = widget.getBounds()
        drawing = Drawing(
            QR_SIZE,
            QR_SIZE,
            transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0],
        )
        drawing.add(widget)
        base = MARGIN + 6 * mm
        drawing.drawOn(self.canvas, MARGIN, base)
        self.canvas.setFont(self.font, 11)
        self.canvas.drawCentredString(MARGIN + QR_SIZE / 2, base - 5.5 * mm, "扫码核验")
        beside = MARGIN + QR_SIZE + 6 * mm
        # The address as a person types it (the QR code holds the percent-encoded form).
        note = Paragraph(
            "扫描左侧二维码，或在浏览器中打开下列地址，核验本凭证是否有效；"
            f"本凭证的效力以核验结果为准。<br/>{escape(unquote(self.url))}",
            self.style(10),
        )
        _, height = note.wrap(self.width - MARGIN - beside, self.height)
        note.drawOn(self.canvas, beside, base + QR_SIZE - height)
        rule = base + QR_SIZE + 5 * mm
        self.canvas.setStrokeColor(colors.HexColor("#999999"))
        self.canvas.setLineWidth(0.4)
        self.canvas.line(MARGIN, rule, self.width - MARGIN, rule)
        return float(rule)

    def watermark(self) -> None:
        canvas = self.canvas
        canvas.saveState()
        canvas.setFillColor(RED)
        canvas.setFillAlpha(0.22)
        canvas.setFont(self.font, 120)
        canvas.translate(self.width / 2, self.height / 2)
        canvas.rotate(35)
        canvas.drawCentredString(0, -40, "已撤销")
        canvas.restoreState()
