"""The printable 建筑工程施工许可证 (正本 and 副本), in Chinese, with a QR code pointing at public verification.

Text per domain.md §7.5 (2014 MOHURD sample, content [U] as to layout). The Chinese text is set in a TrueType Song
face (AR PL UMing CN, Debian's fonts-arphic-uming, Arphic Public License) that reportlab subsets and embeds, so the
document looks the same in every reader and printer; reportlab cannot embed the CFF-outline Noto CJK fonts. The
font file is found beside the deployed package (`fonts/`, shipped from `vendor/fonts/` by `chalice package`), in
the checkout's `vendor/fonts/` (`make install`) or where Debian installs it. segno draws the QR code. Both are imported
only when a document is actually printed.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

NOTES = [
    "一、本证放置施工现场，作为准予施工的凭证。",
    "二、未经发证机关许可，本证的各项内容不得变更。",
    "三、建设行政主管部门可以对本证进行查验。",
    "四、本证自核发之日起三个月内应予施工，逾期应办理延期手续，不办理延期或延期次数、时间超过法定时间的，本证自行废止。",
    "五、凡未取得本证擅自施工的属违法建设，将按《中华人民共和国建筑法》的规定予以处罚。",
]


FONT = "CMSPSong"
FONT_FILE_NAME = "uming.ttc"
FONT_SUBFONT = 0  # AR PL UMing CN (the collection also holds HK, TW and TW MBE forms)


class FontMissing(RuntimeError):
    """The document font is not installed: printing refuses rather than emit a PDF whose glyphs a reader substitutes."""


def font_file() -> Path:
    """Where the document font lies: the deployed package, the checkout, the system."""
    root = Path(__file__).resolve().parents[2]
    candidates = [
        root / "fonts" / FONT_FILE_NAME,  # Lambda: vendor/ is unpacked at the package root
        root / "vendor" / "fonts" / FONT_FILE_NAME,
        Path("/usr/share/fonts/truetype/arphic") / FONT_FILE_NAME,
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise FontMissing("证书字体文件 uming.ttc 未安装（执行 make install）")


@cache
def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, str(font_file()), subfontIndex=FONT_SUBFONT))


LEFT = 60  # page margins (points)
RIGHT_MARGIN = 60


def _canvas(title: str):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    _register_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True, initialFontName=FONT, initialFontSize=11)
    c.setTitle(title)
    return c, buf, A4


def _lines(text: str, width: float, size: float) -> list[str]:
    """Text broken into lines that fit `width` at `size` (measured, character by character: Chinese has no spaces)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    _register_font()
    out, line = [], ""
    for ch in str(text):
        if stringWidth(line + ch, FONT, size) > width and line:
            out.append(line)
            line = ch
        else:
            line += ch
    return [*out, line] if line else out or [""]


def _para(c, text: str, x: float, y: float, width: float, size: float, *, indent: float = 0, leading: float = 1.5):
    """A wrapped paragraph from its first baseline `y`; returns the baseline after it."""
    c.setFont(FONT, size)
    lines = _lines(text, width - indent, size)
    for i, line in enumerate(lines):
        c.drawString(x + (indent if i == 0 else 0), y, line)
        y -= size * leading
    return y


def _day(value: Any) -> str:
    """2026-11-02 → 2026年11月2日 (documents speak Chinese dates)."""
    raw = str(value or "")
    if len(raw) >= 10 and raw[4] == "-" and raw[7] == "-":
        return f"{int(raw[:4])}年{int(raw[5:7])}月{int(raw[8:10])}日"
    return raw


def render_permit_pdf(fields: dict[str, Any], *, copy: str, verify_url: str, reprint: int) -> bytes:
    return render_permit(fields, copy=copy, verify_url=verify_url, reprint=reprint)[0]


