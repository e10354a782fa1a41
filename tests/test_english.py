"""Issue 17, English: every domain word of the packaged rule-sets has an English name, and the
English web pages show it (no Chinese left in the parts built from those names)."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset
from flowmatch.web import create_app
from profiles import EVERY_FLOWCHART

HAN = re.compile(r"[\u3400-\u9fff]")
RULES = default_rules_path().parent


@pytest.fixture(scope="module", params=["harbin-2014", "harbin-2019"])
def packaged(request: pytest.FixtureRequest) -> RuleSet:
    path = Path(RULES / request.param)
    return load_ruleset(path, cache=False)


def test_every_domain_word_has_an_english_name(packaged: RuleSet) -> None:
    named = {
        "material": {k: m.name_en for k, m in packaged.materials.items()},
        "item": {k: i.name_en for k, i in packaged.items.items()},
        "department": {k: d.name_en for k, d in packaged.departments.items()},
        "situation": {k: s.name_en for k, s in packaged.situations.items()},
        "flowchart": {k: f.name_en for k, f in packaged.flowcharts.items()},
    }
    missing = [f"{kind} {k}" for kind, names in named.items() for k, v in names.items() if not v]
    assert not missing, missing
    # the official Chinese term may stand beside its translation, in brackets: "filing (备案)"
    chinese = [
        f"{kind} {k}: {v}"
        for kind, names in named.items()
        for k, v in names.items()
        if v and HAN.search(re.sub(r"\([^)]*\)", "", v))
    ]
    assert not chinese, chinese


def test_english_material_pages_and_result_summary(ruleset: RuleSet) -> None:
    client = TestClient(create_app(ruleset))
    page = client.get("/material/transfer_contract?lang=en")
    h1 = page.text.split("<h1>")[1].split("</h1>")[0]
    assert h1 == "Contract for the transfer of state-owned construction land-use rights"
    result = client.get("/ask?kind=building&land_nature=collective&building_use=township_enterprise&lang=en")
    prepare = result.text.split('id="to-prepare">')[1].split("</dd>")[0]
    assert not HAN.search(prepare), prepare


# --- the notice in English (issue 17, item 4) ------------------------------------------------------
# What Chinese the English notice may keep, exactly: the names the user typed (project, applicant),
# and an official Chinese term or title in brackets right after its English rendering -- "filing (备案)",
# "Urban and Rural Planning Law of the PRC, Article 38 (《中华人民共和国城乡规划法》第三十八条)" -- which
# the HTML marks <span lang="zh"> (<tspan lang="zh"> inside a diagram).  A title may carry its document
# number and articles (《》〔〕（）、；第…条, digits); a Chinese sentence (，。：) never passes.
NUM = "一二三四五六七八九十百零"
TITLE_PART = (
    r"(?:《[^《》\n]+》|[\u3400-\u9fff“”、]+?(?:法|规定|办法|条例|通知|意见|决定|标准|细则|目录))"
    r"(?:（[^（）\n]+）)?"
    rf"(?:第[{NUM}]+条(?:、第[{NUM}]+条)*)?"
)
OFFICIAL = rf"(?:{TITLE_PART})(?:；(?:{TITLE_PART}))*"
TERM = r"[\u3400-\u9fff]+"
BESIDE = r"(?<=[A-Za-z0-9.)] )"  # right after English words
BRACKETED = re.compile(rf"{BESIDE}\((?:{TERM}|{OFFICIAL})\)")
MARKED = re.compile(rf'{BESIDE}\(<span lang="zh">(?:{TERM}|{OFFICIAL})</span>\)|<tspan lang="zh">{TERM}</tspan>')


def _english_notice(
    fid: str, fmt: str, ruleset: RuleSet, profile: dict[str, str] | None = None, **options: bool
) -> str:
    from flowmatch.golden import GOLDEN, GOLDEN_APPLICANT, GOLDEN_GENERATED, GOLDEN_START, golden_name
    from flowmatch.notice import build_notice, render

    notice = build_notice(
        dict(profile or GOLDEN[fid]),
        ruleset=ruleset,
        start=GOLDEN_START,
        generated=GOLDEN_GENERATED,
        name=golden_name(fid),
        applicant=GOLDEN_APPLICANT,
        **options,
    )
    assert notice.flowchart.id == fid
    text = render(notice, fmt, lang="en")
    assert isinstance(text, str)
    return text.replace(golden_name(fid), "").replace(GOLDEN_APPLICANT, "")


def _left_over(text: str, fmt: str) -> list[str]:
    """The lines with Chinese outside the allowed exceptions."""
    text = MARKED.sub("", text) if fmt == "html" else BRACKETED.sub("", text)
    return [line.strip()[:160] for line in text.splitlines() if HAN.search(line)]


def test_the_exception_is_only_a_marked_or_bracketed_term() -> None:
    assert _left_over('filing (<span lang="zh">备案</span>)', "html") == []
    assert _left_over("filing (备案)", "html") == ["filing (备案)"]  # HTML must mark it
    assert _left_over("filing (备案)", "md") == []
    assert _left_over("filing 备案", "md") == ["filing 备案"]
    assert _left_over("《城乡规划法》", "md") == ["《城乡规划法》"]
    assert _left_over('<span lang="zh">说明：见附件</span>', "html") == ['<span lang="zh">说明：见附件</span>']
    # an official title with its document number and articles, beside its English rendering
    law = "《中华人民共和国城乡规划法》第三十七条、第三十八条"
    decree = "《城市道路管理条例》（国务院令第198号）第三十一条、第三十七条；《哈尔滨市城市道路管理条例》"
    assert _left_over(f"Urban and Rural Planning Law of the PRC, Articles 37 and 38 ({law})", "md") == []
    assert _left_over(f"Regulations, Decree No. 198 ({decree})", "md") == []
    assert _left_over(f'Law, Articles 37 and 38 (<span lang="zh">{law}</span>)', "html") == []
    assert _left_over(f"Law, Articles 37 and 38 ({law})", "html") != []  # unmarked in HTML
    assert _left_over(f"({law})", "md") != []  # not beside an English rendering
    assert _left_over(f'<span lang="zh">{law}</span>', "html") != []
    # a Chinese sentence in brackets does not pass, beside English or not, marked or not
    sentence = "申请人应当提交材料，经审查后办理。"
    assert _left_over(f"Note ({sentence})", "md") != []
    assert _left_over(f'Note (<span lang="zh">{sentence}</span>)', "html") != []
    assert _left_over("Law (《城乡规划法》规定建设单位应当申请)", "md") != []
    assert _left_over("Law (《城乡规划法》第三十七条：建设单位应当申请)", "md") != []


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("fid", ["F10", "F22", "F26"])
def test_english_notice_structure_has_no_chinese(ruleset: RuleSet, fid: str, fmt: str) -> None:
    """Headings, table headers, labels, dates and every name from the rule-set are English."""
    text = _english_notice(fid, fmt, ruleset)
    if fmt == "html":
        assert '<html lang="en">' in text
        parts = re.findall(r"<(h[1-3]|th)\b[^>]*>(.*?)</\1>", text, flags=re.S)
        assert parts
        chinese = [p for _, p in parts if HAN.search(MARKED.sub("", p))]
        names = re.findall(r'class="mname" data-label="Material">(.*?)</td>', text)
    else:
        assert text.startswith("# One-Time Notice for Construction Project Approval")
        chinese = [
            line
            for line in text.splitlines()
            if line.startswith(
                (
                    "#",
                    "| No.",
                    "| Item",
                    "- Department:",
                    "- Approval item:",
                    "- Prerequisites:",
                    "- Materials:",
                    "| Fee |",
                )
            )
            and HAN.search(BRACKETED.sub("", line))
        ]
        names = [line.split("|")[2] for line in text.splitlines() if re.match(r"\| \d+ \| ", line)]
    assert names
    chinese += [n for n in names if HAN.search(BRACKETED.sub("", MARKED.sub("", n)))]
    assert not chinese, chinese
    assert "2 Mar 2026" in text and "Date of notice: 27 Feb 2026" in re.sub(r"<[^>]+>", "", text)


def test_every_flowchart_has_a_profile() -> None:
    got = {(name, fid) for name, fid, _ in EVERY_FLOWCHART}
    assert len([1 for name, _ in got if name == "harbin-2014"]) == 27
    for name in ("harbin-2014", "harbin-2019"):
        assert {fid for n, fid in got if n == name} == set(load_ruleset(RULES / name).flowcharts)


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize(("name", "fid", "profile"), EVERY_FLOWCHART, ids=[f"{n}-{f}" for n, f, _ in EVERY_FLOWCHART])
def test_english_notice_has_no_chinese_left(name: str, fid: str, profile: dict[str, str], fmt: str) -> None:
    """Every flowchart of both packaged rule-sets, every flag on: no Chinese but marked official titles.
    Markdown is printed on the notification-and-commitment procedure (the commitment letters), HTML without."""
    rs = load_ruleset(RULES / name)
    left = _left_over(_english_notice(fid, fmt, rs, profile, commitment=fmt == "md"), fmt)
    assert not left, f"{len(left)} lines with Chinese, e.g. {left[:5]}"


def test_official_titles_stand_beside_their_translation(ruleset: RuleSet) -> None:
    md = _english_notice("F10", "md", ruleset)
    html = _english_notice("F10", "html", ruleset)
    title = "《中华人民共和国城乡规划法》第三十七条、第三十八条"
    english = "Urban and Rural Planning Law of the PRC, Articles 37 and 38"
    assert f"- Legal basis: {english} ({title})\n" in md
    assert f'{english} (<span lang="zh">{title}</span>)' in html
    fee = "Urban infrastructure supporting-facilities fee"
    assert fee in md and "城市基础设施配套费" not in BRACKETED.sub("", md)


def test_chinese_notice_is_unchanged_by_the_english_one(ruleset: RuleSet) -> None:
    from flowmatch.golden import GOLDEN, GOLDEN_GENERATED, GOLDEN_START
    from flowmatch.notice import build_notice, render

    notice = build_notice(dict(GOLDEN["F10"]), ruleset=ruleset, start=GOLDEN_START, generated=GOLDEN_GENERATED)
    before = render(notice, "md")
    render(notice, "md", lang="en")
    assert render(notice, "md") == before
    assert render(notice, "json", lang="en") == render(notice, "json")


def test_unknown_notice_language_is_refused(ruleset: RuleSet) -> None:
    from flowmatch.errors import InputError
    from flowmatch.golden import GOLDEN
    from flowmatch.notice import build_notice, render

    notice = build_notice(dict(GOLDEN["F26"]), ruleset=ruleset)
    with pytest.raises(InputError, match="unknown language 'fr'"):
        render(notice, "md", lang="fr")


def test_cli_guide_in_english() -> None:
    from click.testing import CliRunner

    from flowmatch.cli import main

    result = CliRunner().invoke(
        main, ["guide", "kind=pipeline", "--lang", "en", "--format", "md", "--start", "2026-03-02"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# One-Time Notice for Construction Project Approval")
    assert "## 4. Step-by-step guide" in result.stdout
    assert "counting from acceptance on 2 mar 2026 (mon)" in result.stdout.lower()
    refused = CliRunner().invoke(main, ["guide", "kind=pipeline", "--lang", "fr"])
    assert refused.exit_code != 0


def test_web_notice_in_english(ruleset: RuleSet) -> None:
    client = TestClient(create_app(ruleset))
    page = client.get("/notice?kind=pipeline&start=2026-03-02&lang=en")
    assert page.status_code == 200, page.text[:500]
    assert '<html lang="en">' in page.text
    assert "<h2>4. Step-by-step guide</h2>" in page.text
    md = client.get("/notice?kind=pipeline&start=2026-03-02&lang=en&format=md")
    assert md.text.startswith("# One-Time Notice")
    chinese = client.get("/notice?kind=pipeline&start=2026-03-02")
    assert "建设项目审批一次性告知书" in chinese.text


def test_english_dates() -> None:
    import datetime as dt

    from flowmatch.templates import en_date

    assert en_date(dt.date(2026, 12, 14)) == "14 Dec 2026"
    assert en_date(dt.date(2026, 12, 14), True) == "14 Dec 2026 (Mon)"
    assert en_date(None) == "—"


def test_english_basis_must_match_one_for_one() -> None:
    from pydantic import ValidationError

    from flowmatch.models import Item

    with pytest.raises(ValidationError, match="legal_basis_en has 1 entries, legal_basis 2"):
        Item(
            name="x",
            name_en="x",
            department="d",
            stage=1,
            statutory={"unit": "none"},
            promised=1,
            legal_basis=["a", "b"],
            legal_basis_en=["A"],
        )


def test_estimated_dates_in_english(ruleset: RuleSet) -> None:
    """A date in a year whose holidays are not yet published reads "(estimated)", and the warning is English."""
    import datetime as dt

    from flowmatch.calendar import WorkCalendar
    from flowmatch.golden import GOLDEN
    from flowmatch.notice import build_notice, render

    cal = WorkCalendar()
    start = dt.date(2035, 3, 1)  # far beyond any published holiday notice
    assert cal.unpublished_years(start, start) == [2035]
    notice = build_notice(dict(GOLDEN["F26"]), ruleset=ruleset, start=start, calendar=cal)
    text = render(notice, "md", lang="en")
    assert isinstance(text, str)
    assert "(estimated)" in text
    assert f"> Note: The public holidays of {start.year} are not yet published" in text


# --- a missing English text is reported, not printed as Chinese -------------------------------------
def test_both_packaged_rule_sets_declare_english_and_miss_none(packaged: RuleSet) -> None:
    from flowmatch.english import english_findings

    assert packaged.manifest.languages == ["zh", "en"]
    assert english_findings(packaged) == []


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_check_reports_a_free_text_without_english_with_file_and_line(rules_copy: Path) -> None:
    from click.testing import CliRunner

    from flowmatch.checker import check
    from flowmatch.cli import main

    items = rules_copy / "items.yaml"
    result_line = items.read_text(encoding="utf-8").splitlines().index("  result: 项目建议书批复") + 1
    _edit(items, '  result_en: "Approval of the project proposal"\n', "")
    _edit(
        items,
        'kind_en: "Engineering consultancy", purpose_en: "Prepare the project proposal", ',
        'kind_en: "Engineering consultancy", ',
    )
    materials = rules_copy / "materials.yaml"
    _edit(materials, '  condition_en: "Original checked, copy kept"\n', "")
    report = check(ruleset=load_ruleset(rules_copy, cache=False))
    english = {f.message: f.where for f in report.findings if f.kind == "english"}
    tail = "; the English notice would print the Chinese text"
    assert set(english) == {
        f"FG01.result has no English (result_en){tail}",
        f"FG01.intermediaries[0].purpose has no English (purpose_en){tail}",
        f"agent_id_card.condition has no English (condition_en){tail}",
    }
    assert english[f"FG01.result has no English (result_en){tail}"] == f"harbin-2014/items.yaml:{result_line}:3"
    assert english[f"agent_id_card.condition has no English (condition_en){tail}"].startswith(
        "harbin-2014/materials.yaml:"
    )
    assert not report.ok
    shown = CliRunner().invoke(main, ["check", "--rules", str(rules_copy)])
    assert shown.exit_code != 0
    assert f"harbin-2014/items.yaml:{result_line}:3: english: FG01.result has no English (result_en)" in shown.output


def test_a_rule_set_without_english_is_not_asked_for_it(rules_copy: Path) -> None:
    from flowmatch.english import english_findings

    _edit(rules_copy / "ruleset.yaml", "languages: [zh, en]", "languages: [zh]")
    items = rules_copy / "items.yaml"
    _edit(items, '  result_en: "Approval of the project proposal"\n', "")
    assert english_findings(load_ruleset(rules_copy, cache=False)) == []


# --- the English question pages ---------------------------------------------------------------------
# An English question page shows the Chinese label of a question or option only beside its English one,
# in an element marked lang="zh-CN"; the question's and options' help texts are English.
ZH_ELEMENT = re.compile(r'<(\w+)\b[^>]*\slang="zh(?:-CN)?"[^>]*>[^<]*</\1>')


def _question_pages(client: TestClient) -> dict[str, str]:
    """Every question page reachable in English by answering (each option that leads to a flow)."""
    from urllib.parse import urlencode

    pages: dict[str, str] = {}
    todo: list[list[tuple[str, str]]] = [[]]
    while todo:
        pairs = todo.pop()
        url = "/ask?" + urlencode([*pairs, ("lang", "en")])
        text = client.get(url).text
        if 'class="qtext"' not in text:
            continue
        pages[url] = text
        for name, value in re.findall(r'<input type="radio" id="opt-\w+" name="(\w+)" value="(\w+)"', text):
            if value != "unsure" and not re.search(rf'id="why-{value}"', text):
                todo.append([*pairs, (name, value)])
    return pages


def test_english_question_pages_have_no_chinese_but_marked_labels(packaged: RuleSet) -> None:
    pages = _question_pages(TestClient(create_app(packaged)))
    assert len(pages) >= 10
    asked = {re.findall(r'<input type="radio" id="opt-\w+" name="(\w+)"', t)[0] for t in pages.values()}
    assert asked == set(packaged.attributes)
    for url, text in pages.items():
        body = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)
        left = [line.strip()[:160] for line in ZH_ELEMENT.sub("", body).splitlines() if HAN.search(line)]
        assert not left, f"{url}: {left[:3]}"
        assert 'id="q-help" class="help" lang="en"' in text, url


def test_english_help_texts_and_flag_help(client_en_result: str) -> None:
    assert (
        "Water supply, drainage, gas, heating"
        in TestClient(create_app(load_ruleset(RULES / "harbin-2014"))).get("/ask?lang=en").text
    )
    assert 'lang="en">The land includes farmland; the farmland conversion' in client_en_result


@pytest.fixture
def client_en_result(ruleset: RuleSet) -> str:
    from urllib.parse import urlencode

    from flowmatch.golden import GOLDEN

    return TestClient(create_app(ruleset)).get("/ask?" + urlencode({**GOLDEN["F10"], "lang": "en"})).text


def test_english_not_applicable_pages_explain_in_english(packaged: RuleSet) -> None:
    """Each not-applicable rule's page: its reason in English, its legal basis beside the official title."""
    from urllib.parse import urlencode

    from flowmatch.checker import Space

    client = TestClient(create_app(packaged))
    space = Space(packaged)
    for rid, rule in packaged.not_applicable.items():
        bits = rule.when.bits(space.leaf_bits, space.full)
        profile = space.profile((bits & -bits).bit_length() - 1)
        text = client.get("/ask?" + urlencode({**profile, "lang": "en"})).text
        assert rid in text, rid
        assert rule.reason_en and rule.reason_en.replace("'", "&#39;") in text, rid
        body = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)
        left = [line.strip()[:160] for line in ZH_ELEMENT.sub("", body).splitlines() if HAN.search(line)]
        assert not left, f"{rid}: {left[:3]}"
        if rule.legal_basis:
            assert f'{rule.legal_basis_en} (<span lang="zh-CN">{rule.legal_basis}</span>)' in text, rid


