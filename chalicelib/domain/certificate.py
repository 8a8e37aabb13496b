"""The printable 建筑工程施工许可证 (正本 and 副本), in Chinese, with a QR code pointing at public verification.

Text per domain.md §7.5 (2014 MOHURD sample, content [U] as to layout). reportlab's built-in CID font STSong-Light
renders Chinese without shipping a font file; segno draws the QR code. Both are imported only when a certificate is
actually printed.
"""

from __future__ import annotations

import io
from typing import Any

NOTES = [
    "一、本证放置施工现场，作为准予施工的凭证。",
    "二、未经发证机关许可，本证的各项内容不得变更。",
    "三、建设行政主管部门可以对本证进行查验。",
    "四、本证自核发之日起三个月内应予施工，逾期应办理延期手续，不办理延期或延期次数、时间超过法定时间的，本证自行废止。",
    "五、凡未取得本证擅自施工的属违法建设，将按《中华人民共和国建筑法》的规定予以处罚。",
]


def render_permit_pdf(fields: dict[str, Any], *, copy: str, verify_url: str, reprint: int) -> bytes:
    """`fields`: permit_no, project_name, address, build_unit, scale, contract_price, construction_unit,
    project_manager, supervision_unit, chief_engineer, issuer, issued_on. `copy` is 正本 or 副本."""
    import segno
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(f"建筑工程施工许可证 {fields['permit_no']}")
    width, height = A4
    c.setFont("STSong-Light", 22)
    c.drawCentredString(width / 2, height - 80, "中华人民共和国")
    c.drawCentredString(width / 2, height - 112, f"建筑工程施工许可证（{copy}）")
    c.setFont("STSong-Light", 11)
    c.drawString(60, height - 150, f"编号：{fields['permit_no']}")
    if reprint:
        c.drawRightString(width - 60, height - 150, f"补打（第{reprint}次）")
    c.drawString(60, height - 175, "根据《中华人民共和国建筑法》第八条规定，经审查，本建筑工程符合施工条件，准予施工。")
    c.drawString(60, height - 192, "特发此证。")
    rows = [
        ("建设单位", fields.get("build_unit")),
        ("工程名称", fields.get("project_name")),
        ("建设地址", fields.get("address")),
        ("建设规模", fields.get("scale")),
        ("合同价格（万元）", fields.get("contract_price")),
        ("施工单位", fields.get("construction_unit")),
        ("施工单位项目负责人", fields.get("project_manager")),
        ("监理单位", fields.get("supervision_unit")),
        ("总监理工程师", fields.get("chief_engineer")),
        ("项目编号", fields.get("prj_num")),
    ]
    y = height - 225
    for label, value in rows:
        c.rect(60, y - 6, 140, 22)
        c.rect(200, y - 6, width - 260, 22)
        c.drawString(66, y, label)
        c.drawString(206, y, str(value or "—"))
        y -= 22
    y -= 16
    c.drawString(60, y, f"发证机关：{fields.get('issuer', '')}（盖章）")
    c.drawString(60, y - 18, f"发证日期：{fields.get('issued_on', '')}")
    if fields.get("start_deadline"):
        c.drawString(60, y - 36, f"应于{fields['start_deadline']}前开工")
    if int(fields.get("edition") or 1) > 1:
        c.drawString(60, y - 54, f"第{fields['edition']}版（准予延期后重新核发）")
    qr = segno.make(verify_url, error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=3, border=2)
    png.seek(0)
    c.drawImage(ImageReader(png), width - 160, y - 60, 100, 100)
    c.setFont("STSong-Light", 8)
    c.drawString(width - 170, y - 72, "扫码核验真伪")
    if fields.get("verification_id"):
        c.drawString(width - 250, y - 84, f"核验码：{fields['verification_id']}")
    c.setFont("STSong-Light", 9)
    y -= 110
    c.drawString(60, y, "注意事项：")
    for line in NOTES:
        y -= 14
        c.drawString(60, y, line[:60])
        if len(line) > 60:
            y -= 14
            c.drawString(72, y, line[60:])
    c.showPage()
    c.save()
    return buf.getvalue()


def render_notice_pdf(fields: dict[str, Any]) -> bytes:
    """补正材料一次性告知书: everything missing, listed once. `fields`: applicant, project_name, prj_num,
    application_id, applied_on, issued_on, due_by, missing (list), issuer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(f"补正材料一次性告知书 {fields['application_id']}")
    width, height = A4
    c.setFont("STSong-Light", 18)
    c.drawCentredString(width / 2, height - 80, "建筑工程施工许可申请补正材料一次性告知书")
    c.setFont("STSong-Light", 11)
    y = height - 125
    c.drawString(60, y, f"{fields.get('applicant') or ''}：")
    lines = [
        f"你单位于{fields['applied_on']}提出的“{fields.get('project_name') or fields['prj_num']}”"
        f"（项目编号{fields['prj_num']}）施工许可申请，",
        "经审查，申请材料不齐全或不符合法定形式，现一次性告知需要补正的全部内容如下：",
    ]
    for line in lines:
        y -= 20
        c.drawString(72, y, line)
    for i, item in enumerate(fields["missing"], start=1):
        y -= 20
        text = f"{i}. {item}"
        c.drawString(84, y, text[:46])
        if len(text) > 46:
            y -= 16
            c.drawString(96, y, text[46:])
    later = fields.get("later_findings") or []
    if later:
        y -= 28
        c.drawString(72, y, "告知后因情况变化发现的事项（依法记录，不属于再次告知）：")
        for f in later:
            y -= 18
            text = f"{f['found_on']}：{f['item']}"
            c.drawString(84, y, text[:46])
            if len(text) > 46:
                y -= 16
                c.drawString(96, y, text[46:])
    y -= 30
    c.drawString(72, y, "请补正后重新提交。补正齐全之日起重新计算法定审查期限。")
    y -= 40
    c.drawString(width - 300, y, f"{fields.get('issuer') or ''}")
    c.drawString(width - 300, y - 20, f"告知日期：{fields['issued_on']}")
    c.setFont("STSong-Light", 8)
    c.drawString(60, 50, f"申请编号：{fields['application_id']}（依法应于{fields['due_by']}前告知）")
    c.showPage()
    c.save()
    return buf.getvalue()