def render_permit(
    fields: dict[str, Any], *, copy: str, verify_url: str, reprint: int
) -> tuple[bytes, tuple[float, float, float, float]]:
    """The certificate and the box (x1, y1, x2, y2, first page) where the issuing authority's seal goes: over the end
    of the 发证机关 line, as a paper seal is placed. `fields`: permit_no, project_name, address, build_unit, scale, contract_price, survey_unit, survey_leader,
    design_unit, design_leader, construction_unit, project_manager, supervision_unit, chief_engineer, contract_period,
    remarks, issuer, issued_on, start_deadline, edition, verification_id. `copy` is 正本 or 副本.

    The table's rows grow with their text (wrapped, never cut); the issuer block and the QR code sit below the table,
    so nothing overlaps whatever the values' length. `layout` boxes are recorded in the PDF's keywords for tests."""
    import segno
    from reportlab.lib.utils import ImageReader

    c, buf, (width, height) = _canvas(f"建筑工程施工许可证 {fields['permit_no']}")
    if fields.get("licence_id"):
        c.setSubject(fields["licence_id"])  # 证照标识: covered by the seal, read back by verification
    right = width - RIGHT_MARGIN
    c.setFont(FONT, 22)
    c.drawCentredString(width / 2, height - 80, "中华人民共和国")
    c.drawCentredString(width / 2, height - 112, f"建筑工程施工许可证（{copy}）")
    c.setFont(FONT, 11)
    c.drawString(LEFT, height - 150, f"编号：{fields['permit_no']}")
    if reprint:
        c.drawRightString(right, height - 150, f"补打（第{reprint}次）")
    y = _para(
        c,
        "根据《中华人民共和国建筑法》第八条规定，经审查，本建筑工程符合施工条件，准予施工。特发此证。",
        LEFT,
        height - 175,
        right - LEFT,
        11,
        indent=22,
    )
    rows = [
        ("建设单位", fields.get("build_unit")),
        ("工程名称", fields.get("project_name")),
        ("建设地址", fields.get("address")),
        ("建设规模", fields.get("scale")),
        ("合同价格（万元）", fields.get("contract_price")),
        ("勘察单位", fields.get("survey_unit")),
        ("勘察单位项目负责人", fields.get("survey_leader")),
        ("设计单位", fields.get("design_unit")),
        ("设计单位项目负责人", fields.get("design_leader")),
        ("施工单位", fields.get("construction_unit")),
        ("施工单位项目负责人", fields.get("project_manager")),
        ("监理单位", fields.get("supervision_unit")),
        ("总监理工程师", fields.get("chief_engineer")),
        ("合同工期", fields.get("contract_period")),
        ("项目编号", fields.get("prj_num")),
        ("备注", fields.get("remarks")),
    ]
    label_w, size, pad = 130, 10.5, 3.5
    top = y - 6
    table_top = top
    for label, value in rows:
        lines = _lines(str(value or "—"), right - LEFT - label_w - 2 * pad, size)
        h = max(1, len(lines)) * size * 1.4 + 2 * pad
        c.rect(LEFT, top - h, label_w, h)
        c.rect(LEFT + label_w, top - h, right - LEFT - label_w, h)
        c.setFont(FONT, size)
        c.drawString(LEFT + pad, top - pad - size, label)
        for i, line in enumerate(lines):
            c.drawString(LEFT + label_w + pad, top - pad - size - i * size * 1.4, line)
        top -= h
    table_bottom = top
    # below the table: issuer and dates on the left, the QR code on the right
    qr_size = 84
    qr_top = table_bottom - 14
    qr_box = (right - qr_size, qr_top - qr_size, qr_size, qr_size)
    y = qr_top - 14
    c.setFont(FONT, 11)
    for line in (
        f"发证机关：{fields.get('issuer', '')}（盖章）",
        f"发证日期：{_day(fields.get('issued_on'))}",
        f"应于{_day(fields['start_deadline'])}前开工" if fields.get("start_deadline") else "",
        f"第{fields['edition']}版（准予延期后重新核发）" if int(fields.get("edition") or 1) > 1 else "",
    ):
        if line:
            y = _para(c, line, LEFT, y, right - LEFT - qr_size - 20, 11)
    qr = segno.make(verify_url, error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=3, border=2)
    png.seek(0)
    c.drawImage(ImageReader(png), *qr_box)
    c.setFont(FONT, 8)
    c.drawCentredString(right - qr_size / 2, qr_box[1] - 10, "扫码核验真伪")
    if fields.get("verification_id"):
        c.drawRightString(right, qr_box[1] - 21, f"核验码：{fields['verification_id']}")
    seal_box = (
        LEFT + 196.0,
        qr_top - 72.0,
        LEFT + 280.0,
        qr_top + 12.0,
    )  # over 发证机关（盖章）, clear of the lines below
    if fields.get("licence_id"):  # under the issuer block, beside the QR code: the page keeps its one-page layout
        y = _para(c, f"电子证照标识：{fields['licence_id']}", LEFT, y - 2, right - LEFT - qr_size - 20, 7.5)
    y = min(y, qr_box[1] - 34) - 6
    notes_height = 14 + sum(len(_lines(n, right - LEFT, 9)) for n in NOTES) * 9 * 1.45
    if y - notes_height < 40:  # the notes do not fit under a long table: they continue on the back (second page)
        c.showPage()
        y = height - 80
    c.setFont(FONT, 9)
    c.drawString(LEFT, y, "注意事项：")
    y -= 14
    for line in NOTES:
        y = _para(c, line, LEFT, y, right - LEFT, 9, leading=1.45)
    c.setKeywords(
        f"layout table={LEFT:.1f},{table_bottom:.1f},{right - LEFT:.1f},{table_top - table_bottom:.1f} "
        f"qr={qr_box[0]:.1f},{qr_box[1]:.1f},{qr_box[2]:.1f},{qr_box[3]:.1f} bottom={y:.1f} "
        f"seal={seal_box[0]:.1f},{seal_box[1]:.1f},{seal_box[2] - seal_box[0]:.1f},{seal_box[3] - seal_box[1]:.1f}"
    )
    c.showPage()
    c.save()
    return buf.getvalue(), seal_box


