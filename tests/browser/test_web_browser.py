"""The web questionnaire in a real browser (Playwright on Debian's chromium), JavaScript off.

Three projects are walked from the start page to their printable notices; the back button, a
tampered URL and keyboard-only answering are checked; screenshots are saved under a temporary
directory (printed with ``-s``).  Skipped cleanly when Playwright or /usr/bin/chromium is absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


PROJECTS = {
    "S10": {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "enterprise",
        "acquisition": "tender_auction_listing",
        "regime": "filing",
        "building_use": "commercial_housing",
    },
    "S28": {"kind": "building", "land_nature": "collective", "building_use": "township_enterprise"},
    "S32": {"kind": "pipeline"},
}


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 1400})
    p = context.new_page()
    problems: list[str] = []
    p.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    p.problems = problems  # type: ignore[attr-defined]
    yield p
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {out}")
    return out


def _answer_until_result(page: Any, profile: dict[str, str], shots: Path, name: str) -> int:
    asked = 0
    while page.locator("form.question").count():
        radio = page.locator("form.question input[type=radio]").first
        attribute = radio.get_attribute("name")
        page.click(f"label[for=opt-{profile[attribute]}]")
        if asked == 0:
            page.screenshot(path=str(shots / f"{name}-q1.png"), full_page=True)
        page.click("form.question button[type=submit]")
        asked += 1
        assert asked <= 8
    return asked


@pytest.mark.parametrize("situation", list(PROJECTS))
def test_walk_to_the_notice(page: Any, server: str, shots: Path, situation: str) -> None:
    page.goto(server + "/")
    page.click("text=开始问答")
    asked = _answer_until_result(page, PROJECTS[situation], shots, situation)
    assert asked == len(PROJECTS[situation])
    assert "您的项目适用" in page.inner_text("main")
    assert situation in page.locator("main details").first.text_content()  # codes behind the toggle
    page.screenshot(path=str(shots / f"{situation}-result.png"), full_page=True)
    link = page.locator("#notice-html")
    if link.count() == 0:
        assert "本服务器尚未安装告知书生成功能" in page.inner_text("main")
        return
    link.click()
    assert "一次性告知书" in page.content()
    page.screenshot(path=str(shots / f"{situation}-notice.png"))
    assert not [m for m in page.problems if "Content Security Policy" in m], page.problems


def test_back_button_returns_to_the_previous_question(page: Any, server: str, shots: Path) -> None:
    page.goto(server + "/ask")
    page.click("label[for=opt-building]")
    with page.expect_navigation():
        page.click("form.question button[type=submit]")
    first_url = page.url
    page.click("label[for=opt-state_owned]")
    with page.expect_navigation():
        page.click("form.question button[type=submit]")
    assert re.search(r"land_nature=state_owned", page.url)
    page.go_back(wait_until="load")
    assert page.url == first_url
    assert "第 2 题" in page.inner_text("legend")
    page.go_forward(wait_until="load")
    assert "第 3 题" in page.inner_text("legend")
    with page.expect_navigation():
        page.click("text=返回上一题")
    assert "第 2 题" in page.inner_text("legend")
    assert page.locator("#opt-state_owned").is_checked(), "the previous answer is kept"
    page.screenshot(path=str(shots / "back.png"), full_page=True)


def test_tampered_url_gives_a_friendly_page(page: Any, server: str, shots: Path) -> None:
    response = page.goto(server + "/ask?kind=castle&investor=%3Cscript%3E")
    assert response.status == 400
    text = page.inner_text("main")
    assert "链接中的参数有误" in text and "“工程类别”没有“castle”这个选项" in text
    assert "Traceback" not in page.content()
    page.screenshot(path=str(shots / "tampered.png"), full_page=True)


def test_keyboard_only(page: Any, server: str) -> None:
    page.goto(server + "/ask")
    page.focus("#opt-building")
    page.keyboard.press("ArrowDown")  # moves the choice within the radio group
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_url(re.compile(r"kind=road_bridge"))
    assert "您的项目适用" in page.inner_text("main")


def test_english_pages(page: Any, server: str, shots: Path) -> None:
    page.goto(server + "/ask?lang=en")
    assert "Question 1" in page.inner_text("legend")
    page.click("label[for=opt-pipeline]")
    page.click("form.question button[type=submit]")
    assert "lang=en" in page.url and "Your project's flow" in page.inner_text("main")
    page.screenshot(path=str(shots / "english.png"), full_page=True)
