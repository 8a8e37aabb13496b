"""Every page of the web UI as each role, on the demo data, read as its users would (issue 17).

Fails on: an HTTP 4xx/5xx answer while the page loads, a console error, a visible region code (33xxxx) where a
name belongs, a raw state or English word outside the allow-list (identifiers such as USCCs, certificate numbers
and units are mixed letters and digits and pass), an ISO timestamp. Screenshots: test-output/screenshots/walk-*.png.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.test_ui import (  # noqa: F401
    ARGS,
    CHROMIUM,
    WAIT,
    browser,
    shot,
    sign_in,
)

RECORD = "/official/records/enterprise/91330782677204726D"
PAGES = {
    "public": ["/public", "/public/verify?vid=zjdemo7Kq2vNf9sWx4Lp", "/activate", "/login"],
    "ent_yiwu": ["/portal", "/portal/upload", "/account"],
    "county_yiwu": [
        "/official",
        "/official/queue",
        RECORD,
        "/official/credit",
        "/official/campaigns",
        "/official/audit",
        "/official/calendar",
        "/codes",
        "/account",
        "/official/qualifications",
        "/qualifications/demo-qapp-0001",
    ],
    "city_jinhua": [
        "/official",
        "/official/queue",
        "/official/assessment",
        "/official/credit",
        "/account",
        "/official/qualifications",
        "/permits/demo-permit-0001",
        "/projects/3307022611020001",
        "/official/records/enterprise/91330702MA2F000475",
    ],
    "ent_jiangong": ["/portal", "/account", "/portal/qualifications", "/qualifications/demo-qapp-0001"],
    "ent_shizheng": ["/portal", "/portal/qualifications"],
    "province": [
        "/official",
        "/official/queue",
        "/official/assessment",
        "/official/sync",
        "/official/qualifications",
        "/official/credit",
        "/official/audit",
        "/admin/audit",
        "/permits/demo-permit-0001",
        "/projects/3307022611020001",
    ],
    "admin": ["/admin/accounts", "/codes", "/admin/security", "/official/campaigns", "/official/calendar"],
    "security": ["/admin/accounts", "/admin/security"],
    "auditor": ["/admin/audit", "/admin/accounts"],
}

# Latin words a Chinese official reads without trouble: units, document and file formats, standard names.
# Login names are identifiers people type (like a USCC): shown as they are.
USERNAMES = {"admin", "auditor", "province", "security"}
ALLOWED_WORDS = USERNAMES | {
    "chinesecalendar",
    "JZ",  # 安全生产许可证 numbers: (浙)JZ安许证字[2014]000123
    "PDF",
    "CSV",
    "XLSX",
    "Excel",
    "QR",
    "GB",
    "ID",
    "CA",
    "API",
    "Chrome",
    "Edge",
    "Firefox",
    "Safari",
    "Microsoft",
    "Authenticator",
    "http",
    "https",
    "ui",
    "activate",
    "MOHURD",
}
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
REGION_CODE = re.compile(r"(?<![0-9A-Za-z])33\d{4}(?![0-9A-Za-z])")
# a token made of ASCII letters only; tokens with digits, '-', '_', '#' or '.' are identifiers (USCC, 证书编号, ids)
TOKEN = re.compile(r"[0-9A-Za-z_\-#./:]+")


def _problems(text: str) -> list[str]:
    out = []
    for m in ISO_TIME.finditer(text):
        out.append(f"ISO time {text[m.start() : m.start() + 25]!r}")
    for m in REGION_CODE.finditer(text):
        out.append(f"region code {m.group(0)} in …{text[max(0, m.start() - 12) : m.end() + 4]!r}")
    words = {t for t in TOKEN.findall(text) if t.isalpha() and t.isascii() and len(t) > 1 and t not in ALLOWED_WORDS}
    if words:
        out.append(f"English or raw codes: {sorted(words)[:12]}")
    return out


@pytest.mark.parametrize("who", list(PAGES))
def test_every_page_speaks_the_officials_language(browser, runtime, who):  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    failed: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    pending: set = set()
    page.on("request", lambda r: pending.add(r))
    page.on("requestfinished", lambda r: pending.discard(r))
    page.on("requestfailed", lambda r: pending.discard(r))

    def settled() -> None:
        """The route rendered its data: no request in flight and no loading mask, for half a second."""
        quiet = 0
        for _ in range(WAIT // 100):
            masks = page.evaluate(
                "() => [...document.querySelectorAll('.el-loading-mask')].some(m => m.offsetParent !== null)"
            )
            quiet = quiet + 1 if not pending and not masks else 0
            if quiet >= 5:
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"{page.url} never settled")

    page.base = runtime["base"]
    problems: list[str] = []
    if who != "public":
        page.goto(f"{page.base}/ui/#/login")
        sign_in(page, who)
        page.wait_for_url(lambda url: "#/login" not in url, timeout=WAIT)
        failed.clear()
        page.console_errors.clear()
    for path in PAGES[who]:
        page.goto(f"{page.base}/ui/#{path}")
        page.wait_for_timeout(200)
        settled()
        main = page.locator("main").inner_text()
        name = f"walk-{who}-{re.sub(r'[^a-z0-9]+', '-', path.lower()).strip('-') or 'home'}"
        shot(page, name)
        if path == "/public":  # the public site's tabs: each one loads its own list
            for tab in ("注册人员", "工程项目", "诚信记录", "黑名单"):
                page.click(f".el-tabs__item:has-text('{tab}')")
                page.wait_for_timeout(200)
                settled()
                main += "\n" + page.locator("main").inner_text()
                shot(page, f"walk-public-tab-{tab}")
        for p in _problems(main):
            problems.append(f"{path}: {p}")
        for f in failed:
            problems.append(f"{path}: HTTP {f}")
        for e in page.console_errors:
            problems.append(f"{path}: console {e[:160]}")
        failed.clear()
        page.console_errors.clear()
    context.close()
    assert not problems, f"{who}:\n" + "\n".join(problems)
