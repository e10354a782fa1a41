"""Consolidating materials for the one-time notice (SPEC §7), on a toy rule-set and on all 27 flowcharts."""

from __future__ import annotations

import datetime as dt

import pytest

from flowmatch.calendar import WorkCalendar
from flowmatch.errors import InputError
from flowmatch.flows import for_situation, resolve
from flowmatch.materials import COMMITMENT_PREFIX, consolidate
from flowmatch.models import Flowchart, Step
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.scheduler import schedule
from notice_toy import check_notice_properties, toy_ruleset


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return toy_ruleset(tmp_path_factory.mktemp("toy") / "rules")


def test_each_material_once_with_every_step_that_uses_it(toy: RuleSet) -> None:
    flow = resolve(toy, "F10")
    mats = consolidate(flow, toy)
    ids = [m.id for m in mats.to_prepare]
    assert len(ids) == len(set(ids))
    form = mats.get("application_form")
    assert form.steps == ("filing", "land_permit", "scheme", "works_permit", "permit")
    assert mats.get("construction_drawings").steps == ("drawings", "tender")
    assert [m.number for m in mats.to_prepare] == list(range(1, len(ids) + 1))
    assert mats.requisites == sum(len(s.materials) for s in flow.steps.values())


def test_materials_issued_by_an_earlier_step_are_never_asked(toy: RuleSet) -> None:
    mats = consolidate(resolve(toy, "F10"), toy)
    issued = {m.id: m for m in mats.issued}
    assert set(issued) == {
        "filing_record",
        "land_permit",
        "scheme_opinion",
        "works_permit",
        "drawing_certificate",
        "bid_notice",
    }
    assert issued["works_permit"].produced_by == "works_permit"
    assert issued["works_permit"].steps == ("drawings", "tender", "permit", "acceptance")
    asked = {m.id for m in mats.to_prepare}
    assert not asked & set(issued)


def test_a_material_produced_by_a_step_that_is_not_an_ancestor_is_still_asked(toy: RuleSet) -> None:
    chart = Flowchart(
        id="TPARALLEL",
        name="并行",
        name_en="Parallel",
        source=["seed003"],
        steps={
            "land_permit": Step(id="land_permit", item="GT04"),
            "works_permit": Step(id="works_permit", item="GH02"),  # needs land_permit, but not after it here
        },
    )
    mats = consolidate(resolve(toy, chart), toy)
    assert mats.get("land_permit").steps == ("works_permit",)
    assert "land_permit" not in {m.id for m in mats.issued}


def test_on_file_materials_are_spared_and_counted(toy: RuleSet) -> None:
    flow = resolve(toy, "F10")
    mats = consolidate(flow, toy, on_file=["licence", "legal_rep", "licence", " "])
    assert mats.spared == 2
    assert {m.id for m in mats.on_file} == {"licence", "legal_rep"}
    assert {"licence", "legal_rep"}.isdisjoint(m.id for m in mats.to_prepare)
    assert mats.by_step["filing"] == ("application_form",)


def test_on_file_material_issued_in_the_flow_is_not_counted_as_spared(toy: RuleSet) -> None:
    mats = consolidate(resolve(toy, "F10"), toy, on_file=["works_permit"])
    assert mats.spared == 0


def test_unknown_on_file_id_is_an_input_error_listing_the_flows_materials(toy: RuleSet) -> None:
    with pytest.raises(InputError) as err:
        consolidate(resolve(toy, "F10"), toy, on_file=["licence", "nope", "also_nope"])
    text = str(err.value)
    assert text.startswith("unknown material ids on file: nope, also_nope; allowed: ")
    assert "application_form" in text and "site_map" in text
    with pytest.raises(InputError, match=r"^unknown material id on file: nope; allowed: "):
        consolidate(resolve(toy, "F10"), toy, on_file=["nope"])


def test_deficiency_supply_by_date_counts_working_days_from_the_steps_start(toy: RuleSet) -> None:
    # BRIEF §6.1 worked example: 2014-09-26 (Fri) + 5 working days = 2014-10-09 (National Day week skipped)
    flow = resolve(toy, "F10")
    cal = WorkCalendar()
    plan = schedule(flow, dt.date(2014, 9, 26), cal, ruleset=toy)
    mats = consolidate(flow, toy, schedule=plan, calendar=cal)
    legal = mats.get("legal_rep")
    assert legal.deficiency_days == 5
    assert legal.supply_by == dt.date(2014, 10, 9)
    drawings = mats.get("construction_drawings")
    start = plan.step("drawings").start
    assert start is not None
    assert drawings.supply_by == cal.add(start, 3)
    assert all(m.supply_by is None for m in mats.to_prepare if not m.deficiency)
    assert {m.id for m in mats.deficiency_tolerated} == {"legal_rep", "construction_drawings"}