def test_english_item_material_and_flowchart_pages(packaged: RuleSet) -> None:
    """The browse pages in English: results, notes, conditions, legal bases, descriptions, the steps
    table and the diagrams -- no Chinese but marked labels and official titles beside their English."""
    client = TestClient(create_app(packaged))
    urls = [f"/item/{i}" for i in packaged.items] + [f"/material/{m}" for m in packaged.materials]
    urls += [f"/flowchart/{f}" for f in packaged.flowcharts]
    for url in urls:
        text = client.get(url + "?lang=en").text
        body = BRACKETED.sub("", ZH_ELEMENT.sub("", re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)))
        left = [line.strip()[:160] for line in body.splitlines() if HAN.search(line)]
        assert not left, f"{url}: {left[:3]}"
    item = client.get("/item/GH02?lang=en").text
    assert (
        'Urban and Rural Planning Law of the PRC, Article 40 (<span lang="zh-CN">《中华人民共和国城乡规划法》第四十条</span>)'
        in item
    )
    planning = packaged.departments[packaged.items["GH02"].department]
    assert planning.short_en in ("Planning Bureau", "Natural Resources & Planning")
    assert f"<td>{escape(planning.short_en)}</td>" in client.get("/flowchart/F10?lang=en").text
    assert f"<td>{planning.short}</td>" in client.get("/flowchart/F10").text


@pytest.mark.parametrize("name", ["harbin-2014", "harbin-2019"])
def test_english_result_pages(name: str) -> None:
    """The result page of every flowchart in English, every flag on: the answer, the why, the details
    (the matcher's explanation, in English), the steps table and diagrams, the flags' help texts."""
    from urllib.parse import urlencode

    rs = load_ruleset(RULES / name)
    client = TestClient(create_app(rs))
    for n, fid, profile in EVERY_FLOWCHART:
        if n != name:
            continue
        text = client.get("/ask?" + urlencode({**profile, "lang": "en"})).text
        assert f"→ flowchart {fid}</li>" in text, fid
        body = BRACKETED.sub("", ZH_ELEMENT.sub("", re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)))
        left = [line.strip()[:160] for line in body.splitlines() if HAN.search(line)]
        assert not left, f"{fid}: {left[:3]}"
