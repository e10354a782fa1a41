"""Rendering the one-time notice: context, templates, escaping, sandbox, pictures, PDF, goldens, browser."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chromium_support import CHROMIUM_ARGS
from flowmatch import golden as golden_module
from flowmatch import pictures, render
from flowmatch.calendar import WorkCalendar
from flowmatch.errors import InputError, RenderError
from flowmatch.flows import for_situation
from flowmatch.golden import golden_notices
from flowmatch.matcher import MatchResult, matcher_for
from flowmatch.render import build_context, render_guide
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.scheduler import Schedule, schedule
from notice_toy import F10_PROFILE, toy_ruleset

GOLDEN = Path(__file__).parent / "golden"
START = dt.date(2026, 3, 2)
GENERATED = dt.date(2026, 2, 27)


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return toy_ruleset(tmp_path_factory.mktemp("toy") / "rules")


def _plan(
    rs: RuleSet,
    profile: dict[str, Any],
    start: dt.date = START,
    mode: str = "standard",
    calendar: WorkCalendar | None = None,
) -> tuple[MatchResult, Schedule]:
    result = matcher_for(rs).match(profile)
    assert result.status == "matched"
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=profile)
    return result, schedule(flow, start, calendar or WorkCalendar(), mode, ruleset=rs)


@pytest.fixture(scope="module")
def f10(toy: RuleSet) -> tuple[MatchResult, Schedule]:
    return _plan(toy, {**F10_PROFILE, "removes_trees": "true"})


def _html(toy: RuleSet, f10: tuple[MatchResult, Schedule], **kw: Any) -> str:
    out = render_guide(*f10, "html", ruleset=toy, generated=GENERATED, **kw)
    assert isinstance(out, str)
    return out


def _md(toy: RuleSet, f10: tuple[MatchResult, Schedule], **kw: Any) -> str:
    out = render_guide(*f10, "md", ruleset=toy, generated=GENERATED, **kw)
    assert isinstance(out, str)
    return out


# --- contents --------------------------------------------------------------------------------------
def test_html_notice_has_every_section_and_is_self_contained(toy: RuleSet, f10: tuple[MatchResult, Schedule]) -> None:
    html = _html(toy, f10, project_name="松北区示例住宅", applicant="哈尔滨示例开发有限公司")
    for text in (
        "建设项目审批一次性告知书",
        "松北区示例住宅",
        "哈尔滨示例开发有限公司",
        "S10",
        "F10",
        "一、办理概况",
        "二、审批流程图与进度计划",
        "三、申请材料清单（一次性告知）",
        "四、各环节办理指引",
        "五、竣工验收（施工完成后办理）",
        "六、收费与中介服务",
        "七、告知声明",
        "哈尔滨市道里区新阳路296号",
        "2026年2月27日",
        "2014.1",
        "土地获取方式：招拍挂",
        "附加情形：需砍伐或迁移城市树木",
        "联合办理事项",
        "城市基础设施配套费",
        "招标代理",
        "行政许可法》第三十条",
    ):
        assert text in html, text
    assert html.count("<svg") == 2
    assert "<style>" in html and "@page" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the notice must not load anything from the network"
    assert "<link" not in html and "<script" not in html


def test_overview_figures_come_from_the_data(toy: RuleSet, f10: tuple[MatchResult, Schedule]) -> None:
    ctx = build_context(*f10, ruleset=toy, generated=GENERATED, pictures="none")
    o = ctx["overview"]
    assert o["steps"] == 9 and o["approval_steps"] == 8 and o["not_counted"] == 1 and o["completion_steps"] == 1
    assert o["working_days"] == f10[1].working_days == 29
    assert o["finish"] == f10[1].finish
    base = o["baseline"]
    # toy baseline: 20 + 30 + 11 working days in a chain, 3 approval steps
    assert base["working_days"] == 61 and base["steps"] == 3
    assert base["saving_days"] == 61 - 29
    assert base["saving_pct"] == pytest.approx(32 / 61)
    assert [j["name"] for j in o["joint"]] == ["建设工程设计方案审查", "联合竣工验收"]
    assert o["materials"] == 9 and o["materials_completion"] == 2 and o["issued"] == 6


def test_markdown_notice_escapes_and_lists_each_material_once(toy: RuleSet, f10: tuple[MatchResult, Schedule]) -> None:
    md = _md(toy, f10, project_name="A|B <b>x</b>", on_file=["licence"])
    assert "A\\|B &lt;b&gt;x&lt;/b&gt;" in md
    assert "<b>" not in md
    table = md.split("### （一）开工前须准备的材料")[1].split("###")[0]
    names = [line.split(" | ")[1] for line in table.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(names) == len(set(names)) == 8  # 9 before construction, less the licence on file
    assert "营业执照（副本）" not in names
    assert "已在证照数据库中、无需提交的材料（1 种）" in md
    assert "```mermaid\nflowchart LR" in md
    assert "办理过程中核发给您、无需另行准备的材料（6 种）" in md


def test_per_step_block_contents(toy: RuleSet, f10: tuple[MatchResult, Schedule]) -> None:
    md = _md(toy, f10)
    block = md.split("### 9. 建筑工程施工许可证核发")[1].split("###")[0]
    assert "- 办理部门：哈尔滨市城乡建设委员会" in block
    assert (
        "- 前置条件：施工图设计文件审查、施工招标及中标备案、环境影响报告表审批、砍伐、迁移城市树木审批 办结后办理"
    ) in block
    assert "- 办理时限：法定时限：15日；承诺时限：5个工作日" in block
    assert "中标通知书（施工招标及中标备案）" in block
    assert "- 办理结果：建筑工程施工许可证" in block
    tender = md.split("施工招标及中标备案（不计入审批时限）")[1].split("###")[0]
    assert "- 中介服务：招标代理（组织施工招标）" in tender
    eia = md.split("环境影响报告表审批\n")[1].split("###")[0]
    assert "可选择告知承诺方式办理，签署承诺书后 1个工作日办结" in eia
    completion = md.split("### 10. 联合竣工验收")[1]
    assert "计划日期" not in completion.split("###")[0]


def test_commitment_mode_prints_the_letter(toy: RuleSet) -> None:
    result, plan = _plan(toy, F10_PROFILE, mode="commitment")
    md = render_guide(result, plan, "md", ruleset=toy, generated=GENERATED)
    assert isinstance(md, str)
    assert "告知承诺（可承诺事项凭承诺书办理）" in md
    assert "> 本单位承诺：\n> 一、所提交的环境影响报告表内容真实；\n> 二、严格落实环保措施。" in md
    assert "告知承诺书（环境影响报告表审批）" in md
    html = render_guide(result, plan, "html", ruleset=toy, generated=GENERATED)
    assert isinstance(html, str)
    assert "本单位承诺：<br>一、所提交的环境影响报告表内容真实；" in html


def test_deficiency_dates_are_printed(toy: RuleSet, f10: tuple[MatchResult, Schedule]) -> None:
    md = _md(toy, f10)
    # legal_rep: first asked by 备案 on 2026-03-02, 5 working days later
    assert "可容缺，2026年3月9日前补齐" in md


def test_assumed_weekends_are_stated_on_the_notice(toy: RuleSet) -> None:
    result, plan = _plan(toy, F10_PROFILE, start=dt.date(2026, 12, 1), calendar=WorkCalendar(assume_weekends=True))
    md = render_guide(result, plan, "md", ruleset=toy, generated=GENERATED, calendar=WorkCalendar(assume_weekends=True))
    assert isinstance(md, str)
    assert "> 注意：2027年节假日安排尚未公布，本告知书中标注“预计”的日期按周一至周五为工作日估算" in md
    assert "--assume-weekends" not in md  # the notice is for the applicant: no program options


def test_estimated_dates_are_marked_beside_each_date(toy: RuleSet) -> None:
    result, plan = _plan(toy, F10_PROFILE, start=dt.date(2026, 12, 14))
    assert plan.estimated_from is not None
    md = render_guide(result, plan, "md", ruleset=toy, generated=GENERATED)
    html = render_guide(result, plan, "html", ruleset=toy, generated=GENERATED)
    assert isinstance(md, str) and isinstance(html, str)
    for text in (md, html):
        assert "2027年节假日安排尚未公布，本告知书中标注“预计”的日期按法定节假日推算（未计调休）" in text
        assert "2026年12月14日（周一）（预计）" not in text
        marked = re.findall(r"(\d{4})年\d+月\d+日(?:（周.）)?（预计）", text)
        assert marked and set(marked) == {"2027"}


# --- escaping, errors, templates -------------------------------------------------------------------
def test_html_autoescape_prints_a_script_project_name_as_text(toy: RuleSet, f10: tuple[MatchResult, Schedule]) -> None:
    html = _html(toy, f10, project_name="<script>alert('x')</script>", applicant='"><img src=x onerror=1>')
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=1&gt;" in html


def test_unknown_format_is_an_input_error(toy: RuleSet, f10: tuple[MatchResult, Schedule]) -> None:
    with pytest.raises(InputError, match=r"^unknown format 'docx'; allowed: html, md, pdf$"):
        render_guide(*f10, "docx", ruleset=toy)


def test_a_non_matched_profile_cannot_get_a_notice(toy: RuleSet, f10: tuple[MatchResult, Schedule]) -> None:
    incomplete = matcher_for(toy).match({"kind": "building"})
    with pytest.raises(InputError, match=r"^cannot write a notice for an incomplete profile; still needed: land_"):
        render_guide(incomplete, f10[1], ruleset=toy)
    other = MatchResult("matched", situation="S28", flowchart="F22")
    with pytest.raises(InputError, match=r"^the schedule is for flowchart F10, but the match selected F22$"):
        render_guide(other, f10[1], ruleset=toy)
    na = MatchResult("not_applicable", rule="NA01", reason="不允许")
    with pytest.raises(InputError, match=r"^cannot write a notice: the project is not applicable \(NA01\): 不允许$"):
        render_guide(na, f10[1], ruleset=toy)
    bad = matcher_for(toy).match({"kind": "castle"})
    with pytest.raises(InputError, match=r"^cannot write a notice for an invalid profile: kind: unknown value 'cas"):
        render_guide(bad, f10[1], ruleset=toy)


def test_missing_template_directory(toy: RuleSet, f10: tuple[MatchResult, Schedule], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"template directory '.*nowhere' does not exist or is not a directory"):
        render_guide(*f10, ruleset=toy, templates=tmp_path / "nowhere")


def test_user_template_overrides_one_partial_and_keeps_the_rest(
    toy: RuleSet, f10: tuple[MatchResult, Schedule], tmp_path: Path
) -> None:
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "header.html.j2").write_text(
        "<section><h1>道里区分中心 {{ header.project_name }}</h1></section>\n", encoding="utf-8"
    )
    html = _html(toy, f10, templates=tmp_path, project_name="<i>x</i>")
    assert "<h1>道里区分中心 &lt;i&gt;x&lt;/i&gt;</h1>" in html
    assert "三、申请材料清单（一次性告知）" in html


def test_user_templates_run_in_the_sandbox(toy: RuleSet, f10: tuple[MatchResult, Schedule], tmp_path: Path) -> None:
    (tmp_path / "notice.html.j2").write_text(
        "ok\n{{ title.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8"
    )
    with pytest.raises(RenderError) as err:
        _html(toy, f10, templates=tmp_path)
    assert str(err.value).startswith("template notice.html.j2, line 2: not allowed in the sandbox: ")
    assert "unsafe" in str(err.value)


def test_template_syntax_error_names_template_and_line(
    toy: RuleSet, f10: tuple[MatchResult, Schedule], tmp_path: Path
) -> None:
    (tmp_path / "notice.md.j2").write_text("# {{ title }}\n\n{% if %}\n", encoding="utf-8")
    with pytest.raises(RenderError, match=r"^template notice\.md\.j2, line 3: syntax error: "):
        _md(toy, f10, templates=tmp_path)


def test_template_runtime_error_names_template_and_line(
    toy: RuleSet, f10: tuple[MatchResult, Schedule], tmp_path: Path
) -> None:
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "overview.html.j2").write_text("<p>\n{{ overview.nope }}\n</p>\n", encoding="utf-8")
    with pytest.raises(RenderError) as err:
        _html(toy, f10, templates=tmp_path)
    assert str(err.value) == "template overview.html.j2, line 2: UndefinedError: 'dict object' has no attribute 'nope'"


def test_missing_included_template_is_named(toy: RuleSet, f10: tuple[MatchResult, Schedule], tmp_path: Path) -> None:
    (tmp_path / "notice.md.j2").write_text('{% include "partials/absent.md.j2" %}\n', encoding="utf-8")
    with pytest.raises(RenderError, match=r"^template partials/absent\.md\.j2 not found \(looked in: "):
        _md(toy, f10, templates=tmp_path)


# --- pictures --------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["builtin", "graphviz"])
def test_flowchart_diagram_draws_every_step_and_the_critical_path(
    f10: tuple[MatchResult, Schedule], engine: str
) -> None:
    if engine == "graphviz" and pictures.layout_engine() != "graphviz":
        pytest.skip("Graphviz (the dot program and the graphviz package) is not installed")
    plan = f10[1]
    diagram = pictures.flowchart_svg(plan, {"jw": "建委"}, {"scheme": True}, engine=engine)
    assert diagram.layout == engine
    svg = diagram.svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert sorted(re.findall(r'data-step="(\w+)"', svg)) == sorted(s.id for s in plan.steps)
    assert svg.count('stroke-width="2.8"') >= len([s for s in plan.steps if s.critical and s.counted])
    assert 'fill="url(#fc-hatch)"' in svg and 'stroke-dasharray="4 3"' in svg  # not-counted: hatch and dashes
    assert "建委·5日" in svg and "第1批" in svg
    assert 'marker-end="url(#fc-arrow-crit)"' in svg


def test_diagram_falls_back_to_the_builtin_layout_without_dot(
    f10: tuple[MatchResult, Schedule], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pictures.shutil, "which", lambda name: None)
    assert pictures.layout_engine() == "builtin"
    assert pictures.flowchart_svg(f10[1], {}, prefix="nodot").layout == "builtin"


def test_gantt_hatches_not_counted_work_and_labels_dates(f10: tuple[MatchResult, Schedule]) -> None:
    plan = f10[1]
    cal = WorkCalendar()
    dates = {i: cal.add(START, i) for i in range(int(plan.elapsed_working_days) + 1)}
    svg = pictures.gantt_svg(plan, dates=dates)
    assert svg.count('fill="url(#gt-hatch)"') == 1 + 1  # the tender bar and the legend
    assert '<pattern id="gt-hatch"' in svg
    assert ">3/2<" in svg and "预计办结 " in svg
    assert svg.count("<rect") > len(plan.steps)


def test_mermaid_marks_critical_and_not_counted(f10: tuple[MatchResult, Schedule]) -> None:
    text = pictures.flowchart_mermaid(f10[1], {"jw": "建委"})
    assert "  works_permit ==> drawings" in text
    assert "  class tender notcounted" in text
    assert 'permit["建筑工程施工许可证核发<br/>建委·5日"]' in text


# --- PDF ---------------------------------------------------------------------------------------------
def test_pdf_without_weasyprint_says_what_to_install(
    toy: RuleSet, f10: tuple[MatchResult, Schedule], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "weasyprint")
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(RenderError) as err:
        render_guide(*f10, "pdf", ruleset=toy)
    assert str(err.value).startswith(
        "PDF output needs WeasyPrint, which is not installed: pip install 'flowmatch[weasyprint]'"
    )


def test_pdf_without_a_cjk_font_says_what_to_install(
    toy: RuleSet, f10: tuple[MatchResult, Schedule], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the HTML engines ask fontconfig; Typst searches its own fonts (tests/test_typst.py)
    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "chromium")
    monkeypatch.setattr(render, "find_cjk_font", lambda: None)
    with pytest.raises(RenderError) as err:
        render_guide(*f10, "pdf", ruleset=toy)
    assert str(err.value) == (
        "PDF output needs a Chinese (CJK) font and none was found; install one, e.g. on Debian "
        "apt-get install fonts-noto-cjk (or fonts-wqy-microhei), then try again"
    )


def test_pdf_has_chinese_text_with_weasyprint(toy: RuleSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("weasyprint")
    monkeypatch.setenv("FLOWMATCH_PDF_ENGINE", "weasyprint")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font installed")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    small = _plan(toy, {"kind": "pipeline"})  # three steps: WeasyPrint takes a while per page
    pdf = render_guide(*small, "pdf", ruleset=toy, project_name="示例管线项目", generated=GENERATED)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "建设项目审批一次性告知书" in text and "示例管线项目" in text and "申请材料清单" in text


def test_find_cjk_font_uses_known_paths_without_fontconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    font = tmp_path / "wqy-microhei.ttc"
    font.write_bytes(b"fake")
    render.find_cjk_font.cache_clear()
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    monkeypatch.setattr(render, "CJK_PATHS", (str(tmp_path / "absent.ttc"), str(font)))
    try:
        assert render.find_cjk_font() == ("FlowmatchCJK", str(font))
        monkeypatch.setattr(render, "CJK_PATHS", ())
        render.find_cjk_font.cache_clear()
        assert render.find_cjk_font() is None
    finally:
        render.find_cjk_font.cache_clear()


# --- golden notices (packaged rule-set) -------------------------------------------------------------
@pytest.fixture(scope="module")
def golden() -> dict[str, str]:
    return golden_notices(load_ruleset(cache=False))


@pytest.mark.parametrize("flowchart", ["F10", "F22", "F26"])
def test_golden_notice(golden: dict[str, str], flowchart: str) -> None:
    path = GOLDEN / f"{flowchart}.md"
    assert path.is_file(), f"{path} is missing; run: python -m flowmatch.render --regenerate-golden"
    expected = path.read_text(encoding="utf-8")
    assert golden[flowchart] == expected, (
        f"the {flowchart} notice changed; review the diff, then run: python -m flowmatch.render --regenerate-golden"
    )


def test_regenerate_golden_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], golden: dict[str, str]
) -> None:
    assert render._main(["--what"]) == 2
    assert "usage: python -m flowmatch.render --regenerate-golden" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert render._main(["--regenerate-golden"]) == 2
    assert "error: run from the repository root" in capsys.readouterr().err
    (tmp_path / "tests" / "golden").mkdir(parents=True)
    monkeypatch.setattr(golden_module, "golden_notices", lambda: golden)
    assert render._main(["--regenerate-golden"]) == 0
    assert (tmp_path / "tests" / "golden" / "F22.md").read_text(encoding="utf-8") == golden["F22"]


# --- browser: print an HTML notice to PDF with the system Chromium ----------------------------------
@pytest.mark.browser
def test_browser_prints_the_notice_to_pdf(
    toy: RuleSet, f10: tuple[MatchResult, Schedule], tmp_path: Path, chromium: str
) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.skip("pdftotext/pdfinfo (poppler-utils) are not installed")
    page_html = tmp_path / "notice.html"
    page_html.write_text(_html(toy, f10, project_name="浏览器打印测试项目"), encoding="utf-8")
    pdf = tmp_path / "notice.pdf"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_html.as_uri())
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    # one page per section at least: cover, pictures (2 landscape), materials, steps, completion, fees, closing
    assert 8 <= pages <= 20, pages
    landscape = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", info, re.M)
    assert landscape is not None
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for phrase in (
        "建设项目审批一次性告知书",
        "浏览器打印测试项目",
        "申请材料清单",
        "建筑工程施工许可证核发",
        "告知声明",
    ):
        assert phrase in text, phrase
    assert text.count("\f") + (0 if text.endswith("\f") else 1) >= pages - 1


def test_intermediaries_list_each_step_once(golden: dict[str, str]) -> None:
    """Issue 17: the 招标代理 row named the tendering step twice (two of its parts need the agent)."""
    for text in golden.values():
        for line in text.splitlines():
            if line.startswith("| 招标代理 |"):
                steps = line.split("|")[3].strip().split("、")
                assert len(steps) == len(set(steps)), line


def test_english_box_labels_wrap_between_words_and_fit() -> None:
    """English names wrap between words (a hyphenated word may break after its hyphen), each line
    within the width, and a name too long for the lines ends in an ellipsis."""
    from flowmatch.pictures import _latin_width, _wrap_words

    name = "Design-scheme review (joint review of planning drawings by 5 departments)"
    lines = _wrap_words(name, 158, 4)
    assert " ".join(lines).replace("- ", "-") == name
    assert all(_latin_width(line) <= 158 for line in lines)
    words = set(name.replace("-", "- ").split())
    assert all(set(line.replace("-", "- ").split()) <= words for line in lines)  # no word cut
    assert _wrap_words("Supercalifragilisticexpialidocious", 60, 4)[0].endswith("-")
    cut = _wrap_words(name, 80, 2)
    assert len(cut) == 2 and cut[-1].endswith("…") and all(_latin_width(line) <= 80 for line in cut)
    assert _latin_width("Mm", bold=True) > _latin_width("Mm") > _latin_width("il")
