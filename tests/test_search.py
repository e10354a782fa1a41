"""Keyword search: the obvious hit ranks first, in simplified and traditional Chinese and English,
with typos and partial words; matched text comes back as spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatch.errors import InputError
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.search import MAX_QUERY, fold, highlight, index_for, search, tokens

FIXTURE = Path(__file__).parent / "fixtures" / "find-rules"

# query -> (kind of the first hit, its id or a part of its title). Situation and flowchart ids are
# fixed by SPEC §4; items and materials are named by their title so the catalog may renumber them.
OBVIOUS = [
    ("施工许可", "item", "施工许可证"),
    ("施工許可", "item", "施工许可证"),  # traditional
    ("建築工程施工許可", "item", "施工许可证"),  # traditional, longer
    ("施工许课", "item", "施工许可证"),  # a wrong character
    ("施工许", "item", "施工许可证"),  # partial word
    ("乡镇企业", "situation", "S28"),  # the data writes 乡（镇）村企业
    ("村民住宅", "situation", "S30"),
    ("保障性住房", "situation", "S08"),
    ("代建制", "situation", "S02"),
    ("招拍挂 工业仓储", "situation", "S12"),
    ("棚戶區改造", "situation", "棚户区"),  # traditional
    ("F22", "flowchart", "F22"),
    ("s31", "situation", "S31"),
    ("管线联合会签", "item", "管线联合会签"),
    ("联合验收", "item", "联合验收"),
    ("環境影響評價", "item", "环境影响评价"),  # traditional
    ("用地预审", "item", "用地预审"),
    ("地质灾害", "item", "地质灾害"),
    ("中标通知书", "material", "中标通知书"),
    ("营业执照", "material", "营业执照"),
    ("construction permit", "item", "施工许可证"),
    ("planing permit", "item", "规划许可证"),  # English typo
    ("Fire protection", "item", "消防"),
]


@pytest.mark.parametrize(("query", "kind", "want"), OBVIOUS, ids=[q for q, _, _ in OBVIOUS])
def test_obvious_hit_ranks_first(ruleset: RuleSet, query: str, kind: str, want: str) -> None:
    hits = search(query, ruleset=ruleset)
    assert hits, f"nothing found for {query!r}"
    first = hits[0]
    assert first.kind == kind, [(h.kind, h.id, h.title) for h in hits[:3]]
    assert want in (first.id, first.title) or want in first.title, [(h.kind, h.id, h.title) for h in hits[:3]]


def test_item_query_finds_every_flowchart_that_contains_it(ruleset: RuleSet) -> None:
    permits = [iid for iid, item in ruleset.items.items() if "施工许可证" in item.name]
    assert permits
    containing = {
        fid
        for fid, flow in ruleset.flowcharts.items()
        if any(s.item in permits or any(v.item in permits for v in s.variants.values()) for s in flow.steps.values())
    }
    for query in ("施工许可", "施工許可"):
        found = {h.id for h in search(query, ruleset=ruleset, kind="flowchart", limit=100)}
        assert containing <= found


def test_simplified_and_traditional_give_the_same_ranking(ruleset: RuleSet) -> None:
    for simplified, traditional in (
        ("施工许可", "施工許可"),
        ("建设工程规划许可证", "建設工程規劃許可證"),
        ("协议出让", "協議出讓"),
    ):
        assert [h.id for h in search(simplified, ruleset=ruleset)] == [
            h.id for h in search(traditional, ruleset=ruleset)
        ]


# --- the small fixture rule-set: exact spans and rankings ---------------------------------------------------
@pytest.fixture(scope="module")
def small() -> RuleSet:
    return load_ruleset(FIXTURE, cache=False)


def test_highlight_spans_point_at_the_displayed_text(small: RuleSet) -> None:
    hits = search("施工許可", ruleset=small)
    first = hits[0]
    assert (first.kind, first.id, first.title) == ("item", "construction_permit", "建筑工程施工许可证")
    assert first.title_spans == ((4, 8),)
    assert first.title[4:8] == "施工许可"
    assert [h.id for h in hits[1:]] == ["F1", "F3", "F2"], "then every flowchart with the item"
    flow = hits[1]
    assert flow.snippet[flow.snippet_spans[-1][0] : flow.snippet_spans[-1][1]] == "施工许可"
    english = search("permit", ruleset=small)[0]
    assert english.subtitle[english.subtitle_spans[0][0] : english.subtitle_spans[0][1]] == "permit"


def test_kind_filter_and_limit(small: RuleSet) -> None:
    assert [h.id for h in search("许可", ruleset=small, kind="material")] == ["planning_permit_doc"]
    assert len(search("许可", ruleset=small, limit=2)) == 2
    assert {h.kind for h in search("许可", ruleset=small, kind="flowchart")} == {"flowchart"}


def test_one_shared_character_is_not_a_hit(small: RuleSet) -> None:
    assert search("火箭发射", ruleset=small) == []


def test_ids_are_found_whole_not_by_their_parts(small: RuleSet) -> None:
    assert [h.id for h in search("F2", ruleset=small)][:1] == ["F2"]
    assert search("bid", ruleset=small) == [], "material ids (bid_notice) are not English names"


def test_bad_queries_are_input_errors(small: RuleSet) -> None:
    with pytest.raises(InputError, match="请输入关键词 / the query is empty"):
        search("   ", ruleset=small)
    too_long = f"关键词太长（最多 {MAX_QUERY} 个字符）/ the query is longer than {MAX_QUERY} characters"
    with pytest.raises(InputError, match=too_long):
        search("许" * (MAX_QUERY + 1), ruleset=small)
    with pytest.raises(InputError, match="unknown kind 'step'; allowed: situation, flowchart, item, material"):
        search("许可", ruleset=small, kind="step")
    with pytest.raises(InputError, match="limit must be a positive whole number, got 0"):
        search("许可", ruleset=small, limit=0)
    with pytest.raises(InputError, match="the query must be text, got int"):
        search(42, ruleset=small)  # type: ignore[arg-type]


def test_punctuation_only_query_finds_nothing(small: RuleSet) -> None:
    assert search("？！…", ruleset=small) == []


def test_folding_keeps_positions() -> None:
    folded, origin = fold("建築ＡＢ工程")
    assert folded == "建筑ab工程"
    assert origin == [0, 1, 2, 3, 4, 5]
    assert highlight("建築工程施工許可證", "施工许可") == ((4, 8),)
    assert "c2:施工" in tokens("施工") and "w:permit" in tokens("permit") and "t:#pe" in tokens("permit")


def test_index_is_built_once_per_ruleset(small: RuleSet) -> None:
    assert index_for(small) is index_for(small)
    assert index_for(small).folding == "opencc"


# --- the command -----------------------------------------------------------------------------------------------
def test_search_command(small: RuleSet) -> None:
    import json

    from click.testing import CliRunner

    from flowmatch.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["search", "施工許可", "--rules", str(FIXTURE), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["query"] == "施工許可"
    assert data["hits"][0]["id"] == "construction_permit" and data["hits"][0]["title_spans"] == [[4, 8]]
    text = runner.invoke(main, ["search", "施工", "许可", "--rules", str(FIXTURE), "--kind", "item", "--limit", "1"])
    assert text.exit_code == 0
    assert "“施工 许可”：1 条结果 / results" in text.stdout
    assert "审批事项 construction_permit  建筑工程施工许可证" in text.stdout
    none = runner.invoke(main, ["search", "火箭发射", "--rules", str(FIXTURE)])
    assert none.exit_code == 1
    assert "未找到与“火箭发射”相关的情形、流程图、审批事项或申请材料 / no results" in none.stdout
    bad = runner.invoke(main, ["search", "许" * 201, "--rules", str(FIXTURE)])
    assert bad.exit_code == 2 and "error: 关键词太长（最多 200 个字符）" in bad.stderr
