"""``flowmatch guide``: one notice, and batches for staff (on the toy rule-set)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowmatch import cli_guide
from flowmatch.calendar import WorkCalendar, next_workday
from flowmatch.cli import main
from flowmatch.errors import FlowmatchError
from notice_toy import F10_PROFILE, write_toy_rules

PAIRS = [f"{k}={v}" for k, v in F10_PROFILE.items()]
F22 = ["kind=building", "land_nature=collective", "building_use=township_enterprise"]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_rules(tmp_path_factory.mktemp("toy") / "rules")


def run(rules: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["guide", "--rules", str(rules), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


# --- one project -------------------------------------------------------------------------------------
def test_writes_one_html_notice(rules: Path, tmp_path: Path) -> None:
    out = tmp_path / "notice.html"
    code, _, stderr = run(
        rules, *PAIRS, "--start", "2026-03-02", "--name", "示例住宅", "--applicant", "某公司", "-o", str(out)
    )
    assert code == 0, stderr
    html = out.read_text(encoding="utf-8")
    assert "示例住宅" in html and "某公司" in html and "<svg" in html
    assert "wrote" in stderr and "S10 → F10, 29 working days, finish 2026-04-27" in stderr
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_json_summary_and_format_from_the_extension(rules: Path, tmp_path: Path) -> None:
    out = tmp_path / "notice.md"
    code, stdout, _ = run(rules, *PAIRS, "--start", "2026-03-02", "-o", str(out), "--json")
    assert code == 0
    data = json.loads(stdout)
    assert data == {
        "output": str(out),
        "format": "md",
        "situation": "S10",
        "flowchart": "F10",
        "working_days": 29,
        "elapsed_working_days": 39,
        "start": "2026-03-02",
        "finish": "2026-04-27",
        "warnings": [],
    }
    assert out.read_text(encoding="utf-8").startswith("# 建设项目审批一次性告知书")


def test_markdown_to_standard_output(rules: Path) -> None:
    code, stdout, _ = run(rules, *F22, "--start", "2026-03-02", "--format", "md")
    assert code == 0
    assert "S28" in stdout and "F22" in stdout


def test_existing_file_needs_force(rules: Path, tmp_path: Path) -> None:
    out = tmp_path / "notice.html"
    out.write_text("old", encoding="utf-8")
    code, _, stderr = run(rules, *PAIRS, "--start", "2026-03-02", "-o", str(out))
    assert code == 2
    assert f"error: {out} exists; pass --force to overwrite it" in stderr
    assert out.read_text(encoding="utf-8") == "old"
    code, _, _ = run(rules, *PAIRS, "--start", "2026-03-02", "-o", str(out), "--force")
    assert code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_incomplete_profile_lists_what_is_missing(rules: Path, tmp_path: Path) -> None:
    code, _, stderr = run(rules, "kind=building", "-o", str(tmp_path / "x.html"))
    assert code == 2
    assert "error: the profile is incomplete; still needed: land_nature (土地性质): state_owned, collective;" in stderr
    assert not (tmp_path / "x.html").exists()


def test_not_applicable_profile_says_why(rules: Path, tmp_path: Path) -> None:
    code, _, stderr = run(
        rules,
        "kind=building",
        "land_nature=collective",
        "building_use=commercial_housing",
        "-o",
        str(tmp_path / "x.html"),
    )
    assert code == 2
    assert "error: the project is not applicable (" in stderr


def test_invalid_value_lists_allowed_values(rules: Path, tmp_path: Path) -> None:
    code, _, stderr = run(rules, "kind=castle", "-o", str(tmp_path / "x.html"))
    assert code == 2
    assert "error: the profile is invalid: kind: unknown value 'castle'; allowed: building, road_bridge" in stderr


def test_no_pairs_is_a_usage_error(rules: Path) -> None:
    code, _, stderr = run(rules, "--format", "md")
    assert code == 2
    assert "error: give the project as ATTRIBUTE=VALUE pairs (or --batch FILE); allowed: kind," in stderr


def test_pdf_needs_an_output_file(rules: Path) -> None:
    code, _, stderr = run(rules, *PAIRS, "--format", "pdf")
    assert code == 2 and "error: PDF output needs -o FILE" in stderr


def test_output_directory_or_missing_parent(rules: Path, tmp_path: Path) -> None:
    code, _, stderr = run(rules, *PAIRS, "-o", str(tmp_path))
    assert code == 2 and "is a directory; give a file name (or use --batch for a directory)" in stderr
    code, _, stderr = run(rules, *PAIRS, "-o", str(tmp_path / "no" / "x.html"))
    assert code == 2 and f"error: directory {tmp_path / 'no'} does not exist" in stderr


def test_start_must_be_a_working_day(rules: Path, tmp_path: Path) -> None:
    code, _, stderr = run(rules, *PAIRS, "--start", "2026-10-01", "-o", str(tmp_path / "x.html"))
    assert code == 2
    assert (
        "error: start date 2026-10-01 is not a working day; the acceptance day must be one "
        "(next working day: 2026-10-08)"
    ) in stderr
    code, _, stderr = run(rules, *PAIRS, "--start", "2026-13-01", "-o", str(tmp_path / "x.html"))
    assert code == 2 and "error: start date '2026-13-01' is not a date; allowed: YYYY-MM-DD" in stderr


def test_calendar_beyond_known_years(rules: Path, tmp_path: Path) -> None:
    # default: estimated, and every estimated date marked beside it, with no program options shown
    code, _, stderr = run(rules, *PAIRS, "--start", "2026-12-14", "-o", str(tmp_path / "x.md"))
    assert code == 0, stderr
    notice = (tmp_path / "x.md").read_text(encoding="utf-8")
    assert "注意：2027年节假日安排尚未公布，本告知书中标注“预计”的日期按法定节假日推算（未计调休）" in notice
    assert "2026年12月14日（周一）（预计）" not in notice  # the acceptance day itself is not an estimate
    assert re.search(r"2027年\d+月\d+日（周.）（预计）", notice)
    assert not re.search(r"--[a-z]", notice)  # no program options on what the applicant reads
    # strict: the old refusal
    code, _, stderr = run(rules, *PAIRS, "--start", "2027-03-01", "--strict-calendar", "-o", str(tmp_path / "s.md"))
    assert code == 1 and "error: no official working-day data for 2027" in stderr
    code, _, stderr = run(rules, *PAIRS, "--start", "2027-03-01", "--assume-weekends", "-o", str(tmp_path / "y.md"))
    assert code == 0
    assert "warning: 2027年节假日安排尚未公布" in stderr
    assert "注意：2027年节假日安排尚未公布，本告知书中标注“预计”的日期按周一至周五为工作日估算" in (
        tmp_path / "y.md"
    ).read_text(encoding="utf-8")


def test_guide_without_start_is_dated_from_the_first_working_day(rules: Path, tmp_path: Path) -> None:
    code, stdout, stderr = run(rules, *PAIRS, "--json", "-o", str(tmp_path / "n.md"))
    assert code == 0, stderr
    assert json.loads(stdout)["start"] == next_workday(dt.date.today(), WorkCalendar()).isoformat()


def test_on_file_spares_materials(rules: Path) -> None:
    code, stdout, _ = run(rules, *PAIRS, "--start", "2026-03-02", "--format", "md", "--on-file", "licence,legal_rep")
    assert code == 0
    assert "已在证照数据库中、无需提交的材料（2 种）" in stdout


def test_on_file_unknown_id(rules: Path) -> None:
    code, _, stderr = run(rules, *PAIRS, "--format", "md", "--on-file", "licence,passport")
    assert code == 2
    assert "error: unknown material id on file: passport; allowed: " in stderr


def test_on_file_yaml(rules: Path, tmp_path: Path) -> None:
    good = tmp_path / "onfile.yaml"
    good.write_text("on_file: [licence]\n", encoding="utf-8")
    code, stdout, _ = run(rules, *PAIRS, "--start", "2026-03-02", "--format", "md", "--on-file-yaml", str(good))
    assert code == 0 and "已在证照数据库中、无需提交的材料（1 种）" in stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("on_file: licence\n", encoding="utf-8")
    code, _, stderr = run(rules, *PAIRS, "--format", "md", "--on-file-yaml", str(bad))
    assert code == 2 and f"error: {bad}: expected a list of material ids (or 'on_file:' holding one)" in stderr
    code, _, stderr = run(rules, *PAIRS, "--format", "md", "--on-file-yaml", str(good), "--on-file", "licence")
    assert code == 2 and "error: give --on-file or --on-file-yaml, not both" in stderr


def test_commitment_option(rules: Path) -> None:
    code, stdout, _ = run(rules, *PAIRS, "--start", "2026-03-02", "--format", "md", "--commitment")
    assert code == 0 and "告知承诺书（环境影响报告表审批）" in stdout


def test_templates_option(rules: Path, tmp_path: Path) -> None:
    (tmp_path / "notice.md.j2").write_text("自定义：{{ header.flowchart.id }}\n", encoding="utf-8")
    code, stdout, _ = run(rules, *PAIRS, "--start", "2026-03-02", "--format", "md", "--templates", str(tmp_path))
    assert code == 0 and stdout == "自定义：F10\n"
    code, _, stderr = run(rules, *PAIRS, "--format", "md", "--templates", str(tmp_path / "none"))
    assert code == 2 and "does not exist or is not a directory" in stderr


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.html"

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli_guide.os, "replace", boom)
    monkeypatch.setattr(cli_guide.os, "link", boom)
    with pytest.raises(FlowmatchError, match="no space left on the device"):
        cli_guide.write_atomic(target, "内容")
    assert list(tmp_path.iterdir()) == []


# --- batches -------------------------------------------------------------------------------------------
def _csv(path: Path, rows: list[str]) -> Path:
    header = "id,name,applicant,start,kind,land_nature,investor,acquisition,regime,building_use,removes_trees,on_file"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


GOOD = [
    "p1,住宅一期,甲公司,2026-03-02,building,state_owned,enterprise,tender_auction_listing,filing,commercial_housing,,",
    "p2,乡镇企业厂房,乙公司,2026-03-03,building,collective,,,,township_enterprise,,",
    "p3,住宅二期,丙公司,2026-03-04,building,state_owned,enterprise,tender_auction_listing,filing,commercial_housing,"
    "true,licence;legal_rep",
]


def test_batch_writes_one_file_per_project_and_reports_failures(rules: Path, tmp_path: Path) -> None:
    batch = _csv(
        tmp_path / "projects.csv",
        [
            *GOOD,
            "bad1,坏行,丁公司,2026-03-02,building,,,,,,,",  # incomplete
            "p1,重复,戊公司,2026-03-02,building,collective,,,,township_enterprise,,",  # duplicate id
            "../evil,越界,己公司,2026-03-02,building,collective,,,,township_enterprise,,",
            ",无编号,庚公司,2026-03-02,building,collective,,,,township_enterprise,,",
        ],
    )
    out = tmp_path / "notices"
    code, stdout, _ = run(rules, "--batch", str(batch), "-o", str(out), "--format", "md", "--jobs", "1", "--json")
    assert code == 1
    report = json.loads(stdout)
    assert [r["id"] for r in report["written"]] == ["p1", "p2", "p3"]
    assert report["counts"] == {"written": 3, "skipped": 0, "failed": 4}
    errors = {r["row"]: r["error"] for r in report["failed"]}
    assert errors[5].startswith("the profile is incomplete; still needed: land_nature")
    assert errors[6] == "duplicate id 'p1'"
    assert errors[7] == "id '../evil' cannot name a file; use letters, digits, '-', '_' or '.'"
    assert errors[8] == "missing id"
    assert sorted(p.name for p in out.iterdir()) == ["p1.md", "p2.md", "p3.md"]
    assert "住宅一期" in (out / "p1.md").read_text(encoding="utf-8")
    p3 = (out / "p3.md").read_text(encoding="utf-8")
    assert "已在证照数据库中、无需提交的材料（2 种）" in p3 and "砍伐、迁移城市树木审批" in p3
    assert not (tmp_path / "evil.md").exists()


def test_batch_rerun_skips_finished_files_unless_forced(rules: Path, tmp_path: Path) -> None:
    batch = _csv(tmp_path / "projects.csv", GOOD)
    out = tmp_path / "out"
    out.mkdir()
    (out / "p2.html").write_text("already done", encoding="utf-8")
    code, stdout, _ = run(rules, "--batch", str(batch), "-o", str(out), "--jobs", "1", "--json")
    assert code == 0
    report = json.loads(stdout)
    assert [r["id"] for r in report["skipped"]] == ["p2"]
    assert (out / "p2.html").read_text(encoding="utf-8") == "already done"
    code, stdout, _ = run(rules, "--batch", str(batch), "-o", str(out), "--jobs", "1", "--json", "--force")
    assert json.loads(stdout)["counts"] == {"written": 3, "skipped": 0, "failed": 0}
    assert (out / "p2.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_batch_text_summary(rules: Path, tmp_path: Path) -> None:
    batch = _csv(tmp_path / "projects.csv", [*GOOD[:1], "bad,坏,丁,2026-03-02,castle,,,,,,,"])
    code, _, stderr = run(rules, "--batch", str(batch), "-o", str(tmp_path / "o"), "--jobs", "1")
    assert code == 1
    assert "1 written, 0 skipped (already there; --force rewrites), 1 failed" in stderr
    assert "kind: unknown value 'castle'" in stderr


def test_batch_in_two_worker_processes(rules: Path, tmp_path: Path) -> None:
    rows = [row.replace("p1,", f"q{i},", 1) for i, row in enumerate([GOOD[0]] * 4)] + GOOD[1:]
    batch = _csv(tmp_path / "projects.csv", rows)
    out = tmp_path / "out"
    code, stdout, _ = run(rules, "--batch", str(batch), "-o", str(out), "--jobs", "2", "--json")
    assert code == 0, stdout
    assert json.loads(stdout)["counts"]["written"] == 6
    assert sorted(p.name for p in out.iterdir()) == ["p2.html", "p3.html", "q0.html", "q1.html", "q2.html", "q3.html"]
    assert not [n for n in os.listdir(out) if n.startswith(".")]


def test_batch_in_chunks_gives_every_row_in_order_with_its_failures(rules: Path, tmp_path: Path) -> None:
    """Two workers, rows handed out several at a time (HTML/Markdown notices are cheap): every row is
    reported, in order, the bad ones among them, and each file is the one-process batch's."""
    from flowmatch.batch import _chunk_size, run_batch

    assert _chunk_size(1000, 2, "html") == 32 and _chunk_size(1000, 2, "pdf") == 1 and _chunk_size(10, 2, "md") == 1
    assert _chunk_size(160, 2, "md") == 10
    bad = "bad{},坏行,丁公司,2026-03-02,building,,,,,,,"
    rows = [
        (GOOD[i % 2].replace("p1,", f"q{i},", 1).replace("p2,", f"q{i},", 1) if i % 7 else bad.format(i))
        for i in range(160)
    ]
    batch = _csv(tmp_path / "projects.csv", rows)
    seen: list[int] = []
    two = run_batch(batch, tmp_path / "two", "md", rules=rules, jobs=2, progress=lambda r: seen.append(r["row"]))
    one = run_batch(batch, tmp_path / "one", "md", rules=rules, jobs=1)
    assert seen == list(range(2, 162))  # file lines: the header is line 1
    assert [r["id"] for r in two.failed] == [f"bad{i}" for i in range(0, 160, 7)]
    assert [r["id"] for r in two.written] == [r["id"] for r in one.written] and len(two.written) == 160 - 23
    for r in one.written:
        name = Path(r["file"]).name
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_batch_yaml(rules: Path, tmp_path: Path) -> None:
    batch = tmp_path / "projects.yaml"
    batch.write_text(
        "projects:\n"
        "  - {id: y1, start: 2026-03-02, kind: building, land_nature: collective, building_use: township_enterprise,"
        " on_file: [licence], commitment: true}\n"
        "  - not a mapping\n",
        encoding="utf-8",
    )
    code, stdout, _ = run(
        rules, "--batch", str(batch), "-o", str(tmp_path / "o"), "--format", "md", "--jobs", "1", "--json"
    )
    report = json.loads(stdout)
    assert code == 1
    assert [r["id"] for r in report["written"]] == ["y1"]
    assert report["failed"] == [
        {
            "row": 2,
            "id": "row2",
            "file": str(tmp_path / "o" / "row2.md"),
            "status": "failed",
            "error": "expected a mapping of column to value",
        }
    ]


