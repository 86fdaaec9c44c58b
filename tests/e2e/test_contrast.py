"""Text contrast on every console in Chromium (WCAG 2.x: 4.5:1, 3:1 for large text).

The consoles' main states are also checked where test_consoles takes its screenshots; this
file covers the pages those flows do not stop on, both languages, and the checker itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from jiesu.web.pages.admin import TABS
from jiesu.web.pages.queues import DISPATCHER_QUEUES
from tests.e2e.contrast import assert_contrast, failures
from tests.e2e.test_consoles import _login, _page

PAGES = {
    "agent": ["/agent"],
    "dispatcher": [f"/dispatcher?queue={q}" for q in DISPATCHER_QUEUES],
    "unit-110101001": ["/unit"],
    "callback": ["/callback"],
    "leader": ["/cockpit", "/cockpit?metric=volume"],
    "admin": [f"/admin?list={tab}" for tab in TABS],
}


def test_the_checker_finds_low_contrast_and_spares_what_wcag_exempts(browser: Any) -> None:
    page = browser.new_page()
    page.set_content(
        """<body style="background:#fff;font-size:15px">
        <p id="grey">#999 on white: 2.85:1</p>
        <p style="color:#767676">#767676 on white: 4.54:1</p>
        <p style="color:#949494;font-size:24px">large text at 3.03:1</p>
        <div style="background:#0d2b4e"><span style="color:#1a5a9e">dark on navy</span></div>
        <div style="background:rgba(0,0,0,0.5)"><i style="color:#333">on a half-black veil</i></div>
        <button disabled style="color:#bbb">disabled</button>
        <input placeholder="pale placeholder" id="ph">
        <style>#grey{color:#999} #ph::placeholder{color:#ccc}</style></body>"""
    )
    found = {f["text"]: f for f in failures(page)}
    assert set(found) == {
        "#999 on white: 2.85:1",
        "dark on navy",
        "on a half-black veil",
        "pale placeholder",
    }
    assert found["#999 on white: 2.85:1"]["ratio"] == 2.85
    page.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_console_meets_the_contrast_minimum(browser: Any, server: str, lang: str) -> None:
    public = _page(browser, server)
    for path in ("/login", "/citizen"):
        public.goto(f"/lang?to={lang}&next={path}")
        assert_contrast(public, f"{path} ({lang})")
    for user, paths in PAGES.items():
        page = _login(browser, server, user)
        page.goto(f"/lang?to={lang}&next={paths[0]}")
        for path in paths:
            page.goto(path)
            assert_contrast(page, f"{path} as {user} ({lang})")
        page.context.close()