def test_without_dates_there_is_no_supply_by_date(toy: RuleSet) -> None:
    mats = consolidate(resolve(toy, "F10"), toy)
    assert mats.get("legal_rep").supply_by is None
    assert mats.get("legal_rep").deficiency


def test_completion_materials_are_grouped_after_construction(toy: RuleSet) -> None:
    mats = consolidate(resolve(toy, "F10"), toy)
    assert [m.id for m in mats.at_completion] == ["completion_report", "survey_report"]
    assert all(not m.completion_only for m in mats.before_construction)
    assert mats.to_prepare[-1].completion_only


def test_flag_switched_step_and_material(toy: RuleSet) -> None:
    off = consolidate(resolve(toy, "F10"), toy)
    on = consolidate(resolve(toy, "F10", flags={"removes_trees": True}), toy)
    assert "tree_plan" not in {m.id for m in off.to_prepare}
    assert on.get("tree_plan").steps == ("trees",)
    assert on.get("tree_plan").condition == "涉及砍伐、迁移城市树木的"


def test_commitment_mode_adds_one_letter_per_committed_step(toy: RuleSet) -> None:
    flow = resolve(toy, "F10")
    plan = schedule(flow, dt.date(2026, 3, 2), WorkCalendar(), "commitment", ruleset=toy)
    mats = consolidate(flow, toy, schedule=plan)
    assert [c.step for c in mats.commitments] == ["eia"]
    letter = mats.get(COMMITMENT_PREFIX + "eia")
    assert letter.name == "告知承诺书（环境影响报告表审批）"
    assert letter.source_label == "申请人签署"
    assert letter.commitment_for == "eia"
    assert "环境影响报告表内容真实" in mats.commitments[0].letter
    assert mats.by_step["eia"][-1] == COMMITMENT_PREFIX + "eia"
    standard = consolidate(flow, toy, schedule=schedule(flow, dt.date(2026, 3, 2), WorkCalendar(), ruleset=toy))
    assert standard.commitments == ()
    assert consolidate(flow, toy, commitment=True).commitments[0].duration == 1


def test_labels(toy: RuleSet) -> None:
    mats = consolidate(resolve(toy, "F10"), toy)
    assert mats.get("scheme_drawings").medium_label == "纸质及电子"
    assert mats.get("scheme_drawings").source_label == "中介机构编制"
    assert mats.get("land_contract").source_label == "有关部门出具"
    assert mats.get("land_contract").issuer == "gtj"


def test_toy_flows_keep_the_properties(toy: RuleSet) -> None:
    for flags in ({}, {"removes_trees": True}):
        flow = resolve(toy, "F10", flags=flags)
        plan = schedule(flow, dt.date(2026, 9, 24), WorkCalendar(), ruleset=toy)
        check_notice_properties(toy, flow, plan)
        check_notice_properties(toy, flow, plan, on_file=("licence", "works_permit", "site_map"))


# --- properties over the packaged rule-set: all 27 flowcharts, all 33 situations ---------------------
@pytest.fixture(scope="module")
def packaged() -> RuleSet:
    return load_ruleset(cache=False)


def test_properties_hold_for_every_situation_of_the_packaged_rule_set(packaged: RuleSet) -> None:
    cal = WorkCalendar()
    seen = set()
    for sid in packaged.situations:
        flow = for_situation(packaged, sid)
        seen.add(flow.id)
        plan = schedule(flow, dt.date(2026, 3, 2), cal, ruleset=packaged)
        check_notice_properties(packaged, flow, plan)
        asked = [m for s in flow.steps.values() for m in s.materials]
        check_notice_properties(packaged, flow, plan, on_file=tuple(dict.fromkeys(asked))[:3])
    assert seen == set(packaged.flowcharts)


def test_properties_hold_with_every_flag_on(packaged: RuleSet) -> None:
    flags = dict.fromkeys(packaged.flags, True)
    for fid in packaged.flowcharts:
        flow = resolve(packaged, fid, flags=flags)
        plan = schedule(flow, dt.date(2026, 3, 2), WorkCalendar(), "commitment", ruleset=packaged)
        check_notice_properties(packaged, flow, plan)


def test_toy_rules_have_every_flowchart(toy: RuleSet) -> None:
    assert set(toy.flowcharts) == {f"F{i:02d}" for i in range(1, 28)}
    assert len(resolve(toy, "F26").steps) == 3