def test_batch_usage_errors(rules: Path, tmp_path: Path) -> None:
    batch = _csv(tmp_path / "projects.csv", GOOD)
    code, _, stderr = run(rules, "--batch", str(batch))
    assert code == 2 and "error: --batch needs -o DIR, the directory for the notices" in stderr
    code, _, stderr = run(rules, "--batch", str(batch), "kind=building", "-o", str(tmp_path / "o"))
    assert code == 2 and "error: --batch reads the projects from the file; give no ATTRIBUTE=VALUE pairs" in stderr
    other = tmp_path / "projects.xlsx"
    other.write_text("x", encoding="utf-8")
    code, _, stderr = run(rules, "--batch", str(other), "-o", str(tmp_path / "o"))
    assert code == 2 and "error: batch file projects.xlsx: unknown kind of file; allowed: .csv, .yaml, .yml" in stderr
    noid = tmp_path / "noid.csv"
    noid.write_text("name,kind\nx,building\n", encoding="utf-8")
    code, _, stderr = run(rules, "--batch", str(noid), "-o", str(tmp_path / "o"))
    assert code == 2 and f"error: batch file {noid} needs a header row with an 'id' column" in stderr
    afile = tmp_path / "afile"
    afile.write_text("", encoding="utf-8")
    code, _, stderr = run(rules, "--batch", str(batch), "-o", str(afile))
    assert code == 2 and f"error: {afile} is a file; --batch needs -o DIR" in stderr


def test_cli_and_library_write_the_same_notice(rules: Path) -> None:
    import datetime as dt

    from flowmatch.calendar import WorkCalendar
    from flowmatch.flows import for_situation
    from flowmatch.matcher import matcher_for
    from flowmatch.render import render_guide
    from flowmatch.ruleset import load_ruleset
    from flowmatch.scheduler import schedule

    rs = load_ruleset(rules)
    result = matcher_for(rs).match(F10_PROFILE)
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=F10_PROFILE)
    plan = schedule(flow, dt.date(2026, 3, 2), WorkCalendar(), ruleset=rs)
    expected = render_guide(result, plan, "md", ruleset=rs, project_name="同一项目", on_file=["licence"])
    code, stdout, _ = run(
        rules, *PAIRS, "--start", "2026-03-02", "--format", "md", "--name", "同一项目", "--on-file", "licence"
    )
    assert code == 0 and stdout == expected
