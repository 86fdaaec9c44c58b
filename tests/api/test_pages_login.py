"""Login, sessions, CSRF and role refusals of the web consoles (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.pages_helpers import form_token, login


def test_login_lands_each_role_on_its_console(client: TestClient) -> None:
    for username, marker in [
        ("agent", 'action="/agent/register"'),
        ("dispatcher", "/dispatcher/batch"),
        ("unit-110101001", "/unit?box=open"),
        ("callback", "回访队列"),
        ("leader", 'id="map"'),
    ]:
        client.cookies.clear()
        login(client, username)
        page = client.get("/")
        assert page.status_code == 200, username
        assert marker in page.text, username


def test_wrong_password_is_refused_with_a_message(client: TestClient) -> None:
    page = client.get("/login")
    resp = client.post(
        "/login",
        data={"username": "agent", "password": "nope-nope", "csrf_token": form_token(page.text)},
    )
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.text
    assert "jiesu_session" not in resp.cookies


def test_login_without_the_forms_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    resp = client.post("/login", data={"username": "agent", "password": "jiesu-demo"})
    assert resp.status_code == 403


def test_session_cookie_is_httponly_and_lax_and_rotated_at_login(client: TestClient) -> None:
    page = client.get("/login")
    token = form_token(page.text)
    first = client.post(
        "/login",
        data={"username": "agent", "password": "jiesu-demo", "csrf_token": token},
        follow_redirects=False,
    )
    header = first.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header.replace("Lax", "lax")
    old = client.cookies.get("jiesu_session")
    client.post(
        "/login",
        data={"username": "agent", "password": "jiesu-demo", "csrf_token": token},
        follow_redirects=False,
    )
    assert client.cookies.get("jiesu_session") != old
    # The old session is gone: presenting it again means logging in again.
    stale = TestClient(client.app)
    stale.cookies.set("jiesu_session", old or "")
    assert stale.get("/agent", follow_redirects=False).status_code == 303


def test_pages_need_a_login(client: TestClient) -> None:
    resp = client.get("/dispatcher", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login")


def test_post_without_csrf_token_is_refused_and_changes_nothing(client: TestClient) -> None:
    login(client, "agent")
    resp = client.post(
        "/agent/register", data={"text": "路灯不亮", "request_type": "complaint", "phone": "1"}
    )
    assert resp.status_code == 403
    assert "表单已过期" in resp.text
    login(client, "dispatcher")
    assert "路灯不亮" not in client.get("/dispatcher").text


def test_each_console_refuses_other_roles(client: TestClient) -> None:
    login(client, "agent")
    for path in ("/dispatcher", "/unit", "/callback", "/cockpit", "/admin"):
        resp = client.get(path)
        assert resp.status_code == 403, path
        assert "此页面属于其他角色" in resp.text
    client.cookies.clear()
    login(client, "unit-110101001")
    assert client.get("/agent").status_code == 403


def test_logout_ends_the_session(client: TestClient) -> None:
    token = login(client, "agent")
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/agent", follow_redirects=False).status_code == 303


def test_language_switch_and_security_headers(client: TestClient) -> None:
    page = client.get("/login")
    assert "登录" in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    client.get("/lang?to=en&next=/login")
    assert "Log in" in client.get("/login").text
