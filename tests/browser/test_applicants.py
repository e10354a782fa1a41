"""Issue 17: three applicants in a real browser (Playwright on the system Chromium), with axe-core.

The personas: a developer with auction land building housing, a township enterprise building a
factory on collective land, and someone unsure of several answers.  On a 390×844 phone the first
screen of the result shows the flow, the working days, the finish date and the notice button; no
offered option leads only to "not applicable" without saying so; the unsure path asks only
questions that change the outcome and offers a provisional notice.  axe-core (vendored under
``vendor/``, see its README) runs against every kind of page; its findings are written as JSON
beside the screenshots, in a temporary directory printed with ``-s`` (or
``$FLOWMATCH_BROWSER_ARTIFACTS``).  Skipped (with the reason)
when Playwright or the system Chromium is absent — browsers are never downloaded.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
HAN = re.compile(r"[\u3400-\u9fff]")

DEVELOPER = {
    "kind": "building",
    "land_nature": "state_owned",
    "investor": "enterprise",
    "acquisition": "tender_auction_listing",
    "regime": "filing",
    "building_use": "commercial_housing",
}
TOWNSHIP = {"kind": "building", "land_nature": "collective", "building_use": "township_enterprise"}
# the unsure applicant knows it is a building on state land built by an enterprise, nothing else
UNSURE_KNOWS = {"kind": "building", "land_nature": "state_owned", "investor": "enterprise"}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get("FLOWMATCH_BROWSER_ARTIFACTS")  # keep them past pytest's temp-dir rotation
    found = Path(named) if named else tmp_path_factory.mktemp("applicants")
    found.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots and axe results: {found}")
    return found


def _page(browser: Any, viewport: dict[str, int], *, scripts: bool = False) -> Any:
    # bypass_csp: only so that axe can be injected; the pages themselves run no script
    context = browser.new_context(viewport=viewport, java_script_enabled=scripts, bypass_csp=scripts)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.errors = errors
    return page


def _walk(page: Any, server: str, profile: dict[str, str], *, unsure_default: bool = False) -> list[str]:
    """Answer the questionnaire from the home page; each question: check that an option leading
    nowhere says so, pick the profile's answer (or 不确定).  Returns the attributes asked."""
    page.goto(server + "/")
    page.click("text=开始问答")
    asked: list[str] = []
    while page.locator("form.question").count():
        attribute = page.locator("form.question input[type=radio]").first.get_attribute("name")
        asked.append(attribute)
        _options_say_where_they_lead(page, server, attribute)
        value = profile.get(attribute, "unsure" if unsure_default else None)
        assert value is not None, f"unexpected question {attribute} for {profile}"
        page.click(f"label[for=opt-{value}]")
        with page.expect_navigation():
            page.click("form.question button[type=submit]")
        assert len(asked) <= 8
    return asked


def _options_say_where_they_lead(page: Any, server: str, attribute: str) -> None:
    """Every offered option either can lead to a flow or is marked, with the reason, as leading to
    none: checked by following each unmarked option to the end of its questionnaire."""
    from flowmatch.wizard import Outcome, Question, next_question

    hidden = {
        i.get_attribute("name"): i.get_attribute("value")
        for i in page.locator("form.question input[type=hidden]").all()
    }
    answers = {k: v for k, v in hidden.items() if k != "lang"}
    marked = {e.get_attribute("value") for e in page.locator(".option.dead input").all()}
    for e in page.locator(".option.dead").all():
        assert "没有适用流程：" in e.inner_text()
    for radio in page.locator("form.question input[type=radio]").all():
        value = radio.get_attribute("value")
        if value == "unsure" or value in marked:
            continue
        frontier = [{**answers, attribute: value}]
        reached = False
        while frontier and not reached:
            step = next_question(frontier.pop())
            if isinstance(step, Outcome):
                reached = step.status in ("matched", "undetermined")
            elif isinstance(step, Question):
                frontier += [
                    {**dict(step.answered), **answers, attribute: value, step.attribute: v} for v in step.values
                ]
        assert reached, f"{attribute}={value} is offered as fine but leads only to not-applicable"