def render_notice_pdf(fields: dict[str, Any]) -> bytes:
    """补正材料一次性告知书: everything missing, listed once, every paragraph wrapped within the margins.
    `fields`: applicant, project_name, prj_num, application_id, applied_on, issued_on, due_by, missing (list),
    later_findings, issuer."""
    c, buf, (width, height) = _canvas(f"补正材料一次性告知书 {fields['application_id']}")
    right = width - RIGHT_MARGIN
    c.setFont(FONT, 18)
    c.drawCentredString(width / 2, height - 80, "建筑工程施工许可申请补正材料一次性告知书")
    c.setFont(FONT, 11)
    y = height - 125
    c.drawString(LEFT, y, f"{fields.get('applicant') or ''}：")
    y = _para(
        c,
        f"你单位于{_day(fields['applied_on'])}提出的“{fields.get('project_name') or fields['prj_num']}”"
        f"（项目编号{fields['prj_num']}）施工许可申请，经审查，申请材料不齐全或不符合法定形式，"
        "现一次性告知需要补正的全部内容如下：",
        LEFT,
        y - 22,
        right - LEFT,
        11,
        indent=22,
    )
    for i, item in enumerate(fields["missing"], start=1):
        y = _para(c, f"{i}. {item}", LEFT + 22, y - 4, right - LEFT - 22, 11)
    later = fields.get("later_findings") or []
    if later:
        y = _para(
            c, "告知后因情况变化发现的事项（依法记录，不属于再次告知）：", LEFT, y - 12, right - LEFT, 11, indent=22
        )
        for f in later:
            y = _para(c, f"{_day(f['found_on'])}：{f['item']}", LEFT + 22, y - 2, right - LEFT - 22, 11)
    y = _para(c, "请补正后重新提交。补正齐全之日起重新计算法定审查期限。", LEFT, y - 12, right - LEFT, 11, indent=22)
    y -= 30
    c.setFont(FONT, 11)
    c.drawRightString(right, y, f"{fields.get('issuer') or ''}")
    c.drawRightString(right, y - 20, f"告知日期：{_day(fields['issued_on'])}")
    c.setFont(FONT, 8)
    c.drawString(LEFT, 50, f"申请编号：{fields['application_id']}（依法应于{_day(fields['due_by'])}前告知）")
    c.showPage()
    c.save()
    return buf.getvalue()


