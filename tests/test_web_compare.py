"""The same project under the rule-set before or after this one, on the web (``/compare``): the
figures are the library's (:func:`flowmatch.diff.under_each`, :func:`flowmatch.diff.diff_rulesets`),
every change is named with the reason the item map gives, and only related packaged rule-sets are
offered."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from flowmatch.diff import diff_rulesets, under_each
from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset
from flowmatch.web import create_app

HAN = re.compile(r"[\u3400-\u9fff]")
F10 = {
    "kind": "building",
    "land_nature": "state_owned",
    "investor": "enterprise",
    "acquisition": "tender_auction_listing",
    "regime": "filing",
    "building_use": "commercial_housing",
}
QUERY = "&".join(f"{k}={v}" for k, v in F10.items())


@pytest.fixture(scope="module")
def both() -> tuple[RuleSet, RuleSet]:
    root = default_rules_path().parent
    return load_ruleset(root / "harbin-2014"), load_ruleset(root / "harbin-2019")


def _main(page: str) -> str:
    return page.split('id="main"', 1)[1].split("</main>", 1)[0]


def _cells(page: str, row: str) -> list[str]:
    """The cells of the comparison table's row headed ``row``, as text."""
    found = re.search(rf'<th scope="row">{re.escape(row)}</th>(.*?)</tr>', page, flags=re.S)
    assert found, row
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def test_the_result_links_to_the_comparison_and_it_shows_the_librarys_figures(both: tuple[RuleSet, RuleSet]) -> None:
    old, new = both
    client = TestClient(create_app(old))
    result = client.get(f"/ask?{QUERY}")
    links = re.findall(r'<a href="([^"]*)" class="compare">', result.text)
    assert [html.unescape(u).split("with=")[1] for u in links] == ["harbin-2019"]
    page = client.get(html.unescape(links[0]))
    assert page.status_code == 200
    start = re.search(r"日期按 (\d{4}-\d\d-\d\d) 受理计算", page.text)
    assert start
    expected = under_each([old, new], F10, start=start.group(1))
    assert _cells(page.text, "审批事项（个）") == [str(r["steps"]) for r in expected]
    assert _cells(page.text, "申请材料（件次）") == [str(r["requisites"]) for r in expected]
    days = [f"{r['schedule']['working_days']:g} 个工作日" for r in expected]
    assert _cells(page.text, "计时工作日") == days
    # every change the library finds for this project is on the page, item by item
    report = diff_rulesets(old, new, profile=F10)
    assert report.ok and len(report.groups) == 1
    change = report.groups[0].change
    assert change.removed and change.merged and change.commitments
    text = re.sub(r"<[^>]+>", "", _main(page.text))
    for iid, _ in change.removed:
        assert f"不再办理：{old.items[iid].name}" in text
    for iid, into in change.merged:
        assert f"“{old.items[iid].name}”并入“{new.items[into].name}”" in html.unescape(text)
    for iid in change.commitments:
        assert f"改为告知承诺制：{new.items[iid].name}" in text
    for mid in change.before.materials - change.after.materials:
        assert old.materials[mid].name in text


def test_the_comparison_in_english_has_no_chinese(both: tuple[RuleSet, RuleSet]) -> None:
    client = TestClient(create_app(both[0]))
    page = client.get(f"/compare?{QUERY}&with=harbin-2019&lang=en")
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "No longer needed:" in page.text
    assert HAN.findall(_main(page.text)) == []


def test_a_2019_server_compares_with_2014_oldest_first(both: tuple[RuleSet, RuleSet]) -> None:
    client = TestClient(create_app(both[1]))
    links = re.findall(r'<a href="([^"]*)" class="compare">', client.get(f"/ask?{QUERY}").text)
    assert [html.unescape(u).split("with=")[1] for u in links] == ["harbin-2014"]
    page = client.get(html.unescape(links[0]))
    heads = re.findall(r'<th scope="col">([^<]+)<br>', page.text)
    assert heads == [both[0].manifest.name, both[1].manifest.name]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (f"{QUERY}&with=harbin-2099", "没有可比较的规则集“harbin-2099”；可选：harbin-2019"),
        (f"{QUERY}&with=harbin-2014", "没有可比较的规则集“harbin-2014”"),  # itself
        ("kind=building&with=harbin-2019", "请先答完问题"),
        (f"{QUERY}&with=harbin-2019&with=harbin-2019", "参数“with”出现了多次"),
        (QUERY.replace("commercial_housing", "castle") + "&with=harbin-2019", "没有“castle”这个选项"),
    ],
)
def test_bad_comparisons_get_the_friendly_400_page(both: tuple[RuleSet, RuleSet], query: str, problem: str) -> None:
    page = TestClient(create_app(both[0])).get(f"/compare?{query}")
    assert page.status_code == 400 and problem in html.unescape(page.text)


def test_a_rule_set_outside_the_catalogue_offers_no_comparison(tmp_path: Path) -> None:
    copy = tmp_path / "my-rules"
    shutil.copytree(default_rules_path(), copy)
    client = TestClient(create_app(load_ruleset(copy, cache=False)))
    assert 'class="compare"' not in client.get(f"/ask?{QUERY}").text
    page = client.get(f"/compare?{QUERY}&with=harbin-2019")
    assert page.status_code == 400 and "可选：（无）" in html.unescape(page.text)