def _first_screen(page: Any) -> None:
    """The answer is on the first phone screen: flow, working days, finish date, notice button."""
    height = PHONE["height"]
    for selector in ("h1", "#working-days", "#finish-date", "#notice-button"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, f"{selector} is below the first screen"


@pytest.mark.parametrize(("persona", "profile"), [("developer", DEVELOPER), ("township", TOWNSHIP)])
def test_persona_gets_the_answer_first(
    browser: Any, server: str, out: Path, persona: str, profile: dict[str, str]
) -> None:
    page = _page(browser, PHONE)
    asked = _walk(page, server, profile)
    assert set(asked) <= set(profile)
    assert "您的项目适用" in page.inner_text("main")
    _first_screen(page)
    assert "预计" in page.inner_text("#finish-date") or re.search(r"\d{4}-\d\d-\d\d", page.inner_text("#finish-date"))
    page.screenshot(path=str(out / f"{persona}-result-mobile.png"))
    result_url = page.url
    with page.expect_navigation():
        page.click("#notice-button")
    assert "一次性告知书" in page.inner_text("h1")
    # on the phone the materials table is stacked into cards: the name gets (nearly) the full width
    name_cell = page.locator("table.materials td.mname").first.bounding_box()
    assert name_cell is not None and name_cell["width"] > PHONE["width"] * 0.7, name_cell
    page.screenshot(path=str(out / f"{persona}-notice-mobile.png"), full_page=True)
    page.click("text=← 返回结果页")
    assert page.url == result_url
    assert not page.errors, page.errors  # no missing favicon, no CSP complaint
    page.context.close()
    desk = _page(browser, DESKTOP)
    desk.goto(result_url)
    desk.screenshot(path=str(out / f"{persona}-result-desktop.png"))
    desk.goto(server + "/notice?" + urlencode({**profile, "name": "示例项目", "applicant": "示例公司"}))
    assert "示例公司" in desk.inner_text("main")
    desk.screenshot(path=str(out / f"{persona}-notice-desktop.png"))
    desk.context.close()


def test_unsure_persona_gets_a_range_and_a_provisional_notice(browser: Any, server: str, out: Path) -> None:
    from flowmatch.wizard import wizard_for

    page = _page(browser, PHONE)
    asked = _walk(page, server, UNSURE_KNOWS, unsure_default=True)
    # only questions that can change the outcome: each asked "not sure" one narrows the flows
    unsure = [a for a in asked if a not in UNSURE_KNOWS]
    answers = {**UNSURE_KNOWS, **dict.fromkeys(unsure, "unsure")}
    settles = {a for a, _ in wizard_for(_ruleset()).settling(answers)}
    assert set(unsure) == settles, (unsure, settles)
    assert "还不能确定唯一的流程" in page.inner_text("main")
    assert re.search(r"\d+–\d+ 个工作日", page.inner_text("#day-range"))
    assert "可能性" not in page.inner_text("main")
    box = page.locator("#provisional-button").bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    page.screenshot(path=str(out / "unsure-result-mobile.png"))
    with page.expect_navigation():
        page.click("#provisional-button")
    text = page.inner_text("main")
    assert "临时一次性告知书" in text and "所有可能流程都需要的材料" in text
    page.screenshot(path=str(out / "unsure-notice-mobile.png"), full_page=True)
    page.context.close()
    desk = _page(browser, DESKTOP)
    desk.goto(server + "/ask?" + urlencode(answers))
    desk.screenshot(path=str(out / "unsure-result-desktop.png"))
    desk.goto(server + "/notice?" + urlencode(answers))
    desk.screenshot(path=str(out / "unsure-notice-desktop.png"))
    desk.context.close()


def _ruleset() -> Any:
    from flowmatch.ruleset import default_ruleset

    return default_ruleset()


def test_not_applicable_alternative_changes_the_answer_in_place(browser: Any, server: str) -> None:
    page = _page(browser, DESKTOP)
    page.goto(server + "/ask?kind=building&land_nature=collective&building_use=industrial")
    main = page.inner_text("main")
    assert "没有适用的审批流程" in main and "NA13" not in page.locator("main > p, main > h1").all_inner_texts()
    with page.expect_navigation():
        page.click("text=把“建设用途”改为“乡镇企业”")
    assert "您的项目适用" in page.inner_text("main") and "building_use=township_enterprise" in page.url
    page.context.close()


def test_back_link_keeps_the_previous_answer(browser: Any, server: str) -> None:
    page = _page(browser, DESKTOP)
    page.goto(server + "/ask?kind=building")
    with page.expect_navigation():
        page.click("text=返回上一题")
    assert page.locator("#opt-building").is_checked()
    page.context.close()


PAGES = {
    "home": "/",
    "question": "/ask?kind=building",
    "question-dead-options": "/ask?kind=building&land_nature=collective",
    "result": "/ask?" + urlencode(DEVELOPER),
    "not-applicable": "/ask?kind=building&land_nature=collective&building_use=industrial",
    "unsure": "/ask?"
    + urlencode(
        {
            **UNSURE_KNOWS,
            "acquisition": "unsure",
            "regime": "unsure",
            "building_use": "unsure",
            "negotiated_origin": "unsure",
        }
    ),
    "provisional-notice": "/notice?"
    + urlencode(
        {
            **UNSURE_KNOWS,
            "acquisition": "unsure",
            "regime": "unsure",
            "building_use": "unsure",
            "negotiated_origin": "unsure",
        }
    ),
    "search": "/search?q=规划许可",
    "browse": "/browse",
    "flowchart": "/flowchart/F10",
    "notice": "/notice?" + urlencode(TOWNSHIP),
    "english-result": "/ask?" + urlencode({**DEVELOPER, "lang": "en"}),
    "compare": "/compare?" + urlencode({**DEVELOPER, "with": "harbin-2019"}),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_violation(browser: Any, server: str, out: Path, name: str) -> None:
    page = _page(browser, DESKTOP, scripts=True)
    page.goto(server + PAGES[name])
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert found["testEngine"]["name"] == "axe-core" and found["passes"], "axe did not run"
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in found["violations"]
    ]
    (out / f"axe-{name}.json").write_text(
        json.dumps({"url": PAGES[name], "violations": violations}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    page.context.close()