def render_qualification_pdf(fields: dict[str, Any]) -> bytes:
    """建设工程企业资质证书（副本）as the platform holds it after a decision: the enterprise's particulars, the
    certificate's number, issuer and validity, and every qualification item with its approval number. `fields`:
    title, enterprise_name, uscc, address, legal_rep, registered_capital, economic_type, cert_no, issuer, issued_on,
    valid_until, items (list of {name, approval_no, approved_on, status}), application_id. The rows grow with their
    text; `layout` (table bottom) is recorded in the keywords for tests."""
    c, buf, (width, height) = _canvas(f"{fields['title']} {fields['cert_no']}")
    right = width - RIGHT_MARGIN
    c.setFont(FONT, 22)
    c.drawCentredString(width / 2, height - 80, fields["title"])
    c.setFont(FONT, 14)
    c.drawCentredString(width / 2, height - 108, "（副本）")
    c.setFont(FONT, 11)
    c.drawString(LEFT, height - 140, f"证书编号：{fields['cert_no']}")
    rows = [
        ("企业名称", fields.get("enterprise_name")),
        ("统一社会信用代码", fields.get("uscc")),
        ("详细地址", fields.get("address")),
        ("法定代表人", fields.get("legal_rep")),
        ("注册资本", f"{fields['registered_capital']}万元" if fields.get("registered_capital") else None),
        ("经济性质", fields.get("economic_type")),
        ("有效期", f"至{_day(fields.get('valid_until'))}"),
    ]
    label_w, size, pad = 120, 10.5, 3.5
    top = height - 152
    table_top = top

    def row(label: str, value: Any) -> None:
        nonlocal top
        lines = _lines(str(value or "—"), right - LEFT - label_w - 2 * pad, size)
        h = max(1, len(lines)) * size * 1.4 + 2 * pad
        c.rect(LEFT, top - h, label_w, h)
        c.rect(LEFT + label_w, top - h, right - LEFT - label_w, h)
        c.setFont(FONT, size)
        c.drawString(LEFT + pad, top - pad - size, label)
        for i, line in enumerate(lines):
            c.drawString(LEFT + label_w + pad, top - pad - size - i * size * 1.4, line)
        top -= h

    for label, value in rows:
        row(label, value)
    for i, item in enumerate(fields.get("items") or [], start=1):
        text = item["name"]
        if item.get("approval_no"):
            text += f"（批准文号：{item['approval_no']}，{_day(item.get('approved_on'))}）"
        if item.get("status"):
            text += f"〔{item['status']}〕"
        row("资质类别及等级" if i == 1 else "", text)
    table_bottom = top
    y = table_bottom - 28
    c.setFont(FONT, 11)
    for line in (f"发证机关：{fields.get('issuer') or ''}（盖章）", f"发证日期：{_day(fields.get('issued_on'))}"):
        y = _para(c, line, right - 260, y, 260, 11)
    c.setFont(FONT, 8)
    c.drawString(
        LEFT,
        40,
        f"依资质申请{fields.get('application_id', '')}的许可决定核发；信息以浙江省建筑市场监管与诚信信息平台为准。",
    )
    c.setKeywords(
        f"layout table={LEFT:.1f},{table_bottom:.1f},{right - LEFT:.1f},{table_top - table_bottom:.1f} bottom={y:.1f}"
    )
    c.showPage()
    c.save()
    return buf.getvalue()


def render_seal_png(authority: str, size: int = 360) -> bytes:
    """The visible electronic seal: a red ring, the authority's name along the upper arc, a star, and 电子印章 below
    (the appearance of the signature; the seal's legal effect is the signature itself)."""
    import math

    from PIL import Image, ImageDraw, ImageFont

    red = (200, 16, 24, 255)
    img = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    c, r = size / 2, size / 2 - 6
    d.ellipse((c - r, c - r, c + r, c + r), outline=red, width=max(6, size // 40))
    font_size = max(18, int(size / max(8, len(authority) * 0.9)))
    font = ImageFont.truetype(str(font_file()), font_size, index=FONT_SUBFONT)
    # the name along the arc from 210° to -30° (clockwise over the top)
    n = len(authority)
    span = 240 if n > 4 else 150
    for i, ch in enumerate(authority):
        angle = math.radians(90 + span / 2 - (span * (i + 0.5) / n))
        x = c + (r - font_size * 0.95) * math.cos(angle)
        y = c - (r - font_size * 0.95) * math.sin(angle)
        glyph = Image.new("RGBA", (font_size * 2, font_size * 2), (255, 255, 255, 0))
        ImageDraw.Draw(glyph).text(
            (font_size / 2, font_size / 2), ch, font=font, fill=red, stroke_width=1, stroke_fill=red
        )
        glyph = glyph.rotate(math.degrees(angle) - 90, resample=Image.BICUBIC)
        img.alpha_composite(glyph, (int(x - font_size), int(y - font_size)))
    # the five-pointed star in the middle
    star, outer, inner = [], size * 0.16, size * 0.065
    for k in range(10):
        rad = outer if k % 2 == 0 else inner
        a = math.radians(90 + k * 36)
        star.append((c + rad * math.cos(a), c - rad * math.sin(a)))
    d.polygon(star, fill=red)
    small = ImageFont.truetype(str(font_file()), int(size * 0.09), index=FONT_SUBFONT)
    label = "电子印章"
    w = d.textlength(label, font=small)
    d.text((c - w / 2, c + size * 0.2), label, font=small, fill=red, stroke_width=1, stroke_fill=red)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
