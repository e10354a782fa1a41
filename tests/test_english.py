"""Issue 17, English: every domain word of the packaged rule-sets has an English name, and the
English web pages show it (no Chinese left in the parts built from those names)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset
from flowmatch.web import create_app

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
# and an official Chinese term in brackets right after its English translation -- "filing (备案)" --
# which the HTML marks <span lang="zh"> (<tspan lang="zh"> inside a diagram).
MARKED = re.compile(r'<(span|tspan) lang="zh">[\u3400-\u9fff]+</\1>')
BRACKETED = re.compile(r"(?<=[A-Za-z)] )\([\u3400-\u9fff]+\)")


def _english_notice(fid: str, fmt: str, ruleset: RuleSet) -> str:
    from flowmatch.golden import GOLDEN, GOLDEN_APPLICANT, GOLDEN_GENERATED, GOLDEN_START, golden_name
    from flowmatch.notice import build_notice, render

    notice = build_notice(
        dict(GOLDEN[fid]),
        ruleset=ruleset,
        start=GOLDEN_START,
        generated=GOLDEN_GENERATED,
        name=golden_name(fid),
        applicant=GOLDEN_APPLICANT,
    )
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


@pytest.mark.xfail(
    strict=True,
    reason=(
        "the rule-set's free text -- legal bases, fees, item results and notes, intermediaries, material "
        "conditions and notes, time-limit notes, commitment letters, calendar warnings -- has optional *_en "
        "fields (models.py) that harbin-2014 does not fill yet; the notice prints the Chinese text there"
    ),
)
@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("fid", ["F10", "F22", "F26"])
def test_english_notice_has_no_chinese_left(ruleset: RuleSet, fid: str, fmt: str) -> None:
    left = _left_over(_english_notice(fid, fmt, ruleset), fmt)
    assert not left, f"{len(left)} lines with Chinese, e.g. {left[:5]}"


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
