from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatch.errors import InputError
from flowmatch.matcher import Matcher, matcher_for, parse_pairs
from flowmatch.ruleset import RuleSet

CASES = Path(__file__).parent / "cases"

CASE_LIST = yaml.safe_load((CASES / "match_cases.yaml").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASE_LIST, ids=[c["name"] for c in CASE_LIST])
def test_case_file(ruleset: RuleSet, case: dict[str, Any]) -> None:
    result = matcher_for(ruleset).match(case["profile"])
    expect = case["expect"]
    assert result.status == expect["status"], result.explanation
    for key in ("situation", "flowchart", "rule", "consider"):
        if key in expect:
            assert getattr(result, key) == expect[key]
    if "missing" in expect:
        assert list(result.missing) == expect["missing"]
    if "missing_first" in expect:
        assert result.missing[0] == expect["missing_first"]
    if "invalid" in expect:
        assert [i.attribute for i in result.invalid] == expect["invalid"]


def test_case_file_covers_every_situation_and_rule(ruleset: RuleSet) -> None:
    seen = {c["expect"].get("situation") for c in CASE_LIST} | {c["expect"].get("rule") for c in CASE_LIST}
    assert set(ruleset.situations) <= seen
    assert set(ruleset.not_applicable) <= seen


def test_explanation_names_answers_and_ruled_out_neighbours(ruleset: RuleSet) -> None:
    result = matcher_for(ruleset).match(
        {
            "kind": "building",
            "land_nature": "state_owned",
            "investor": "enterprise",
            "acquisition": "tender_auction_listing",
            "regime": "filing",
            "building_use": "commercial_housing",
            "management": "self_built",
        }
    )
    assert result.explanation[0] == "选定 S10 招拍挂、出让·备案类·商品住宅及配建保障房 → 流程图 F10"
    assert "依据：建设用途 = 商品住宅（building_use=commercial_housing）" in result.explanation
    assert "排除 S13 招拍挂、出让·核准类：立项方式为“备案制”，该情形要求“核准制”" in result.explanation
    assert "排除 S12 招拍挂、出让·备案类·工业仓储：建设用途为“商品住宅”，该情形要求“工业仓储”" in result.explanation
    assert result.ignored == ("management",)
    assert result.explanation[-1] == "忽略 management=self_built：对本项目的流程选择不起作用"
    assert {r.situation for r in result.ruled_out} >= {"S11", "S12", "S13"}


def test_not_applicable_gives_reason_and_alternative(ruleset: RuleSet) -> None:
    result = matcher_for(ruleset).match(
        {"kind": "building", "land_nature": "collective", "building_use": "commercial_housing"}
    )
    assert result.status == "not_applicable"
    assert result.reason is not None and "商品住宅" in result.reason
    assert result.explanation[-1] == "可考虑：S10 招拍挂、出让·备案类·商品住宅及配建保障房"


def test_invalid_messages_list_allowed_values(ruleset: RuleSet) -> None:
    result = matcher_for(ruleset).match({"kind": "buildings", "colour": "red", "occupies_road": "maybe"})
    assert result.status == "invalid"
    assert result.explanation[0] == "kind: unknown value 'buildings'; allowed: building, road_bridge, pipeline, station"
    assert result.explanation[1].startswith("colour: unknown attribute 'colour'; allowed: kind, land_nature, investor,")
    assert (
        result.explanation[2]
        == "occupies_road: flag occupies_road takes true or false, got 'maybe'; allowed: true, false"
    )


def test_incomplete_lists_missing_in_asking_order(ruleset: RuleSet) -> None:
    result = matcher_for(ruleset).match({"kind": "building", "land_nature": "state_owned"})
    assert result.status == "incomplete"
    order = list(ruleset.attributes)
    assert list(result.missing) == sorted(result.missing, key=order.index)
    assert result.missing[0] == "investor"
    assert result.explanation[0].startswith("还需回答：出资人（investor）")


