"""Rule-sets through time (issue 19): the catalogue and --as-of, the 2019 rule-set and its
four-stage invariants, the item map, and ``flowmatch diff``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatch.catalogue import catalogue_problems, packaged_root, ruleset_for, rulesets, select_rules
from flowmatch.checker import check
from flowmatch.cli import main
from flowmatch.diff import diff_rulesets as diff
from flowmatch.diff import under_each
from flowmatch.errors import InputError, RuleSetError
from flowmatch.flows import resolve
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.stages import counted_days


@pytest.fixture(scope="module")
def old() -> RuleSet:
    return load_ruleset(packaged_root() / "harbin-2014", cache=False)


@pytest.fixture(scope="module")
def coverage(old: RuleSet) -> dict[str, int]:
    return check(ruleset=old).coverage


@pytest.fixture(scope="module")
def new() -> RuleSet:
    return load_ruleset(packaged_root() / "harbin-2019", cache=False)


@pytest.fixture()
def copy_2019(tmp_path: Path) -> Path:
    target = tmp_path / "harbin-2019"
    shutil.copytree(packaged_root() / "harbin-2019", target)
    return target


def _edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


# --- catalogue ---------------------------------------------------------------------------------
def test_rulesets_lists_both_with_dates() -> None:
    infos = {i.name: i for i in rulesets()}
    assert set(infos) >= {"harbin-2014", "harbin-2019"}
    assert str(infos["harbin-2014"].effective_from) == "2014-09-01"
    assert str(infos["harbin-2014"].effective_to) == "2019-06-30"
    assert str(infos["harbin-2019"].effective_from) == "2019-07-01"
    assert infos["harbin-2019"].supersedes == ("harbin-2014",)
    assert infos["harbin-2014"].default and not infos["harbin-2019"].default
    assert catalogue_problems(list(infos.values())) == []


def test_rulesets_command() -> None:
    result = _run("rulesets", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)["rulesets"]}
    assert rows["harbin-2019"]["effective_from"] == "2019-07-01"
    assert rows["harbin-2014"]["effective_to"] == "2019-06-30"
    text = _run("rulesets").output
    assert "harbin-2014" in text and "2019-07-01" in text


def test_as_of_picks_different_rulesets() -> None:
    assert ruleset_for("2015-06-01").name == "harbin-2014"
    assert ruleset_for("2020-06-01").name == "harbin-2019"
    assert ruleset_for("2019-06-30").name == "harbin-2014"
    assert ruleset_for("2019-07-01").name == "harbin-2019"
    assert select_rules(None, "2015-06-01") != select_rules(None, "2020-06-01")
    assert select_rules(None, None) is None  # the default rule-set stays harbin-2014


def test_as_of_on_the_command_line() -> None:
    before = json.loads(_run("attributes", "--as-of", "2015-06-01", "--json").output)
    after = json.loads(_run("attributes", "--as-of", "2020-06-01", "--json").output)
    assert "risk_class" not in {a["id"] for a in before}
    assert "risk_class" in {a["id"] for a in after}
    default = json.loads(_run("attributes", "--json").output)
    assert default == before


def test_as_of_outside_every_ruleset() -> None:
    result = _run("list", "--as-of", "2010-06-01")
    assert result.exit_code == 2
    assert "no rule-set of harbin is in force on 2010-06-01; allowed: harbin-2014 (2014-09-01 – 2019-06-30)" in (
        result.output
    )
    result = _run("list", "--as-of", "2020-13-01")
    assert result.exit_code == 2 and "not a date: '2020-13-01' (use YYYY-MM-DD)" in result.output


def test_rules_by_name_and_by_date_must_agree() -> None:
    assert _run("list", "--rules", "harbin-2019", "--json").exit_code == 0
    result = _run("list", "--rules", "harbin-2019", "--as-of", "2015-06-01")
    assert result.exit_code == 2
    assert "rule-set harbin-2019 is not in force on 2015-06-01" in result.output
    result = _run("list", "--rules", "harbin-1999")
    assert result.exit_code == 2
    assert "no rule-set named 'harbin-1999' and no such directory; allowed: harbin-2014, harbin-2019" in result.output


def test_undated_ruleset_is_always_in_force(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(packaged_root() / "harbin-2014", root / "plain")

    def undate(data: dict[str, Any]) -> None:
        for key in ("effective_from", "effective_to", "jurisdiction"):
            data.pop(key, None)

    _edit(root / "plain" / "ruleset.yaml", undate)
    (info,) = rulesets(root)
    assert info.in_force(__import__("datetime").date(1990, 1, 1)) and not info.dated
    assert ruleset_for("2030-01-01", root=root).name == "plain"


# --- the 2019 rule-set -------------------------------------------------------------------------
def test_2019_check_passes(new: RuleSet) -> None:
    report = check(ruleset=new)
    assert report.ok, [f.message for f in report.findings]
    assert report.combinations == 64512 * 2
    assert len(new.flowcharts) == 28 and len(new.situations) == 34


def test_2014_check_still_passes(old: RuleSet) -> None:
    assert check(ruleset=old).ok


def test_2019_facts_carry_sources(new: RuleSet) -> None:
    sources = set(new.manifest.sources)
    assert "reconstruction" in sources
    for flow in new.flowcharts.values():
        assert flow.source and set(flow.source) <= sources
    for entry in new.item_map.items.values() if new.item_map else []:
        assert entry.source and set(entry.source) <= sources


def test_2019_flows_within_the_cap(new: RuleSet) -> None:
    spec = new.manifest.four_stage
    assert spec is not None and spec.cap.working_days == 120
    for sit in new.situations.values():
        flow = resolve(new, sit.flowchart, variants=sit.variants)
        assert counted_days(flow, whole_process=True) <= 120


def test_new_attributes_are_declared_in_2019_only(old: RuleSet, new: RuleSet) -> None:
    assert "risk_class" in new.attributes and "risk_class" not in old.attributes
    assert "land_with_scheme" in new.flags and "land_with_scheme" not in old.flags


def _findings(path: Path) -> list[str]:
    return [f.message for f in check(ruleset=load_ruleset(path, cache=False)).findings]


def test_joint_review_split_over_two_steps_is_found(copy_2019: Path) -> None:
    def split(data: dict[str, Any]) -> None:
        data["steps"]["second_review"] = {"item": "ZJ02", "depends_on": ["drawing_review"]}

    _edit(copy_2019 / "flowcharts" / "F10.yaml", split)
    assert "F10: the joint drawing review (ZJ02) is split over steps drawing_review, second_review" in _findings(
        copy_2019
    )


def test_commitment_without_verification_is_found(copy_2019: Path) -> None:
    def unverify(data: dict[str, Any]) -> None:
        data["steps"]["commitment_verification"]["depends_on"].remove("soil_water_conservation")

    _edit(copy_2019 / "flowcharts" / "F10.yaml", unverify)
    assert (
        "F10: step soil_water_conservation (SW01) is issued on a commitment at 0 days but no HC01 step verifies it later"
        in _findings(copy_2019)
    )


def test_flow_over_the_cap_is_found(copy_2019: Path) -> None:
    _edit(copy_2019 / "flowcharts" / "F10.yaml", lambda d: d["steps"]["construction_permit"].update(duration=100))
    found = _findings(copy_2019)
    assert any(m.startswith("F10 (S10) takes ") and m.endswith("the cap (guoban2019) is 120") for m in found), found


def test_stage_without_its_lead_is_found(copy_2019: Path) -> None:
    _edit(copy_2019 / "ruleset.yaml", lambda d: d["four_stage"]["stages"][3].update(lead="wwj"))
    assert "F10: stage 3 (施工许可) has no step of its lead department wwj" in _findings(copy_2019)


# --- the item map ------------------------------------------------------------------------------
def test_item_map_is_validated_at_load(copy_2019: Path) -> None:
    def break_map(data: dict[str, Any]) -> None:
        data["items"]["XF01"]["into"] = ["ZZ99"]
        data["items"]["ZJ01"]["source"] = []
        del data["items"]["HC01"]

    _edit(copy_2019 / "itemmap.yaml", break_map)
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(copy_2019, cache=False)
    text = str(caught.value)
    assert "items.XF01.into[0]: unknown item 'ZZ99' in this rule-set" in text
    assert "items.ZJ01.source: a abolished change needs its source (or reconstruction)" in text
    assert "item HC01 of this rule-set has no entry (same, renamed, new, or a target)" in text


def test_item_map_kinds(new: RuleSet) -> None:
    assert new.item_map is not None
    kinds = {e.change for e in new.item_map.items.values()}
    assert kinds >= {"same", "renamed", "merged_into", "abolished", "became_commitment", "new"}
    assert new.item_map.items["XF01"].into == ["ZJ02"]


# --- diff --------------------------------------------------------------------------------------
def test_diff_2014_2019_covers_every_profile_and_explains_every_change(old: RuleSet, new: RuleSet) -> None:
    report = diff(old, new)
    assert report.profiles == report.compared == 64512 * 2
    assert report.answerable_by_one_only == 0
    assert report.ok and report.unexplained == 0 and not report.problems
    assert report.changed > 0
    moved = [g for g in report.groups if g.change.before.flowchart != g.change.after.flowchart]
    assert {(g.change.before.flowchart, g.change.after.flowchart) for g in moved} == {("F12", "F28")}
    f10 = next(g for g in report.groups if g.change.before.flowchart == "F10")
    data = f10.to_dict()
    assert {"item": "ZJ01", "how": "abolished"} in data["steps_removed"]
    assert {"item": "XF02", "into": "ZJ02"} in data["steps_merged"]
    assert {"item": "HC01", "how": "new"} in data["steps_added"]
    assert "SW01" in data["became_commitment"]
    assert "funds_proof" in data["materials_no_longer_asked"]
    figures = {row["figure"] for row in report.summary}
    assert {"avg_steps", "avg_requisites", "avg_working_days", "profile_working_days"} <= figures


def test_diff_cli_exit_0_and_json(tmp_path: Path) -> None:
    result = _run("diff", "harbin-2014", "harbin-2019", "--json")
    assert result.exit_code == 0, result.output[-2000:]
    data = json.loads(result.output)
    assert data["coverage"] == 1.0 and data["ok"] and data["unexplained"] == 0
    text = _run("diff", "harbin-2014", "harbin-2019").output
    assert "OK: every change is explained by the item map" in text


def test_diff_of_an_edited_copy_reports_exactly_the_moved_profiles(old: RuleSet, rules_copy: Path) -> None:
    step = old.flowcharts["F22"].steps["rural_planning_permit"]
    limit = step.duration if step.duration is not None else old.items[step.item].promised
    _edit(
        rules_copy / "flowcharts" / "F22.yaml", lambda d: d["steps"]["rural_planning_permit"].update(duration=limit + 2)
    )
    edited = load_ruleset(rules_copy, cache=False)
    report = diff(old, edited)
    expected = sum(
        n
        for rid, n in check(ruleset=old).coverage.items()
        if rid in old.situations and old.situations[rid].flowchart == "F22"
    )
    assert report.changed == expected > 0
    assert report.unexplained == expected and not report.ok
    (group,) = report.groups
    change = f"[{limit:g}] → [{limit + 2:g}]"
    assert group.change.changed == (("GT13", "limit", change),)
    assert group.change.unexplained == (f"GT13: limit {change} is not explained by the item map",)
    result = _run("diff", str(packaged_root() / "harbin-2014"), str(rules_copy))
    assert result.exit_code == 1
    assert f"{expected} profiles have changes the item map does not explain" in result.output


def test_diff_of_an_unchanged_copy_is_empty(old: RuleSet, rules_copy: Path) -> None:
    report = diff(old, load_ruleset(rules_copy, cache=False))
    assert report.ok and report.changed == 0 and report.groups == []


def test_diff_profile_restricts_and_flags(old: RuleSet, new: RuleSet) -> None:
    report = diff(old, new, profile={"kind": "pipeline"})
    assert report.profiles == 64512 * 2 // 4
    assert {g.change.before.flowchart for g in report.groups} == {"F26"}
    with pytest.raises(InputError, match="unknown attribute or flag 'colour'; allowed: kind, "):
        diff(old, new, profile={"colour": "red"})
    with pytest.raises(InputError, match="unknown value 'castle' of kind; allowed: building, "):
        diff(old, new, profile={"kind": "castle"})
    flagged = diff(old, new, profile={"kind": "building", "land_with_scheme": "true"})
    assert flagged.ok
    f10 = next(g for g in flagged.groups if g.change.before.flowchart == "F10").to_dict()
    assert {"item": "GH01", "how": "switched off by land_with_scheme"} in f10["steps_removed"]


def test_one_project_under_each_ruleset(old: RuleSet, new: RuleSet) -> None:
    project = {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "enterprise",
        "acquisition": "tender_auction_listing",
        "regime": "filing",
        "building_use": "industrial",
        "risk_class": "simple_low_risk",
    }
    before, after = under_each([old, new], project, start="2020-06-01")
    assert (before["ruleset"], before["flowchart"]) == ("harbin-2014", "F12")
    assert (after["ruleset"], after["flowchart"]) == ("harbin-2019", "F28")
    assert after["schedule"]["working_days"] < before["schedule"]["working_days"]
    assert after["schedule"]["start"] == "2020-06-01"
    result = _run(
        "diff",
        "harbin-2014",
        "harbin-2019",
        "--start",
        "2020-06-01",
        *[f"--profile={k}={v}" for k, v in project.items()],
    )
    assert result.exit_code == 0
    assert "under each rule-set" in result.output and "F28" in result.output


# --- the other faces on the 2019 rule-set ------------------------------------------------------
def test_schedule_compare_under_both_rulesets() -> None:
    result = _run(
        "schedule",
        "F10",
        "--rules",
        "harbin-2019",
        "--compare",
        "--against",
        "harbin-2014",
        "--start",
        "2020-06-01",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"standard", "commitment", "rules:harbin-2014"}  # no pre-reform baseline in 2019
    assert data["standard"]["flowchart"] == data["rules:harbin-2014"]["flowchart"] == "F10"
    steps_2019 = {s["item"] for s in data["standard"]["steps"]}
    steps_2014 = {s["item"] for s in data["rules:harbin-2014"]["steps"]}
    assert "ZJ04" in steps_2014 and "ZJ04" not in steps_2019
    text = _run("schedule", "F10", "--rules", "harbin-2019", "--compare", "--against", "harbin-2014").output
    assert "under harbin-2014" in text and "under harbin-2019" in text


def test_show_stats_and_guide_work_on_2019(tmp_path: Path) -> None:
    assert _run("show", "F28", "--rules", "harbin-2019").exit_code == 0
    stats = _run("stats", "--rules", "harbin-2019", "--json")
    assert stats.exit_code == 0
    published = {row["figure"]: row for row in json.loads(stats.output)["published"]}
    assert published["cap_working_days"]["published"] == 120  # the 2019 manifest's own figures
    assert "avg_steps" not in published
    out = tmp_path / "notice.md"
    result = _run(
        "guide",
        "--rules",
        "harbin-2019",
        "kind=building",
        "land_nature=state_owned",
        "investor=enterprise",
        "acquisition=tender_auction_listing",
        "regime=filing",
        "building_use=industrial",
        "risk_class=simple_low_risk",
        "-o",
        str(out),
        "--format",
        "md",
        "--start",
        "2020-06-01",
    )
    assert result.exit_code == 0, result.output
    assert "F28 社会投资简易低风险工程" in out.read_text(encoding="utf-8")


def test_guide_batch_workers_use_the_ruleset_as_of_picks(tmp_path: Path) -> None:
    batch = tmp_path / "projects.csv"
    batch.write_text(
        "id,kind,land_nature,investor,acquisition,regime,building_use,risk_class,start\n"
        "p1,building,state_owned,enterprise,tender_auction_listing,filing,industrial,simple_low_risk,2020-06-01\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = _run("guide", "--as-of", "2020-06-01", "--batch", str(batch), "-o", str(out), "--format", "md")
    assert result.exit_code == 0, result.output
    (notice,) = out.glob("p1*")
    assert "F28" in notice.read_text(encoding="utf-8")


def test_catalogue_finds_overlapping_and_unknown_succession(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    for name in ("harbin-2014", "harbin-2019"):
        shutil.copytree(packaged_root() / name, root / name)
    _edit(root / "harbin-2019" / "ruleset.yaml", lambda d: d.update(effective_from="2019-01-01", supersedes=["x"]))
    problems = catalogue_problems(rulesets(root))
    assert problems == [
        "harbin-2019 supersedes unknown rule-set 'x'; known: harbin-2014, harbin-2019",
        "harbin-2014 and harbin-2019 (harbin) are both in force from 2019-01-01",
    ]


_UNCONDITIONAL = sorted(
    (fid, sid)
    for fid, flow in load_ruleset(packaged_root() / "harbin-2014", cache=False).flowcharts.items()
    for sid, step in flow.steps.items()
    if step.when is None and not step.variants
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(_UNCONDITIONAL), days=st.integers(min_value=1, max_value=30))
def test_diff_of_any_one_step_edit_reports_exactly_its_flowcharts_profiles(
    old: RuleSet,
    coverage: dict[str, int],
    tmp_path_factory: pytest.TempPathFactory,
    target: tuple[str, str],
    days: int,
) -> None:
    fid, sid = target
    copy = tmp_path_factory.mktemp("edit") / "harbin-2014"
    shutil.copytree(packaged_root() / "harbin-2014", copy)
    before = old.flowcharts[fid].steps[sid]
    current = before.duration if before.duration is not None else old.items[before.item].promised
    new_days = days if days != current else days + 1
    _edit(copy / "flowcharts" / f"{fid}.yaml", lambda d: d["steps"][sid].update(duration=new_days))
    report = diff(old, load_ruleset(copy, cache=False))
    expected = sum(n for rid, n in coverage.items() if rid in old.situations and old.situations[rid].flowchart == fid)
    assert report.changed == report.unexplained == expected


def test_notice_shows_the_project_under_both_rulesets(tmp_path: Path) -> None:
    project = [
        "kind=building",
        "land_nature=state_owned",
        "investor=enterprise",
        "acquisition=tender_auction_listing",
        "regime=filing",
        "building_use=industrial",
        "risk_class=simple_low_risk",
    ]
    for fmt in ("md", "html"):
        out = tmp_path / f"notice.{fmt}"
        result = _run(
            "guide",
            "--rules",
            "harbin-2019",
            *project,
            "--compare-rules",
            "harbin-2014",
            "--start",
            "2020-06-01",
            "--format",
            fmt,
            "-o",
            str(out),
        )
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert "按不同规则集办理对照" in text
        assert "F28 社会投资简易低风险工程（工业仓储）" in text and "F12 招拍挂、出让·工业仓储" in text
    plain = tmp_path / "plain.md"
    assert (
        _run(
            "guide", "--rules", "harbin-2019", *project, "--start", "2020-06-01", "--format", "md", "-o", str(plain)
        ).exit_code
        == 0
    )
    assert "按不同规则集办理对照" not in plain.read_text(encoding="utf-8")
