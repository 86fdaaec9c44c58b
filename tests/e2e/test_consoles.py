"""Each role's main path in a real browser, saving the README's screenshots."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import SCREENSHOTS

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
    page.wait_for_url(re.compile(r".*/$"))
    return page


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_call_to_callback(browser: Any, server: str) -> None:
    agent = _login(browser, server, "agent")
    agent.fill("#phone", "13800001111")
    agent.select_option("#street", "110101001")
    agent.select_option("#category", "050101")
    agent.type("#text", "东华门街道幸福里小区路灯坏了好几天，晚上很黑。", delay=5)
    agent.wait_for_selector("#triage dl, #triage h3")
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
    unit.goto(f"/unit/case/{case_id}")
    unit.click("button[data-action=acknowledge]")
    unit.wait_for_selector("button[data-action=contact]")
    unit.fill("#note", "已电话联系")
    unit.click("button[data-action=contact]")
    unit.wait_for_selector("#reply-text")
    unit.fill("#reply-text", "已更换路灯灯泡，恢复照明。")
    unit.click("button[data-action=reply]")
    unit.wait_for_selector(".msg.ok")
    assert "138****1111" in unit.content()
    unit.goto("/unit")
    _shot(unit, "unit")

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
