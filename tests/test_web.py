"""The web pages (Starlette TestClient): questionnaire, results, search, browse, notice links;
tampered queries, oversize requests, security headers, no tracebacks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

pytest.importorskip("starlette")
from click.testing import CliRunner
from starlette.testclient import TestClient

from flowmatch.cli import main
from flowmatch.ruleset import RuleSet
from flowmatch.web import app as web_app
from flowmatch.web import create_app
from flowmatch.web import pages as web_pages
from flowmatch.wizard import Outcome, next_question

S10 = {
    "kind": "building",
    "land_nature": "state_owned",
    "investor": "enterprise",
    "acquisition": "tender_auction_listing",
    "regime": "filing",
    "building_use": "commercial_housing",
}


@pytest.fixture(scope="module")
def client(ruleset: RuleSet) -> Iterator[TestClient]:
    with TestClient(create_app(ruleset), raise_server_exceptions=False) as c:
        yield c


def ask(client: TestClient, answers: dict[str, str], **extra: str) -> Any:
    return client.get("/ask?" + urlencode({**answers, **extra}))


def assert_secure(response: Any) -> None:
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def assert_clean(body: str) -> None:
    """No scripts, no inline styles, no traceback."""
    assert "<script" not in body and "<style" not in body and ' style="' not in body
    assert "Traceback" not in body and 'File "' not in body


# --- pages -----------------------------------------------------------------------------------------------
def test_home_page(client: TestClient, ruleset: RuleSet) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert_secure(r)
    assert_clean(r.text)
    assert '<html lang="zh-CN">' in r.text
    assert "开始问答" in r.text and 'href="/ask"' in r.text
    assert f"{len(ruleset.situations)}种情形 · {len(ruleset.flowcharts)}个审批流程图" in r.text
    assert '<label for="q">' in r.text


def test_first_question_is_an_accessible_form(client: TestClient) -> None:
    r = client.get("/ask")
    assert r.status_code == 200
    assert_clean(r.text)
    assert '<form method="get" action="/ask"' in r.text
    assert "<fieldset" in r.text and "<legend>" in r.text and "第 1 题" in r.text and "工程类别" in r.text
    for value in ("building", "road_bridge", "pipeline", "station", "unsure"):
        assert f'id="opt-{value}"' in r.text and f'<label for="opt-{value}">' in r.text
    assert 'value="unsure"' in r.text and "不确定" in r.text


def test_answers_so_far_are_kept_in_the_url(client: TestClient) -> None:
    r = ask(client, {"kind": "building", "land_nature": "state_owned"})
    assert r.status_code == 200
    assert '<input type="hidden" name="kind" value="building">' in r.text
    assert '<input type="hidden" name="land_nature" value="state_owned">' in r.text
    back = 'href="/ask?kind=building&amp;land_nature=state_owned&amp;change=land_nature"'
    assert f'class="back" {back}' in r.text.replace(f"{back} ", "").replace('<a class="back" ', 'class="back" '), (
        "back link goes to the previous question with its answer kept"
    )
    assert 'href="/ask?kind=building&amp;land_nature=state_owned&amp;change=kind"' in r.text


def test_walking_the_questionnaire_reaches_the_match(client: TestClient, ruleset: RuleSet) -> None:
    answers: dict[str, str] = {}
    for _ in range(len(ruleset.attributes) + 1):
        r = ask(client, answers)
        assert r.status_code == 200
        found = re.search(r'<input type="radio" id="opt-[a-z_]+" name="([a-z_]+)"', r.text)
        if found is None:
            break
        answers[found.group(1)] = S10[found.group(1)]
    assert "您的项目适用" in r.text and "S10" in r.text and "F10" in r.text
    assert "依据：建设用途 = 商品住宅（building_use=commercial_housing）" in r.text
    assert "/notice?" in r.text and "format=html" in r.text
    assert len(answers) <= len(ruleset.attributes)
    assert_clean(r.text)


def test_change_one_answer_keeps_the_others(client: TestClient) -> None:
    r = ask(client, S10, change="acquisition")
    assert r.status_code == 200
    assert 'value="tender_auction_listing" required checked' in r.text
    assert '<input type="hidden" name="building_use" value="commercial_housing">' in r.text
    assert 'name="acquisition" value="tender_auction_listing"' not in r.text.split("<fieldset")[0]
    changed = ask(client, {**S10, "acquisition": "allocation_new"})
    assert (
        "没有适用的审批流程" in changed.text and "商品住宅等经营性用地必须以招标、拍卖或者挂牌方式出让" in changed.text
    )


def test_unsure_leads_to_candidates_with_best_and_worst_case(client: TestClient) -> None:
    r = ask(client, {**S10, "building_use": "unsure"})
    assert r.status_code == 200
    assert "还不能确定唯一的流程" in r.text
    for sid in ("S10", "S11", "S12"):
        assert sid in r.text
    assert "回答“建设用途”" in r.text


def test_not_applicable_page_gives_reason(client: TestClient) -> None:
    r = ask(client, {"kind": "building", "land_nature": "collective", "building_use": "industrial"})
    assert r.status_code == 200
    assert "按您的回答，没有适用的审批流程" in r.text and "请将建设用途选为“乡镇企业”" in r.text
    main = r.text.split("<details>")[0]
    assert "NA13" not in main, "the rule code only behind the details toggle"
    # the suggested alternative changes the answer in place (the other answers kept)
    assert (
        'class="button primary">把“建设用途”改为“乡镇企业”</a> <span class="muted">→ 集体土地·乡（镇）村企业' in r.text
    )
    assert "城市道路桥梁" not in r.text.split("<details>")[0], "alternatives only of plausible situations"
    assert 'href="/ask?kind=building&amp;land_nature=collective&amp;building_use=township_enterprise"' in r.text


def test_flags_form_on_the_result_page(client: TestClient) -> None:
    r = ask(client, {"kind": "pipeline"})
    assert 'type="checkbox" id="flag-removes_trees" name="removes_trees" value="true"' in r.text
    checked = ask(client, {"kind": "pipeline", "removes_trees": "true"})
    assert 'name="removes_trees" value="true" checked' in checked.text


def test_english_toggle(client: TestClient) -> None:
    r = client.get("/ask?lang=en")
    assert r.status_code == 200
    assert '<html lang="en">' in r.text and "Question 1" in r.text and "Kind of works" in r.text
    assert '<input type="hidden" name="lang" value="en">' in r.text
    assert 'href="/ask"' in r.text and "中文" in r.text
    home = client.get("/")
    assert 'href="/?lang=en"' in home.text and "English" in home.text


def test_search_page_highlights_and_escapes(client: TestClient) -> None:
    r = client.get("/search?" + urlencode({"q": "施工許可"}))
    assert r.status_code == 200
    assert "<mark>施工许可</mark>" in r.text
    evil = client.get("/search?" + urlencode({"q": "<script>alert(1)</script>"}))
    assert evil.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in evil.text and "<script>alert" not in evil.text
    nothing = client.get("/search?" + urlencode({"q": "火箭发射"}))
    assert "未找到与“火箭发射”相关的结果。试试更短的关键词。" in nothing.text
    empty = client.get("/search")
    assert empty.status_code == 200 and '<input type="search" id="q" name="q"' in empty.text


def test_browse_pages(client: TestClient, ruleset: RuleSet) -> None:
    r = client.get("/browse")
    assert r.status_code == 200
    for fid in ruleset.flowcharts:
        assert f'href="/flowchart/{fid}"' in r.text
    for cid in ruleset.manifest.categories:
        assert client.get(f"/browse/{cid}").status_code == 200
    flow = client.get("/flowchart/F22")
    assert flow.status_code == 200 and "S28" in flow.text
    assert_clean(flow.text)
    variant = client.get("/flowchart/F14?situation=S15")
    assert variant.status_code == 200 and 'aria-current="true"' in variant.text
    item = next(iter(ruleset.items))
    assert client.get(f"/item/{item}").status_code == 200
    material = next(iter(ruleset.materials))
    assert client.get(f"/material/{material}").status_code == 200


def test_notice_links(client: TestClient) -> None:
    pytest.importorskip("flowmatch.render")
    r = client.get("/notice?" + urlencode({"kind": "pipeline", "format": "html", "name": "<b>管线工程</b>"}))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "一次性告知书" in r.text and "&lt;b&gt;管线工程&lt;/b&gt;" in r.text
    md = client.get("/notice?kind=pipeline&format=md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")


# --- bad input: friendly pages, never a traceback ------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=castle", "“工程类别”没有“castle”这个选项；可选：房屋建筑、城市道路桥梁、地下管线、市政场站、不确定"),
        ("colour=red", "未知参数“colour”"),
        ("kind=building&kind=pipeline", "参数“kind”出现了多次"),
        ("lang=fr", "语言只能是 zh 或 en"),
        ("kind=building&change=nope", "没有“nope”这个问题"),
        ("kind=pipeline&removes_trees=maybe", "“需砍伐或迁移城市树木”只能是 true 或 false，收到“maybe”"),
        ("kind=%FF%FE", "“工程类别”没有“\ufffd\ufffd”这个选项"),
    ],
)
def test_tampered_query_gives_a_friendly_400(client: TestClient, query: str, message: str) -> None:
    r = client.get("/ask?" + query)
    assert r.status_code == 400
    assert "链接中的参数有误" in r.text and "这个链接可能被修改过或已经过期。您可以重新开始问答。" in r.text
    assert message in r.text
    assert_secure(r)
    assert_clean(r.text)


def test_tampered_query_in_english(client: TestClient) -> None:
    r = client.get("/ask?kind=castle&lang=en")
    assert r.status_code == 400
    assert "The link has a problem" in r.text
    assert "“Kind of works” has no option “castle”; allowed: Buildings" in r.text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/notice?kind=building", "只有确定了唯一流程才能生成告知书，请先回答完问题"),
        ("/notice?kind=pipeline&format=docx", "格式只能是 html、pdf 或 md"),
        ("/notice?kind=pipeline&start=2026-13-01", "受理日期格式应为 YYYY-MM-DD"),
        ("/notice?kind=pipeline&name=" + "长" * 101, "项目名称太长（最多 100 个字）"),
        ("/flowchart/F22?situation=S01", "情形“S01”不使用流程图 F22"),
        ("/search?q=x&kind=step", "搜索范围只能是情形、流程图、审批事项或申请材料"),
        ("/search?q=" + "许" * 201, "关键词太长（最多 200 个字符）/ the query is longer than 200 characters"),
        ("/browse?x=1", "未知参数“x”"),
    ],
)
def test_other_bad_queries(client: TestClient, url: str, message: str) -> None:
    r = client.get(url)
    assert r.status_code == 400
    assert message in r.text
    assert_clean(r.text)


def test_not_found_and_method_not_allowed(client: TestClient) -> None:
    for url in ("/nope", "/flowchart/F99", "/browse/nope", "/item/nope", "/material/nope"):
        r = client.get(url)
        assert r.status_code == 404 and "找不到这个页面" in r.text
        assert_secure(r)
    r = client.post("/ask", content=b"kind=building")
    assert r.status_code == 405 and "不支持这种请求方式" in r.text
    assert_secure(r)


def test_oversize_requests_are_refused(client: TestClient) -> None:
    big = client.post("/ask", content=b"x" * (web_app.MAX_BODY + 1))
    assert big.status_code == 413 and "请求太大" in big.text and "本服务只接受简短的请求。" in big.text
    assert_secure(big)
    declared = client.get("/ask", headers={"content-length": "999999999"})
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:
        yield b"x" * 10

    chunked = client.post("/ask", content=chunks())
    assert chunked.status_code == 413
    long = client.get("/ask?kind=" + "a" * web_app.MAX_URL)
    assert long.status_code == 414 and "链接太长" in long.text
    assert_secure(long)


def test_static_css_and_headers(client: TestClient) -> None:
    r = client.get("/static/style.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert_secure(r)


def test_server_error_page_hides_the_traceback(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(create_app(ruleset), raise_server_exceptions=False)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(web_pages, "index_for", boom)
    r = client.get("/search?q=x")
    assert r.status_code == 500
    assert "服务器内部错误" in r.text and "处理请求时出了问题，已记录在服务器日志中。请稍后再试或重新开始。" in r.text
    assert "secret internals" not in r.text and "RuntimeError" not in r.text
    assert_secure(r)
    assert_clean(r.text)


def test_notice_unavailable_without_the_renderer(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    real = web_pages.find_spec
    monkeypatch.setattr(web_pages, "find_spec", lambda name: None if name == "flowmatch.render" else real(name))
    r = client.get("/notice?kind=pipeline")
    assert r.status_code == 503 and "本服务器尚未安装告知书生成功能。" in r.text
    page = client.get("/ask?kind=pipeline")
    assert "本服务器尚未安装告知书生成功能。" in page.text and "/notice?" not in page.text


def test_other_hosts_are_refused_when_bound_to_loopback(ruleset: RuleSet) -> None:
    app = create_app(ruleset, allowed_hosts=["127.0.0.1", "localhost"])
    local = TestClient(app, base_url="http://127.0.0.1:8000")
    assert local.get("/").status_code == 200
    evil = TestClient(app, base_url="http://rebind.example")
    r = evil.get("/")
    assert r.status_code == 400 and "链接中的参数有误" in r.text
    assert_secure(r)


def test_parameter_names_must_not_clash(ruleset: RuleSet, tmp_path: Path) -> None:
    from dataclasses import replace

    from flowmatch.errors import FlowmatchError

    clash = replace(ruleset, attributes={**ruleset.attributes, "lang": ruleset.attributes["kind"]})
    with pytest.raises(FlowmatchError, match="attribute or flag ids clash with the web page's parameters: lang"):
        create_app(clash)


# --- one core, three faces: library, CLI and web agree ------------------------------------------------------
@pytest.mark.parametrize(
    "profile",
    [
        S10,
        {"kind": "building", "land_nature": "collective", "building_use": "township_enterprise"},
        {"kind": "building", "land_nature": "state_owned", "investor": "government", "acquisition": "allocation_own"},
        {"kind": "road_bridge"},
    ],
)
def test_library_cli_and_web_agree(client: TestClient, profile: dict[str, str], tmp_path: Path) -> None:
    library = next_question(profile)
    assert isinstance(library, Outcome) and library.result is not None
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(profile), encoding="utf-8")
    result = CliRunner().invoke(main, ["ask", "--answers", str(answers), "--json"])
    cli = json.loads(result.stdout)
    page = ask(client, profile).text
    situation = library.result.situation
    assert cli["result"]["situation"] == situation
    assert f'<span class="id">{situation}</span>' in page


# --- issue 17: answer first, options that lead somewhere, a real "not sure" path -----------------------------
def test_result_puts_the_answer_first(client: TestClient) -> None:
    r = ask(client, S10)
    first = r.text.split('aria-labelledby="why"')[0]
    assert 'id="working-days"' in first and 'id="finish-date"' in first and 'id="to-prepare"' in first
    assert 'id="notice-button"' in first and "获取一次性告知书" in first
    assert "(kind=building)" not in r.text.split("<details>")[0], "codes only behind the details toggle"
    why = r.text.split('aria-labelledby="why"')[1].split("<details>")[0]
    assert "排除 S11" in why and "S31" not in why, "exclusions only of plausible situations"


def test_options_that_lead_nowhere_say_so(client: TestClient) -> None:
    r = ask(client, {"kind": "building", "land_nature": "collective"})
    assert r.status_code == 200
    head, dead = r.text.split('id="dead-head"')
    assert 'value="township_enterprise"' in head and 'value="commercial_housing"' not in head
    assert 'value="commercial_housing"' in dead and "没有适用流程：" in dead
    state = ask(client, {"kind": "building", "land_nature": "state_owned"})
    assert 'value="collective_use"' in state.text.split('id="dead-head"')[1]


def test_question_has_an_h1_and_a_stable_count(client: TestClient) -> None:
    r = ask(client, {})
    assert '<h1 class="qtext">工程类别</h1>' in r.text and "还需 1–6 题（含本题）" in r.text
    assert "Building" not in r.text, "no English gloss under the options in Chinese mode"
    assert ask(client, {"kind": "pipeline"}).status_code == 200


def test_unsure_offers_the_range_and_a_provisional_notice(client: TestClient) -> None:
    answers = {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "enterprise",
        "acquisition": "unsure",
        "regime": "unsure",
        "building_use": "unsure",
        "negotiated_origin": "unsure",
    }
    r = ask(client, answers)
    assert "还不能确定唯一的流程" in r.text and 'id="day-range"' in r.text and "可能性" not in r.text
    settle = r.text.split('id="settle"')[1].split("</ol>")[0]
    assert settle.index("土地获取方式") < settle.index("立项方式"), "the question that settles most comes first"
    notice = client.get("/notice?" + urlencode(answers))
    assert notice.status_code == 200
    assert "临时一次性告知书（共同部分）" in notice.text and "申请表" in notice.text


def test_notice_has_applicant_back_link_and_print_button(client: TestClient) -> None:
    pytest.importorskip("flowmatch.render")
    r = client.get("/notice?" + urlencode({"kind": "pipeline", "applicant": "哈尔滨市政公司"}))
    assert r.status_code == 200 and "哈尔滨市政公司" in r.text
    assert "← 返回结果页" in r.text and 'href="/ask?kind=pipeline&amp;applicant=' not in r.text
    assert 'id="back-to-result" href="/ask?kind=pipeline"' not in r.text  # attribute order: href first
    assert '<a href="/ask?kind=pipeline" id="back-to-result">' in r.text
    assert "<script" not in r.text
    assert "<main" in r.text


def test_favicon_and_focusable_diagrams(client: TestClient) -> None:
    assert client.get("/static/favicon.svg").status_code == 200
    r = client.get("/flowchart/F10")
    assert 'class="svg-scroll" tabindex="0" role="region"' in r.text


def test_english_result_says_what_of_the_notice_is_still_chinese(client: TestClient) -> None:
    r = client.get("/ask?" + urlencode({**S10, "lang": "en"}))
    assert (
        "The notice is in English; laws and regulations are cited in English with their official Chinese titles "
        "beside." in r.text
    )
    assert 'id="notice-language"' not in ask(client, S10).text