def test_non_mapping_profile_is_invalid(ruleset: RuleSet) -> None:
    result = matcher_for(ruleset).match(["kind", "building"])  # type: ignore[arg-type]
    assert result.status == "invalid"
    assert result.explanation == ("a profile is a mapping of attribute to value, got list",)


def test_parse_pairs() -> None:
    assert parse_pairs(["kind=building", " regime = filing"]) == {"kind": "building", "regime": "filing"}
    with pytest.raises(InputError, match=r"^expected attribute=value, got 'kind'$"):
        parse_pairs(["kind"])


def test_flags_are_parsed_and_never_change_the_flowchart(ruleset: RuleSet) -> None:
    m = matcher_for(ruleset)
    base = {"kind": "pipeline"}
    plain = m.match(base)
    flagged = m.match({**base, **{name: "yes" for name in ruleset.flags}})
    assert plain.flowchart == flagged.flowchart == "F26"
    assert flagged.flags == {name: True for name in ruleset.flags}


def test_matcher_is_compiled_once(ruleset: RuleSet) -> None:
    assert matcher_for(ruleset) is matcher_for(ruleset)


# --- properties ------------------------------------------------------------------------------------
def _profiles(ruleset: RuleSet) -> st.SearchStrategy[dict[str, str]]:
    pairs = {a: st.sampled_from(list(attr.values)) for a, attr in ruleset.attributes.items()}
    return st.fixed_dictionaries({}, optional=pairs)


@pytest.fixture(scope="module")
def matcher(ruleset: RuleSet) -> Matcher:
    return matcher_for(ruleset)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_partial_profiles_never_crash(ruleset: RuleSet, data: st.DataObject) -> None:
    profile = data.draw(_profiles(ruleset))
    result = matcher_for(ruleset).match(profile)
    assert result.status in {"matched", "incomplete", "not_applicable"}
    if result.status == "incomplete":
        assert result.missing and all(a not in profile for a in result.missing)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_adding_an_answer_never_contradicts_a_match(ruleset: RuleSet, data: st.DataObject) -> None:
    profile = data.draw(_profiles(ruleset))
    m = matcher_for(ruleset)
    first = m.match(profile)
    if first.status not in {"matched", "not_applicable"}:
        return
    free = [a for a in ruleset.attributes if a not in profile]
    if not free:
        return
    extra = data.draw(st.sampled_from(free))
    value = data.draw(st.sampled_from(list(ruleset.attributes[extra].values)))
    second = m.match({**profile, extra: value})
    assert (second.status, second.situation, second.rule) == (first.status, first.situation, first.rule)
    assert extra in second.ignored


@pytest.mark.parametrize(
    ("profile", "extra"),
    [
        # NA01 is decided without the investor; answering it walks the tree to a leaf that asked it
        (
            {"kind": "building", "land_nature": "state_owned", "acquisition": "collective_use"},
            ("investor", "government"),
        ),
        # S03 does not read the management question that S01/S02 need
        (
            {
                "kind": "building",
                "land_nature": "state_owned",
                "investor": "government",
                "acquisition": "allocation_own",
            },
            ("management", "self_built"),
        ),
    ],
)
def test_an_answer_the_rule_does_not_read_is_ignored_either_way(
    matcher: Matcher, profile: dict[str, str], extra: tuple[str, str]
) -> None:
    first = matcher.match(profile)
    second = matcher.match({**profile, extra[0]: extra[1]})
    assert first.status in {"matched", "not_applicable"}
    assert (second.status, second.situation, second.rule) == (first.status, first.situation, first.rule)
    assert extra[0] in second.ignored
    assert extra[0] not in {a.attribute for a in second.selected_by}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    profile=st.dictionaries(
        st.text(max_size=12),
        st.one_of(st.text(max_size=30), st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=3)),
        max_size=10,
    )
)
def test_arbitrary_input_gives_only_results(ruleset: RuleSet, profile: dict[str, Any]) -> None:
    result = matcher_for(ruleset).match(profile)
    assert result.status in {"matched", "incomplete", "not_applicable", "invalid"}
    result.to_dict()
