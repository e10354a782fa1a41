"""Each domain invariant of the packaged rule-set (``invariants.yaml``), one per defect class of
issue 12: the packaged data passes it, and a copy with one edge (or tag, or department) broken fails
it with a finding that names the YAML file and line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowmatch.checker import Finding, check, provenance
from flowmatch.flows import for_situation
from flowmatch.materials import consolidate
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.scheduler import schedule
from flowmatch.stats import calibration

WHERE = re.compile(r"^harbin-2014/[a-z/0-9A-Z]+\.yaml:\d+:\d+$")


def _flow(rules: Path, fid: str) -> tuple[Path, dict[str, Any]]:
    path = rules / "flowcharts" / f"{fid}.yaml"
    return path, yaml.safe_load(path.read_text(encoding="utf-8"))


def _save(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _findings(rules: Path, invariant: str) -> list[Finding]:
    report = check(ruleset=load_ruleset(rules, cache=False))
    return [f for f in report.findings if f" violates {invariant}:" in f.message]


def _located(found: list[Finding], file: str) -> None:
    assert found
    for f in found:
        assert f.where is not None and WHERE.match(f.where), f.where
        assert f.where.startswith(f"harbin-2014/{file}:")


def test_packaged_ruleset_passes_every_invariant(ruleset: RuleSet) -> None:
    report = check(ruleset=ruleset)
    assert report.ok, [f.message for f in report.findings][:5]
    declared = {
        "materials_issued_upstream",
        "merged_items_absent",
        "land_document_before_works_permit",
        "fire_filing_after_permit",
        "eia_before_project_approval",
        "collective_land_county_level",
        "occupational_hazard_by_work_safety",
        "transfer_requires_land_use_permit",
        "facts_carry_sources",
        "site_selection_before_approval",
        "quality_supervision_after_drawing_review",
    }
    assert declared <= set(ruleset.invariants)


def test_a_material_asked_before_the_step_that_issues_it(rules_copy: Path) -> None:
    path, data = _flow(rules_copy, "F01")
    data["steps"]["works_planning_permit"]["depends_on"].remove("allocation_decision")
    _save(path, data)
    found = _findings(rules_copy, "materials_issued_upstream")
    _located(found, "flowcharts/F01.yaml")
    assert any(
        "step works_planning_permit [GH02] asks for land_title_doc" in f.message
        and "step allocation_decision [GT05] issues but is not upstream" in f.message
        for f in found
    )
    # The same cut breaks the statutory order of 城乡规划法 §40 too.
    assert _findings(rules_copy, "land_document_before_works_permit")


def test_fire_design_filing_follows_the_permit(rules_copy: Path) -> None:
    path, data = _flow(rules_copy, "F10")
    data["steps"]["fire_design_filing"]["depends_on"] = ["construction_drawing_design"]
    _save(path, data)
    found = _findings(rules_copy, "fire_filing_after_permit")
    _located(found, "flowcharts/F10.yaml")
    assert "(step construction_permit [ZJ07] must come before fire_design_filing [XF02])" in found[0].message


def test_eia_precedes_verification(rules_copy: Path) -> None:
    path, data = _flow(rules_copy, "F04")
    data["steps"]["project"]["depends_on"].remove("eia")
    _save(path, data)
    found = _findings(rules_copy, "eia_before_project_approval")
    _located(found, "flowcharts/F04.yaml")
    assert "(step eia [HB01] must come before project [FG04])" in found[0].message


def test_eia_precedes_verification_only_in_the_verification_variant(rules_copy: Path) -> None:
    path, data = _flow(rules_copy, "F16")
    data["steps"]["project"]["variants"]["verification"].pop("depends_on")
    _save(path, data)
    found = _findings(rules_copy, "eia_before_project_approval")
    _located(found, "flowcharts/F16.yaml")
    assert found[0].message.endswith("(variant project=verification)")


def test_a_merged_item_never_appears(rules_copy: Path) -> None:
    path, data = _flow(rules_copy, "F10")
    data["steps"]["energy_review"] = {"item": "FG09", "depends_on": ["project"]}
    _save(path, data)
    found = _findings(rules_copy, "merged_items_absent")
    _located(found, "flowcharts/F10.yaml")
    assert "(step energy_review uses FG09, merged into FG06)" in found[0].message


def test_occupational_hazard_belongs_to_the_work_safety_bureau(rules_copy: Path) -> None:
    path, data = _flow(rules_copy, "F12")
    data["steps"]["health_assessment"]["department"] = "wsj"
    _save(path, data)
    found = _findings(rules_copy, "occupational_hazard_by_work_safety")
    _located(found, "flowcharts/F12.yaml")
    assert "is handled by wsj; allowed: ajj, xaj" in found[0].message


def test_collective_land_is_handled_at_county_level(rules_copy: Path) -> None:
    path, data = _flow(rules_copy, "F22")
    del data["steps"]["rural_planning_permit"]["department"]
    _save(path, data)
    found = _findings(rules_copy, "collective_land_county_level")
    _located(found, "flowcharts/F22.yaml")
    assert "(step rural_planning_permit [GT13] is handled by ghj)" in found[0].message


def test_a_transfer_contract_needs_a_land_use_planning_permit(rules_copy: Path) -> None:
    path, data = _flow(rules_copy, "F16")
    del data["steps"]["land_use_permit"]
    for step in data["steps"].values():
        if "land_use_permit" in step.get("depends_on", []):
            step["depends_on"].remove("land_use_permit")
    _save(path, data)
    found = _findings(rules_copy, "transfer_requires_land_use_permit")
    _located(found, "flowcharts/F16.yaml")


def test_every_fact_carries_a_source_and_promised_limits_stay_within_the_law(rules_copy: Path) -> None:
    path = rules_copy / "items.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  provenance: {statutory: [law], promised: [press2014]}\n", "", 1)  # GT04
    text = text.replace("  promised: 8\n", "  promised: 25\n", 1)  # GH02, statutory 20 working days
    path.write_text(text, encoding="utf-8")
    report = check(ruleset=load_ruleset(rules_copy, cache=False))
    tags = [f for f in report.findings if f.kind == "provenance"]
    bounds = [f for f in report.findings if f.kind == "calibration"]
    assert {f.message for f in tags} == {
        "item GT04: promised has no source tag (provenance.promised)",
        "item GT04: statutory has no source tag (provenance.statutory)",
    }
    assert [f.message for f in bounds] == ["item GH02: promised 25 exceeds the statutory limit 20 (working_day)"]
    for f in (*tags, *bounds):
        assert f.where is not None and f.where.startswith("harbin-2014/items.yaml:")


def test_provenance_lists_what_rests_on_reconstruction(ruleset: RuleSet) -> None:
    rows = provenance(ruleset)
    assert rows and all({"reconstruction", "calibrated"} & set(r.tags) for r in rows)
    whats = {(r.what.split()[0], r.fact) for r in rows}
    assert ("S01", "situation") in whats  # the 33-situation split is a reconstruction
    assert ("LH01", "members") in whats  # the 14 members of the joint site survey too
    assert ("ZJ02", "promised") in whats  # a calibrated promised limit
    assert ("GT04", "promised") not in whats  # 8 → 5 days is reported by the 2014 press


def test_calibration_lists_each_calibrated_limit_within_the_statutory_one(ruleset: RuleSet) -> None:
    rows = calibration(ruleset)
    assert rows
    for row in rows:
        item = ruleset.items[row["item"]]
        assert "calibrated" in item.provenance["promised"]
        if row["statutory"] is not None and row["statutory_unit"] in ("working_day", "day"):
            assert row["promised"] <= row["statutory"]


def test_no_step_overrides_a_duration_without_a_source(ruleset: RuleSet) -> None:
    for fid, flow in ruleset.flowcharts.items():
        for sid, step in flow.steps.items():
            if step.duration is not None:
                assert step.provenance.get("duration"), f"{fid}.{sid}"


@pytest.mark.parametrize("all_flags", [False, True])
def test_no_notice_asks_for_a_document_before_the_step_that_issues_it(ruleset: RuleSet, all_flags: bool) -> None:
    """Over all 33 situations (so all 27 flowcharts and every variant): a material the flow itself
    issues is never asked from the applicant, unless it is 容缺 and the notice gives its supply-by date."""
    flags = dict.fromkeys(ruleset.flags, True) if all_flags else {}
    seen = set()
    for sid in ruleset.situations:
        flow = for_situation(ruleset, sid, flags=flags)
        seen.add(flow.id)
        sched = schedule(flow, "2014-09-01", ruleset=ruleset)
        mats = consolidate(flow, ruleset, schedule=sched)
        for m in mats.to_prepare:
            # (a step may ask for the document it replaces, e.g. the contract its amendment amends)
            if any(m.id in s.produces for s in flow.steps.values() if s.id not in m.steps):
                assert m.deficiency and m.supply_by is not None, f"{sid} ({flow.id}) asks for {m.id} in {m.steps}"
    assert len(seen) == 27
