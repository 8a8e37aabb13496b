"""资质申请 in the browser: the enterprise sees its upgrade refused with the one unmet requirement, applies for a 变更
(its address) from the portal; the city accepts and passes it up in the workbench, the province approves; the
enterprise follows every step on its page and its record shows the new address. Screenshots:
test-output/screenshots/qualification-*.png."""

from __future__ import annotations

from tests.browser.test_ui import WAIT, browser, page, shot, sign_in  # noqa: F401 - the module's fixtures
from tests.browser.test_ui import pick as choose

NEW_ADDRESS = "义乌市稠江街道双江湖大道1号"


def _sign_out(pg):
    pg.click("[data-test=logout]")
    pg.wait_for_url("**/#/login**", timeout=WAIT)


def _enter(pg, username: str) -> None:
    """Sign in and wait for the page the login leads to (a navigation started before it would be overtaken)."""
    sign_in(pg, username)
    pg.wait_for_url(lambda url: "#/login" not in url, timeout=WAIT)


def _act(pg, event, note):
    pg.click(f"[data-test=act-{event}]")
    dialog = pg.locator("[data-test=act-dialog]")
    dialog.locator("[data-test=act-note]").fill(note)
    dialog.locator("[data-test=act-confirm]").click()
    try:
        dialog.locator("[data-test=act-confirm]").wait_for(state="hidden", timeout=WAIT)
    except Exception:
        raise AssertionError(f"the step did not go through:\n{dialog.inner_text()}") from None


def test_an_enterprise_applies_in_the_portal_and_the_authorities_decide_in_the_workbench(page):  # noqa: F811 - the fixture
    # 1. the upgrade one constructor short: refused, the reason on the screen
    page.goto(page.base + "/ui/#/login")
    _enter(page, "ent_shizheng")
    page.goto(page.base + "/ui/#/portal/qualifications")
    form = page.locator("[data-test=apply-form]")
    form.wait_for(timeout=WAIT)
    choose(page, form.locator("[data-test=target]"), "市政公用工程施工总承包二级")
    page.click("[data-test=submit]")
    refusal = page.locator("[data-test=refusal]")
    refusal.wait_for(timeout=WAIT)
    assert "市政公用工程专业注册建造师（一级或二级）不少于12人（平台数据为11）" in refusal.inner_text()
    shot(page, "qualification-refused")
    page.console_errors.clear()  # the refusal is a 400 answer, logged by Chromium as a failed resource
    _sign_out(page)

    # 2. a 变更 of the address, applied from the portal
    _enter(page, "ent_jiangong")
    page.goto(page.base + "/ui/#/portal/qualifications")
    form.wait_for(timeout=WAIT)
    choose(page, form.locator("[data-test=kind]"), "变更")
    choose(page, form.locator("[data-test=target]"), "建筑工程施工总承包二级")
    form.locator("[data-test=change-address]").fill(NEW_ADDRESS)
    page.click("[data-test=submit]")
    page.wait_for_selector("[data-test=summary]", timeout=WAIT)
    url = page.url
    assert page.locator("[data-test=state]").inner_text() == "已提交待受理"
    assert f"变更后经营地址\n{NEW_ADDRESS}" in page.locator("[data-test=summary]").inner_text().replace("\t", "\n")
    _sign_out(page)

    # 3. the city finds it in its queue, accepts it and passes it up (the certificate's issuer is the province)
    _enter(page, "city_jinhua")
    page.goto(page.base + "/ui/#/official/qualifications")
    queue = page.locator("[data-test=qualification-queue]")
    queue.locator("[data-test=open-application]", has_text="义乌市建工集团有限公司").first.click()
    page.wait_for_selector("[data-test=actions]", timeout=WAIT)
    shot(page, "qualification-city")
    _act(page, "ACCEPT", "材料齐全，予以受理")
    page.wait_for_selector("[data-test=act-REFER_UP]", timeout=WAIT)
    assert "剩余" in page.locator("[data-test=clock]").inner_text()
    _act(page, "REFER_UP", "初审通过，报省住房和城乡建设厅")
    page.wait_for_selector("text=当前办理：浙江省住房和城乡建设厅", timeout=WAIT)
    _sign_out(page)

    # 4. the province approves; the certificate's record changes
    _enter(page, "province")
    page.goto(page.base + "/ui/#/official/qualifications")
    page.locator("[data-test=qualification-queue] [data-test=open-application]").first.click()
    page.wait_for_selector("[data-test=act-APPROVE]", timeout=WAIT)
    _act(page, "APPROVE", "准予变更")
    effect = page.locator("[data-test=effect]")
    effect.wait_for(timeout=WAIT)
    assert "资质证书已在企业库中更新" in effect.inner_text()
    steps = page.locator("[data-test=steps]").inner_text()
    for step in ("提交申请", "受理", "初审通过，转报上级", "准予许可", "资质证书已变更"):
        assert step in steps
    shot(page, "qualification-approved")
    _sign_out(page)

    # 5. the enterprise follows it: approved, and its record has the new address
    _enter(page, "ent_jiangong")
    page.goto(url)
    page.wait_for_selector("[data-test=effect]", timeout=WAIT)
    assert page.locator("[data-test=state]").inner_text() == "准予许可"
    page.goto(page.base + "/ui/#/portal")
    page.wait_for_selector(f"text={NEW_ADDRESS}", timeout=WAIT)
    assert page.console_errors == [], page.console_errors
