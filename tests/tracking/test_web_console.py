"""The staff console's security (issue 15), on SQLite and PostgreSQL: every role against every URL,
CSRF, session fixation, cookie flags, login lockout, IDOR on case and task URLs, security headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from flowmatch.auth import LOCK_FOR, MAX_FAILURES
from flowmatch.tracking import CaseStore

from .consolekit import ROLE_USERS, Centre, centre, csrf_of, forbidden_events, login, open_f10


@pytest.fixture()
def c(store: CaseStore) -> Iterator[Centre]:
    yield centre(store)


def client(c: Centre, https: bool = False) -> TestClient:
    return TestClient(c.app, base_url="https://testserver" if https else "http://testserver")


# (method, URL template, roles allowed).  {n}: an F10 case number.  Anything else is 403 and audited.
MATRIX: list[tuple[str, str, set[str]]] = [
    ("GET", "/console/queue", {"fgw1", "ylj1", "sup"}),
    ("GET", "/console/queue?department=fgw", {"fgw1", "sup"}),
    ("GET", "/console/queue?department=ylj", {"ylj1", "sup"}),
    ("GET", "/console/open", {"win"}),
    ("POST", "/console/open", {"win"}),
    ("GET", "/console/case/{n}", {"win", "fgw1", "sup", "aud"}),
    ("GET", "/console/case/{n}/slip", {"win", "sup"}),
    ("POST", "/console/case/{n}/task/project", {"fgw1"}),
    ("POST", "/console/case/{n}/task/joint_site_survey", set()),
    ("POST", "/console/case/{n}/task/topographic_survey", {"win"}),
    ("GET", "/console/board", {"sup", "aud"}),
    ("POST", "/console/sweep", {"sup"}),
    ("GET", "/console/stats", {"sup", "aud"}),
    ("GET", "/console/audit", {"sup", "aud"}),
]


@pytest.mark.parametrize("user", ROLE_USERS)
def test_every_role_against_every_url(c: Centre, user: str) -> None:
    number = open_f10(c).number
    web = client(c)
    csrf = login(web, user)
    for method, template, allowed in MATRIX:
        url = template.format(n=number)
        before = forbidden_events(c)
        if method == "GET":
            r = web.get(url, follow_redirects=False)
        else:
            r = web.post(url, data={"csrf": csrf, "event": "accept"}, follow_redirects=False)
        if user in allowed:
            assert r.status_code != 403, (user, method, url)
            assert r.status_code < 500, (user, method, url, r.text)
            assert forbidden_events(c) == before
        else:
            assert r.status_code == 403, (user, method, url, r.status_code)
            assert "已记录" in r.text
            assert forbidden_events(c) == before + 1, (user, method, url)


def test_anonymous_gets_the_login_page_everywhere(c: Centre) -> None:
    number = open_f10(c).number
    web = client(c)
    for method, template, _ in MATRIX:
        url = template.format(n=number)
        r = web.request(method, url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/login", url


def test_department_clerk_works_their_task_and_is_refused_another(c: Centre) -> None:
    number = open_f10(c).number
    web = client(c)
    csrf = login(web, "fgw1")
    for event in ("accept", "handle", "review", "approve"):
        r = web.post(
            f"/console/case/{number}/task/project", data={"csrf": csrf, "event": event}, follow_redirects=False
        )
        assert r.status_code == 303
    assert c.store.status(number, as_of="2026-03-02").tasks[1].state == "approved"
    before = forbidden_events(c)
    r = web.post(f"/console/case/{number}/task/joint_site_survey", data={"csrf": csrf, "event": "accept"})
    assert r.status_code == 403 and forbidden_events(c) == before + 1
    history = c.store.verify()
    assert history.ok


def test_idor_a_clerk_of_an_uninvolved_department_sees_nothing(c: Centre) -> None:
    number = open_f10(c).number
    web = client(c)
    csrf = login(web, "ylj1")
    assert web.get(f"/console/case/{number}").status_code == 403
    assert web.get(f"/console/case/{number}/slip").status_code == 403
    for step in ("project", "joint_site_survey", "eia", "land_transfer_contract"):
        r = web.post(f"/console/case/{number}/task/{step}", data={"csrf": csrf, "event": "accept"})
        assert r.status_code == 403 and "滨江花园" not in r.text
    assert web.get("/console/queue?department=fgw").status_code == 403


def test_a_post_without_or_with_a_wrong_csrf_token_is_403(c: Centre) -> None:
    number = open_f10(c).number
    web = client(c)
    login(web, "fgw1")
    other = client(c)
    other_csrf = login(other, "fgw1")
    for data in (
        {"event": "accept"},
        {"event": "accept", "csrf": ""},
        {"event": "accept", "csrf": "x" * 43},
        {"event": "accept", "csrf": other_csrf},
    ):
        r = web.post(f"/console/case/{number}/task/project", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    assert c.store.status(number, as_of="2026-03-02").tasks[1].state == "ready"
    login_page = client(c)
    r = login_page.post("/console/login", data={"name": "fgw1", "password": "correct horse battery"})
    assert r.status_code == 403


def test_login_rotates_the_session_id_no_fixation(c: Centre) -> None:
    web = client(c)
    page = web.get("/console/login")
    before = web.cookies.get("fm_session")
    assert before
    r = web.post(
        "/console/login",
        data={"csrf": csrf_of(page.text), "name": "sup", "password": "correct horse battery"},
        follow_redirects=False,
    )
    after = r.cookies.get("fm_session")
    assert after and after != before
    stale = client(c)
    stale.cookies.set("fm_session", before)
    assert stale.get("/console/board", follow_redirects=False).status_code == 303  # the old id is dead
    planted = client(c)
    r = planted.get("/console/login", headers={"cookie": "fm_session=attacker-chosen-id"})
    issued = r.cookies.get("fm_session")  # an unknown id is never adopted: the server issues its own
    assert issued and issued != "attacker-chosen-id"


def test_cookie_flags_plain_and_https(c: Centre) -> None:
    r = client(c).get("/console/login")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    r = client(c, https=True).get("/console/login")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-fm_session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Domain" not in cookie


def test_login_is_locked_after_repeated_failures_and_audited(c: Centre) -> None:
    web = client(c)
    for _ in range(MAX_FAILURES):
        page = web.get("/console/login")
        r = web.post("/console/login", data={"csrf": csrf_of(page.text), "name": "fgw1", "password": "wrong one!!"})
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    page = web.get("/console/login")
    r = web.post(
        "/console/login", data={"csrf": csrf_of(page.text), "name": "fgw1", "password": "correct horse battery"}
    )
    assert r.status_code == 401  # locked: the right password is refused too, with the same message
    unknown = web.post("/console/login", data={"csrf": csrf_of(page.text), "name": "nobody", "password": "x"})
    assert unknown.status_code == 401 and unknown.text.count("用户名或密码错误") == r.text.count("用户名或密码错误")
    c.clock.now += LOCK_FOR + dt.timedelta(minutes=1)
    login(web, "fgw1")
    whats = [e for e in _whats(c)]
    assert whats.count("login_failed") == MAX_FAILURES + 2 and "account_locked" in whats and "login" in whats


def _whats(c: Centre) -> list[str]:
    from sqlalchemy import select

    from flowmatch.tracking.schema import Event

    with c.store.engine.connect() as conn:
        return [str(w) for w in conn.execute(select(Event.what).order_by(Event.seq)).scalars()]


def test_logout_ends_the_session(c: Centre) -> None:
    web = client(c)
    csrf = login(web, "sup")
    assert web.post("/console/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert web.get("/console/board", follow_redirects=False).status_code == 303


def test_security_headers_on_every_page(c: Centre) -> None:
    number = open_f10(c).number
    web = client(c)
    login(web, "sup")
    urls = [t.format(n=number) for m, t, _ in MATRIX if m == "GET"] + [
        "/console/login",
        "/track",
        "/console/nope",
        "/api/v1/openapi.json",
        "/api/v1/nope",
    ]
    for url in urls:
        r = web.get(url, follow_redirects=False)
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'none'" in csp, url
        assert r.headers["x-content-type-options"] == "nosniff", url
        assert r.headers["x-frame-options"] == "DENY", url
    r = web.post("/track", data={"number": number, "code": "x"})
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_supervisor_sees_an_overdue_task_after_a_sweep(c: Centre) -> None:
    number = open_f10(c).number
    c.clock.now = dt.datetime(2026, 6, 1, 9)
    web = client(c)
    csrf = login(web, "sup")
    assert web.post("/console/sweep", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    board = web.get("/console/board").text
    assert "超期" in board and number in board


def test_queue_filters_and_sorts(c: Centre) -> None:
    number = open_f10(c).number
    web = client(c)
    login(web, "fgw1")
    assert number in web.get("/console/queue?view=ready&sort=number").text
    assert number not in web.get("/console/queue?view=overdue").text
    assert web.get("/console/queue?sort=bogus").status_code == 400


def test_the_audit_page_shows_the_anchor_and_names_tampering(c: Centre) -> None:
    open_f10(c)
    web = client(c)
    login(web, "aud")
    page = web.get("/console/audit")
    assert page.status_code == 200
    anchor = page.text.split('<code id="anchor">')[1].split("</code>")[0]
    assert anchor == c.store.verify().anchor
    with c.store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER events_no_update"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update ON events"))
        conn.execute(text("UPDATE events SET note = 'x' WHERE seq = 1"))
    page = web.get("/console/audit")
    assert 'role="alert">event 1 ' in page.text and 'id="anchor"' not in page.text
