"""Each role's main path in a real browser, saving the README's screenshots."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.contrast import assert_contrast

TIMEOUT = 15_000


def _page(browser: Any, server: str, width: int = 1366, height: int = 900) -> Any:
    ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=server)
    ctx.set_default_timeout(TIMEOUT)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors
    return page


def _login(browser: Any, server: str, username: str) -> Any:
    page = _page(browser, server)
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "jiesu-demo")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(admin)?$"))  # every console at "/", admin at /admin
    return page


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
    assert_contrast(page, name)  # every state worth a screenshot is also checked for contrast


def test_call_to_callback(browser: Any, server: str) -> None:
    agent = _login(browser, server, "agent")
    agent.fill("#phone", "13800001111")
    agent.select_option("#street", "110101001")
    agent.fill("#name", "李女士")
    agent.type("#text", "东华门街道幸福里小区路灯坏了好几天，晚上很黑。", delay=5)
    # The screenshot waits for the proposals themselves, not just the panel.
    # Chinese text arrives through the IME path without key events; a real key fires keyup.
    agent.press("#text", "End")
    agent.wait_for_selector("#triage dl.proposal")
    # The three category levels from the keyboard: each select filters the next.
    agent.focus("#cat1")
    agent.select_option("#cat1", "05")
    agent.keyboard.press("Tab")
    assert agent.evaluate("document.activeElement.id") == "cat2"
    level2 = agent.eval_on_selector_all("#cat2 option", "os => os.map(o => o.value)")
    assert level2[0] == "" and all(v.startswith("05") for v in level2[1:])
    agent.select_option("#cat2", "0501")
    agent.select_option("#category", "050101")
    # A proposal chip fills level 3 and the two levels above follow it.
    chip = agent.locator("#triage button.chip[data-fill=category]")
    if chip.count():  # keyword rules may propose a level-1 or level-2 category
        code = chip.first.get_attribute("data-value") or ""
        chip.first.click()
        assert agent.input_value("input[type=hidden][name=category]") == code
        assert code.startswith(agent.input_value("#cat1")) and agent.input_value("#cat1")
    agent.select_option("#cat1", "05")
    agent.select_option("#cat2", "0501")
    agent.select_option("#category", "050101")
    assert agent.input_value("input[type=hidden][name=category]") == "050101"
    _shot(agent, "agent")
    agent.press("#text", "Enter")
    case_id = agent.inner_text("#created-case").strip()
    assert case_id.isdigit()
    _shot(agent, "agent-created")
    assert not agent.js_errors

    dispatcher = _login(browser, server, "dispatcher")
    dispatcher.goto("/dispatcher?queue=dispatch&page=1")
    row = dispatcher.locator("tr", has=dispatcher.locator(f"input[value='{case_id}']"))
    while row.count() == 0 and dispatcher.locator("text=下一页").count():
        dispatcher.click("text=下一页")
        row = dispatcher.locator("tr", has=dispatcher.locator(f"input[value='{case_id}']"))
    _shot(dispatcher, "dispatcher")
    lead = row.locator("input[name=lead_unit]").first.get_attribute("value")
    row.locator("button[data-action=dispatch]").first.click()
    dispatcher.wait_for_selector(".msg.ok")

    unit = _login(browser, server, f"unit-{lead}")
    unit.goto("/unit")
    unit.wait_for_selector(f"a[href='/unit/case/{case_id}']")
    _shot(unit, "unit")  # the inbox with its cases, before this one is replied
    unit.goto(f"/unit/case/{case_id}")
    unit.click("button[data-action=acknowledge]")
    unit.wait_for_selector("button[data-action=contact]")
    unit.fill("#note", "已电话联系")
    unit.click("button[data-action=contact]")
    unit.wait_for_selector("#reply-text")
    unit.type(
        "#reply-text",
        "东华门街道城管科已到幸福里小区现场核实，路灯因灯泡损坏不亮，已于今日更换，恢复照明。"
        "后续如有问题请联系65120000。",
        delay=2,
    )
    unit.wait_for_selector("#reply-hint .quality")
    _shot(unit, "unit-case")
    unit.click("button[data-action=reply]")
    unit.wait_for_selector(".msg.ok")
    assert "138****1111" in unit.content()

    callback = _login(browser, server, "callback")
    callback.goto(f"/callback/case/{case_id}")
    callback.check("input[name=contacted][value=yes]")
    callback.check("input[name=resolved][value=yes]")
    callback.check("input[name=satisfaction][value=satisfied]")
    _shot(callback, "callback")
    callback.click("#record-callback")
    callback.wait_for_selector(".msg.ok")


def test_citizen_submits_and_tracks_on_a_phone(browser: Any, server: str) -> None:
    page = _page(browser, server, 390, 844)
    page.goto("/citizen")
    page.fill("#c-text", "小区门口的垃圾桶满了三天没人清运。")
    page.fill("#c-phone", "13900002468")
    page.click("#c-submit")
    case_id = page.inner_text("#created-case").strip()
    page.fill("#t-case", case_id)
    page.fill("#t-phone4", "2468")
    page.click("button:has-text('查询')")
    page.wait_for_selector("#timeline li")
    _shot(page, "citizen")
    assert not page.js_errors


def test_leader_cockpit_map_renders(browser: Any, server: str) -> None:
    page = _login(browser, server, "leader")
    page.wait_for_selector("#map[data-rendered='1']")
    page.wait_for_timeout(600)  # the map's fade-in animation
    _shot(page, "cockpit")
    page.click("text=东城区")
    page.wait_for_selector("#street-ranking")
    assert not page.js_errors


def test_cockpit_governance_panels_from_the_keyboard(browser: Any, server: str) -> None:
    page = _login(browser, server, "leader")
    panel = page.locator("#governance")
    # The demo city's month, summarised by the fixture as `jiesu governance summarise` does.
    assert "由 jiesu governance summarise" in panel.inner_text()
    assert page.locator("#topics tbody tr").count() >= 1
    assert page.locator("#candidates tbody tr").count() >= 1
    # Thirty days of demo cases are too few weeks for a forecast: the panel says so.
    assert "预测至少需要 8 个完整周" in page.inner_text("#surges-error")
    panel.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SCREENSHOTS / "cockpit-governance.png"))
    assert_contrast(page, "cockpit governance")
    # Keyboard: the topics table scrolls from the keyboard, the next Tab is its first case.
    page.focus("#governance [role=region][aria-labelledby=topics-h]")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert re.fullmatch(r"/cockpit/case/\d+\?month=\d{4}-\d{2}", focused or ""), focused
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/cockpit/case/\d+"))
    assert page.inner_text("#case-text").strip()
    assert_contrast(page, "cockpit case")
    page.click("main a[href^='/cockpit?month=']")  # back to the same month
    page.wait_for_selector("#governance")
    # A month nobody summarised tells the leader what to run.
    page.goto("/cockpit?month=" + _month_before(page, 3))
    assert "jiesu governance summarise --month" in page.inner_text("#gov-missing")
    assert not page.js_errors


def _month_before(page: Any, n: int) -> str:
    months = (page.get_attribute("#month", "data-months") or "").split(",")
    return months[-1 - n]


def test_admin_policy_tables(browser: Any, server: str) -> None:
    page = _login(browser, server, "admin")
    page.goto("/admin?list=time_limits")
    page.select_option("#tl-type", "complaint")
    page.fill("#tl-prefix", "05")
    for part, value in (("contact", "12"), ("reply", "5"), ("callback", "2")):
        page.fill(f"#tl-{part}", value)
        page.select_option(f"#tl-{part}-unit", "hours" if part == "contact" else "workdays")
    page.click("text=保存新版本")
    page.wait_for_selector(".msg.ok")
    _shot(page, "admin")
    page.goto("/admin?list=changes")
    assert "admin" in page.inner_text("table")
    assert not page.js_errors
