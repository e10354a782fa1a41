"""Issue 15 in a real browser (Playwright on the system Chromium, JavaScript off): a window clerk
opens a case and prints the slip; a department clerk accepts and approves their task and is refused
(403, audited) on another department's; a supervisor sees an overdue task on the board after a sweep;
the applicant follows progress at /track, and a wrong code gets the same page as a wrong number.
axe-core checks /track and the case page (no serious or critical violations), at mobile width too."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium_support import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
F10 = (
    "investor=enterprise\nland_nature=state_owned\nkind=building\nacquisition=tender_auction_listing\n"
    "regime=filing\nbuilding_use=commercial_housing"
)
CREDIT = "91350100M000100Y43"
PASSWORD = "correct horse battery"
USERS = {"win": ("window", None), "fgw1": ("department", "fgw"), "sup": ("supervisor", None)}


class Clock:
    now = dt.datetime(2026, 3, 2, 9, 0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="module")
def centre(ruleset: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("fastapi")
    from flowmatch.auth import Accounts
    from flowmatch.tracking import open_store
    from flowmatch.web import create_app

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('console') / 'cases.sqlite'}", ruleset=ruleset)
    accounts = Accounts(store.engine, tuple(ruleset.departments))
    for name, (role, dept) in USERS.items():
        accounts.add_user(name, role=role, department=dept, password=PASSWORD, at=Clock.now, by="test")
    clock = Clock()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(ruleset, allowed_hosts=["127.0.0.1"], store=store, clock=clock)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "store": store, "clock": clock}
    srv.should_exit = True
    thread.join(timeout=10)
    store.engine.dispose()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser: Any, *, width: int = 1100, scripts: bool = False) -> Any:
    context = browser.new_context(
        java_script_enabled=scripts, bypass_csp=scripts, viewport={"width": width, "height": 1200}
    )
    return context.new_page()


def _login(page: Any, url: str, name: str) -> None:
    page.goto(url + "/console/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit] >> text=登录")


def _axe(page: Any) -> None:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert found["testEngine"]["name"] == "axe-core" and found["passes"], "axe did not run"
    serious = [(v["id"], v["help"]) for v in found["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, serious


def test_the_centre_in_a_browser(browser: Any, centre: dict[str, Any], tmp_path: Path) -> None:
    url, store, clock = centre["url"], centre["store"], centre["clock"]
    # window clerk: open a case, print the slip
    win = _page(browser)
    _login(win, url, "win")
    assert win.url.endswith("/console/open")
    win.fill("#applicant", "某某置业有限公司")
    win.fill("#credit_code", CREDIT)
    win.fill("#project_name", "滨江花园")
    win.fill("#profile", F10)
    with win.expect_navigation():
        win.click("text=受理并打印回执")
    number = win.inner_text("#number")
    code = win.inner_text("#code")
    assert number.startswith("JS2026-") and len(code) >= 8
    pdf = win.pdf(path=str(tmp_path / "slip.pdf"))  # "print" the slip
    assert pdf[:4] == b"%PDF"
    # the applicant hands in the land contract at the window (an applicant step)
    win.goto(f"{url}/console/case/{number}")
    for _ in ("accept", "handle", "review", "approve", "complete"):
        with win.expect_navigation():
            win.click("#task-land_transfer_contract button[type=submit]")
    # department clerk (DRC): accept … approve their task; another department's task is refused
    clerk = _page(browser)
    _login(clerk, url, "fgw1")
    assert number in clerk.inner_text("main")  # their queue
    clerk.click(f"text={number}")
    for event in ("accept", "handle", "review", "approve"):
        clerk.select_option("#event-project", event)
        with clerk.expect_navigation():
            clerk.click("#task-project button[type=submit]")
    assert "已批准" in clerk.inner_text("#task-project")
    assert clerk.locator("#task-joint_site_survey form").count() == 0  # no action offered
    before = len([e for e in store.history(number) if e["what"] == "forbidden"])
    # a hand-made form posting to another department's task, with the clerk's own valid CSRF token
    csrf = (
        clerk.get_attribute("#task-project input[name=csrf]", "value")
        if clerk.locator("#task-project input[name=csrf]").count()
        else clerk.get_attribute("input[name=csrf]", "value")
    )
    response = clerk.request.post(
        f"{url}/console/case/{number}/task/joint_site_survey", form={"csrf": csrf, "event": "accept"}, max_redirects=0
    )
    assert response.status == 403
    assert len([e for e in store.history(number) if e["what"] == "forbidden"]) == before + 1
    # supervisor: after a sweep, the overdue task is on the board
    clock.now = dt.datetime(2026, 4, 1, 9)
    sup = _page(browser)
    _login(sup, url, "sup")
    with sup.expect_navigation():
        sup.click("text=运行预警扫描")
    board = sup.inner_text("main")
    assert "超期" in board and number in board and "联合现场踏查" in board
    sup.screenshot(path=str(tmp_path / "board.png"), full_page=True)
    # applicant: /track at mobile width, no JavaScript
    app = _page(browser, width=375)
    app.goto(url + "/track")
    app.fill("#number", number)
    app.fill("#code", code)
    with app.expect_navigation():
        app.click("button[type=submit] >> text=查询")
    text = app.inner_text("main")
    assert "企业投资项目备案" in text and "预计办结" in text and "联合现场踏查" in text
    assert app.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    app.screenshot(path=str(tmp_path / "track.png"), full_page=True)
    pages = []
    for num, guess in ((number, "WRONGCODE1"), ("JS2026-999999", "WRONGCODE1")):
        app.goto(url + "/track")
        app.fill("#number", num)
        app.fill("#code", guess)
        with app.expect_navigation():
            app.click("button[type=submit] >> text=查询")
        pages.append(app.content())
    assert pages[0] == pages[1] and "没有找到" in pages[0]
    app.goto(url + "/track?lang=en")
    assert "Track your application" in app.inner_text("h1")


@pytest.mark.parametrize("width", [1100, 375])
def test_axe_on_track_and_the_case_page(browser: Any, centre: dict[str, Any], width: int) -> None:
    url, store = centre["url"], centre["store"]
    opened = store.open_case(
        dict(line.split("=") for line in F10.splitlines()),
        applicant="甲",
        credit_code=CREDIT,
        at=centre["clock"].now,
        by="win",
    )
    page = _page(browser, width=width, scripts=True)
    page.goto(url + "/track")
    page.fill("#number", opened.number)
    page.fill("#code", opened.query_code)
    with page.expect_navigation():
        page.click("button[type=submit] >> text=查询")
    assert "下一步" in page.inner_text("main")
    _axe(page)
    _login(page, url, "sup")
    page.goto(f"{url}/console/case/{opened.number}")
    _axe(page)
