"""The CLI's JSON contract (SPEC §8) and exit codes."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from click.testing import CliRunner

from flowmatch.calendar import WorkCalendar, load_overrides, next_workday
from flowmatch.cli import main
from flowmatch.ruleset import RuleSet

README_PROJECT = [
    "investor=enterprise",
    "land_nature=state_owned",
    "kind=building",
    "acquisition=tender_auction_listing",
    "regime=filing",
    "building_use=commercial_housing",
]


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_attributes_json(ruleset: RuleSet) -> None:
    code, out, _ = run("attributes", "--json")
    assert code == 0
    data = json.loads(out)
    assert [a["id"] for a in data if a["kind"] == "choice"] == list(ruleset.attributes)
    kind = data[0]
    assert set(kind) >= {"id", "label", "values", "asked_when"}
    assert kind["values"][0] == {"id": "building", "label": "房屋建筑", "gloss": "Buildings"}
    negotiated = next(a for a in data if a["id"] == "negotiated_origin")
    assert negotiated["asked_when"] == {
        "all": [
            {"eq": {"kind": "building"}},
            {"eq": {"land_nature": "state_owned"}},
            {"eq": {"acquisition": "negotiated_transfer"}},
        ]
    }


def test_match_readme_example() -> None:
    code, out, _ = run("match", *README_PROJECT)
    assert code == 0
    assert "S10" in out and "F10" in out and "依据" in out
    code, out, _ = run("match", "--json", *README_PROJECT)
    data = json.loads(out)
    assert {k: data[k] for k in ("status", "situation", "flowchart", "category")} == {
        "status": "matched",
        "situation": "S10",
        "flowchart": "F10",
        "category": "tender_auction_listing",
    }
    assert data["missing"] == [] and data["reason"] is None and data["explanation"]


def test_match_exit_codes() -> None:
    assert run("match", "kind=building")[0] == 1
    code, out, _ = run("match", "--json", "kind=building", "land_nature=collective", "building_use=industrial")
    assert code == 1 and json.loads(out)["status"] == "not_applicable"
    code, out, _ = run("match", "--json", "kind=castle")
    assert code == 2 and json.loads(out)["invalid"][0]["allowed"] == ["building", "road_bridge", "pipeline", "station"]
    code, _, err = run("match", "kind")
    assert code == 2 and err == "error: expected attribute=value, got 'kind'\n"


def test_match_json_lines_reports_bad_lines_and_goes_on() -> None:
    lines = [
        json.dumps({"kind": "road_bridge"}),
        "{not json",
        "[1, 2]",
        "",
        json.dumps({"kind": "building", "land_nature": "collective", "building_use": "township_enterprise"}),
        json.dumps({"kind": "road_bridge"}),
    ]
    code, out, _ = run("match", "-", input="\n".join(lines) + "\n")
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 2
    assert [r["line"] for r in results] == [1, 2, 3, 5, 6]
    assert [r["status"] for r in results] == ["matched", "invalid", "invalid", "matched", "matched"]
    assert results[1]["error"].startswith("line is not valid JSON: ")
    assert results[2]["error"] == "expected a JSON object of attribute to value, got list"
    assert results[3]["flowchart"] == "F22" and results[4]["flowchart"] == "F25"


def test_show_json(ruleset: RuleSet) -> None:
    code, out, _ = run("show", "F10", "--json")
    assert code == 0
    data = json.loads(out)
    assert {"id", "name", "category", "steps"} <= set(data)
    assert data["id"] == "F10" and data["category"] == "tender_auction_listing"
    step = data["steps"][0]
    assert {"id", "item", "name", "department", "duration", "counted", "depends_on"} <= set(step)
    ids = [s["id"] for s in data["steps"]]
    for s in data["steps"]:
        assert all(ids.index(d) < ids.index(s["id"]) for d in s["depends_on"])


def test_show_unknown_flowchart_lists_allowed() -> None:
    code, _, err = run("show", "F99")
    assert code == 2
    assert err.startswith("error: unknown flowchart 'F99'; allowed: F01, F02,")


def test_show_flags_switch_optional_steps(ruleset: RuleSet) -> None:
    plain = json.loads(run("show", "F26", "--json")[1])
    flagged = json.loads(run("show", "F26", "--json", "--flag", "occupies_road", "--flag", "removes_trees")[1])
    assert len(flagged["steps"]) > len(plain["steps"])
    code, _, err = run("show", "F26", "--flag", "sunny")
    assert code == 2 and err.startswith("error: unknown flag 'sunny'; allowed: farmland_conversion,")


def test_check_json() -> None:
    code, out, _ = run("check", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True
    assert data["combinations"] == 64512


def test_check_text_states_the_combinations() -> None:
    code, out, _ = run("check")
    assert code == 0
    assert "枚举 64512 种属性组合 / enumerated 64512 combinations" in out
    assert "complete and exclusive" in out


def test_schedule_json_and_compare() -> None:
    code, out, _ = run("schedule", "F10", "--json", "--start", "2026-03-02")
    data = json.loads(out)
    assert code == 0
    assert {
        "flowchart",
        "working_days",
        "elapsed_working_days",
        "critical_path",
        "stages",
        "steps",
        "start",
        "finish",
    } <= set(data)
    assert {"id", "es", "ef", "ls", "lf", "slack", "start", "end"} <= set(data["steps"][0])
    code, out, _ = run("schedule", "F10", "--json", "--start", "2026-12-01", "--compare", "--assume-weekends")
    both = json.loads(out)
    assert code == 0 and set(both) == {"standard", "commitment", "baseline"}
    code, out, _ = run("schedule", "F10", "--start", "2026-12-01", "--compare", "--assume-weekends")
    assert "改革前 baseline" in out and "告知承诺 commitment" in out


def test_schedule_past_calendar_data_is_a_clear_error_when_strict() -> None:
    code, _, err = run("schedule", "F01", "--start", "2026-12-01", "--strict-calendar")
    assert code == 1
    assert err.startswith("error: no official working-day data for 2027")


def test_schedule_past_calendar_data_is_estimated_and_marked() -> None:
    code, out, err = run("schedule", "F01", "--start", "2026-12-01", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["finish"].startswith("2027-") and data["finish_estimated"] is True and data["estimated"] is True
    assert data["estimated_from"].startswith("2027-")
    assert all(s["estimated"] == (s["end"] >= data["estimated_from"]) for s in data["steps"])
    assert "warning: 2027年节假日安排尚未公布" in err
    code, out, _ = run("schedule", "F01", "--start", "2026-12-01")
    assert code == 0 and "* 预计 estimated:" in out


def test_schedule_with_calendar_override_applies_its_holidays_and_make_up_days(tmp_path: Path) -> None:
    """The override's days replace the estimate: a holiday moves the finish later, a make-up
    Sunday earlier, and nothing is marked as estimated."""

    def finish(*extra: str) -> tuple[str, bool]:
        code, out, _ = run("schedule", "F22", "--start", "2026-12-21", "--json", *extra)
        assert code == 0
        data = json.loads(out)
        return data["finish"], data["finish_estimated"]

    plain = tmp_path / "plain.yaml"
    plain.write_text("years: [2027]\n", encoding="utf-8")  # no days off at all in 2027
    moved = tmp_path / "moved.yaml"
    moved.write_text("years: [2027]\nholidays: [2027-01-04, 2027-01-05]\nworkdays: [2027-01-03]\n", encoding="utf-8")
    base, base_estimated = finish("--calendar", str(plain))
    assert not base_estimated and base > "2027-01-05"
    shifted, shifted_estimated = finish("--calendar", str(moved))
    assert not shifted_estimated
    # two weekdays off, one Sunday worked: the finish moves by exactly one working day
    base_day = dt.date.fromisoformat(base)
    expected = next_workday(base_day + dt.timedelta(days=1), load_overrides(plain))
    assert dt.date.fromisoformat(shifted) == expected
    estimated, is_estimated = finish()
    assert is_estimated and estimated >= base  # the estimate keeps New Year's Day off


def test_schedule_start_on_a_day_off_is_refused_with_the_next_working_day() -> None:
    code, _, err = run("schedule", "F10", "--start", "2026-03-01")  # a Sunday
    assert code == 2
    assert "next working day: 2026-03-02" in err


def test_schedule_without_start_dates_from_the_first_working_day_from_today() -> None:
    code, out, _ = run("schedule", "F10", "--json")
    assert code == 0
    today = dt.date.today()
    assert json.loads(out)["start"] == next_workday(today, WorkCalendar()).isoformat()


def test_stats_json_lands_on_the_published_figures() -> None:
    code, out, _ = run("stats", "--json")
    data = json.loads(out)
    assert {
        "situations",
        "flowcharts",
        "by_category",
        "avg_steps",
        "avg_requisites",
        "avg_working_days",
        "fastest",
        "baseline",
        "reduction",
    } <= set(data)
    # Every figure lands within tolerance, or the manifest says why it cannot (issue 12: the
    # statutory order comes first; the gap is reported, never closed by dropping a required edge).
    failed = [r for r in data["published"] if r["ok"] is False]
    assert all(r["gap"] for r in failed), failed
    assert {r["figure"] for r in failed} <= {
        "avg_steps",
        "avg_working_days",
        "reduction_steps",
        "reduction_working_days",
        "reduction_requisites_database",
    }
    assert code == 0
    assert data["fastest"]["flowchart"] == "F22" and data["fastest"]["working_days"] == 19


def test_stats_fails_on_a_figure_out_of_tolerance_without_a_stated_gap(tmp_path: Path) -> None:
    import shutil

    from flowmatch.ruleset import default_rules_path

    rules = tmp_path / "harbin-2014"
    shutil.copytree(default_rules_path(), rules)
    manifest = rules / "ruleset.yaml"
    text = manifest.read_text(encoding="utf-8")
    start = text.index("  avg_working_days: {")
    end = text.index("}", start)
    manifest.write_text(
        text[:start] + "  avg_working_days: {value: 32.3, tolerance: 1.5, tolerance_kind: absolute, "
        "source: seed003" + text[end:],
        encoding="utf-8",
    )
    code, out, _ = run("stats", "--rules", str(rules))
    assert code == 1 and "✗ 超出容差" in out
    code, out, _ = run("stats")
    assert code == 0 and "✗ 差距（见说明）" in out and "差距 gap · avg_working_days:" in out


def test_stats_calibration_lists_each_calibrated_limit() -> None:
    code, out, _ = run("stats", "--calibration", "--json")
    rows = json.loads(out)["calibration"]
    assert code == 0 and {"ZJ02", "FG04", "HB01"} <= {r["item"] for r in rows}
    drawing = next(r for r in rows if r["item"] == "ZJ02")
    assert (drawing["promised"], drawing["statutory"], drawing["statutory_unit"]) == (7, 15, "working_day")
    code, out, _ = run("stats", "--calibration")
    assert code == 0 and "校准的承诺时限 calibrated promised limits" in out


def test_check_provenance_lists_reconstructed_facts_with_file_and_line() -> None:
    code, out, _ = run("check", "--provenance")
    assert code == 0
    assert "重建或校准的数据 / facts resting on reconstruction or calibration:" in out
    assert re.search(r"harbin-2014/items\.yaml:\d+:\d+: LH01 .* · members = .*\[seed003, reconstruction\]", out)
    data = json.loads(run("check", "--provenance", "--json")[1])
    assert data["ok"] and any(r["tags"] == ["calibrated"] for r in data["provenance"])


def test_list_json_and_bad_category() -> None:
    rows = json.loads(run("list", "--json")[1])
    assert len(rows) == 27 and sum(len(r["situations"]) for r in rows) == 33
    code, _, err = run("list", "--category", "castles")
    assert code == 2 and err.startswith("error: unknown category 'castles'; allowed: government_investment,")


def test_bad_rules_directory_exits_2(tmp_path: Path) -> None:
    code, _, err = run("check", "--rules", str(tmp_path))
    assert code == 2
    assert "not a rule-set directory: ruleset.yaml is missing" in err
