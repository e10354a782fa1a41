from __future__ import annotations

from pathlib import Path

import pytest

from flowmatch.checker import Space, check
from flowmatch.ruleset import RuleSet, load_ruleset


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_packaged_ruleset_is_complete_and_exclusive(ruleset: RuleSet) -> None:
    report = check(ruleset=ruleset)
    assert report.findings == ()
    assert report.ok
    assert report.combinations == 4 * 2 * 4 * 6 * 2 * 7 * 3 * 8
    assert sum(report.coverage.values()) == report.combinations
    assert report.by_category["negotiated_transfer"]["situations"] == 14
    assert report.by_category["negotiated_transfer"]["flowcharts"] == 8


def test_space_round_trips_every_index(ruleset: RuleSet) -> None:
    space = Space(ruleset)
    seen = set()
    for index in range(0, space.size, 97):
        profile = space.profile(index)
        bits = space.full
        for attribute, value in profile.items():
            bits &= space.leaf_bits(attribute, frozenset([value]))
        assert bits == 1 << index
        seen.add(tuple(profile.values()))
    assert len(seen) == len(range(0, space.size, 97))


def test_overlap_and_gap_come_with_example_profiles(rules_copy: Path) -> None:
    sit = rules_copy / "situations.yaml"
    # S12 now also claims commercial housing (overlap with S10) ...
    _edit(
        sit,
        "      - eq: {regime: filing, building_use: industrial}",
        "      - eq: {regime: filing}\n      - in:\n          building_use: [industrial, commercial_housing]",
    )
    # ... and NA14 disappears (gap: schools on collective land).
    text = sit.read_text(encoding="utf-8")
    sit.write_text(text[: text.index("  NA14:")], encoding="utf-8")
    report = check(ruleset=load_ruleset(rules_copy, cache=False))
    kinds = {f.kind: f for f in report.findings}
    assert set(kinds) == {"gap", "overlap"}
    gap = kinds["gap"]
    assert gap.message == "1008 combinations covered by no situation and no not-applicable rule"
    assert gap.example is not None and gap.example["land_nature"] == "collective"
    assert gap.example["building_use"] == "public_welfare" and gap.example["kind"] == "building"
    assert gap.where == "harbin-2014/situations.yaml:1:1"
    overlap = kinds["overlap"]
    assert overlap.rules == ("S10", "S12")
    assert overlap.where is not None and overlap.where.startswith("harbin-2014/situations.yaml:")
    line = int(overlap.where.split(":")[1])
    assert (rules_copy / "situations.yaml").read_text(encoding="utf-8").splitlines()[line - 1] == "  S10:"
    assert overlap.message.startswith("S10 and S12 both hold for ")
    assert overlap.example is not None and overlap.example["building_use"] == "commercial_housing"


def test_unused_flowchart_and_category_counts(rules_copy: Path) -> None:
    src = rules_copy / "flowcharts" / "F27.yaml"
    (rules_copy / "flowcharts" / "F28.yaml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    report = check(ruleset=load_ruleset(rules_copy, cache=False))
    messages = [f.message for f in report.findings]
    assert "flowchart F28 is selected by no situation" in messages
    assert "category infrastructure (基础工程类) has 3 situations / 4 flowcharts; expected 3 / 3" in messages


def test_unreachable_situation(rules_copy: Path) -> None:
    _edit(
        rules_copy / "situations.yaml",
        "    when:\n      eq: {kind: station}",
        "    when:\n      all:\n      - eq: {kind: station}\n      - not: {eq: {kind: station}}",
    )
    report = check(ruleset=load_ruleset(rules_copy, cache=False))
    assert [f.message for f in report.findings if f.kind == "unreachable"] == ["S33 is never the one rule that holds"]
    assert any(f.kind == "gap" for f in report.findings)


def test_asked_when_must_agree_with_the_rules(rules_copy: Path) -> None:
    _edit(
        rules_copy / "attributes.yaml",
        "    asked_when: {eq: {kind: building, land_nature: state_owned, investor: government, acquisition: allocation_new}}",
        "    asked_when: {eq: {investor: enterprise}}",
    )
    report = check(ruleset=load_ruleset(rules_copy, cache=False))
    (finding,) = [f for f in report.findings if f.kind == "asked_when"]
    assert finding.message.startswith("management is needed to decide")
    assert finding.example is not None and finding.example["investor"] == "government"


@pytest.mark.parametrize("flow", ["F10", "F22"])
def test_invariants_fail_loudly_on_a_broken_flowchart(rules_copy: Path, ruleset: RuleSet, flow: str) -> None:
    path = rules_copy / "flowcharts" / f"{flow}.yaml"
    permit = next(sid for sid, s in ruleset.flowcharts[flow].steps.items() if s.item == "ZJ07")
    text = path.read_text(encoding="utf-8")
    # Cut every prerequisite of the construction permit: it no longer follows the planning permits.
    import yaml

    data = yaml.safe_load(text)
    data["steps"][permit]["depends_on"] = []
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    report = check(ruleset=load_ruleset(rules_copy, cache=False))
    broken = [f for f in report.findings if f.kind == "invariant" and f.rules[0] == flow]
    assert broken, "breaking the permit's prerequisites must violate an invariant"
    order = [f for f in broken if "must come before" in f.message]
    assert order and all(f"must come before {permit}" in f.message for f in order)
    # The rest are the same cut seen from the materials side: the permit (and the steps after it)
    # now ask for documents (planning permit, drawing-review certificate) no upstream step issued.
    assert all(" violates materials_issued_upstream: " in f.message for f in broken if f not in order)
    assert all(f.where and f"flowcharts/{flow}.yaml:" in f.where for f in broken)
